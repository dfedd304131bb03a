"""The case service: the one object callers hold, composing the command runner (``cnvisa.cases.runner``), the
commands grouped by workflow stage (``cnvisa.cases.commands``) and the named reads (``cnvisa.cases.queries``).

Every command runs in one transaction with its audit event, names the case version it acts on and carries an
idempotency key (see ``cnvisa.cases.runner``).
"""

from __future__ import annotations

from cnvisa.cases.actor import SYSTEM, Actor, caseless_event
from cnvisa.cases.commands.closure import DRAFT_RETENTION_DAYS, ClosureCommands
from cnvisa.cases.commands.examination import ExaminationCommands
from cnvisa.cases.commands.intake import NOTICE_REPLY_WORKING_DAYS, IntakeCommands
from cnvisa.cases.commands.issuance import IssuanceCommands
from cnvisa.cases.commands.revision import DECIDED_OR_CLOSED, RevisionCommands
from cnvisa.cases.evidence import EvidenceQueries
from cnvisa.cases.queries.case import CaseRead
from cnvisa.cases.queries.escalation import EscalationQueries
from cnvisa.cases.queries.overstay import OverstayQueries
from cnvisa.cases.queries.queue import QUEUE_AWAITING, QUEUE_DUE, QueueQueries
from cnvisa.cases.queries.status import StatusQuery
from cnvisa.cases.runner import SERVICE_INPUTS
from cnvisa.cases.workflow import TERMINAL

__all__ = [
    "DECIDED_OR_CLOSED",
    "DRAFT_RETENTION_DAYS",
    "NOTICE_REPLY_WORKING_DAYS",
    "QUEUE_AWAITING",
    "QUEUE_DUE",
    "SERVICE_INPUTS",
    "SYSTEM",
    "TERMINAL_STATES",
    "Actor",
    "CaseService",
    "caseless_event",
]


class CaseService(
    IntakeCommands,
    ExaminationCommands,
    IssuanceCommands,
    ClosureCommands,
    RevisionCommands,
    CaseRead,
    QueueQueries,
    EscalationQueries,
    StatusQuery,
    EvidenceQueries,
    OverstayQueries,
):
    """``CaseService(sessions, clock=None, reads=None)``: every command and read of the case core."""


TERMINAL_STATES = TERMINAL
