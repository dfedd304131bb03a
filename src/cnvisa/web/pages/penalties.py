"""The officer's page for a penalty decision on illegal residence (issue 12; cnvisa.cases.penalties): the person's
decisions so far and a form to record the one made after hearing them, refused field by field in the page's
language. The platform imposes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cnvisa.cases.errors import BadInput, Conflict
from cnvisa.cases.penalties import PenaltyRegister
from cnvisa.http.deps import Platform, PlatformDep, Principal, check_csrf
from cnvisa.http.i18n import negotiate
from cnvisa.http.office import OfficeStaff, RowId
from cnvisa.web import pdf
from cnvisa.web.pages.render import form_errors, page, t

router = APIRouter(include_in_schema=False)

FIELDS = {
    "person_id": ("subject", "Whose penalty"),
    "subject": ("subject", "Whose penalty"),
    "warning": ("warning", "A warning"),
    "serious": ("serious", "Serious (情节严重)"),
    "serious_reason": ("serious_reason", "Why it is serious"),
    "fine_cny": ("fine_cny", "Fine (yuan)"),
    "detention_days": ("detention_days", "Detention (days)"),
    "authority": ("authority", "Who decided"),
    "decision_number": ("decision_number", "Decision number"),
    "heard_on": ("heard_on", "Heard on"),
    "statement": ("statement", "What the person said"),
}
MESSAGES = {
    "person_id": "This person is not in illegal residence today on the records.",
    "subject": "A guardian is penalised only for a child under 16 (Law Art 78 para 2).",
    "warning": "Without a finding that it is serious the penalty is a warning; a guardian is always warned (Law Art 78).",
    "serious": "Without a finding that it is serious the penalty is a warning (Law Art 78 para 1).",
    "serious_reason": "Say why the illegal residence is serious.",
    "fine_cny": "When serious: a fine of at most 500 yuan a day up to 10,000, or detention — one of the two (Law Art 78).",
    "detention_days": "Detention is 5 to 15 days, and never for a guardian (Law Art 78).",
    "authority": "The exit-entry office decides a warning or a fine of at most 5,000 yuan; "
    "anything else is the public security organ's decision (Law Art 70).",
    "decision_number": "Give the public security organ's decision number (Law Art 70).",
    "heard_on": "Give the day the person was told the facts and heard: not before the illegal residence began, "
    "not after today (Administrative Penalty Law Art 44, 45).",
    "statement": "At most 4000 characters.",
    "conflict": "This illegal residence already has its penalty decision (Administrative Penalty Law Art 29).",
}


def _register(p: Platform) -> PenaltyRegister:
    return PenaltyRegister(p.sessions, p.cases.clock)


async def _page(
    request: Request,
    who: Principal,
    p: Platform,
    person_id: int,
    status: int = 200,
    found: tuple[tuple[str, str], ...] = (),
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    standing = await _register(p).standing(who.actor, person_id)
    decisions = await _register(p).of_person(who.actor, person_id)
    return page(
        request,
        "office/penalty.html",
        who,
        status=status,
        person_id=person_id,
        person=standing,
        decisions=decisions,
        today=p.today().isoformat(),
        values=values or {"subject": "person", "authority": "exit_entry", "heard_on": p.today().isoformat()},
        errors=form_errors(request, FIELDS, *found),
        **pdf.helpers(negotiate(request)),
    )


@router.get("/office/people/{person_id}/penalty", response_class=HTMLResponse)
async def penalty_page(request: Request, person_id: RowId, who: OfficeStaff, p: PlatformDep) -> HTMLResponse:
    return await _page(request, who, p, person_id)


def _int(raw: str, field: str) -> int:
    raw = raw.strip() or "0"
    if not raw.isdigit() or len(raw) > 6:
        raise BadInput(field, "a whole number")
    return int(raw)


@router.post("/office/people/{person_id}/penalty", response_model=None)
async def record_penalty(
    request: Request,
    person_id: RowId,
    who: OfficeStaff,
    p: PlatformDep,
    subject: Annotated[str, Form()] = "person",
    warning: Annotated[str, Form()] = "",
    serious: Annotated[str, Form()] = "",
    serious_reason: Annotated[str, Form()] = "",
    fine_cny: Annotated[str, Form()] = "",
    detention_days: Annotated[str, Form()] = "",
    authority: Annotated[str, Form()] = "",
    decision_number: Annotated[str, Form()] = "",
    heard_on: Annotated[str, Form()] = "",
    statement: Annotated[str, Form()] = "",
) -> Response:
    await check_csrf(request, who)
    values = {
        "subject": subject,
        "warning": warning,
        "serious": serious,
        "serious_reason": serious_reason,
        "fine_cny": fine_cny,
        "detention_days": detention_days,
        "authority": authority,
        "decision_number": decision_number,
        "heard_on": heard_on,
        "statement": statement,
    }
    try:
        facts = {
            **values,
            "warning": warning == "yes",
            "serious": serious == "yes",
            "fine_cny": _int(fine_cny, "fine_cny"),
            "detention_days": _int(detention_days, "detention_days"),
        }
        try:
            facts["heard_on"] = dt.date.fromisoformat(heard_on)
        except ValueError:
            raise BadInput("heard_on", "a date") from None
        await _register(p).decide(who.actor, person_id, facts)
    except BadInput as exc:
        found = ((exc.field, t(request, MESSAGES.get(exc.field, "Check this field."))),)
        return await _page(request, who, p, person_id, 422, found, values)
    except Conflict:
        found = (("subject", t(request, MESSAGES["conflict"])),)
        return await _page(request, who, p, person_id, 409, found, values)
    return RedirectResponse(f"/office/people/{person_id}/penalty?recorded=1", status_code=303)
