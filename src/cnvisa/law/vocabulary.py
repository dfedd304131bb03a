"""The grounds of the application contract (``ground``), taken from the tables the rules run on, so the schema
(``cnvisa assess --schema``) lists exactly what the rules accept.

- ``ground``: what the matter is applied for on — Regulations Art 10 and Guide VI(III) (visa replacement),
  Art 11 and Guide VI(IV) (reissue), Art 17 (residence permit replacement and reissue), Art 23 (exit without
  a passport). Matters with no ground take none of these values.
- ``purpose``: see ``cnvisa.law.purposes``.
"""

from __future__ import annotations

from typing import Final

from cnvisa.law import reissue, replacement, residence

EXIT_GROUNDS: Final[dict[str, str | None]] = {
    "lost": "loss_report",
    "stolen": "loss_report",
    "robbed": "loss_report",
    "damaged": "damaged_document",
    "other": None,
}
"""Regulations Art 23: why the passport cannot be used → the material proving it (none for 'other')."""

GROUNDS: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    "visa_replacement": (replacement.GROUNDS, "Regulations Art 10; Guide VI(III)"),
    "visa_reissue": (tuple(reissue.GROUNDS), "Regulations Art 11; Guide VI(IV)"),
    "residence_permit_replacement": (tuple(residence.RP_REPLACEMENT_GROUNDS), "Regulations Art 17"),
    "residence_permit_reissue": (tuple(residence.RP_REISSUE_GROUNDS), "Regulations Art 17"),
    "exit_without_passport": (tuple(EXIT_GROUNDS), "Regulations Art 23"),
}
"""Matter → (the grounds its rules accept, the articles that list them)."""
ALL_GROUNDS: Final = tuple(dict.fromkeys(g for grounds, _ in GROUNDS.values() for g in grounds))


def grounds_error(matter: str) -> str:
    """The message naming the grounds a matter accepts and the articles listing them."""
    grounds, basis = GROUNDS[matter]
    return f"must be one of {', '.join(grounds)} ({basis})"
