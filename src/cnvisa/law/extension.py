"""Visa extension (签证延期) — Regulations Art 12-14, Law Art 29, Guide VI(II).

- Law Art 29 para 1 / Guide VI(II): apply at least seven days before the stay ends
  (停留期限届满七日前). Reading: the last day to apply is the day seven days before the last day
  of stay; 届满 and 以上 include the number (Civil Code Art 1259).
- Guide VI(II)1-10: the materials and the maximum extension per category. Reading: each maximum
  bounds one extension (可延长……最长不超过); the cumulative bound is separate.
- Regulations Art 14 para 1, Law Art 29 para 2, Guide VI(II) last sentence: cumulative extensions
  never exceed the stay stated on the original visa; the extension is valid for the current entry
  only and changes neither the number of entries nor the entry validity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from cnvisa.law.citations import Citation, guide, law, reg
from cnvisa.law.versions import require_cited

APPLY_DAYS_BEFORE_END: Final = 7
"""Law Art 29 para 1; Guide VI(II)."""


@dataclass(frozen=True, slots=True)
class ExtensionRule:
    category: str
    materials: tuple[str, ...]
    max_days: int
    section: str
    variant: str | None = None
    """S2: 'family_visit' or 'private_affairs' (the Guide gives each its own maximum)."""

    @property
    def citation(self) -> Citation:
        return guide(self.section)


@dataclass(frozen=True, slots=True)
class NoExtension:
    """A category for which the Guide provides no extension, and what applies instead."""

    category: str
    instead_en: str
    instead_zh: str
    citations: tuple[Citation, ...]


_RP = (reg(9), law(30, paragraph=1))
EXTENSION_RULES: Final[dict[str, ExtensionRule]] = {
    "C": ExtensionRule("C", ("letter_transport_authority",), 30, "VI(II)1"),
    "F": ExtensionRule("F", ("letter_inviting_or_receiving_entity",), 180, "VI(II)2"),
    "G": ExtensionRule("G", ("letter_receiving_entity", "onward_ticket"), 30, "VI(II)3"),
    "J2": ExtensionRule("J2", ("letter_provincial_foreign_affairs",), 30, "VI(II)4"),
    "L": ExtensionRule("L", ("itinerary",), 30, "VI(II)5"),
    "M": ExtensionRule("M", ("letter_inviting_or_receiving_party",), 180, "VI(II)6"),
    "Q2": ExtensionRule(
        "Q2", ("letter_person_visited", "identity_document_person_visited", "kinship_proof"), 180, "VI(II)7"
    ),
    "R": ExtensionRule("R", ("talent_confirmation",), 180, "VI(II)8"),
    "X2": ExtensionRule("X2", ("letter_enrolment_institution",), 180, "VI(II)10"),
}
S2_FAMILY: Final = ExtensionRule(
    "S2",
    ("letter_person_visited", "residence_permit_person_visited", "kinship_proof"),
    180,
    "VI(II)9",
    "family_visit",
)
S2_OTHER: Final = ExtensionRule(
    "S2", ("proof_personal_or_humanitarian_matters",), 90, "VI(II)9", "private_affairs"
)
L_GROUP_MATERIAL: Final = "letter_travel_agency"
"""Guide VI(II)5: group tourists also submit the travel agency's certification letter."""

NO_EXTENSION: Final[dict[str, NoExtension]] = {
    "D": NoExtension(
        "D",
        "The Guide provides no extension for D visas: the holder entered for permanent residence and completes the "
        "permanent-residence formalities instead.",
        "《指南》未规定D字签证延期：持证人系入境永久居留，应办理永久居留相关手续。",
        (guide("VI(II)"), reg(6, 2)),
    ),
    "K": NoExtension(
        "K",
        "The Guide provides no extension for K visas (the K visa was added by the 2025 revision). For a different "
        "purpose apply for a visa replacement (Regulations Art 10); to stay beyond the visa, a stay or residence "
        "permit under the corresponding category.",
        "《指南》未规定K字签证延期（K字签证系2025年修订新增）。变更停留事由的，可申请换发签证（条例第十条）。",
        (guide("VI(II)"), reg(10)),
    ),
}
for _code, _ptype_en, _ptype_zh in (
    ("J1", "journalist residence permit", "记者类居留证件"),
    ("Q1", "family-reunion residence permit", "团聚类居留证件"),
    ("S1", "private-affairs residence permit", "私人事务类居留证件"),
    ("X1", "study residence permit", "学习类居留证件"),
    ("Z", "work-type residence permit", "工作类居留证件"),
):
    NO_EXTENSION[_code] = NoExtension(
        _code,
        f"The Guide provides no extension for {_code} visas: the holder must apply for a {_ptype_en} within 30 days "
        "of entry (Regulations Art 9; Law Art 30).",
        f"《指南》未规定{_code}字签证延期：持证人应当自入境之日起三十日内申请办理{_ptype_zh}。",
        (guide("VI(II)"), *_RP),
    )


def extension_rule(category: str, *, on: dt.date, purpose: str | None = None) -> ExtensionRule | NoExtension:
    """Guide VI(II): the extension rule for a visa category (S2 splits by purpose), as of ``on``."""
    require_cited(on, "visa extension (Guide VI(II))", guide("VI(II)"), law(29))
    if category == "S2":
        return S2_OTHER if purpose in ("private_affairs", "humanitarian", "other") else S2_FAMILY
    rule = EXTENSION_RULES.get(category)
    if rule is not None:
        return rule
    return NO_EXTENSION[category]


def max_extension_days(rule: ExtensionRule, original_stay_days: int, extended_days: int) -> int:
    """Largest extension grantable now: the category maximum (Guide VI(II)n), and never past the
    original stay in total (Regulations Art 14 para 1; Law Art 29 para 2)."""
    return max(0, min(rule.max_days, original_stay_days - extended_days))


def last_day_to_apply(last_day_of_stay: dt.date) -> dt.date:
    """Law Art 29 para 1: at least seven days before the stay ends."""
    return last_day_of_stay - dt.timedelta(days=APPLY_DAYS_BEFORE_END)


CUMULATIVE_CITATIONS: Final = (reg(14, paragraph=1), law(29, paragraph=2), guide("VI(II)"))
TIMING_CITATIONS: Final = (law(29, paragraph=1), guide("VI(II)"))
