"""What every part of the case service stands on: the sessions, the hot-read pool, the clock, loading a case
its actor may touch, the offices' codes, and the audit of staff's list reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases import audit
from cnvisa.cases.actor import Actor, caseless_event, may_touch
from cnvisa.cases.clock import Clock, Clocked
from cnvisa.cases.errors import BadInput, Conflict, Forbidden, NotFound
from cnvisa.cases.workflow import Role
from cnvisa.store.fast import Reads
from cnvisa.store.tables import Case, Office


class Reader(Clocked):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock | None = None,
        reads: Reads | None = None,
    ) -> None:
        super().__init__(sessions, clock)
        self.reads = reads or Reads(sessions)
        """Hot, read-only lists (the queue page) run here: cnvisa.store.fast."""
        self.read_log = audit.GroupCommit(sessions, self.reads.pool)
        """Staff reads' audit events, committed in groups before each read is answered."""
        self._office_codes: dict[int, str] = {}  # office codes never change once issued

    async def _load(
        self, s: AsyncSession, case_id: int, version: int | None, actor: Actor | None = None
    ) -> Case:
        case = await s.get(Case, case_id)
        if case is None:
            raise NotFound(f"case {case_id}")
        if actor is not None:
            may_touch(actor, case)  # before the version: a stranger learns nothing about the case
        if version is not None and case.version != version:
            raise Conflict(f"case {case.number} is at version {case.version}, not {version}")
        return case

    _may_touch = staticmethod(may_touch)

    async def _office_code(self, s: AsyncSession, office_id: int) -> str:
        code = self._office_codes.get(office_id)
        if code is None:
            office = await s.get(Office, office_id)
            if office is None:
                raise BadInput("office_id", f"no office {office_id}")
            code = self._office_codes[office_id] = office.code
        return code

    async def _audit_read(
        self, actor: Actor | None, action: str, detail: dict[str, Any], office_id: int | None
    ) -> None:
        """Every read by staff leaves a trace; a staff member reads only their own office's lists."""
        if actor is None or not self._read_is_audited(actor, office_id):
            return
        await self.read_log.append(**caseless_event(actor, self.now(), action, detail, actor.office_id))

    @staticmethod
    def _read_is_audited(actor: Actor | None, office_id: int | None) -> bool:
        """Whether a list read is staff's (and so audited); another office's list is Forbidden."""
        if actor is None or actor.role in (Role.APPLICANT, Role.AGENT, Role.ORG_STAFF):
            return False
        if actor.is_staff and office_id is not None and actor.office_id != office_id:
            raise Forbidden("another office's cases")
        return True
