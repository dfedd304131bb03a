"""Pages of identity verification (Regulations Art 27): the institution's check and its API tokens; the
holder's "who checked my documents"."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from cnvisa.cases.errors import BadInput
from cnvisa.cases.identity import IdentityChecks, RateLimited, SectorNotAllowed
from cnvisa.cases.workflow import Role
from cnvisa.http.deps import PlatformDep, Principal, check_csrf, require
from cnvisa.http.i18n import negotiate
from cnvisa.http.problems import Problem
from cnvisa.http.signin import create_token
from cnvisa.web.pages.org import when
from cnvisa.web.pages.render import form_errors, page, t

router = APIRouter(include_in_schema=False)

Verifier = Annotated[Principal, Depends(require(Role.VERIFIER))]
Holder = Annotated[Principal, Depends(require(Role.APPLICANT, Role.AGENT))]

FIELD_MESSAGES = {
    "document_number": "Give the passport, visa or permit number (5-24 letters or digits).",
    "name": "Give the name as written in the document.",
    "birth_date": "Give the birth date (YYYY-MM-DD).",
    "purpose": "Give the business the check is for (at most 200 characters).",
    "on": "Give the date to check (YYYY-MM-DD).",
    "label": "Name the API client (at most 100 characters).",
}


VERIFY_FIELDS = {
    "document_number": ("document_number", "Document number (passport, visa or permit)"),
    "name": ("name", "Name as in the document"),
    "birth_date": ("birth_date", "Birth date"),
    "purpose": ("purpose", "Purpose (the business the check is for)"),
    "on": ("on", "Date to check"),
    "label": ("label", "Name of the API client"),
}


def _errors(request: Request, *fields: str) -> Any:
    return form_errors(
        request, VERIFY_FIELDS, *((f, t(request, FIELD_MESSAGES.get(f, "Check this field."))) for f in fields)
    )


def _service(p: PlatformDep) -> IdentityChecks:
    return IdentityChecks(p.sessions, p.cases.clock)


def _form(
    request: Request, who: Principal, p: PlatformDep, status: int = 200, **context: Any
) -> HTMLResponse:
    context.setdefault("values", {})
    context["values"].setdefault("on", p.today().isoformat())
    return page(request, "verify/form.html", who, status=status, **context)


def _date(field: str, value: str, default: dt.date | None = None) -> dt.date:
    if not value.strip() and default is not None:
        return default
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise BadInput(field, "a date (YYYY-MM-DD)") from None


@router.get("/verify", response_class=HTMLResponse)
async def verify_form(request: Request, who: Verifier, p: PlatformDep) -> HTMLResponse:
    return _form(request, who, p)


@router.post("/verify", response_class=HTMLResponse)
async def verify(
    request: Request,
    who: Verifier,
    p: PlatformDep,
    document_number: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    birth_date: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    on: Annotated[str, Form()] = "",
) -> HTMLResponse:
    await check_csrf(request, who)
    values = {"document_number": document_number, "name": name, "birth_date": birth_date, "purpose": purpose}
    values["on"] = on
    # every empty or malformed answer at once (WCAG 3.3.1); the service's own checks follow
    bad = [f for f in ("document_number", "name", "purpose") if not values[f].strip()]
    for field, value, default in (("birth_date", birth_date, None), ("on", on, p.today())):
        try:
            _date(field, value, default)
        except BadInput:
            bad.append(field)
    if bad:
        return _form(request, who, p, status=422, values=values, errors=_errors(request, *bad))
    try:
        checked_on = _date("on", on, p.today())
        answer = await _service(p).check(
            who.actor,
            document_number=document_number,
            name=name,
            birth_date=_date("birth_date", birth_date),
            purpose=purpose,
            on=checked_on,
            per_minute=p.settings.identity_checks_per_minute,
        )
    except BadInput as exc:
        return _form(request, who, p, status=422, values=values, errors=_errors(request, exc.field))
    except RateLimited as exc:
        message = t(
            request, "Too many checks this minute. Try again in %(seconds)s seconds.", seconds=exc.retry_after
        )
        return _form(request, who, p, status=429, values=values, error=message)
    except SectorNotAllowed as exc:
        raise Problem(403, "Forbidden", str(exc), rule=exc.rule, code="sector_not_allowed") from None
    values["on"] = checked_on.isoformat()
    return _form(request, who, p, values=values, answer=answer, checked_on=checked_on)


@router.post("/verify/tokens", response_class=HTMLResponse)
async def new_token(
    request: Request, who: Verifier, p: PlatformDep, label: Annotated[str, Form()] = ""
) -> HTMLResponse:
    await check_csrf(request, who)
    if not label.strip() or len(label.strip()) > 100:
        return _form(request, who, p, status=422, errors=_errors(request, "label"))
    token = await create_token(p, who, label)
    return _form(request, who, p, token=token, token_label=label.strip())


@router.get("/my/checks", response_class=HTMLResponse)
async def my_checks(request: Request, who: Holder, p: PlatformDep) -> HTMLResponse:
    checks = await _service(p).checks_of_holder(who.actor)
    zh = negotiate(request) == "zh_CN"
    for c in checks:
        c["when"] = when(request, c["at"])
        c["sector_label"] = c["sector_zh"] if zh else c["sector_en"]
    many = len({c["person_id"] for c in checks}) > 1 or bool(who.actor.represents)
    return page(request, "verify/checks.html", who, checks=checks, many=many)
