"""A police station's pages (派出所; Law Art 39 para 2; issue 11 §3): the registrations of the station's area by day,
paged with the day's counts (late, possibly missing: Art 76 para 1(6) shown, nothing imposed); a search by passport
number (in the form's body, never in the address); a stay registered at the desk from the passport's MRZ. The
record and the rules are ``cnvisa.cases.accommodation``; every look is audited there."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cnvisa.cases.accommodation import AccommodationService, Stay
from cnvisa.cases.errors import BadInput
from cnvisa.cases.workflow import Role
from cnvisa.http.deps import Platform, PlatformDep, Principal, check_csrf, require
from cnvisa.http.i18n import negotiate
from cnvisa.web.pages.accommodation import FIELDS, MESSAGES
from cnvisa.web.pages.local_time import beijing_local, local_now
from cnvisa.web.pages.render import form_errors, page, t

router = APIRouter(include_in_schema=False)

Station = Annotated[Principal, Depends(require(Role.POLICE_OFFICER))]
DAY_FIELDS = {**FIELDS, "day": ("day", "Day"), "page": ("day", "Day")}
DESK_FIELDS = {
    **FIELDS,
    "mrz": ("mrz1", "Passport MRZ, line 1"),
    "person_id": ("mrz1", "Passport MRZ, line 1"),
}


def _service(p: Platform) -> AccommodationService:
    return AccommodationService(p.sessions, p.cases.clock, hotel_report_hours=p.settings.hotel_report_hours)


def _station_name(request: Request, view: dict[str, Any]) -> str:
    st = view.get("station") or {}
    return str(st.get("name_zh") if negotiate(request).startswith("zh") else st.get("name_en") or "")


async def _day_page(
    request: Request,
    who: Principal,
    p: Platform,
    *,
    day: str | None = None,
    show: str = "all",
    page_no: str | None = None,
    found: list[dict[str, Any]] | None = None,
    bad: tuple[tuple[str, str], ...] = (),
    **extra: Any,
) -> HTMLResponse:
    problems = list(bad)
    try:
        on = dt.date.fromisoformat(day.strip()) if day and day.strip() else p.today()
    except ValueError:  # said, and today's list shown
        on = p.today()
        problems.append(("day", t(request, "Give the day as YYYY-MM-DD.")))
    show = show if show in ("all", "late", "missing") else "all"
    number = int(page_no) if page_no and page_no.isdigit() and 0 < int(page_no) <= 100_000 else 1
    view = await _service(p).area_day(who.actor, on, show=show, page=number)  # type: ignore[arg-type]
    return page(
        request,
        "police/day.html",
        who,
        status=422 if problems else 200,
        view=view,
        station_name=_station_name(request, view),
        day=on,
        show=show,
        found=found,
        errors=form_errors(request, DAY_FIELDS, *problems),
        **extra,
    )


@router.get("/police", response_class=HTMLResponse)
async def day_view(
    request: Request,
    who: Station,
    p: PlatformDep,
    day: str | None = None,
    show: str = "all",
    page: str | None = None,
    registered: int | None = None,
) -> HTMLResponse:
    return await _day_page(request, who, p, day=day, show=show, page_no=page, registered=registered)


@router.post("/police/search", response_model=None)
async def search(request: Request, who: Station, p: PlatformDep) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    number = str(form.get("passport") or "").strip()
    if not (5 <= len(number) <= 20 and number.isalnum()):
        return await _day_page(
            request, who, p, bad=(("passport", t(request, MESSAGES["passport"])),), passport=number
        )
    found = await _service(p).search_passport(who.actor, number)
    return await _day_page(request, who, p, found=found["registrations"], passport=number)


async def _form(
    request: Request,
    who: Principal,
    p: Platform,
    status: int = 200,
    found: tuple[tuple[str, str], ...] = (),
    **values: Any,
) -> HTMLResponse:
    view = await _service(p).area_day(who.actor, p.today(), per_page=1)  # the station and its area (audited)
    return page(
        request,
        "police/register.html",
        who,
        status=status,
        area=view["area"],
        now=local_now(p),
        values=values,
        errors=form_errors(request, DESK_FIELDS, *found),
    )


@router.get("/police/stays/new", response_class=HTMLResponse)
async def new_stay(request: Request, who: Station, p: PlatformDep) -> HTMLResponse:
    return await _form(request, who, p)


@router.post("/police/stays", response_model=None)
async def register_stay(request: Request, who: Station, p: PlatformDep) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    keys = ("mrz1", "mrz2", "address", "division_code", "moved_in_at", "host_name")
    values = {
        k: str(form.get(k) or "").strip().upper() if k.startswith("mrz") else str(form.get(k) or "").strip()
        for k in keys
    }
    bad: list[BadInput] = []
    if len(values["mrz1"]) != 44:
        bad.append(BadInput("mrz", "44 characters"))
    if len(values["mrz2"]) != 44:
        bad.append(BadInput("mrz2", "44 characters"))
    moved_in = beijing_local(values["moved_in_at"])
    if moved_in is None:
        bad.append(BadInput("moved_in_at", "a date and time"))
    for name in ("address", "division_code"):
        if not values[name]:
            bad.append(BadInput(name, "required"))
    out: dict[str, Any] = {}
    if not bad and moved_in is not None:
        stay = Stay(
            (values["mrz1"], values["mrz2"]),
            values["address"],
            values["division_code"],
            moved_in,
            host_name=values["host_name"] or None,
        )
        try:
            out = await _service(p).register_private_stay(who.actor, None, stay)
        except BadInput as exc:
            bad.append(exc)
    if bad:
        messages = {**MESSAGES, "division_code": MESSAGES["division_code_area"]}
        found = tuple((e.field, t(request, messages.get(e.field, "Check this field."))) for e in bad)
        return await _form(request, who, p, status=422, found=found, **values)
    reg = out["registration"]
    return RedirectResponse(
        f"/police?day={reg['registered_from']}&registered={reg['id']}#stay-{reg['id']}", status_code=303
    )
