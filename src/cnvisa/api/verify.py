"""Identity verification for institutions (Regulations Art 27), their API tokens, and the holder's list of the
checks of their documents."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from cnvisa.cases.identity import IdentityChecks, RateLimited, SectorNotAllowed
from cnvisa.cases.workflow import Role
from cnvisa.http import tokens
from cnvisa.http.deps import PlatformDep, Principal, check_csrf, require
from cnvisa.http.office import RowId
from cnvisa.http.params import IsoDate
from cnvisa.http.problems import Problem
from cnvisa.http.signin import create_token

router = APIRouter(tags=["identity verification (Art 27)"])

Verifier = Annotated[Principal, Depends(require(Role.VERIFIER))]
TokenHolder = Annotated[Principal, Depends(require(Role.VERIFIER, Role.HOTEL_STAFF))]
"""Accounts whose institution's system calls the API with a bearer token: verifiers (Regulations Art 27) and hotels'
front desks (their guests' reports, Law Art 39 para 1)."""
Holder = Annotated[Principal, Depends(require(Role.APPLICANT, Role.AGENT))]


async def service(p: PlatformDep) -> IdentityChecks:  # async: no thread-pool hop (cnvisa.http.deps.platform)
    return IdentityChecks(p.sessions, p.cases.clock)


Service = Annotated[IdentityChecks, Depends(service)]


class CheckIn(BaseModel):
    document_number: str = Field(min_length=1, max_length=40, description="passport, visa or permit number")
    name: str = Field(min_length=1, max_length=200, description="surname and given names as in the document")
    birth_date: IsoDate
    purpose: str = Field(min_length=1, max_length=200, description="the business the check is for")
    on: IsoDate | None = Field(
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
    id: int
    expires_at: dt.datetime


class TokenInfo(BaseModel):
    """A token as listed: never the token itself (only its SHA-256 is kept)."""

    id: int
    label: str
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: dt.datetime | None = Field(description="recorded at most once a minute")
    revoked_at: dt.datetime | None
    state: Literal["active", "expired", "revoked"]


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
    summary="Create a bearer token for the institution's API client — a bank's, a hotel's (returned once)",
)
async def new_token(body: TokenIn, request: Request, who: TokenHolder, p: PlatformDep) -> TokenOut:
    await check_csrf(request, who)
    token, record = await create_token(p, who, body.label)
    return TokenOut(token=token, label=record["label"], id=record["id"], expires_at=record["expires_at"])


@router.get("/verify/tokens", response_model=list[TokenInfo], summary="The institution's API tokens")
async def list_tokens(who: TokenHolder, p: PlatformDep) -> list[TokenInfo]:
    return [TokenInfo.model_validate(t) for t in await tokens.of_account(p.sessions, p.now(), who.account.id)]


@router.delete(
    "/verify/tokens/{token_id}",
    status_code=204,
    summary="Revoke one of the verifier's API tokens (at once, for good); audited",
    responses={404: {"description": "no such token of this verifier"}},
)
async def revoke_token(token_id: RowId, request: Request, who: TokenHolder, p: PlatformDep) -> Response:
    await check_csrf(request, who)
    if not await tokens.revoke(p.sessions, who.actor, token_id, p.now(), owner=who.account.id):
        raise Problem(404, "Not found", "no such token of yours", field="token_id", code="not_found")
    return Response(status_code=204)


@router.get("/me/checks", response_model=list[HolderCheck], summary="Who checked my documents (Art 27)")
async def my_checks(who: Holder, svc: Service) -> list[HolderCheck]:
    return [HolderCheck.model_validate(c) for c in await svc.checks_of_holder(who.actor)]
