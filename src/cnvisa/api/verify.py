"""Identity verification for institutions (Regulations Art 27), their API tokens, and the holder's list of the
checks of their documents."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from cnvisa.cases.identity import IdentityChecks, RateLimited, SectorNotAllowed
from cnvisa.cases.workflow import Role
from cnvisa.http.deps import PlatformDep, Principal, check_csrf, require
from cnvisa.http.problems import Problem
from cnvisa.http.signin import create_token

router = APIRouter(tags=["identity verification (Art 27)"])

Verifier = Annotated[Principal, Depends(require(Role.VERIFIER))]
Holder = Annotated[Principal, Depends(require(Role.APPLICANT, Role.AGENT))]


def service(p: PlatformDep) -> IdentityChecks:
    return IdentityChecks(p.sessions, p.cases.clock)


Service = Annotated[IdentityChecks, Depends(service)]


class CheckIn(BaseModel):
    document_number: str = Field(min_length=1, max_length=40, description="passport, visa or permit number")
    name: str = Field(min_length=1, max_length=200, description="surname and given names as in the document")
    birth_date: dt.date
    purpose: str = Field(min_length=1, max_length=200, description="the business the check is for")
    on: dt.date | None = Field(
        default=None,
        description="today's date (Beijing time), or absent: the check answers for today only (Regulations Art 27: "
        "while handling business); any other date is refused (422)",
    )


class CheckOut(BaseModel):
    """The whole answer: nothing else about the person is disclosed."""

    model_config = ConfigDict(extra="forbid")
    match: bool = Field(description="a person with this document number, name and birth date exists")
    covered: bool = Field(
        description="a valid visa (stay running), stay permit or residence permit covers the date"
    )


class TokenIn(BaseModel):
    label: str = Field(min_length=1, max_length=100, description="names the API client")


class TokenOut(BaseModel):
    token: str = Field(description="shown once; send it as 'Authorization: Bearer <token>'")
    label: str


class HolderCheck(BaseModel):
    id: int
    at: dt.datetime
    person_id: int
    person_name: str
    institution: str | None
    sector: str | None
    sector_en: str | None
    sector_zh: str | None
    purpose: str
    document_number: str
    on: dt.date
    match: bool
    covered: bool


def as_problem(exc: Exception) -> Problem:
    if isinstance(exc, RateLimited):
        return Problem(
            429,
            "Too many requests",
            str(exc),
            rule=exc.rule,
            code="rate_limited",
            retry_after=exc.retry_after,
        )
    assert isinstance(exc, SectorNotAllowed)
    return Problem(403, "Forbidden", str(exc), rule=exc.rule, code="sector_not_allowed")


@router.post(
    "/verify",
    response_model=CheckOut,
    summary="Verify a foreigner's identity (Regulations Art 27): match and covered, nothing else",
    responses={
        403: {"description": "not a verifier, or the institution's sector is not one of Art 27"},
        429: {"description": "too many checks this minute, or today (per account; per document number)"},
    },
)
async def verify(body: CheckIn, request: Request, who: Verifier, p: PlatformDep, svc: Service) -> CheckOut:
    await check_csrf(request, who)
    try:
        answer = await svc.check(
            who.actor,
            document_number=body.document_number,
            name=body.name,
            birth_date=body.birth_date,
            purpose=body.purpose,
            on=body.on,
            per_minute=p.settings.identity_checks_per_minute,
            per_day=p.settings.identity_checks_per_day,
            per_document_per_day=p.settings.identity_checks_per_document_per_day,
        )
    except (RateLimited, SectorNotAllowed) as exc:
        raise as_problem(exc) from None
    return CheckOut(**answer)


@router.post(
    "/verify/tokens",
    response_model=TokenOut,
    status_code=201,
    summary="Create a bearer token for the institution's API client (returned once)",
)
async def new_token(body: TokenIn, request: Request, who: Verifier, p: PlatformDep) -> TokenOut:
    await check_csrf(request, who)
    return TokenOut(token=await create_token(p, who, body.label), label=body.label.strip())


@router.get("/me/checks", response_model=list[HolderCheck], summary="Who checked my documents (Art 27)")
async def my_checks(who: Holder, svc: Service) -> list[HolderCheck]:
    return [HolderCheck.model_validate(c) for c in await svc.checks_of_holder(who.actor)]
