"""Penalty decisions for illegal residence (issue 12): an officer records the decision made after hearing the
person — a warning; when serious a fine or detention (Law Art 78); the exit-entry office decides a warning or a fine
of at most 5,000 yuan, anything else is the public security organ's decision, recorded with its number (Law Art 70).
The platform imposes nothing (cnvisa.cases.penalties, cnvisa.law.penalties)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from cnvisa.cases.penalties import PenaltyRegister
from cnvisa.http.deps import Platform, PlatformDep, check_csrf
from cnvisa.http.office import OfficeStaff, RowId
from cnvisa.http.params import IsoDate

router = APIRouter(tags=["office"])
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"


class PenaltyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: Literal["person", "guardian"] = Field("person", description="Law Art 78 para 1, or para 2")
    warning: bool = False
    fine_cny: int = Field(0, ge=0, le=10_000)
    detention_days: int = Field(0, ge=0, le=15)
    serious: bool = Field(False, description="the officer's finding that it is serious (情节严重)")
    serious_reason: str = Field("", max_length=1000, pattern=NO_CONTROL)
    authority: Literal["exit_entry", "public_security"] = Field(description="who decided (Law Art 70)")
    decision_number: str = Field("", max_length=60, pattern=NO_CONTROL)
    heard_on: IsoDate = Field(
        description="the day the person was told and heard (Administrative Penalty Law Art 44, 45)"
    )
    statement: str = Field("", max_length=4000, description="what the person said, as recorded")


def _register(p: Platform) -> PenaltyRegister:
    return PenaltyRegister(p.sessions, p.cases.clock)


@router.post(
    "/office/people/{person_id}/penalty",
    summary="Record the penalty decided for a person's illegal residence, after hearing them (Law Art 78, 70)",
)
async def decide(
    person_id: RowId, body: PenaltyIn, request: Request, who: OfficeStaff, p: PlatformDep
) -> dict[str, Any]:
    """Checked against the law (the field and the article named when refused); one decision per spell of
    illegal residence (Administrative Penalty Law Art 29): sent again, answered as it stands. Audited."""
    await check_csrf(request, who)
    return await _register(p).decide(who.actor, person_id, body.model_dump())


@router.get("/office/people/{person_id}/penalties", summary="A person's penalty decisions (audited)")
async def of_person(person_id: RowId, who: OfficeStaff, p: PlatformDep) -> dict[str, Any]:
    register = _register(p)
    return {
        "person_id": person_id,
        "standing": await register.standing(who.actor, person_id),
        "decisions": await register.of_person(who.actor, person_id),
    }
