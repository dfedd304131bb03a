"""Accommodation registration (住宿登记, Law Art 39; issue 11 §3) over the API: hotels report their guests in
batches, people register private stays and moving out, the police read their area (``cnvisa.cases.accommodation``).

A hotel's system signs in as one of the hotel's staff, or uses a bearer token of such an account (no CSRF then).
Each stay carries the hotel's own stay reference: the report may be sent again, as a whole or in part, and each
stay is registered once (``replayed`` the second time). Passport numbers travel in request bodies only (the
search is a POST), never in addresses or logs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from cnvisa.cases.accommodation import MAX_BATCH, MAX_PER_PAGE, PER_PAGE, AccommodationService, Stay
from cnvisa.cases.workflow import Role
from cnvisa.http.deps import Platform, PlatformDep, Principal, check_csrf, require
from cnvisa.http.params import AwareInstant, IsoDate

router = APIRouter(tags=["accommodation registration (Law Art 39)"])

HotelStaff = Annotated[Principal, Depends(require(Role.HOTEL_STAFF))]
Registrant = Annotated[
    Principal,
    Depends(
        require(
            Role.APPLICANT, Role.AGENT, Role.HOTEL_STAFF, Role.OFFICER, Role.SUPERVISOR, Role.POLICE_OFFICER
        )
    ),
]
Police = Annotated[Principal, Depends(require(Role.OFFICER, Role.SUPERVISOR))]
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]
MrzLine = Annotated[str, Field(min_length=44, max_length=44, pattern=r"^[A-Z0-9<]{44}$")]


class StayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mrz: tuple[MrzLine, MrzLine] = Field(
        description="The passport's two MRZ lines (ICAO 9303 TD3), as scanned"
    )
    address: str = Field(
        min_length=1, max_length=300, description="Where the foreigner stays (room and address)"
    )
    division_code: str = Field(pattern=r"^[0-9]{6}$", description="GB/T 2260 division code of the address")
    moved_in_at: AwareInstant = Field(description="Check-in or moving in, with its offset (e.g. +08:00)")
    moved_out_at: AwareInstant | None = Field(None, description="Check-out, once it happened")


class HotelStayIn(StayIn):
    stay_ref: str = Field(
        min_length=1,
        max_length=64,
        description="The hotel's own reference of the stay: sent again, the same stay",
    )


class HotelReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stays: list[HotelStayIn] = Field(min_length=1, max_length=MAX_BATCH)


class PrivateStayIn(StayIn):
    person_id: RowId | None = Field(
        None,
        description="Yourself, or someone you act for (a police station: the person at the desk); omitted: the "
        "person the MRZ names — your guest, registered by you as their host (留宿人, Law Art 39 para 2), or at a "
        "police station the person at the desk",
    )
    host_name: str | None = Field(None, max_length=120, description="Who the foreigner stays with (留宿人)")


class MoveOutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    moved_out_at: AwareInstant


class SearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    passport: str = Field(min_length=5, max_length=20, pattern=r"^[A-Za-z0-9]+$")


def _service(p: Platform) -> AccommodationService:
    return AccommodationService(p.sessions, p.cases.clock, hotel_report_hours=p.settings.hotel_report_hours)


def _stay(body: StayIn, **extra: Any) -> Stay:
    return Stay(
        mrz=body.mrz,
        address=body.address,
        division_code=body.division_code,
        moved_in_at=body.moved_in_at,
        moved_out_at=body.moved_out_at,
        **extra,
    )


@router.post(
    "/accommodation/hotel-stays",
    summary="A hotel reports its foreign guests (Law Art 39 para 1): up to 500 stays, each answered on its own",
    responses={
        200: {"description": "one outcome per stay: registered, replayed, moved_out or rejected (field)"}
    },
)
async def hotel_stays(
    body: HotelReportIn, request: Request, who: HotelStaff, p: PlatformDep
) -> dict[str, Any]:
    await check_csrf(request, who)
    stays = [_stay(s, stay_ref=s.stay_ref) for s in body.stays]
    return await _service(p).report_hotel_stays(who.actor, stays)


@router.post(
    "/accommodation/stays",
    status_code=201,
    summary="Register a stay outside a hotel within 24 hours of moving in (Law Art 39 para 2)",
    responses={200: {"description": "the same stay sent again (nothing written)"}},
)
async def private_stay(
    body: PrivateStayIn, request: Request, response: Response, who: Registrant, p: PlatformDep
) -> dict[str, Any]:
    await check_csrf(request, who)
    stay = _stay(body, host_name=body.host_name)
    out = await _service(p).register_private_stay(who.actor, body.person_id, stay)
    if out.get("replayed"):
        response.status_code = 200
    return out


@router.post(
    "/accommodation/stays/{registration_id}/move-out",
    summary="Moving out closes a registered stay",
)
async def move_out(
    registration_id: RowId, body: MoveOutIn, request: Request, who: Registrant, p: PlatformDep
) -> dict[str, Any]:
    await check_csrf(request, who)
    return await _service(p).move_out(who.actor, registration_id, body.moved_out_at)


@router.get(
    "/office/accommodation",
    summary="Registrations in the office's area of stays begun on a day, late ones first (the sanction shown)",
)
async def area_day(
    who: Police,
    p: PlatformDep,
    day: Annotated[
        IsoDate | None, Query(description="Beijing date (YYYY-MM-DD); today when not given")
    ] = None,
    show: Annotated[
        Literal["all", "late", "missing"],
        Query(
            description="late: only the late ones; missing: the possibly missing ones (stays ended that day)"
        ),
    ] = "all",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = PER_PAGE,
) -> dict[str, Any]:
    return await _service(p).area_day(who.actor, day or p.today(), show=show, page=page, per_page=per_page)


@router.post(
    "/office/accommodation/search",
    summary="A passport's registrations in the office's area (the number in the body, never in the address)",
)
async def search(body: SearchIn, request: Request, who: Police, p: PlatformDep) -> dict[str, Any]:
    await check_csrf(request, who)
    return await _service(p).search_passport(who.actor, body.passport)
