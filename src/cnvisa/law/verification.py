"""Verification of the reasons for an application (Art 20; Guide VII(III)) and identity
verification for institutions (Art 27).

- Art 20: the exit-entry administration may verify the reasons for an application by interview,
  telephone inquiry, on-site investigation or other means; the applicant and the entity or person
  who issued the invitation or supporting documents shall cooperate. Guide VII(III): failing to
  attend a scheduled interview without a valid reason may lead to non-issuance (refusal ground
  ``guide_vii3_no_show`` in ``cnvisa.law.refusals``).
- Art 27: entities in finance, education, medical care, telecommunications and the like may apply
  to verify a foreigner's identity information while handling business.
"""

from __future__ import annotations

from typing import Final

from cnvisa.law.citations import Citation, guide, reg

VERIFICATION_METHODS: Final[dict[str, tuple[str, str]]] = {
    "interview": ("Interview", "面谈"),
    "telephone": ("Telephone inquiry", "电话询问"),
    "site_visit": ("On-site investigation", "实地调查"),
    "other": ("Other means", "其他方式"),
}
VERIFICATION_CITATIONS: Final[tuple[Citation, ...]] = (reg(20), guide("VII(III)"))

INSTITUTION_SECTORS: Final[dict[str, tuple[str, str]]] = {
    "finance": ("Finance", "金融"),
    "education": ("Education", "教育"),
    "medical": ("Medical care", "医疗"),
    "telecommunications": ("Telecommunications", "电信"),
}
"""Art 27 names these sectors "and the like" (等): other sectors may be admitted by the
administration, so ``other`` is accepted only when the administration has approved it."""


def verification_method(code: str) -> tuple[str, str]:
    """Art 20: the label (en, zh) of a verification method; KeyError for an unknown method."""
    return VERIFICATION_METHODS[code]


def institution_may_verify(sector: str, approved_other: bool = False) -> bool:
    """Art 27: may an institution of ``sector`` apply to verify a foreigner's identity?"""
    return sector in INSTITUTION_SECTORS or approved_other
