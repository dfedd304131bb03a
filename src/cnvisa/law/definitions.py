"""Definitions — Guide XII: family members, kinship proof, authentication or apostille, identity
documents of the person visited, translation into Chinese.

Apostille: China's accession to the Apostille Convention took effect on 2023-11-07. From that date a
public document from another contracting state needs an apostille and no consular legalisation; a
document from a non-contracting state (or any document before that date) needs authentication by the
Chinese embassy or consulate (Guide XII(III)).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

from cnvisa.law.citations import Citation, guide

FAMILY_MEMBERS: Final[frozenset[str]] = frozenset(
    {
        "spouse",
        "parent",
        "parent_in_law",  # spouse's parents
        "child",
        "sibling",
        "paternal_grandparent",
        "maternal_grandparent",
        "paternal_grandchild",
        "maternal_grandchild",
        "grandchild_spouse",  # spouses of paternal and maternal grandchildren
    }
)
"""Guide XII(I), as the English Guide lists them.

Reading: the seeds carry only the English Guide. Its last item, "the spouses of paternal and maternal
grandchildren", is kept as written; a child's spouse (子女的配偶, which other NIA and MFA lists name) is not
added, because the text in force here does not name it. If the Chinese Guide is loaded and differs, it
prevails (seeds README)."""

KINSHIP_PROOF: Final[tuple[str, ...]] = (
    "marriage_certificate",
    "birth_certificate",
    "adoption_certificate",
    "kinship_document",
    "notarised_document_home_authority",
    "change_certificate_embassy",
)
"""Guide XII(II)."""

APOSTILLE_IN_FORCE_FOR_CHINA: Final = dt.date(2023, 11, 7)

PersonStatus = Literal[
    "mainland_resident", "overseas_chinese", "hong_kong_macao_resident", "taiwan_resident", "foreigner"
]

IDENTITY_DOCUMENTS: Final[dict[str, tuple[str, ...]]] = {
    # Guide XII(IV)
    "mainland_resident": (
        "household_register",
        "residence_certificate_over_six_months",
        "resident_identity_card",
    ),
    "overseas_chinese": (
        "chinese_passport",
        "certificate_of_foreign_settlement",
        "residence_certificate_over_six_months",
    ),
    "hong_kong_macao_resident": ("mainland_travel_permit_hk_macao", "residence_certificate_over_six_months"),
    "taiwan_resident": ("mainland_travel_permit_taiwan", "residence_certificate_over_six_months"),
    "foreigner": ("foreign_permanent_resident_id_card",),
}
"""Guide XII(IV). For mainland residents the documents are alternatives; overseas Chinese and residents
of Hong Kong, Macao and Taiwan also submit a residence certificate for over six months."""


def is_family_member(relation: str) -> bool:
    """Guide XII(I)."""
    return relation in FAMILY_MEMBERS


def identity_documents(status: str) -> tuple[str, ...]:
    """Guide XII(IV): the identity documents of the person visited, by status."""
    return IDENTITY_DOCUMENTS[status]


@dataclass(frozen=True, slots=True)
class DocumentRequirement:
    code: str
    needs: tuple[str, ...]
    """What the document still needs: 'consular_legalisation', 'apostille', 'translation'."""
    citations: tuple[Citation, ...]


def foreign_document_needs(
    code: str,
    on: dt.date,
    *,
    issued_abroad: bool,
    issuing_state_apostille_party: bool | None,
    legalisation: str,
    language: str,
    translated_into_chinese: bool,
) -> DocumentRequirement:
    """Guide XII(III) and its last paragraph: authentication or apostille, and translation."""
    needs: list[str] = []
    cites: list[Citation] = []
    if issued_abroad:
        apostille = bool(issuing_state_apostille_party) and on >= APOSTILLE_IN_FORCE_FOR_CHINA
        wanted = "apostille" if apostille else "consular"
        if legalisation != wanted:
            needs.append("apostille" if apostille else "consular_legalisation")
            cites.append(guide("XII(III)"))
    if language.lower() not in ("zh", "zh-cn", "zh-hans", "chinese") and not translated_into_chinese:
        needs.append("translation")
        cites.append(guide("XII"))
    return DocumentRequirement(code, tuple(needs), tuple(dict.fromkeys(cites)))
