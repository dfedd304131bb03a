"""Pages of port visas (口岸签证, Law Art 20; issue 11 §1): the inviting organisation's staff file a request in advance
and follow it; the foreigner files their own and follows it; the port visa authority's desk sees its port's queue by
arrival, approves or refuses before arrival and issues at the port with the passport and face checked. Thin over
``cnvisa.cases.port_visa`` and ``cnvisa.cases.queries.port_visa`` (as the API, ``cnvisa.api.port_visa``).

Times are typed in Beijing time (a ``datetime-local`` input has no zone: the page says so and adds +08:00)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cnvisa.cases.errors import BadInput, GuardFailed
from cnvisa.cases.port_visa.service import Filing, PortVisaService, port_visa_window
from cnvisa.cases.queries.port_visa import PortVisaReads
from cnvisa.cases.workflow import Role
from cnvisa.http.deps import Platform, PlatformDep, Principal, check_csrf, require
from cnvisa.law import port_visa as pv
from cnvisa.law import refusals
from cnvisa.web.pages.local_time import beijing_local, local_now
from cnvisa.web.pages.port_visa_materials import materials
from cnvisa.web.pages.render import form_errors, page, t

router = APIRouter(include_in_schema=False)

Filer = Annotated[Principal, Depends(require(Role.ORG_STAFF, Role.APPLICANT))]
Desk = Annotated[Principal, Depends(require(Role.PORT_VISA_OFFICER))]


def _(message: str) -> str:
    """Marks a message for the catalogs; translated where it is shown."""
    return message


FIELDS: Final = {
    "purpose": ("purpose", _("Purpose of entry")),
    "urgent": ("urgent", _("An urgent need to enter")),
    "urgency": ("urgency", _("The urgent need")),
    "port": ("port", _("Port of entry")),
    "arrival_at": ("arrival_at", _("Scheduled arrival (Beijing time)")),
    "flight": ("flight", _("Flight, voyage or train number")),
    "stay_days": ("stay_days", _("Days of stay asked for")),
    "inviter_kind": ("inviter_kind", _("Who invites")),
    "surname": ("surname", _("Surname, as in the passport")),
    "given_names": ("given_names", _("Given names, as in the passport")),
    "birth_date": ("birth_date", _("Date of birth")),
    "nationality": ("nationality", _("Nationality (three-letter code)")),
    "passport_number": ("passport_number", _("Passport number")),
    "passport_issuing_state": ("passport_issuing_state", _("Passport issued by (three-letter code)")),
    "idempotency_key": ("purpose", _("Purpose of entry")),
    "face_matches": ("face_matches", _("The face matches the passport photo")),
    "mrz": ("mrz1", _("Passport MRZ, line 1")),
    "grounds": ("grounds", _("Refusal grounds")),
    "category": ("category", _("Visa category")),
}
MESSAGES: Final = {
    "purpose": _("Choose a purpose that qualifies for a port visa."),
    "urgent": _("A port visa is for an urgent need to enter (Law Art 20 para 1)."),
    "urgency": _("Describe the urgent need in one line (at most 500 characters)."),
    "port": _("Choose a port that issues port visas on the arrival date."),
    "arrival_at": _(
        "Give the scheduled arrival, Beijing time: a future date on which the port issues port visas."
    ),
    "flight": _("Give the flight, voyage or train number, for example CA1234."),
    "stay_days": _("Give 1 to 30 days (Law Art 20 para 4)."),
    "inviter_kind": _("Choose who invites you."),
    "surname": _("Give the surname as printed in the passport."),
    "given_names": _("Give the given names as printed in the passport."),
    "birth_date": _("Give the date of birth."),
    "nationality": _("Give the three-letter code of the nationality, for example DEU."),
    "passport_number": _("Give the passport number: letters and digits, 5 to 20."),
    "passport_issuing_state": _("Give the three-letter code of the state that issued the passport."),
    "idempotency_key": _("This form was already sent with other answers: reload it and send again."),
    "face_matches": _("The face does not match the passport photo: the visa is not issued."),
    "mrz": _("The passport's MRZ does not match the request or its check digits: the visa is not issued."),
    "grounds": _("Choose at least one refusal ground."),
    "category": _("Give the visa category matching the reason for entry."),
}
AT_PORT: Final = {
    "passport_number": _("The passport presented is not the one the request names: the visa is not issued."),
}
"""What a refused presentation at the port says (the issue form's number was given, but not the request's); the
filing form's message for the same field asks for a number of the right shape."""
CHECK_LABELS: Final = {
    "passport_number": _("Passport number"),
    "mrz": _("Passport MRZ"),
    "face_matches": _("Face check"),
}
"""What a check at the port that did not match names (``port_visa_checks.field``), as the page shows it."""
PURPOSE_LABELS: Final = {
    "negotiation": _("Business negotiation"),
    "trade": _("Trade"),
    "installation_repair": _("Installation and repair"),
    "exhibition": _("Exhibition"),
    "investment": _("Investment"),
    "business_cooperation": _("Business cooperation"),
    "visit": _("Visit"),
    "family_visit": _("Visiting relatives"),
    "private_affairs": _("Private affairs"),
    "humanitarian": _("Humanitarian reasons"),
    "group_tourism": _("Group tourism (travel agency)"),
    "other": _("Another urgent need"),
}
INVITER_LABELS: Final = {
    "entity": _("An enterprise or institution"),
    "chinese_citizen": _("A Chinese citizen"),
    "permanent_resident": _("A foreigner with permanent residence in China"),
    "foreigner_residing": _("A foreigner residing in China"),
    "travel_agency": _("A travel agency"),
}


