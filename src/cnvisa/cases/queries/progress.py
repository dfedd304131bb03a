"""Online progress inquiry (在线查询办证进度; NIA measures 2024-03-20): case number + passport number in, where
the application stands out — one indexed query, no personal data beyond the case's own state. A wrong pair is
simply "not found", so the answer does not reveal which half was wrong."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, exists, select

from cnvisa.law import calendar as workdays
from cnvisa.law.errors import LawError
from cnvisa.store.fast import FastQuery, Reads
from cnvisa.store.tables import Case, TravelDocument

NEXT_STEP = {
    "draft": "applicant: submit the application",
    "submitted": "office: accept, or issue the one-time notice",
    "deficient": "applicant: supply what the one-time notice lists",
    "accepted": "office: decide within the receipt's validity",
    "under_verification": "office: verify the reasons for the application (Regulations Art 20)",
    "refusal_proposed": "office: a second officer confirms or revokes the proposed refusal",
    "approved": "office: issue the document",
    "issued": "applicant: collect in person with the receipt and passport (Guide X)",
    "collected": "done",
    "refused": "done: the decision is final (Exit and Entry Administration Law Art 36)",
    "withdrawn": "done",
    "lapsed": "done",
}


@dataclass(frozen=True)
class TextRule:
    """What a number given to the inquiry may look like (the API's query rules and the page's checks)."""

    min_length: int
    max_length: int
    pattern: str

    def admits(self, value: str | None) -> bool:
        # fullmatch: `$` alone would let a final newline through
        return (
            value is not None
            and self.min_length <= len(value) <= self.max_length
            and re.fullmatch(self.pattern, value) is not None
        )


NUMBER = TextRule(8, 24, r"^[A-Za-z0-9-]+$")
PASSPORT = TextRule(5, 20, r"^[A-Za-z0-9]+$")


QUERY = FastQuery(
    select(Case.number, Case.matter, Case.state, Case.receipt_valid_until).where(
        Case.number == bindparam("number"),
        exists().where(
            and_(TravelDocument.person_id == Case.person_id, TravelDocument.number == bindparam("passport"))
        ),
    )
)
"""One indexed read (cnvisa.store.fast: a plain asyncpg connection on PostgreSQL)."""


async def find(reads: Reads, number: str, passport: str, on: dt.date) -> dict[str, Any] | None:
    """The case's progress as of ``on``, or None when the pair matches no application."""
    row = await reads.first(QUERY, number=number, passport=passport.upper())
    if row is None:
        return None
    state, until = row["state"], row["receipt_valid_until"]
    left = None
    if until is not None and state in ("accepted", "under_verification", "refusal_proposed"):
        try:
            left = workdays.working_days_between(on, until) if on <= until else 0
        except LawError:
            left = None  # a year without a loaded holiday notice: unknown, not guessed
    return {
        "number": row["number"],
        "matter": row["matter"],
        "state": state,
        "next_step": NEXT_STEP.get(state, ""),
        "receipt_valid_until": until.isoformat() if until else None,
        "working_days_left": left,
    }
