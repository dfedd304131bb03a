"""Visa replacement (签证换发) — Regulations Art 10, Art 12-13, Guide VI(III).

Grounds (Art 10; Guide VI(III) first paragraph): change of the purpose of stay, entry
facilitation, a new passport, leaving a tourist group, and adding an accompanying person (Guide
VI(III)9). What may be issued per category is the Guide's table VI(III)1-7; a new-passport
replacement copies the original (VI(III)8). The accumulated stay after replacement must not exceed
one year from the date of this entry (VI(III) last sentence).

Readings written down:
- Guide VI(III)5 says an R-visa replacement issues "a ... Q2 visa": a typo for R (specification
  README); we issue R.
- Guide VI(III)6 (S2 family) lists "the residence permit of the applicant"; the matching extension
  rule VI(II)9 lists the residence permit of the person visited. An S2 holder holds no residence
  permit (S2 is a short-stay visa, Art 6(11)), so the permit meant can only be the visited
  person's: we require ``residence_permit_person_visited`` as VI(II)9 does.
- "One year from the date of this entry" is the corresponding day one year after the entry date
  (Civil Code Art 202); the stay issued runs from the day after the decision, so the longest stay
  is the number of days from the date of application to that anniversary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

from cnvisa.law.citations import Citation, guide, reg
from cnvisa.law.periods import add_months, add_years
from cnvisa.law.purposes import S2_PERSONAL
from cnvisa.law.versions import require_cited

Ground = Literal[
    "change_of_purpose", "entry_facilitation", "new_passport", "leave_group", "add_accompanying_person"
]
GROUNDS: Final[tuple[str, ...]] = (
    "change_of_purpose",
    "entry_facilitation",
    "new_passport",
    "leave_group",
    "add_accompanying_person",
)
ALL_ENTRIES: Final = ("zero", "single", "double", "multiple")
ENTRY_COUNTS: Final[dict[str, int]] = {"zero": 0, "single": 1, "double": 2}
"""Art 36 para 1(1): the entries a visa grants (a multiple-entry visa has no count)."""


@dataclass(frozen=True, slots=True)
class ReplacementRow:
    """One row of Guide VI(III)1-7: materials and the visa that may be issued."""

    category: str
    materials: tuple[str, ...]
    entries: tuple[str, ...]
    max_validity_years: int | None
    max_validity_months: int | None
    max_stay_days: int
    section: str
    variant: str | None = None

    @property
    def citation(self) -> Citation:
        return guide(self.section)

    def max_entry_validity_days(self, on: dt.date) -> int | None:
        if self.max_validity_years is not None:
            return (add_years(on, self.max_validity_years) - on).days
        if self.max_validity_months is not None:
            return (add_months(on, self.max_validity_months) - on).days
        return None


REPLACEMENT_ROWS: Final[dict[str, ReplacementRow]] = {
    "F": ReplacementRow("F", ("letter_inviting_entity",), ALL_ENTRIES, 5, None, 180, "VI(III)1"),
    "J2": ReplacementRow("J2", ("letter_provincial_foreign_affairs",), ("zero",), None, None, 30, "VI(III)2"),
    "M": ReplacementRow("M", ("letter_inviting_entity",), ALL_ENTRIES, 5, None, 180, "VI(III)3"),
    "Q2": ReplacementRow(
        "Q2",
        ("letter_person_visited", "identity_document_person_visited", "kinship_proof"),
        ALL_ENTRIES,
        5,
        None,
        180,
        "VI(III)4",
    ),
    "R": ReplacementRow("R", ("talent_documents",), ALL_ENTRIES, 10, None, 180, "VI(III)5"),
    "X2": ReplacementRow(
        "X2",
        ("admission_and_enrolment_certificates",),
        ("zero", "single", "double"),
        1,
        None,
        180,
        "VI(III)7",
    ),
}
S2_FAMILY: Final = ReplacementRow(
    "S2",
    ("letter_person_visited", "residence_permit_person_visited", "kinship_proof"),
    ALL_ENTRIES,
    5,
    None,
    180,
    "VI(III)6",
    "family_visit",
)
S2_OTHER: Final = ReplacementRow(
    "S2",
    ("proof_personal_or_humanitarian_matters",),
    ("zero", "single"),
    None,
    3,
    180,
    "VI(III)6",
    "private_affairs",
)

GROUND_MATERIALS: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    "new_passport": (("previous_passport_or_change_certificate",), "VI(III)8"),
    "add_accompanying_person": (
        ("passport_used_this_entry", "birth_certificate_accompanying_person"),
        "VI(III)9",
    ),
    "leave_group": (("letter_receiving_travel_agency",), "VI(III)10"),
}

ONE_YEAR_CITATION: Final = guide("VI(III)")


def replacement_row(category: str, *, on: dt.date, purpose: str | None = None) -> ReplacementRow | None:
    """Guide VI(III)1-7 row for the category to be issued, as of ``on``; None when the Guide has no row."""
    require_cited(on, "visa replacement (Guide VI(III))", guide("VI(III)"), reg(10))
    if category == "S2":
        return S2_OTHER if purpose in S2_PERSONAL else S2_FAMILY
    return REPLACEMENT_ROWS.get(category)


def one_year_cap_days(entry_date: dt.date, on: dt.date) -> int:
    """Days from ``on`` to one year after this entry (Guide VI(III) last sentence); never negative."""
    return max(0, (add_years(entry_date, 1) - on).days)


def remaining_entries(entries: str | None, used: int) -> str | None:
    """Entries the original visa still allows (Art 36 para 1(1); Guide VI(III)8, VI(IV))."""
    if entries is None:
        return None
    if entries == "multiple":
        return "multiple"
    total = ENTRY_COUNTS[entries]
    left = max(0, total - used)
    return ("zero", "single", "double")[left]
