"""Pages of post changes without a new residence permit (issue 10 §3; NIA measures 2024-03-20, seed 001 l.16):
the employer's staff file one for an employee and see their organisation's; the holder (or the agent acting for
them) sees theirs and what is still due; the officers see those of the holders their office is, or was,
responsible for. The rules and the record are ``cnvisa.cases.post_change``; the reads
``cnvisa.cases.queries.post_changes``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cnvisa.cases.errors import BadInput
from cnvisa.cases.post_change import PostChanges
from cnvisa.cases.queries import post_changes
from cnvisa.cases.workflow import Role
from cnvisa.http.deps import PlatformDep, Principal, check_csrf, require
from cnvisa.http.i18n import format_instant, negotiate
from cnvisa.law.post_change import PRINTED_PARTICULARS
from cnvisa.web.pages.render import form_errors, page, t

router = APIRouter(include_in_schema=False)

OrgStaff = Annotated[Principal, Depends(require(Role.ORG_STAFF))]
Holder = Annotated[Principal, Depends(require(Role.APPLICANT, Role.AGENT))]
OfficeStaff = Annotated[Principal, Depends(require(Role.OFFICER, Role.SUPERVISOR))]


def _(message: str) -> str:
    """Marks a message for the catalogs; translated where it is shown."""
    return message


FIELDS: Final = {
    "holding_id": ("holding_id", _("Employee and residence permit")),
    "kind": ("kind-post_change", _("What changes")),
    "role": ("role", _("Role in the new post")),
    "organisation": ("organisation", _("Employer of the new post")),
    "to_region": ("to_region", _("New work region (administrative division code)")),
    "position": ("position", _("New position")),
    "work_location": ("work_location", _("New work address")),
    "effective_on": ("effective_on", _("Date the change took effect")),
    "printed_changes": ("printed-name", _("Particulars printed on the permit that changed")),
    "idempotency_key": ("holding_id", _("Employee and residence permit")),
}
MESSAGES: Final = {
    "holding_id": _("Choose one of your employees' valid residence permits."),
    "person_id": _("Choose one of your employees' valid residence permits."),
    "kind": _("Choose what changes."),
    "role": _("Choose the role in the new post."),
    "organisation": _("Choose the employer of the new post."),
    "to_region": _("Give the six-digit administrative division code of the new work region (GB/T 2260)."),
    "position": _("Give the new position (one line, at most 200 characters)."),
    "work_location": _("Give the new work address (one line, at most 300 characters)."),
    "effective_on": _("Give the date the change took effect; it cannot be in the future."),
    "printed_changes": _("Choose only particulars printed on the permit."),
    "idempotency_key": _("This form was already sent with other answers: reload it and send again."),
}
PARTICULAR_LABELS: Final = {
    "name": _("Name"),
    "sex": _("Sex"),
    "birth_date": _("Date of birth"),
    "reason": _("Reason for residence"),
    "period": _("Period of residence"),
    "issue_date": _("Date of issue"),
    "issue_place": _("Place of issue"),
    "passport_number": _("Passport number"),
    "other_printed": _("Another printed particular (such as the employer's name)"),
}


def _rows(request: Request, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    loc = negotiate(request)
    for r in rows:
        r["filed_when"] = format_instant(r["filed_at"], loc)
    return rows


async def _form(
    request: Request,
    who: Principal,
    p: PlatformDep,
    status: int = 200,
    found: tuple[tuple[str, str], ...] = (),
    **values: Any,
) -> HTMLResponse:
    values.setdefault("key", uuid.uuid4().hex)
    return page(
        request,
        "post_change/form.html",
        who,
        status=status,
        candidates=await post_changes.candidates(p.sessions, who.actor, p.today()),
        particulars=[(code, PARTICULAR_LABELS[code]) for code in PRINTED_PARTICULARS],
        today=p.today().isoformat(),
        values=values,
        errors=form_errors(request, FIELDS, *found),
    )


@router.get("/org/post-changes/new", response_class=HTMLResponse)
async def new_post_change(
    request: Request, who: OrgStaff, p: PlatformDep, holding_id: int | None = None
) -> HTMLResponse:
    return await _form(request, who, p, holding_id=holding_id)


@router.post("/org/post-changes", response_model=None)
async def file_post_change(request: Request, who: OrgStaff, p: PlatformDep) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    values: dict[str, Any] = {
        k: str(form.get(k) or "").strip()
        for k in ("holding_id", "kind", "role", "organisation", "to_region", "position", "work_location")
    }
    values["effective_on"] = str(form.get("effective_on") or "")
    values["printed_changes"] = [str(v) for v in form.getlist("printed_changes")]
    values["key"] = str(form.get("key") or "")[:64] or uuid.uuid4().hex
    bad: list[BadInput] = []  # every malformed answer at once (WCAG 3.3.1)
    mine = {c["holding_id"]: c for c in await post_changes.candidates(p.sessions, who.actor, p.today())}
    holding = mine.get(int(values["holding_id"])) if values["holding_id"].isdigit() else None
    if holding is None:
        bad.append(BadInput("holding_id", "not a valid residence permit of your employees"))
    for name in ("kind", "role", "organisation"):
        if not values[name]:
            bad.append(BadInput(name, "required"))
    on = None
    try:
        on = dt.date.fromisoformat(values["effective_on"])
    except ValueError:
        bad.append(BadInput("effective_on", "a date (YYYY-MM-DD)"))
    if any(v not in PRINTED_PARTICULARS for v in values["printed_changes"]):
        bad.append(BadInput("printed_changes", "a printed particular"))
    out: dict[str, Any] = {}
    if not bad and holding is not None and on is not None:
        try:
            out = await PostChanges(p.sessions, p.cases.clock).file(
                who.actor,
                person_id=holding["person_id"],
                holding_id=holding["holding_id"],
                to_region=values["to_region"],
                position=values["position"],
                work_location=values["work_location"],
                effective_on=on,
                role=values["role"],
                organisation=values["organisation"],
                kind=values["kind"],
                printed_changes=values["printed_changes"],
                idempotency_key=f"a{who.account.id}:{values['key']}",
            )
        except BadInput as exc:
            bad.append(exc)
    if bad:
        found = tuple(
            (
                "holding_id" if e.field == "person_id" else e.field,
                t(request, MESSAGES.get(e.field, "Check this field.")),
            )
            for e in bad
        )
        return await _form(request, who, p, status=422, found=found, **values)
    return RedirectResponse(f"/org/post-changes?filed={out['id']}#pc-{out['id']}", status_code=303)


@router.get("/org/post-changes", response_class=HTMLResponse)
async def org_post_changes(
    request: Request, who: OrgStaff, p: PlatformDep, filed: int | None = None
) -> HTMLResponse:
    rows = _rows(request, await post_changes.listing(p.sessions, who.actor, p.cases.clock.now()))
    return page(request, "post_change/list.html", who, rows=rows, filed=filed, view="org")


@router.get("/my/post-changes", response_class=HTMLResponse)
async def my_post_changes(request: Request, who: Holder, p: PlatformDep) -> HTMLResponse:
    rows = _rows(request, await post_changes.listing(p.sessions, who.actor, p.cases.clock.now()))
    return page(request, "post_change/list.html", who, rows=rows, filed=None, view="holder")


@router.get("/office/post-changes", response_class=HTMLResponse)
async def office_post_changes(request: Request, who: OfficeStaff, p: PlatformDep) -> HTMLResponse:
    rows = _rows(request, await post_changes.listing(p.sessions, who.actor, p.cases.clock.now()))
    return page(request, "post_change/list.html", who, rows=rows, filed=None, view="office")
