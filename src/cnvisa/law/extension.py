"""Visa extension (签证延期) — Regulations Art 12-14, Law Art 29, Guide VI(II).

- Law Art 29 para 1 / Guide VI(II): apply at least seven days before the stay ends
  (停留期限届满七日前). Reading: the last day to apply is the day seven days before the last day
  of stay; 届满 and 以上 include the number (Civil Code Art 1259).
- Guide VI(II)1-10: the materials and the maximum extension per category. Reading: each maximum
  bounds one extension (可延长……最长不超过); the cumulative bound is separate.
- Regulations Art 14 para 1, Law Art 29 para 2, Guide VI(II) last sentence: cumulative extensions
  never exceed the stay stated on the original visa; the extension is valid for the current entry
  only and changes neither the number of entries nor the entry validity.
- K visa (Regulations Art 6(6), added by Decree 814 in force 2025-10-01): the Guide has no K row only
  because it predates the K visa. Its Scope and Eligibility (Guide I, IV) let any holder of an ordinary
  visa apply to extend it, and Law Art 29 sets the frame. Reading: a K visa whose stated stay is short-term
  (180 days or less, Regulations Art 36 para 1(4)) may be extended on the general materials (Guide VI(I)),
  with no per-category maximum — only the cumulative bound. A longer stated stay is residence (Art 36
  para 1(5)), which a visa extension does not serve.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from cnvisa.law.citations import Citation, guide, law, reg
from cnvisa.law.purposes import S2_PERSONAL
from cnvisa.law.versions import require_cited

APPLY_DAYS_BEFORE_END: Final = 7
"""Law Art 29 para 1; Guide VI(II)."""


@dataclass(frozen=True, slots=True)
class ExtensionRule:
    category: str
    materials: tuple[str, ...]
    max_days: int | None
    """The Guide's per-category maximum; None where the Guide sets none (K): the cumulative bound alone."""
    section: str
    variant: str | None = None
    """S2: 'family_visit' or 'private_affairs' (the Guide gives each its own maximum)."""
    basis: tuple[Citation, ...] = ()
    """Further articles the rule rests on where the Guide has no row of its own (K)."""

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
K_SHORT_TERM: Final = ExtensionRule(
    "K",
    ("k_talent_documents",),
    None,
    "VI(I)",
    basis=(law(29, paragraph=1), guide("I"), guide("IV"), reg(6, 6), reg(36, 4, paragraph=1)),
)
"""Guide VI(I)3 'materials related to the purpose': for K the young sci-tech talent documents (Art 7(6))."""
SHORT_TERM_MAX_DAYS: Final = 180
"""Regulations Art 36 para 1(4): short-term is a stay of 180 days or less (以内 includes 180)."""
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
        "A K visa whose stated stay exceeds 180 days is for long-term residence (Regulations Art 36 para 1(5)), "
        "which a visa extension does not serve (Law Art 29 extends a stay). For a different purpose apply for a "
        "visa replacement (Regulations Art 10); to reside, a residence permit under the corresponding category.",
        "K字签证注明的停留期限超过一百八十日的，属于长期居留（条例第三十六条第一款第五项），不适用签证延期（出境入境管理法"
        "第二十九条）。变更停留事由的，可申请换发签证（条例第十条）。",
        (law(29, paragraph=1), reg(36, 5, paragraph=1), reg(10)),
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


def extension_rule(
    category: str, *, on: dt.date, purpose: str | None = None, stay_days: int | None = None
) -> ExtensionRule | NoExtension:
    """Guide VI(II): the extension rule for a visa category (S2 splits by purpose), as of ``on``; K by the
    stay stated on the visa (``stay_days``, short-term or not)."""
    require_cited(on, "visa extension (Guide VI(II))", guide("VI(II)"), law(29))
    if category == "K" and stay_days is not None and stay_days <= SHORT_TERM_MAX_DAYS:
        return K_SHORT_TERM
    if category == "S2":
        return S2_OTHER if purpose in S2_PERSONAL else S2_FAMILY
    rule = EXTENSION_RULES.get(category)
    if rule is not None:
        return rule
    return NO_EXTENSION[category]


def max_extension_days(rule: ExtensionRule, original_stay_days: int, extended_days: int) -> int:
    """Largest extension grantable now: the category maximum (Guide VI(II)n), and never past the
    original stay in total (Regulations Art 14 para 1; Law Art 29 para 2)."""
    cumulative = original_stay_days - extended_days
    return max(0, cumulative if rule.max_days is None else min(rule.max_days, cumulative))


def last_day_to_apply(last_day_of_stay: dt.date) -> dt.date:
    """Law Art 29 para 1: at least seven days before the stay ends."""
    return last_day_of_stay - dt.timedelta(days=APPLY_DAYS_BEFORE_END)


CUMULATIVE_CITATIONS: Final = (reg(14, paragraph=1), law(29, paragraph=2), guide("VI(II)"))
TIMING_CITATIONS: Final = (law(29, paragraph=1), guide("VI(II)"))
