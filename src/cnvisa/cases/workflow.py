"""The case workflow as one transition table: state × command → next state, guards, roles allowed.

Read it as the procedure of the Regulations and the Guide: an application is submitted (Guide VII(I)),
either given a one-time notice of everything missing (Art 13 para 2, Art 18 para 2) or accepted with a
receipt (Art 13 para 1, Art 18 para 1); the reasons may be verified (Art 20); the office decides within
the receipt's validity, a refusal on cited grounds (Art 21; Law Art 21, 31) confirmed by a second
officer; the document is issued and collected in person with the receipt (Guide X).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    DEFICIENT = "deficient"
    ACCEPTED = "accepted"
    UNDER_VERIFICATION = "under_verification"
    REFUSAL_PROPOSED = "refusal_proposed"
    APPROVED = "approved"
    REFUSED = "refused"
    ISSUED = "issued"
    COLLECTED = "collected"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"
    NOT_ISSUABLE = "not_issuable"
    """The residence branch of a joint application whose work permit was refused (Law Art 41; Regulations
    Art 16(1)): ended, not refused (cnvisa.cases.joint)."""


class Command(StrEnum):
    SUBMIT = "submit"
    ISSUE_NOTICE = "issue_notice"
    SUPPLEMENT = "supplement"
    ACCEPT = "accept"
    REQUEST_VERIFICATION = "request_verification"
    RECORD_VERIFICATION = "record_verification"
    APPROVE = "approve"
    PROPOSE_REFUSAL = "propose_refusal"
    CONFIRM_REFUSAL = "confirm_refusal"
    REVOKE_REFUSAL_PROPOSAL = "revoke_refusal_proposal"
    ISSUE = "issue"
    COLLECT = "collect"
    WITHDRAW = "withdraw"
    LAPSE = "lapse"
    END_NOT_ISSUABLE = "end_not_issuable"
    WITHDRAW_WITH_JOINT = "withdraw_with_joint"
    """The residence branch withdrawn with its joint application (system only: run by cnvisa.cases.joint when
    the applicant withdraws the joint application; never a command of an ordinary case)."""


class Role(StrEnum):
    APPLICANT = "applicant"
    AGENT = "agent"
    ORG_STAFF = "org_staff"
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    VERIFIER = "verifier"
    ADMIN = "admin"
    SYSTEM = "system"
    WORK_PERMIT_OFFICER = "work_permit_officer"
    """An officer of the work-permit authority at its desk in the platform (cnvisa.cases.joint.desk)."""
    HOTEL_STAFF = "hotel_staff"
    """A hotel's front desk reporting foreign guests (Law Art 39 para 1; cnvisa.cases.accommodation): an
    organisation's account, but not its employer's (no people, reports or applications of its own)."""
    PORT_VISA_OFFICER = "port_visa_officer"
    """An officer of a port visa authority (口岸签证机关, Law Art 20 para 1) at the desk of one port
    (cnvisa.cases.port_visa): its queue of port-visa requests, preliminary decisions, issuance at the port."""
    POLICE_OFFICER = "police_officer"
    """An officer of a police station (派出所, the public security organ of the place of residence, Law Art 39
    para 2) at the desk of one station (cnvisa.cases.accommodation.stations): registers private stays, sees the
    registrations of the station's area only."""


S, C, R = State, Command, Role
APPLICANT_SIDE: Final = frozenset({R.APPLICANT, R.AGENT, R.ORG_STAFF})
STAFF: Final = frozenset({R.OFFICER, R.SUPERVISOR})
SYSTEM_ONLY: Final = frozenset({R.SYSTEM})


@dataclass(frozen=True, slots=True)
class Transition:
    next: State
    roles: frozenset[Role]
    guards: tuple[str, ...] = ()


