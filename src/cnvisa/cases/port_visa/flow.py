"""The port-visa request as one transition table (reforms.md §6 data model [A]): state × command → next state,
the roles allowed and the guards, each guard with its article or labelled an office rule.

    submitted ──approve──▶ pre_approved ──issue (at the port)──▶ issued
        │  └──refuse──▶ refused ◀──refuse (at the port)──┘
        ├──withdraw──▶ withdrawn ◀──withdraw──┘
        └──lapse (sweep)──▶ lapsed ◀──lapse (sweep)──┘      (no-show: the arrival window ran out)

A port visa is applied for at the port with the passport and materials (Law Art 20 para 3); a request filed in
advance gets a preliminary approval only (NIA FAQs 2024-02-27; cnvisa.law.port_visa.READING_DATE), and the visa
is issued when the person presents the passport at that port. Separate from the case table
(``cnvisa.cases.workflow.TRANSITIONS``): a port-visa request is not an application at an exit-entry office.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from cnvisa.cases.workflow import Role


class PvState(StrEnum):
    SUBMITTED = "submitted"
    PRELIMINARILY_APPROVED = "pre_approved"
    """Preliminarily approved (预审同意) before arrival: the visa is issued at the port (NIA FAQs 2024-02-27)."""
    REFUSED = "refused"
    ISSUED = "issued"
    LAPSED = "lapsed"
    """No-show: the arrival window (office rule, ``ARRIVAL_WINDOW_DAYS``) ran out (reforms.md §6 no_show_expired)."""
    WITHDRAWN = "withdrawn"


class PvCommand(StrEnum):
    APPROVE = "approve"
    REFUSE = "refuse"
    ISSUE = "issue"
    WITHDRAW = "withdraw"
    LAPSE = "lapse"


FILERS: Final = frozenset({Role.ORG_STAFF, Role.APPLICANT})
"""The inviting organisation's staff or the foreigner (NIA FAQs 2024-02-27: the applicant or the inviter)."""
DESK: Final = frozenset({Role.PORT_VISA_OFFICER})
SYSTEM_ONLY: Final = frozenset({Role.SYSTEM})


@dataclass(frozen=True, slots=True)
class PvTransition:
    next: PvState
    roles: frozenset[Role]
    guards: tuple[str, ...] = ()


S, C = PvState, PvCommand
# fmt: off
TRANSITIONS: Final[dict[tuple[PvState, PvCommand], PvTransition]] = {
    (S.SUBMITTED,              C.APPROVE):  PvTransition(S.PRELIMINARILY_APPROVED, DESK, ("decided_before_arrival",)),
    (S.SUBMITTED,              C.REFUSE):   PvTransition(S.REFUSED, DESK, ("refusal_grounds_valid",)),
    (S.PRELIMINARILY_APPROVED, C.REFUSE):   PvTransition(S.REFUSED, DESK, ("refusal_grounds_valid",)),
    (S.PRELIMINARILY_APPROVED, C.ISSUE):    PvTransition(
        S.ISSUED, DESK, ("presented_in_window", "port_issues_on_day", "passport_and_face_checked")
    ),
    (S.SUBMITTED,              C.WITHDRAW): PvTransition(S.WITHDRAWN, FILERS),
    (S.PRELIMINARILY_APPROVED, C.WITHDRAW): PvTransition(S.WITHDRAWN, FILERS),
    (S.SUBMITTED,              C.LAPSE):    PvTransition(S.LAPSED, SYSTEM_ONLY, ("arrival_window_over",)),
    (S.PRELIMINARILY_APPROVED, C.LAPSE):    PvTransition(S.LAPSED, SYSTEM_ONLY, ("arrival_window_over",)),
}
# fmt: on

ARRIVAL_WINDOW_DAYS: Final = 1
"""OFFICE RULE, not the law's (Law Art 20 sets no period): the person may present the passport at the port from
the arrival date to the arrival date + this many days (Beijing dates); after that the sweep (``cnvisa db sweep``)
lapses the request as a no-show. Configurable: ``CNVISA_PORT_VISA_ARRIVAL_WINDOW_DAYS`` (0 to 7)."""
ARRIVAL_WINDOW_MAX: Final = 7
FILING_HORIZON_DAYS: Final = 90
"""OFFICE RULE, not the law's: a request is filed at most this many days before the arrival (a port visa answers an
urgent need, Law Art 20 para 1; the port list and the measures are read on the arrival date)."""

GUARD_ARTICLES: Final[dict[str, str]] = {
    "decided_before_arrival": (
        "Office rule (reforms.md §6 [A]: a request filed in advance is decided before the arrival date; the law "
        "sets no deadline): no preliminary approval after the arrival date"
    ),
    "refusal_grounds_valid": (
        "Exit and Entry Administration Law Art 21, Art 25 (grounds by code, cnvisa.law.refusals); reasons may be "
        "withheld (Art 21 para 2, Art 25 para 2)"
    ),
    "presented_in_window": (
        "Exit and Entry Administration Law Art 20 para 3 (issued at the port on arrival); the window after the "
        "arrival date is an office rule (ARRIVAL_WINDOW_DAYS)"
    ),
    "port_issues_on_day": "Exit and Entry Administration Law Art 20 para 1 (a listed port, on the day of issue)",
    "passport_and_face_checked": (
        "Exit and Entry Administration Law Art 20 para 3 (passport handed in at the port); ICAO Doc 9303 Part 4"
    ),
    "arrival_window_over": (
        "Office rule: no one presented the passport at the port within the arrival window (ARRIVAL_WINDOW_DAYS); "
        "Law Art 20 sets no period"
    ),
}

OPEN: Final = frozenset({S.SUBMITTED, S.PRELIMINARILY_APPROVED})
TERMINAL: Final = frozenset({S.REFUSED, S.ISSUED, S.LAPSED, S.WITHDRAWN})


def transition(state: PvState, command: PvCommand) -> PvTransition | None:
    return TRANSITIONS.get((state, command))


def allowed_commands(state: PvState, role: Role) -> list[PvCommand]:
    return [c for (s, c), t in TRANSITIONS.items() if s == state and role in t.roles]
