"""A police station's desk over the API (派出所; Law Art 39 para 2; issue 11 §3): the registrations of the station's
area by day, paged with the day's counts (late, possibly missing: Art 76 para 1(6) shown, nothing imposed), a
search by passport number (in the body, never in the address), and a stay registered at the desk from the
passport's MRZ. Only the station's area is seen; every read is audited (``cnvisa.cases.accommodation``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ConfigDict, Field

from cnvisa.api.accommodation import SearchIn, StayIn
from cnvisa.cases.accommodation import MAX_PER_PAGE, PER_PAGE, AccommodationService, Stay
from cnvisa.cases.workflow import Role
from cnvisa.http.deps import Platform, PlatformDep, Principal, check_csrf, require
from cnvisa.http.params import IsoDate

router = APIRouter(tags=["police stations (Law Art 39)"])

Station = Annotated[Principal, Depends(require(Role.POLICE_OFFICER))]


class DeskStayIn(StayIn):
    model_config = ConfigDict(extra="forbid")

    host_name: str | None = Field(None, max_length=120, description="Who the foreigner stays with (留宿人)")


def _service(p: Platform) -> AccommodationService:
    return AccommodationService(p.sessions, p.cases.clock, hotel_report_hours=p.settings.hotel_report_hours)


@router.get(
    "/police/registrations",
    summary="The station's area on a day: stays begun that day (late first), the late ones, or the possibly "
    "missing ones (stays ended that day), one page at a time with the day's counts",
)
async def registrations(
    who: Station,
    p: PlatformDep,
    day: Annotated[
        IsoDate | None, Query(description="Beijing date (YYYY-MM-DD); today when not given")
    ] = None,
    show: Annotated[Literal["all", "late", "missing"], Query(description="which registrations")] = "all",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = PER_PAGE,
) -> dict[str, Any]:
    return await _service(p).area_day(who.actor, day or p.today(), show=show, page=page, per_page=per_page)


@router.post(
    "/police/registrations/search",
    summary="A passport's registrations in the station's area (the number in the body, never in the address)",
)
async def search(body: SearchIn, request: Request, who: Station, p: PlatformDep) -> dict[str, Any]:
    await check_csrf(request, who)
    return await _service(p).search_passport(who.actor, body.passport)


@router.post(
    "/police/stays",
    status_code=201,
    summary="Register at the desk a stay outside a hotel in the station's area (Law Art 39 para 2), from the "
    "passport's MRZ",
    responses={200: {"description": "the same stay sent again (nothing written)"}},
)
async def desk_stay(
    body: DeskStayIn, request: Request, response: Response, who: Station, p: PlatformDep
) -> dict[str, Any]:
    await check_csrf(request, who)
    stay = Stay(
        mrz=body.mrz,
        address=body.address,
        division_code=body.division_code,
        moved_in_at=body.moved_in_at,
        moved_out_at=body.moved_out_at,
        host_name=body.host_name,
    )
    out = await _service(p).register_private_stay(who.actor, None, stay)
    if out.get("replayed"):
        response.status_code = 200
    return out