def _service(p: Platform) -> PortVisaService:
    return PortVisaService(p.sessions, p.cases.clock, arrival_window_days=port_visa_window())


def _reads(p: Platform) -> PortVisaReads:
    return PortVisaReads(p.sessions, p.cases.clock)


def _date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


def _found(request: Request, exc: BadInput, command: str = "") -> tuple[tuple[str, str], ...]:
    key = exc.field if exc.field in FIELDS else "purpose"
    messages = {**MESSAGES, **AT_PORT} if command == "issue" else MESSAGES
    return ((key, t(request, messages.get(exc.field, "Check this field."))),)


# ------------------------------------------------------------------------------------------- the filers
async def _form(
    request: Request,
    who: Principal,
    p: Platform,
    status: int = 200,
    found: tuple[tuple[str, str], ...] = (),
    **values: Any,
) -> HTMLResponse:
    values.setdefault("key", uuid.uuid4().hex)
    return page(
        request,
        "port_visa/form.html",
        who,
        status=status,
        ports=pv.ports_in_force(p.today()),
        purposes=PURPOSE_LABELS,
        inviters=INVITER_LABELS,
        for_org=who.role is Role.ORG_STAFF,
        now=local_now(p),
        values=values,
        errors=form_errors(request, FIELDS, *found),
    )


@router.get("/port-visas", response_class=HTMLResponse)
async def my_requests(request: Request, who: Filer, p: PlatformDep) -> HTMLResponse:
    rows = await _reads(p).mine(who.actor)
    return page(
        request,
        "port_visa/list.html",
        who,
        rows=rows,
        purposes=PURPOSE_LABELS,
        for_org=who.role is Role.ORG_STAFF,
    )


@router.get("/port-visas/new", response_class=HTMLResponse)
async def new_request(request: Request, who: Filer, p: PlatformDep) -> HTMLResponse:
    return await _form(request, who, p)


@router.post("/port-visas", response_model=None)
async def file_request(request: Request, who: Filer, p: PlatformDep) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    names = (
        "purpose", "urgency", "port", "arrival_at", "flight", "stay_days", "inviter_kind", "surname", "given_names",
        "birth_date", "sex", "nationality", "passport_number", "passport_issuing_state", "key",
    )  # fmt: skip
    values: dict[str, Any] = {k: str(form.get(k) or "").strip() for k in names}
    values["urgent"] = form.get("urgent") == "yes"
    arrival = beijing_local(values["arrival_at"])
    try:
        if arrival is None:
            raise BadInput("arrival_at", "a date and time")
        if not values["stay_days"].isdigit():
            raise BadInput("stay_days", "a number of days")
        org = who.role is Role.ORG_STAFF
        filing = Filing(
            purpose=values["purpose"],
            urgent=values["urgent"],
            urgency=values["urgency"],
            port=values["port"],
            arrival_at=arrival,
            flight=values["flight"],
            stay_days=int(values["stay_days"]),
            inviter_kind=values["inviter_kind"] or None,
            surname=values["surname"] if org else None,
            given_names=values["given_names"] if org else None,
            birth_date=_date(values["birth_date"]) if org else None,
            sex=(values["sex"] or None) if org else None,
            nationality=values["nationality"].upper() if org else None,
            passport_number=values["passport_number"] or None,
            passport_issuing_state=(values["passport_issuing_state"] or values["nationality"]).upper()
            or None,
            materials=tuple(str(m) for m in form.getlist("materials")),
        )
        out = await _service(p).file(
            who.actor, filing, idempotency_key=f"page:{who.account.id}:{values['key']}"[:80]
        )
    except BadInput as exc:
        return await _form(request, who, p, 422, _found(request, exc), **values)
    return RedirectResponse(f"/port-visas/{out['id']}?filed=1", status_code=303)


