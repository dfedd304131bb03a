"""Acceptance (受理) — Regulations Art 13, Art 18, Art 36 last paragraph; Guide VII(II), VIII.

- Art 13 para 1 / Guide VIII: visa extension, replacement, reissue and stay permits: the acceptance
  receipt is valid for no more than 7 days; Art 18 para 1: residence-permit matters, 15 days. Art 36
  last paragraph counts both in working days; Civil Code Art 201: the day of acceptance does not
  count, so the receipt ends on the 7th (15th) working day after it — always a working day.
- Art 13 para 3, Art 18 para 3: while the passport is kept for processing, the receipt is the proof
  of lawful stay or residence.
- Art 13 para 2, Art 18 para 2, Guide VII(II): the one-time notice (一次性告知) lists every procedure
  to complete and every material to supplement or correct, at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Final

from cnvisa.law import calendar
from cnvisa.law.application import RESIDENCE_MATTERS, VISA_AND_STAY_MATTERS
from cnvisa.law.citations import Citation, guide, reg
from cnvisa.law.materials import Requirement

VISA_AND_STAY_RECEIPT_WORKING_DAYS: Final = 7
RESIDENCE_RECEIPT_WORKING_DAYS: Final = 15

_VISA_STAY = VISA_AND_STAY_MATTERS
_RESIDENCE = RESIDENCE_MATTERS


def receipt_working_days(matter: str) -> tuple[int, tuple[Citation, ...]] | None:
    """How many working days an acceptance receipt for ``matter`` is valid, and why; None when no
    article sets a receipt (overseas visas, exit formalities under Art 23)."""
    if matter in _VISA_STAY:
        cites: tuple[Citation, ...] = (reg(13, paragraph=1), reg(36, paragraph=2))
        if matter != "stay_permit":
            cites += (guide("VIII"),)
        return VISA_AND_STAY_RECEIPT_WORKING_DAYS, cites
    if matter in _RESIDENCE:
        return RESIDENCE_RECEIPT_WORKING_DAYS, (reg(18, paragraph=1), reg(36, paragraph=2))
    return None


def receipt_valid_until(matter: str, accepted_on: dt.date) -> dt.date | None:
    """Last day of validity of the acceptance receipt (module docstring)."""
    spec = receipt_working_days(matter)
    if spec is None:
        return None
    return calendar.add_working_days(accepted_on, spec[0])


def notice_citations(matter: str) -> tuple[Citation, ...]:
    if matter in _RESIDENCE:
        return (reg(18, paragraph=2), guide("VII(II)"))
    return (reg(13, paragraph=2), guide("VII(II)"))


def one_time_notice(required: Sequence[Requirement], provided: Iterable[str]) -> list[str]:
    """Every required material or procedure not provided, in checklist order — all at once."""
    have = set(provided)
    return [r.code for r in required if r.code not in have]
