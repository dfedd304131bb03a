"""Pages of accommodation registration (住宿登记, Law Art 39; issue 11 §3): a foreigner (or their agent) registers
a stay outside a hotel within 24 hours of moving in and sees their stays; a small hotel's front desk registers a
guest from the passport's MRZ and sees the day's guests; the police see their area by day (late ones first, the
sanction the law allows shown) and search by passport number (in the form's body, never in the address). The
rules and the record are ``cnvisa.cases.accommodation``.

Times are typed in Beijing time (a ``datetime-local`` input has no zone: the page says so and adds +08:00)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cnvisa.cases.accommodation import AccommodationService, Stay
from cnvisa.cases.errors import BadInput
from cnvisa.cases.workflow import Role
from cnvisa.http.deps import Platform, PlatformDep, Principal, check_csrf, require
from cnvisa.web.pages.local_time import beijing_local, local_now
from cnvisa.web.pages.render import form_errors, page, t
from cnvisa.web.pages.render import page as render_page

router = APIRouter(include_in_schema=False)

Holder = Annotated[Principal, Depends(require(Role.APPLICANT, Role.AGENT))]
HotelStaff = Annotated[Principal, Depends(require(Role.HOTEL_STAFF))]
Police = Annotated[Principal, Depends(require(Role.OFFICER, Role.SUPERVISOR))]
"""An exit-entry office's officers read their office's area here; a police station's read theirs on ``/police``."""


def _(message: str) -> str:
    """Marks a message for the catalogs; translated where it is shown."""
    return message


FIELDS: Final = {
    "person_id": ("person_id", _("Who is staying")),
    "stay_ref": ("stay_ref", _("Your reference of the stay (room or booking)")),
    "mrz": ("mrz1", _("Passport MRZ, line 1")),
    "mrz2": ("mrz2", _("Passport MRZ, line 2")),
    "address": ("address", _("Address where the foreigner stays")),
    "division_code": ("division_code", _("Administrative division code of the address")),
    "moved_in_at": ("moved_in_at", _("Moved in (Beijing time)")),
    "host_name": ("host_name", _("Host's name")),
    "passport": ("passport", _("Passport number")),
}
MESSAGES: Final = {
    "person_id": _("Choose yourself or a person you act for."),
    "stay_ref": _("Give your reference of the stay (one line, at most 64 characters)."),
    "mrz": _("Copy both lines of the passport's machine-readable zone; the check digits must match."),
    "mrz2": _("Copy both lines of the passport's machine-readable zone; the check digits must match."),
    "address": _("Give the address (one line, at most 300 characters)."),
    "division_code": _("Give the six-digit administrative division code of the address (GB/T 2260)."),
    "moved_in_at": _("Give the date and time of moving in, Beijing time; it cannot be in the future."),
    "moved_out_at": _("The move-out cannot be before moving in or in the future."),
    "host_name": _("Give the host's name in one line (at most 120 characters), or leave it empty."),
    "passport": _("Give a passport number: letters and digits, 5 to 20."),
    "division_code_area": _(
        "Give the six-digit administrative division code of the address (GB/T 2260), in your station's area."
    ),
}


STAY_FIELDS: Final = {**FIELDS, "mrz": FIELDS["person_id"]}
"""For oneself or a person one acts for the passport on record is used: a passport problem is about the person
chosen."""
GUEST: Final = "guest"
"""The form's choice of a guest, registered by their host from the guest's passport MRZ (Law Art 39 para 2)."""
GUEST_FIELDS: Final = {
    **FIELDS,
    "mrz": ("mrz1", _("Guest's passport MRZ, line 1")),
    "mrz2": ("mrz2", _("Guest's passport MRZ, line 2")),
}
STAY_MESSAGES: Final = {
    **MESSAGES,
    "mrz": _(
        "No passport of this person is on record here: register this stay with the public security office "
        "where the person stays, bringing the passport."
    ),
}


