"""``JointService(sessions, clock=None, reads=None)``: every command and read of joint applications — the single
window's commands (``commands``), the work-permit desk (``desk``) and the named reads
(``cnvisa.cases.queries.joint``). The decision entry point for the other agency is
``cnvisa.cases.joint.decide.decide_work_permit_branch``."""

from __future__ import annotations

from cnvisa.cases.joint.commands import JointCommands
from cnvisa.cases.joint.desk import WorkPermitDesk
from cnvisa.cases.queries.joint import JointQueries


class JointService(JointCommands, WorkPermitDesk, JointQueries):
    """The joint application's commands and reads (module docstring)."""
