"""Stay permits and residence permits — Regulations Art 12-13, 15-18, 22; Law Art 30-34.

- Art 15: five residence-permit types; Art 16 items (1)-(5): their materials; Art 16 para 1: in
  person, with fingerprints and other biometrics.
- Law Art 30 para 2: work-type permits valid 90 days to 5 years; other types 180 days to 5 years.
- Art 16 last paragraph: a permit valid "一年以上" — one year **or more** (Civil Code Art 1259) —
  needs a health certificate, valid 6 months from its date of issue.
- Law Art 32: apply to extend at least 30 days before the permit expires.
- Law Art 33: changed registered particulars are reported within 10 days of the change.
- Law Art 34: a stay permit is valid at most 180 days.
- Art 22: off-campus part-time work or internship needs the school's approval and the place and
  duration annotated on the study residence permit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from cnvisa.law.citations import Citation, law, reg
from cnvisa.law.obligations import due
from cnvisa.law.periods import add_months, add_years
from cnvisa.law.versions import require_cited

WORK_MIN_DAYS: Final = 90
OTHER_MIN_DAYS: Final = 180
MAX_YEARS: Final = 5
STAY_PERMIT_MAX_DAYS: Final = 180
"""Law Art 34 para 2 (外国人停留证件的有效期最长为一百八十日)."""
EXTEND_DAYS_BEFORE_EXPIRY: Final = 30
"""Law Art 32."""
REPORT_CHANGE_WITHIN_DAYS: Final = 10
"""Law Art 33."""
HEALTH_CERTIFICATE_MONTHS: Final = 6
"""Art 16 last paragraph."""

VALIDITY_CITATION: Final = law(30, paragraph=2)
HEALTH_CITATIONS: Final = (reg(16, paragraph=2),)
IN_PERSON_CITATION: Final = reg(16, paragraph=1)


@dataclass(frozen=True, slots=True)
class PermitType:
    code: str
    name_en: str
    name_zh: str
    art15_item: int

    @property
    def citation(self) -> Citation:
        return reg(15, self.art15_item)


PERMIT_TYPES: Final[dict[str, PermitType]] = {
    p.code: p
    for p in (
        PermitType("work", "Work-type residence permit", "工作类居留证件", 1),
        PermitType("study", "Study residence permit", "学习类居留证件", 2),
        PermitType("journalist", "Journalist residence permit", "记者类居留证件", 3),
        PermitType("family_reunion", "Family-reunion residence permit", "团聚类居留证件", 4),
        PermitType("private_affairs", "Private-affairs residence permit", "私人事务类居留证件", 5),
    )
}

VISA_FOR_PERMIT: Final[dict[str, frozenset[str]]] = {
    # Which visas lead to which permit: Art 6 purposes matched with Art 15 types; R holders are the
    # talents of Art 16(1).
    "work": frozenset({"Z", "R"}),
    "study": frozenset({"X1"}),
    "journalist": frozenset({"J1"}),
    "family_reunion": frozenset({"Q1"}),
    "private_affairs": frozenset({"S1"}),
}


def permit_materials(
    permit_type: str, purpose: str | None, talent: bool, *, on: dt.date
) -> tuple[tuple[str, ...], Citation]:
    """Art 16 items (1)-(5): the materials for the reason of the application, as of ``on``."""
    require_cited(on, "residence permit materials (Regulations Art 16)", reg(16))
    if permit_type == "work":
        return (("talent_supporting_documents",) if talent else ("work_permit",)), reg(16, 1)
    if permit_type == "study":
        return ("admitting_institution_letter_with_duration",), reg(16, 2)
    if permit_type == "journalist":
        return ("competent_authority_letter_press_card",), reg(16, 3)
    if permit_type == "family_reunion":
        if purpose == "foster_care":
            return ("power_of_attorney",), reg(16, 4)
        return ("family_member_certificate", "family_reunion_reason_documents"), reg(16, 4)
    if purpose == "private_affairs":
        return ("private_affairs_residence_documents",), reg(16, 5)
    return ("kinship_proof", "residence_permit_person_visited"), reg(16, 5)


def validity_bounds_days(permit_type: str, on: dt.date) -> tuple[int, int]:
    """Law Art 30 para 2: (shortest, longest) validity in days for a permit issued on ``on``."""
    shortest = WORK_MIN_DAYS if permit_type == "work" else OTHER_MIN_DAYS
    return shortest, (add_years(on, MAX_YEARS) - on).days


def needs_health_certificate(validity_days: int, on: dt.date) -> bool:
    """Art 16 last paragraph: validity of one year or more (一年以上 includes one year)."""
    return validity_days >= (add_years(on, 1) - on).days


def health_certificate_valid_until(issued_on: dt.date) -> dt.date:
    """Art 16 last paragraph: valid 6 months from the date of issue (Civil Code Art 201-202)."""
    return add_months(issued_on, HEALTH_CERTIFICATE_MONTHS)


def extension_apply_by(valid_until: dt.date) -> dt.date:
    """Law Art 32: at least 30 days before the permit expires."""
    return valid_until - dt.timedelta(days=EXTEND_DAYS_BEFORE_EXPIRY)


def change_report_by(changed_on: dt.date) -> dt.date:
    """Law Art 33 para 1: within 10 days of the change — the obligations register's day
    (``cnvisa.law.obligations.due``), so that a last day on a rest day moves to the next working day (Civil Code
    Art 203 para 1) here too, not only on the holder's list of duties."""
    return due("change_of_particulars", changed_on).by or changed_on + dt.timedelta(
        days=REPORT_CHANGE_WITHIN_DAYS
    )


RP_REPLACEMENT_GROUNDS: Final[dict[str, tuple[tuple[str, ...], tuple[Citation, ...]]]] = {
    "particulars_changed": (("current_residence_permit", "reason_documents"), (reg(17), law(33))),
    "new_passport": (("current_residence_permit", "previous_passport_or_change_certificate"), (reg(17),)),
    "damaged": (("damaged_document",), (reg(17),)),
}
RP_REISSUE_GROUNDS: Final[dict[str, tuple[tuple[str, ...], tuple[Citation, ...]]]] = {
    "lost": (("loss_report",), (reg(17),)),
    "stolen": (("loss_report",), (reg(17),)),
    "robbed": (("loss_report",), (reg(17),)),
}