def _service(p: Platform) -> AccommodationService:
    return AccommodationService(p.sessions, p.cases.clock, hotel_report_hours=p.settings.hotel_report_hours)


def _found(
    request: Request, bad: list[BadInput], messages: dict[str, str] = MESSAGES
) -> tuple[tuple[str, str], ...]:
    return tuple((e.field, t(request, messages.get(e.field, "Check this field."))) for e in bad)


# ----------------------------------------------------------------------------------------- private stays
async def _stays_page(
    request: Request,
    who: Principal,
    p: Platform,
    status: int = 200,
    found: tuple[tuple[str, str], ...] = (),
    **values: Any,
) -> HTMLResponse:
    people: list[tuple[int | str, str]] = (
        [(who.actor.person_id, t(request, "Myself"))] if who.actor.person_id else []
    )
    people += [
        (pid, t(request, "Person %(id)s (you act for them)", id=pid)) for pid in sorted(who.actor.represents)
    ]
    people.append((GUEST, t(request, "A guest staying with me (I am the host)")))
    return page(
        request,
        "accommodation/stays.html",
        who,
        status=status,
        rows=await _service(p).of_people(who.actor),
        people=people,
        now=local_now(p),
        values=values,
        errors=form_errors(
            request, GUEST_FIELDS if values.get("person_id") == GUEST else STAY_FIELDS, *found
        ),
    )


@router.get("/stays", response_class=HTMLResponse)
async def my_stays(
    request: Request, who: Holder, p: PlatformDep, registered: int | None = None
) -> HTMLResponse:
    return await _stays_page(request, who, p, registered=registered)


@router.post("/stays", response_model=None)
async def register_stay(request: Request, who: Holder, p: PlatformDep) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    values = {
        k: str(form.get(k) or "").strip()
        for k in ("person_id", "address", "division_code", "moved_in_at", "host_name", "mrz1", "mrz2")
    }
    values["mrz1"], values["mrz2"] = values["mrz1"].upper(), values["mrz2"].upper()
    bad: list[BadInput] = []
    guest = values["person_id"] == GUEST
    person = int(values["person_id"]) if values["person_id"].isdigit() else None
    if guest:  # the host registers a guest from the guest's passport (Law Art 39 para 2: 留宿人)
        if len(values["mrz1"]) != 44:
            bad.append(BadInput("mrz", "44 characters"))
        if len(values["mrz2"]) != 44:
            bad.append(BadInput("mrz2", "44 characters"))
    elif person is None or (person != who.actor.person_id and person not in who.actor.represents):
        bad.append(BadInput("person_id", "yourself or a person you act for"))
    moved_in = beijing_local(values["moved_in_at"])
    if moved_in is None:
        bad.append(BadInput("moved_in_at", "a date and time"))
    for name in ("address", "division_code"):
        if not values[name]:
            bad.append(BadInput(name, "required"))
    out: dict[str, Any] = {}
    if not bad and (guest or person is not None) and moved_in is not None:
        stay = Stay(
            (values["mrz1"], values["mrz2"]) if guest else None,
            values["address"],
            values["division_code"],
            moved_in,
            host_name=values["host_name"] or None,
        )
        try:
            out = await _service(p).register_private_stay(who.actor, person, stay)
        except BadInput as exc:
            bad.append(exc)
    if bad:
        return await _stays_page(
            request,
            who,
            p,
            status=422,
            found=_found(request, bad, MESSAGES if guest else STAY_MESSAGES),
            **values,
        )
    rid = out["registration"]["id"]
    return RedirectResponse(f"/stays?registered={rid}#stay-{rid}", status_code=303)


