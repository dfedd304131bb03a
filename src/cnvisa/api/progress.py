"""Online progress inquiry (在线查询办证进度; NIA measures 2024-03-20): case number + passport number in,
where the application stands out — one indexed query, no sign-in, no personal data beyond the case's own
state. A wrong pair is simply "not found", so the endpoint does not reveal which half was wrong."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlalchemy import and_, exists, select

from cnvisa.law import calendar as workdays
from cnvisa.law.errors import LawError
from cnvisa.store.tables import Case, TravelDocument
from cnvisa.web.deps import PlatformDep
from cnvisa.web.problems import Problem

router = APIRouter(tags=["progress"])

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


class Progress(BaseModel):
    number: str
    matter: str
    state: str
    next_step: str
    receipt_valid_until: dt.date | None
    working_days_left: int | None


_SQL = (
    "SELECT number, matter, state, receipt_valid_until FROM cases WHERE number = $1 AND EXISTS "
    "(SELECT 1 FROM travel_documents WHERE travel_documents.person_id = cases.person_id "
    "AND travel_documents.number = $2)"
)
"""The same query as the ORM one below, for the asyncpg hot path on PostgreSQL."""


@router.get(
    "/progress", response_model=Progress, summary="Progress inquiry by case number and passport number"
)
async def progress(
    p: PlatformDep,
    number: Annotated[
        str, Query(min_length=8, max_length=24, pattern=r"^[A-Za-z0-9-]+$", description="Case number")
    ],
    passport: Annotated[
        str, Query(min_length=5, max_length=20, pattern=r"^[A-Za-z0-9]+$", description="Passport number")
    ],
) -> Response:
    if p.fast_pool is not None:
        row = await p.fast_pool.fetchrow(_SQL, number, passport.upper())
    else:
        q = select(Case.number, Case.matter, Case.state, Case.receipt_valid_until).where(
            Case.number == number,
            exists().where(
                and_(TravelDocument.person_id == Case.person_id, TravelDocument.number == passport.upper())
            ),
        )
        async with p.sessions() as s:
            row = (await s.execute(q)).mappings().one_or_none()
    if row is None:
        raise Problem(
            404,
            "Not found",
            "no application with this number and passport number",
            field="number",
            code="not_found",
        )
    state, until = row["state"], row["receipt_valid_until"]
    left = None
    if until is not None and state in ("accepted", "under_verification", "refusal_proposed"):
        on = p.today()
        try:
            left = workdays.working_days_between(on, until) if on <= until else 0
        except LawError:
            left = None  # a year without a loaded holiday notice: unknown, not guessed
    body = {
        "number": row["number"],
        "matter": row["matter"],
        "state": state,
        "next_step": NEXT_STEP.get(state, ""),
        "receipt_valid_until": until.isoformat() if until else None,
        "working_days_left": left,
    }
    return Response(
        json.dumps(body), media_type="application/json"
    )  # the shape is Progress (documented above)
