"""``JointService(sessions, clock=None, reads=None)``: every command and read of joint applications — the single
window's commands (``commands``), the work-permit desk (``desk``) and the named reads
(``cnvisa.cases.queries.joint``). The decision entry point for the other agency is
``cnvisa.cases.joint.decide.decide_work_permit_branch``."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases.agencies import WorkPermitClient
from cnvisa.cases.clock import Clock
from cnvisa.cases.joint.commands import JointCommands
from cnvisa.cases.joint.desk import WorkPermitDesk
from cnvisa.cases.joint.external import WorkPermitRouting
from cnvisa.cases.queries.joint import JointQueries
from cnvisa.store.fast import Reads


class JointService(JointCommands, WorkPermitDesk, JointQueries):
    """The joint application's commands and reads (module docstring). ``routing``: which single windows'
    work-permit branches an external authority decides (default: ``CNVISA_WORK_PERMIT_EXTERNAL``; unset, the
    desk); ``work_permit_client``: its client, when this process sends to it after each commit."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock | None = None,
        reads: Reads | None = None,
        *,
        routing: WorkPermitRouting | None = None,
        work_permit_client: WorkPermitClient | None = None,
    ) -> None:
        super().__init__(sessions, clock, reads)
        self.routing = routing if routing is not None else WorkPermitRouting.from_env()
        self.work_permit_client = work_permit_client
