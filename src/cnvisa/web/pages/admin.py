"""The administrator's page: accounts, offices and their capacity, mandates, API tokens, and the verification
of the audit chains (what ``cnvisa audit verify`` does), for the administrator role only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cnvisa.cases.audit import VerifyResult
from cnvisa.cases.desks import DeskAssignments
from cnvisa.cases.errors import BadInput
from cnvisa.cases.queries import administration
from cnvisa.cases.workflow import Role
from cnvisa.http.deps import PlatformDep, Principal, check_csrf, require
from cnvisa.http.i18n import negotiate
from cnvisa.web.pages.org import when
from cnvisa.web.pages.render import form_errors, page, t

router = APIRouter(include_in_schema=False)


def _(message: str) -> str:
    """Marks a message for the catalogs; translated in the template."""
    return message


ROLE_LABELS = {
    "applicant": _("Applicant"),
    "agent": _("Acting for others (relative or agency)"),
    "org_staff": _("Employer or school staff"),
    "officer": _("Officer"),
    "supervisor": _("Supervisor"),
    "verifier": _("Identity-checking institution"),
    "hotel_staff": _("Hotel front desk"),
    "port_visa_officer": _("Port visa desk"),
    "police_officer": _("Police station desk"),
    "work_permit_officer": _("Work-permit desk"),
    "admin": _("Administrator"),
}
LEVEL_LABELS = {
    "provincial": _("Provincial"),
    "prefecture": _("Prefecture"),
    "county": _("County"),
}

Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


async def _page(
    request: Request, who: Principal, p: PlatformDep, verified: VerifyResult | None = None
) -> HTMLResponse:
    data: dict[str, Any] = await administration.overview(p.sessions, who.actor, p.now())
    for token in data["tokens"]:
        token["when"] = when(request, token["created_at"])
    return page(
        request,
        "admin/overview.html",
        who,
        today=p.today(),
        verified=verified,
        role_labels=ROLE_LABELS,
        level_labels=LEVEL_LABELS,
        **data,
    )


@router.get("/admin", response_class=HTMLResponse)
async def overview(request: Request, who: Admin, p: PlatformDep) -> HTMLResponse:
    return await _page(request, who, p)


@router.post("/admin/audit/verify", response_class=HTMLResponse)
async def verify_audit(request: Request, who: Admin, p: PlatformDep) -> HTMLResponse:
    await check_csrf(request, who)
    result = await administration.verify_audit(p.sessions, who.actor, p.now())
    return await _page(request, who, p, verified=result)


# ------------------------------------------------------------------------------------------------- desks
DESK_FIELDS = {
    "username": ("police_username", _("Police officer")),
    "station": ("station", _("Police station")),
    "note": ("police_note", _("Note")),
}
PORT_FIELDS = {
    "username": ("port_username", _("Port visa officer")),
    "port": ("port", _("Port")),
    "note": ("port_note", _("Note")),
}
DESK_MESSAGES = {
    "username": _("Choose an account of this role."),
    "station": _("Choose a police station on record."),
    "port": _("Choose a port on the list of ports issuing port visas."),
    "note": _("Give the note in one line (at most 300 characters), or leave it empty."),
}


async def _desks_page(
    request: Request,
    who: Principal,
    p: PlatformDep,
    status: int = 200,
    fields: dict[str, tuple[str, str]] = DESK_FIELDS,
    found: tuple[tuple[str, str], ...] = (),
    **values: Any,
) -> HTMLResponse:
    desks = await DeskAssignments(p.sessions, p.cases.clock).overview(who.actor)
    zh = negotiate(request).startswith("zh")
    return page(
        request,
        "admin/desks.html",
        who,
        status=status,
        desks=desks,
        port_names={x["code"]: x["name_zh"] if zh else x["name_en"] for x in desks["ports"]},
        assigned=values.pop("assigned", None),
        values=values,
        errors=form_errors(request, fields, *found),
    )


@router.get("/admin/desks", response_class=HTMLResponse)
async def desks(request: Request, who: Admin, p: PlatformDep, assigned: str | None = None) -> HTMLResponse:
    return await _desks_page(request, who, p, assigned=assigned)


async def _assign(request: Request, who: Principal, p: PlatformDep, kind: str) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("username", "station", "port", "note")}
    desks = DeskAssignments(p.sessions, p.cases.clock)
    try:
        if kind == "police":
            await desks.assign_police(
                who.actor, values["username"], values["station"], values["note"] or None
            )
        else:
            await desks.assign_port(who.actor, values["username"], values["port"], values["note"] or None)
    except BadInput as exc:
        found = ((exc.field, t(request, DESK_MESSAGES.get(exc.field, "Check this field."))),)
        fields = DESK_FIELDS if kind == "police" else PORT_FIELDS
        return await _desks_page(request, who, p, status=422, fields=fields, found=found, **values)
    return RedirectResponse(f"/admin/desks?assigned={kind}", status_code=303)


@router.post("/admin/desks/police", response_model=None)
async def assign_police(request: Request, who: Admin, p: PlatformDep) -> Response:
    return await _assign(request, who, p, "police")


@router.post("/admin/desks/port-visa", response_model=None)
async def assign_port(request: Request, who: Admin, p: PlatformDep) -> Response:
    return await _assign(request, who, p, "port")