@router.get("/port-visas/{request_id}", response_class=HTMLResponse)
async def one_request(
    request: Request,
    request_id: int,
    who: Filer,
    p: PlatformDep,
    filed: int | None = None,
    uploaded: int | None = None,
) -> HTMLResponse:
    r = await _reads(p).read(who.actor, request_id)
    held = await materials(p).of_request(who.actor, request_id)
    return _detail(
        request,
        who,
        r,
        filed=filed,
        uploaded=uploaded,
        desk=False,
        values={},
        materials=held,
        errors=form_errors(request, FIELDS),
    )


@router.post("/port-visas/{request_id}/withdraw", response_model=None)
async def withdraw(request: Request, request_id: int, who: Filer, p: PlatformDep) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    version = str(form.get("version") or "")
    key = f"page:{who.account.id}:withdraw:{request_id}:{version}"
    await _service(p).withdraw(
        who.actor, request_id, version=int(version) if version.isdigit() else 0, idempotency_key=key
    )
    return RedirectResponse(f"/port-visas/{request_id}", status_code=303)


def _detail(request: Request, who: Principal, r: dict[str, Any], **context: Any) -> HTMLResponse:
    return page(
        request,
        "port_visa/detail.html",
        who,
        r=r,
        purposes=PURPOSE_LABELS,
        check_labels=CHECK_LABELS,
        grounds=[
            (g.code, g.en, g.zh)
            for g in refusals.grounds_for("port_visa", on=dt.date.fromisoformat(r["filed_on"]))
        ],
        **context,
    )


# ---------------------------------------------------------------------------------------------- the desk
@router.get("/port-desk", response_class=HTMLResponse)
async def desk_queue(request: Request, who: Desk, p: PlatformDep) -> HTMLResponse:
    q = await _reads(p).queue(who.actor)
    return page(
        request,
        "port_visa/desk.html",
        who,
        port=q["port"],
        rows=q["requests"],
        purposes=PURPOSE_LABELS,
        today=p.today(),
    )


@router.get("/port-desk/requests/{request_id}", response_class=HTMLResponse)
async def desk_request(
    request: Request, request_id: int, who: Desk, p: PlatformDep, done: str | None = None
) -> HTMLResponse:
    r = await _reads(p).read(who.actor, request_id)
    held = await materials(p).of_request(who.actor, request_id)  # the desk's read is audited
    return _detail(
        request, who, r, desk=True, done=done, values={}, materials=held, errors=form_errors(request, FIELDS)
    )


@router.post("/port-desk/requests/{request_id}/{command}", response_model=None)
async def desk_command(
    request: Request, request_id: int, command: str, who: Desk, p: PlatformDep
) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    version_raw = str(form.get("version") or "")
    version = int(version_raw) if version_raw.isdigit() else 0
    key = f"page:{who.account.id}:{command}:{request_id}:{version}:{form.get('key') or ''}"[:80]
    svc = _service(p)
    values = {k: str(form.get(k) or "").strip() for k in ("passport_number", "mrz1", "mrz2", "category")}
    try:
        if command == "approve":
            await svc.approve(
                who.actor,
                request_id,
                version=version,
                category=values["category"] or None,
                idempotency_key=key,
            )
        elif command == "refuse":
            grounds = [str(g) for g in form.getlist("grounds")]
            if not grounds:
                raise BadInput("grounds", "at least one ground")
            await svc.refuse(
                who.actor,
                request_id,
                version=version,
                grounds=grounds,
                withhold_reasons=form.get("give_reasons") != "yes",
                idempotency_key=key,
            )
        elif command == "issue":
            mrz = (values["mrz1"], values["mrz2"]) if values["mrz1"] and values["mrz2"] else None
            await svc.issue(
                who.actor,
                request_id,
                version=version,
                passport_number=values["passport_number"],
                face_matches=form.get("face_matches") == "yes",
                mrz=mrz,
                idempotency_key=key,
            )
        else:
            raise GuardFailed("command", "cnvisa.cases.port_visa.flow", f"no command {command!r} at the desk")
    except BadInput as exc:
        r = await _reads(p).read(who.actor, request_id)
        held = await materials(p).of_request(who.actor, request_id)
        return _with_errors(request, who, r, _found(request, exc, command), values, held)
    return RedirectResponse(f"/port-desk/requests/{request_id}?done={command}", status_code=303)


def _with_errors(
    request: Request,
    who: Principal,
    r: dict[str, Any],
    found: tuple[tuple[str, str], ...],
    values: dict[str, str],
    held: dict[str, Any],
) -> HTMLResponse:
    response = _detail(
        request,
        who,
        r,
        desk=True,
        values=values,
        materials=held,
        errors=form_errors(request, FIELDS, *found),
    )
    response.status_code = 422
    return response
