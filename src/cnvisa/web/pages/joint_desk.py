"""The work-permit authority's desk in the platform (issue 10 §1; role ``work_permit_officer``, at the single window
office): the queue of open work-permit branches, the earliest due first (the statutory due and the service
commitment's due both shown), and a joint application's decision page — take under review, extend once with a
reason, grant with the work permit's particulars (and, optionally, the points facts), refuse with reasons. Thin over
``JointService``'s desk commands (as the API, ``cnvisa.api.work_permit_desk``)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cnvisa.cases.errors import BadInput
from cnvisa.cases.workflow import Role
from cnvisa.http.deps import Platform, PlatformDep, Principal, check_csrf, require
from cnvisa.http.problems import Problem
from cnvisa.web.pages.render import form_errors, page, t

router = APIRouter(include_in_schema=False)
Desk = Annotated[Principal, Depends(require(Role.WORK_PERMIT_OFFICER))]
COMMANDS: Final = ("take", "extend", "grant", "refuse")


def _(message: str) -> str:
    """Marks a message for the catalogs; translated where it is shown."""
    return message


FIELDS: Final = {
    "reason": ("reason", _("Reason for the extension")),
    "category": ("category", _("Work-permit category")),
    "position": ("position", _("Position")),
    "work_region": ("work_region", _("Work region (six-digit division code)")),
    "valid_from": ("valid_from", _("Valid from")),
    "valid_until": ("valid_until", _("Valid until")),
    "facts": ("facts", _("Points facts (JSON, optional)")),
    "category_reason": ("category_reason", _("Reason for a category other than the points give")),
    "grounds": ("grounds", _("Reasons for the refusal")),
}
MESSAGES: Final = {
    "reason": _("Give the reason for the extension: it is told to the applicant."),
    "category": _("Choose category A, B or C."),
    "position": _("Give the position, 1 to 200 characters."),
    "work_region": _("Give the six-digit division code of the work place, for example 310115."),
    "valid_from": _("Give the first day of validity."),
    "valid_until": _("Give the last day of validity: after the first, within the contract."),
    "facts": _(
        "Give the points facts as one JSON object (cnvisa law work-permit-points --schema), or nothing."
    ),
    "category_reason": _("The category differs from the one the points give: write the reason."),
    "grounds": _("Write at least one reason for the refusal, one a line."),
}


def _field(name: str) -> str:
    base = name.removeprefix("payload.")
    if base.startswith("facts"):
        return "facts"
    return base if base in FIELDS else "position"


@router.get("/work-permit-desk", response_class=HTMLResponse)
async def queue(request: Request, who: Desk, p: PlatformDep) -> HTMLResponse:
    rows = await p.joint.work_permit_desk_queue(who.actor)
    return page(request, "joint/desk.html", who, rows=rows, today=p.today())


async def _decision(
    request: Request, who: Principal, p: Platform, joint_id: int, status: int = 200, **context: Any
) -> HTMLResponse:
    j = await p.joint.joint_progress(who.actor, joint_id)
    wp = j["work_permit_request"]
    values = context.pop("values", None) or {
        "category": wp.get("category", ""),
        "position": wp.get("position", ""),
        "work_region": wp.get("work_region", ""),
        "valid_from": p.today().isoformat(),
        "valid_until": wp.get("contract_until", ""),
    }
    context.setdefault("errors", form_errors(request, FIELDS))
    return page(
        request, "joint/decide.html", who, status=status, j=j, values=values, key=uuid.uuid4().hex, **context
    )


@router.get("/work-permit-desk/{joint_id}", response_class=HTMLResponse)
async def decision(
    request: Request, joint_id: int, who: Desk, p: PlatformDep, done: str | None = None
) -> HTMLResponse:
    return await _decision(request, who, p, joint_id, done=done if done in COMMANDS else None)


@router.post("/work-permit-desk/{joint_id}/{command}", response_model=None)
async def command(request: Request, joint_id: int, command: str, who: Desk, p: PlatformDep) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    j = await p.joint.joint_progress(who.actor, joint_id)  # the desk's own single window only
    reference = j["work_permit_branch"]["reference"]
    raw = str(form.get("version") or "")
    version = int(raw) if raw.isdigit() else 0
    key = f"page:{who.account.id}:wp-{command}:{joint_id}:{version}:{form.get('key') or ''}"[:64]
    names = ("reason", "category", "position", "work_region", "valid_from", "valid_until", "facts",
             "category_reason", "grounds")  # fmt: skip
    values = {k: str(form.get(k) or "").strip() for k in names}
    svc, actor = p.joint, who.actor
    try:
        if not reference:
            raise BadInput("position", "the branch is not accepted yet")
        if command == "take":
            await svc.take_work_permit_branch(actor, reference, version, key=key)
        elif command == "extend":
            if not values["reason"]:
                raise BadInput("reason", "a reason")
            await svc.extend_work_permit_branch(actor, reference, version, key=key, reason=values["reason"])
        elif command == "grant":
            facts = _facts(values["facts"], p.today())
            await svc.grant_work_permit_branch(
                actor,
                reference,
                version,
                key=key,
                category=values["category"] or None,
                position=values["position"],
                work_region=values["work_region"],
                valid_from=values["valid_from"],
                valid_until=values["valid_until"],
                facts=facts,
                category_reason=values["category_reason"] or None,
            )
        elif command == "refuse":
            grounds = [g.strip() for g in values["grounds"].splitlines() if g.strip()]
            if not grounds:
                raise BadInput("grounds", "at least one reason")
            await svc.refuse_work_permit_branch(actor, reference, version, key=key, grounds=grounds)
        else:
            raise Problem(404, "Not found", f"no command {command}", field="command", code="unknown_command")
    except BadInput as exc:
        field = _field(exc.field)
        found = ((field, t(request, MESSAGES[field])),)
        errors = form_errors(request, FIELDS, *found)
        return await _decision(request, who, p, joint_id, 422, errors=errors, values=values, failed=command)
    return RedirectResponse(f"/work-permit-desk/{joint_id}?done={command}", status_code=303)


def _facts(raw: str, today: dt.date) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        facts = json.loads(raw)
    except ValueError:
        facts = None
    if not isinstance(facts, dict):
        raise BadInput("facts", "one JSON object")
    facts.setdefault("on", today.isoformat())
    return facts
