"""The work-permit branch's own transition table. The branch is decided by the work-permit authority — at its
desk in the platform (role ``work_permit_officer``) or by its external system (role ``system``, through the
inter-agency message layer); both reach it through ``cnvisa.cases.joint.decide.decide_work_permit_branch``.

submitted → accepted (with the joint acceptance) → under_review → granted | refused; extended once (+10
working days, Administrative Licensing Law Art 42 para 1) in accepted or under_review; withdrawn with the
joint application.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from cnvisa.cases.workflow import SYSTEM_ONLY, Role


class WState(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    UNDER_REVIEW = "under_review"
    GRANTED = "granted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class WCommand(StrEnum):
    ACCEPT = "accept"
    TAKE = "under_review"
    EXTEND = "extended"
    GRANT = "granted"
    REFUSE = "refused"
    WITHDRAW = "withdraw"


KINDS: Final = (WCommand.TAKE, WCommand.EXTEND, WCommand.GRANT, WCommand.REFUSE)
"""The decisions the authority sends (``kind`` of ``decide_work_permit_branch``)."""


@dataclass(frozen=True, slots=True)
class WTransition:
    next: WState
    roles: frozenset[Role]
    guards: tuple[str, ...] = ()


W, WC = WState, WCommand
AUTHORITY: Final = frozenset({Role.WORK_PERMIT_OFFICER, Role.SYSTEM})
_WINDOW: Final = frozenset({Role.OFFICER, Role.SUPERVISOR})

# fmt: off
TRANSITIONS: Final[dict[tuple[WState, WCommand], WTransition]] = {
    (W.SUBMITTED,    WC.ACCEPT):   WTransition(W.ACCEPTED, _WINDOW),
    (W.ACCEPTED,     WC.TAKE):     WTransition(W.UNDER_REVIEW, AUTHORITY),
    (W.ACCEPTED,     WC.EXTEND):   WTransition(W.ACCEPTED, AUTHORITY, ("extend_once", "receipt_covers_work_permit")),
    (W.UNDER_REVIEW, WC.EXTEND):   WTransition(W.UNDER_REVIEW, AUTHORITY, ("extend_once", "receipt_covers_work_permit")),
    (W.ACCEPTED,     WC.GRANT):    WTransition(W.GRANTED, AUTHORITY, ("particulars_valid",)),
    (W.UNDER_REVIEW, WC.GRANT):    WTransition(W.GRANTED, AUTHORITY, ("particulars_valid",)),
    (W.ACCEPTED,     WC.REFUSE):   WTransition(W.REFUSED, AUTHORITY, ("reasons_given",)),
    (W.UNDER_REVIEW, WC.REFUSE):   WTransition(W.REFUSED, AUTHORITY, ("reasons_given",)),
    (W.SUBMITTED,    WC.WITHDRAW): WTransition(W.WITHDRAWN, SYSTEM_ONLY),
    (W.ACCEPTED,     WC.WITHDRAW): WTransition(W.WITHDRAWN, SYSTEM_ONLY),
    (W.UNDER_REVIEW, WC.WITHDRAW): WTransition(W.WITHDRAWN, SYSTEM_ONLY),
    (W.GRANTED,      WC.WITHDRAW): WTransition(W.WITHDRAWN, SYSTEM_ONLY),
}
# fmt: on

GUARD_ARTICLES: Final[dict[str, str]] = {
    "extend_once": "Administrative Licensing Law Art 42 para 1 (可以延长十日: once, by 10 days, reasons told)",
    "receipt_covers_work_permit": (
        "Regulations Art 18 para 1, para 3; Administrative Licensing Law Art 42 para 1 (Reading: "
        "cnvisa.law.one_stop.receipt_covers)"
    ),
    "particulars_valid": "Work Permit Service Guide; 外国人来华工作分类标准（试行）",
    "reasons_given": "Administrative Licensing Law Art 38 para 2 (不予行政许可的，应当说明理由)",
}

OPEN: Final = frozenset({W.ACCEPTED, W.UNDER_REVIEW})
"""States in which the work-permit branch's clocks run (the desk's queue)."""


def transition(state: WState, command: WCommand) -> WTransition | None:
    return TRANSITIONS.get((state, command))
