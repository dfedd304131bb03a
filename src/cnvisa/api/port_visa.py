"""Port visas (口岸签证, Law Art 20; issue 11 §1): the inviting organisation's staff or the foreigner file a request in
advance and follow it; the port visa authority's desk (role ``port_visa_officer``) sees its port's queue by arrival,
approves or refuses before arrival, and issues at the port when the person presents the passport. Thin over
``cnvisa.cases.port_visa`` and ``cnvisa.cases.queries.port_visa``. Every command carries an Idempotency-Key: the
same request with the same key returns the first answer and changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from cnvisa.cases.port_visa.service import Filing, PortVisaService, port_visa_window
from cnvisa.cases.queries.port_visa import PortVisaReads
from cnvisa.cases.workflow import Role
from cnvisa.http.applicant import namespaced_key
from cnvisa.http.deps import Platform, PlatformDep, Principal, check_csrf, require
from cnvisa.http.params import Instant, IsoDate
from cnvisa.law import port_visa as pv

router = APIRouter(tags=["port visas (Law Art 20)"])

Filer = Annotated[Principal, Depends(require(Role.ORG_STAFF, Role.APPLICANT))]
Reader = Annotated[Principal, Depends(require(Role.ORG_STAFF, Role.APPLICANT, Role.PORT_VISA_OFFICER))]
Desk = Annotated[Principal, Depends(require(Role.PORT_VISA_OFFICER))]
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Key = Annotated[str | None, Header(alias="Idempotency-Key")]
Version = Annotated[int, Field(ge=1, le=2**31 - 1, description="The request's version as last read")]
PURPOSES = Literal[
    "negotiation",
    "trade",
    "installation_repair",
    "exhibition",
    "investment",
    "business_cooperation",
    "visit",
    "family_visit",
    "private_affairs",
    "humanitarian",
    "group_tourism",
    "other",
]
"""cnvisa.law.port_visa.PURPOSES (a test keeps them equal)."""
INVITERS = Literal["entity", "chinese_citizen", "permanent_resident", "foreigner_residing", "travel_agency"]
"""cnvisa.law.port_visa.INVITER_KINDS."""


def service(p: Platform) -> PortVisaService:
    return PortVisaService(p.sessions, p.cases.clock, arrival_window_days=port_visa_window())


def reads(p: Platform) -> PortVisaReads:
    return PortVisaReads(p.sessions, p.cases.clock)


class PortVisaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: PURPOSES = Field(
        description="The purpose of entry; the visa category follows it (cnvisa law ports)"
    )
    urgent: bool = Field(
        description="An urgent need to enter with no time to get a visa abroad (Law Art 20 para 1)"
    )
    urgency: str = Field(min_length=1, max_length=500, description="The urgent need, in a sentence")
    port: str = Field(
        min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$", description="A port code (cnvisa law ports)"
    )
    arrival_at: Instant = Field(
        description="Scheduled arrival at the port, with its offset (Beijing time shown)"
    )
    flight: str = Field(
        min_length=3, max_length=12, description="Flight, voyage or train number, e.g. CA1234"
    )
    stay_days: int = Field(
        pv.MAX_STAY_DAYS, ge=1, le=pv.MAX_STAY_DAYS, description="Stay asked for (≤ 30 days)"
    )
    inviter_kind: INVITERS | None = Field(
        None, description="Who invites (the foreigner filing; staff: their organisation)"
    )
    surname: str | None = Field(
        None, max_length=120, description="As in the passport (the organisation's staff)"
    )
    given_names: str | None = Field(None, max_length=200)
    birth_date: IsoDate | None = None
    sex: Literal["M", "F", "X"] | None = None
    nationality: str | None = Field(None, pattern=r"^[A-Z<]{3}$", description="ICAO 9303 code")
    passport_number: str | None = Field(
        None, max_length=20, description="The passport to be presented at the port"
    )
    passport_issuing_state: str | None = Field(None, pattern=r"^[A-Z<]{3}$")
    passport_valid_until: IsoDate | None = None
    materials: list[Annotated[str, Field(max_length=60)]] = Field(
        default_factory=list,
        max_length=20,
        description="Material codes held (the rest is brought to the port)",
    )


class PortOut(BaseModel):
    code: str
    name_zh: str
    name_en: str


class RequestRow(BaseModel):
    id: int
    number: str
    state: Literal["submitted", "pre_approved", "refused", "issued", "lapsed", "withdrawn"]
    version: int
    name: str
    nationality: str
    passport: str
    purpose: str
    category: str | None
    port: PortOut
    arrival_at: dt.datetime
    arrival_date: dt.date
    flight: str
    stay_days: int
    present_by: dt.date = Field(description="Last day to present the passport at the port (office rule)")


class RequestOut(BaseModel):
    id: int
    number: str
    version: int
    state: Literal["submitted", "pre_approved", "refused", "issued", "lapsed", "withdrawn"]
    person: dict[str, Any]
    passport: dict[str, Any]
    organisation_id: int | None
    filed_role: str
    filed_at: dt.datetime
    filed_on: dt.date
    purpose: str
    urgent: bool
    urgency: str
    inviter_kind: str
    port: PortOut
    arrival_at: dt.datetime
    arrival_date: dt.date
    flight: str
    stay_days: int
    category: str | None
    entries: str
    usable_only_at_port: bool
    present_by: dt.date
    decided_at: dt.datetime | None
    refusal: dict[str, Any] | None = Field(
        description="Ground codes and citations; the reasons withheld where Law Art 21 para 2 allows"
    )
    issued_at: dt.datetime | None
    visa: dict[str, Any] | None = Field(description="The visa issued at the port, as the registry holds it")
    closed_at: dt.datetime | None
    assessment: dict[str, Any] = Field(description="The law engine's answer at filing, with citations")
    checks: list[dict[str, Any]] = Field(
        default_factory=list, description="Passport and face checks at the port"
    )


class QueueOut(BaseModel):
    port: PortOut
    requests: list[RequestRow]


class VersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: Version


class ApproveIn(VersionIn):
    category: str | None = Field(
        None, max_length=4, description="Only when the purpose names none (other): the category to issue"
    )


class RefuseIn(VersionIn):
    grounds: list[Annotated[str, Field(max_length=20)]] = Field(
        min_length=1, max_length=10, description="Refusal ground codes (Law Art 21, 25: cnvisa.law.refusals)"
    )
    withhold_reasons: bool = Field(
        True, description="Withhold the reasons (Law Art 21 para 2, Art 25 para 2)"
    )


class IssueIn(VersionIn):
    passport_number: str = Field(
        min_length=1, max_length=20, description="The number of the passport presented"
    )
    face_matches: bool = Field(description="The officer's check of the face against the passport photo")
    mrz_line1: str | None = Field(None, max_length=44)
    mrz_line2: str | None = Field(None, max_length=44)


def _answer(out: dict[str, Any], response: Response, created: int = 200) -> RequestOut:
    response.status_code = 200 if out.get("replayed") else created
    return RequestOut.model_validate(out)


COMMAND: dict[int | str, dict[str, Any]] = {
    200: {"description": "done, or a repeat of a request already answered (same Idempotency-Key)"},
    409: {"description": "problem+json: not in this state, a stale version, or a guard (its rule named)"},
    422: {"description": "problem+json naming the field (and the rule)"},
}


@router.post(
    "/port-visa/requests",
    response_model=RequestOut,
    status_code=201,
    summary="File a port-visa request in advance (Law Art 20): the law engine decides whether it can be filed",
    responses={
        200: {"description": "a repeat of a request already answered (same Idempotency-Key)"},
        422: {"description": "problem+json naming the field and the rule (e.g. a port not on the list)"},
    },
)
async def file_request(
    body: PortVisaIn,
    request: Request,
    response: Response,
    who: Filer,
    p: PlatformDep,
    idempotency_key: Key = None,
) -> RequestOut:
    await check_csrf(request, who)
    key = namespaced_key(who, idempotency_key)
    out = await service(p).file(who.actor, Filing(**body.model_dump()), idempotency_key=key)
    return _answer(out, response, 201)


@router.get("/port-visa/requests", response_model=list[RequestRow], summary="Our (my) port-visa requests")
async def my_requests(who: Filer, p: PlatformDep) -> list[RequestRow]:
    return [RequestRow.model_validate(r) for r in await reads(p).mine(who.actor)]


@router.get("/port-visa/requests/{request_id}", response_model=RequestOut, summary="One port-visa request")
async def one_request(request_id: RowId, who: Reader, p: PlatformDep) -> RequestOut:
    return RequestOut.model_validate(await reads(p).read(who.actor, request_id))


@router.post(
    "/port-visa/requests/{request_id}/withdraw",
    response_model=RequestOut,
    summary="Withdraw a port-visa request (the filer)",
    responses=COMMAND,
)
async def withdraw(
    request_id: RowId,
    body: VersionIn,
    request: Request,
    response: Response,
    who: Filer,
    p: PlatformDep,
    idempotency_key: Key = None,
) -> RequestOut:
    await check_csrf(request, who)
    key = namespaced_key(who, idempotency_key)
    out = await service(p).withdraw(who.actor, request_id, version=body.version, idempotency_key=key)
    return _answer(out, response)


@router.get(
    "/port-visa/desk",
    response_model=QueueOut,
    summary="The port desk's queue: its port's open requests by scheduled arrival",
)
async def queue(who: Desk, p: PlatformDep) -> QueueOut:
    return QueueOut.model_validate(await reads(p).queue(who.actor))


@router.post(
    "/port-visa/desk/requests/{request_id}/approve",
    response_model=RequestOut,
    summary="Preliminary approval before arrival",
    responses=COMMAND,
)
async def approve(
    request_id: RowId,
    body: ApproveIn,
    request: Request,
    response: Response,
    who: Desk,
    p: PlatformDep,
    idempotency_key: Key = None,
) -> RequestOut:
    await check_csrf(request, who)
    key = namespaced_key(who, idempotency_key)
    out = await service(p).approve(
        who.actor, request_id, version=body.version, category=body.category, idempotency_key=key
    )
    return _answer(out, response)


@router.post(
    "/port-visa/desk/requests/{request_id}/refuse",
    response_model=RequestOut,
    summary="Refuse on cited grounds (Law Art 21, 25), before arrival or at the port",
    responses=COMMAND,
)
async def refuse(
    request_id: RowId,
    body: RefuseIn,
    request: Request,
    response: Response,
    who: Desk,
    p: PlatformDep,
    idempotency_key: Key = None,
) -> RequestOut:
    await check_csrf(request, who)
    key = namespaced_key(who, idempotency_key)
    out = await service(p).refuse(
        who.actor,
        request_id,
        version=body.version,
        grounds=body.grounds,
        withhold_reasons=body.withhold_reasons,
        idempotency_key=key,
    )
    return _answer(out, response)


@router.post(
    "/port-visa/desk/requests/{request_id}/issue",
    response_model=RequestOut,
    summary="Issue at the port: the passport and face checked, the visa recorded in the registry",
    responses=COMMAND,
)
async def issue(
    request_id: RowId,
    body: IssueIn,
    request: Request,
    response: Response,
    who: Desk,
    p: PlatformDep,
    idempotency_key: Key = None,
) -> RequestOut:
    await check_csrf(request, who)
    key = namespaced_key(who, idempotency_key)
    mrz = (body.mrz_line1, body.mrz_line2) if body.mrz_line1 and body.mrz_line2 else None
    out = await service(p).issue(
        who.actor,
        request_id,
        version=body.version,
        passport_number=body.passport_number,
        face_matches=body.face_matches,
        mrz=mrz,
        idempotency_key=key,
    )
    return _answer(out, response)
