"""Visa reissue (签证补发) — Regulations Art 11-13, Guide VI(IV).

A visa lost, stolen, robbed or damaged is reissued on prompt application (Art 11). The reissued
visa has the type, entry validity, stay and remaining entries of the original (Guide VI(IV) last
paragraph) — nothing about it may be changed by a reissue.
"""

from __future__ import annotations

from typing import Final

from cnvisa.law.citations import guide

GROUNDS: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    # ground: (materials, Guide section). The new passport replaces the ordinary `passport` line.
    "lost": (("loss_report_or_embassy_note", "new_passport"), "VI(IV)1"),
    "stolen": (("loss_report_or_embassy_note", "new_passport"), "VI(IV)1"),
    "robbed": (("loss_report_or_embassy_note", "new_passport"), "VI(IV)1"),
    "damaged": (("damaged_passport_or_embassy_note", "new_passport"), "VI(IV)2"),
    "group_visa": (("letter_receiving_travel_agency", "group_visa_copy"), "VI(IV)3"),
}
IDENTICAL_CITATION: Final = guide("VI(IV)")