# fmt: off
TRANSITIONS: Final[dict[tuple[State, Command], Transition]] = {
    (S.DRAFT,              C.SUBMIT):                  Transition(S.SUBMITTED, APPLICANT_SIDE, ("submitter_may_apply",)),
    (S.SUBMITTED,          C.ISSUE_NOTICE):            Transition(S.DEFICIENT, STAFF, ("notice_repeats_nothing",)),
    (S.SUBMITTED,          C.PROPOSE_REFUSAL):         Transition(S.REFUSAL_PROPOSED, STAFF, ("refusal_grounds_valid",)),
    (S.DEFICIENT,          C.SUPPLEMENT):              Transition(S.SUBMITTED, APPLICANT_SIDE),
    (S.SUBMITTED,          C.ACCEPT):                  Transition(S.ACCEPTED, STAFF, ("application_complete",)),
    (S.ACCEPTED,           C.REQUEST_VERIFICATION):    Transition(S.UNDER_VERIFICATION, STAFF),
    (S.UNDER_VERIFICATION, C.RECORD_VERIFICATION):     Transition(S.ACCEPTED, STAFF),
    (S.ACCEPTED,           C.APPROVE):                 Transition(S.APPROVED, STAFF),
    (S.ACCEPTED,           C.PROPOSE_REFUSAL):         Transition(S.REFUSAL_PROPOSED, STAFF, ("refusal_grounds_valid",)),
    (S.UNDER_VERIFICATION, C.PROPOSE_REFUSAL):         Transition(S.REFUSAL_PROPOSED, STAFF, ("refusal_grounds_valid",)),
    (S.REFUSAL_PROPOSED,   C.CONFIRM_REFUSAL):         Transition(S.REFUSED, STAFF, ("second_officer",)),
    (S.REFUSAL_PROPOSED,   C.REVOKE_REFUSAL_PROPOSAL): Transition(S.ACCEPTED, STAFF),
    (S.APPROVED,           C.ISSUE):                   Transition(S.ISSUED, STAFF),
    (S.ISSUED,             C.COLLECT):                 Transition(S.COLLECTED, STAFF, ("passport_presented",)),
    (S.DRAFT,              C.WITHDRAW):                Transition(S.WITHDRAWN, APPLICANT_SIDE),
    (S.SUBMITTED,          C.WITHDRAW):                Transition(S.WITHDRAWN, APPLICANT_SIDE),
    (S.DEFICIENT,          C.WITHDRAW):                Transition(S.WITHDRAWN, APPLICANT_SIDE),
    (S.ACCEPTED,           C.WITHDRAW):                Transition(S.WITHDRAWN, APPLICANT_SIDE),
    (S.UNDER_VERIFICATION, C.WITHDRAW):                Transition(S.WITHDRAWN, APPLICANT_SIDE),
    (S.DRAFT,              C.LAPSE):                   Transition(S.LAPSED, frozenset({R.SYSTEM}), ("draft_abandoned",)),
    (S.DEFICIENT,          C.LAPSE):                   Transition(S.LAPSED, frozenset({R.SYSTEM}), ("notice_unanswered",)),
    # the join of a joint application (cnvisa.cases.joint): the work permit was refused, run by the system
    (S.ACCEPTED,           C.END_NOT_ISSUABLE):        Transition(S.NOT_ISSUABLE, SYSTEM_ONLY, ("work_permit_refused",)),
    (S.UNDER_VERIFICATION, C.END_NOT_ISSUABLE):        Transition(S.NOT_ISSUABLE, SYSTEM_ONLY, ("work_permit_refused",)),
    (S.REFUSAL_PROPOSED,   C.END_NOT_ISSUABLE):        Transition(S.NOT_ISSUABLE, SYSTEM_ONLY, ("work_permit_refused",)),
    (S.APPROVED,           C.END_NOT_ISSUABLE):        Transition(S.NOT_ISSUABLE, SYSTEM_ONLY, ("work_permit_refused",)),
    # withdrawal of a joint application ends both branches in any open state before the join (system only)
    (S.SUBMITTED,          C.WITHDRAW_WITH_JOINT):     Transition(S.WITHDRAWN, SYSTEM_ONLY, ("joint_withdrawal",)),
    (S.DEFICIENT,          C.WITHDRAW_WITH_JOINT):     Transition(S.WITHDRAWN, SYSTEM_ONLY, ("joint_withdrawal",)),
    (S.ACCEPTED,           C.WITHDRAW_WITH_JOINT):     Transition(S.WITHDRAWN, SYSTEM_ONLY, ("joint_withdrawal",)),
    (S.UNDER_VERIFICATION, C.WITHDRAW_WITH_JOINT):     Transition(S.WITHDRAWN, SYSTEM_ONLY, ("joint_withdrawal",)),
    (S.REFUSAL_PROPOSED,   C.WITHDRAW_WITH_JOINT):     Transition(S.WITHDRAWN, SYSTEM_ONLY, ("joint_withdrawal",)),
    (S.APPROVED,           C.WITHDRAW_WITH_JOINT):     Transition(S.WITHDRAWN, SYSTEM_ONLY, ("joint_withdrawal",)),
}
# fmt: on

GUARD_ARTICLES: Final[dict[str, str]] = {
    "submitter_may_apply": "Regulations Art 19; Guide IV",
    "notice_repeats_nothing": "Regulations Art 13 para 2; Regulations Art 18 para 2 (一次性告知)",
    "application_complete": "Regulations Art 13 para 1; Regulations Art 18 para 1; Guide VII(II)",
    "refusal_grounds_valid": "Regulations Art 21; Exit and Entry Administration Law Art 21, 31",
    "second_officer": "Regulations Art 21 (refusal confirmed by a second officer: office rule)",
    "passport_presented": "Guide X",
    "extension_ends_later": (
        "Exit and Entry Administration Law Art 32 (延长居留期限: an extended residence permit ends later than "
        "the one it replaces)"
    ),
    "work_permit_refused": (
        "Exit and Entry Administration Law Art 41; Regulations Art 16(1) (a work-type residence permit rests on the "
        "work permit: refused, the residence branch of the joint application is not issuable — not a refusal)"
    ),
    "joint_withdrawal": (
        'Reading (reforms.md §1 state flow [A]; issue 10 §1 "withdrawal ends both"): the applicant may withdraw a '
        "joint application in any open state before the join, so its residence branch is withdrawn with it even "
        "when approved or a refusal is proposed. An ordinary case keeps its own table (no withdrawal once approved "
        "or a refusal is proposed)."
    ),
    "draft_abandoned": "Office rule: a draft not submitted within the retention period",
    "notice_unanswered": (
        "Office rule: the reply period the office set on the one-time notice ran out (Regulations Art 13 "
        "para 2 and Art 18 para 2 require the notice and set no period)"
    ),
}

TERMINAL: Final = frozenset({S.REFUSED, S.COLLECTED, S.WITHDRAWN, S.LAPSED, S.NOT_ISSUABLE})
OPEN_FOR_DEADLINE: Final = frozenset({S.ACCEPTED, S.UNDER_VERIFICATION, S.REFUSAL_PROPOSED})
"""States in which the statutory decision deadline (the receipt's end) runs."""


def transition(state: State, command: Command) -> Transition | None:
    return TRANSITIONS.get((state, command))


def allowed_commands(state: State, role: Role) -> list[Command]:
    return [c for (s, c), t in TRANSITIONS.items() if s == state and role in t.roles]
