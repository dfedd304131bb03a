"""The joint application's own transition table (the parent of a one-stop work permit + work-type residence
permit; reforms.md §1 "State flow" [A], Reading: adopted with a parent table and the join as guards computed
from the branches, never a stored flag set by hand — reforms.md §10, CMMN sentries).

submitted ⇄ deficient (ONE one-time notice for both branches) → accepted (ONE acceptance, ONE receipt)
→ issued (both together, one transaction) → collected; or, by the join: not_issuable (work permit refused),
partial (work permit granted, residence permit refused); withdrawn before the join ends both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from cnvisa.cases.workflow import APPLICANT_SIDE, STAFF, SYSTEM_ONLY, Role


class JState(StrEnum):
    SUBMITTED = "submitted"
    DEFICIENT = "deficient"
    ACCEPTED = "accepted"
    ISSUED = "issued"
    COLLECTED = "collected"
    NOT_ISSUABLE = "not_issuable"
    PARTIAL = "partial"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"


class JCommand(StrEnum):
    ISSUE_NOTICE = "joint_issue_notice"
    SUPPLEMENT = "joint_supplement"
    ACCEPT = "joint_accept"
    ISSUE_TOGETHER = "joint_issue_together"
    COLLECT_TOGETHER = "joint_collect_together"
    CLOSE_NOT_ISSUABLE = "joint_close_not_issuable"
    CLOSE_PARTIAL = "joint_close_partial"
    WITHDRAW = "joint_withdraw"
    LAPSE = "joint_lapse"


@dataclass(frozen=True, slots=True)
class JTransition:
    next: JState
    roles: frozenset[Role]
    guards: tuple[str, ...] = ()


J, JC = JState, JCommand
_SETTLE: Final = STAFF | SYSTEM_ONLY

# fmt: off
TRANSITIONS: Final[dict[tuple[JState, JCommand], JTransition]] = {
    (J.SUBMITTED, JC.ISSUE_NOTICE):       JTransition(J.DEFICIENT, STAFF, ("joint_notice_repeats_nothing",)),
    (J.DEFICIENT, JC.SUPPLEMENT):         JTransition(J.SUBMITTED, APPLICANT_SIDE),
    (J.SUBMITTED, JC.ACCEPT):             JTransition(J.ACCEPTED, STAFF, ("joint_complete", "receipt_covers_work_permit")),
    (J.ACCEPTED,  JC.ISSUE_TOGETHER):     JTransition(J.ISSUED, STAFF, ("join_issue_together",)),
    (J.ISSUED,    JC.COLLECT_TOGETHER):   JTransition(J.COLLECTED, STAFF, ("passport_presented",)),
    (J.ACCEPTED,  JC.CLOSE_NOT_ISSUABLE): JTransition(J.NOT_ISSUABLE, SYSTEM_ONLY, ("work_permit_refused",)),
    (J.ACCEPTED,  JC.CLOSE_PARTIAL):      JTransition(J.PARTIAL, _SETTLE, ("join_partial",)),
    (J.SUBMITTED, JC.WITHDRAW):           JTransition(J.WITHDRAWN, APPLICANT_SIDE),
    (J.DEFICIENT, JC.WITHDRAW):           JTransition(J.WITHDRAWN, APPLICANT_SIDE),
    (J.ACCEPTED,  JC.WITHDRAW):           JTransition(J.WITHDRAWN, APPLICANT_SIDE, ("join_pending",)),
    (J.DEFICIENT, JC.LAPSE):              JTransition(J.LAPSED, SYSTEM_ONLY, ("notice_unanswered",)),
}
# fmt: on

GUARD_ARTICLES: Final[dict[str, str]] = {
    "joint_notice_repeats_nothing": (
        "Regulations Art 18 para 2; Administrative Licensing Law Art 32(4) (一次性告知: one notice for both "
        "branches, no item repeated across branches or notices — Reading, reforms.md §1 [A])"
    ),
    "joint_complete": "Regulations Art 18 para 1; Administrative Licensing Law Art 32(5); Work Permit Service Guide",
    "receipt_covers_work_permit": (
        "Regulations Art 18 para 1, para 3; Administrative Licensing Law Art 42 para 1 (Reading: "
        "cnvisa.law.one_stop.receipt_covers)"
    ),
    "join_issue_together": "NIA measures 2024-03-20 (同时发证); Exit and Entry Administration Law Art 41",
    "passport_presented": "Guide X",
    "work_permit_refused": "Exit and Entry Administration Law Art 41; Regulations Art 16(1)",
    "join_partial": "Exit and Entry Administration Law Art 36, 41 (Reading: the work permit stands)",
    "notice_unanswered": "Office rule: the reply period of the one-time notice ran out (the residence case lapsed)",
    "join_pending": "reforms.md §1 state flow [A]: withdrawal in any open state before the join",
}

TERMINAL: Final = frozenset({J.COLLECTED, J.NOT_ISSUABLE, J.PARTIAL, J.WITHDRAWN, J.LAPSED})


def transition(state: JState, command: JCommand) -> JTransition | None:
    return TRANSITIONS.get((state, command))