# -------------------------------------------------------------------------------------------- hotels
async def _hotel_page(
    request: Request,
    who: Principal,
    p: Platform,
    status: int = 200,
    found: tuple[tuple[str, str], ...] = (),
    **values: Any,
) -> HTMLResponse:
    today = p.today()
    return page(
        request,
        "accommodation/hotel.html",
        who,
        status=status,
        rows=await _service(p).hotel_day(who.actor, today),
        today=today,
        now=local_now(p),
        values=values,
        errors=form_errors(request, FIELDS, *found),
    )


@router.get("/hotel/stays", response_class=HTMLResponse)
async def hotel_stays(
    request: Request, who: HotelStaff, p: PlatformDep, outcome: str | None = None
) -> HTMLResponse:
    return await _hotel_page(
        request, who, p, outcome=outcome if outcome in ("registered", "replayed", "moved_out") else None
    )


@router.post("/hotel/stays", response_model=None)
async def report_stay(request: Request, who: HotelStaff, p: PlatformDep) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    keys = ("stay_ref", "mrz1", "mrz2", "address", "division_code", "moved_in_at")
    values = {
        k: str(form.get(k) or "").strip().upper() if k.startswith("mrz") else str(form.get(k) or "").strip()
        for k in keys
    }
    bad: list[BadInput] = []
    if not values["stay_ref"]:
        bad.append(BadInput("stay_ref", "required"))
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
    outcome = ""
    if not bad and moved_in is not None:
        stay = Stay(
            (values["mrz1"], values["mrz2"]),
            values["address"],
            values["division_code"],
            moved_in,
            stay_ref=values["stay_ref"],
        )
        try:
            result = (await _service(p).report_hotel_stays(who.actor, [stay]))["results"][0]
        except BadInput as exc:
            bad.append(exc)
        else:
            if result["outcome"] == "rejected":
                bad.append(BadInput(result["field"], result["detail"]))
            outcome = result["outcome"]
    if bad:
        return await _hotel_page(request, who, p, status=422, found=_found(request, bad), **values)
    return RedirectResponse(f"/hotel/stays?outcome={outcome}", status_code=303)


# ---------------------------------------------------------------------------------------- the police
@router.get("/office/accommodation", response_class=HTMLResponse)
async def area(
    request: Request,
    who: Police,
    p: PlatformDep,
    day: str | None = None,
    show: str = "all",
    page: str | None = None,
) -> HTMLResponse:
    found: tuple[tuple[str, str], ...] = ()
    try:
        on = dt.date.fromisoformat(day.strip()) if day and day.strip() else p.today()
    except ValueError:  # said, and today's list shown
        on, found = p.today(), (("day", t(request, "Give the day as YYYY-MM-DD.")),)
    show = show if show in ("all", "late", "missing") else "all"
    number = int(page) if page and page.isdigit() and 0 < int(page) <= 100_000 else 1
    view = await _service(p).area_day(who.actor, on, show=show, page=number)  # type: ignore[arg-type]
    return render_page(
        request,
        "accommodation/office.html",
        who,
        status=422 if found else 200,
        view=view,
        day=on,
        show=show,
        found=None,
        errors=form_errors(request, {**FIELDS, "day": ("day", _("Day moved in"))}, *found),
    )


@router.post("/office/accommodation/search", response_model=None)
async def search(request: Request, who: Police, p: PlatformDep) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    number = str(form.get("passport") or "").strip()
    day = p.today()
    view = await _service(p).area_day(who.actor, day)
    if not (5 <= len(number) <= 20 and number.isalnum()):
        errors = form_errors(request, FIELDS, ("passport", t(request, MESSAGES["passport"])))
        return page(
            request,
            "accommodation/office.html",
            who,
            status=422,
            view=view,
            day=day,
            show="all",
            found=None,
            errors=errors,
            passport=number,
        )
    found = await _service(p).search_passport(who.actor, number)
    return page(
        request,
        "accommodation/office.html",
        who,
        view=view,
        day=day,
        show="all",
        found=found["registrations"],
        errors=form_errors(request, FIELDS),
        passport=number,
    )
