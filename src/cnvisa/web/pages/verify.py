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
from cnvisa.http import tokens
from cnvisa.http.deps import PlatformDep, Principal, check_csrf, require
from cnvisa.http.i18n import negotiate
from cnvisa.http.office import RowId
from cnvisa.http.problems import Problem
from cnvisa.http.signin import create_token
from cnvisa.web.pages.org import when
from cnvisa.web.pages.render import form_errors, page, t

router = APIRouter(include_in_schema=False)

Verifier = Annotated[Principal, Depends(require(Role.VERIFIER))]
TokenHolder = Annotated[Principal, Depends(require(Role.VERIFIER, Role.HOTEL_STAFF))]
Holder = Annotated[Principal, Depends(require(Role.APPLICANT, Role.AGENT))]

FIELD_MESSAGES = {
    "document_number": "Give the passport, visa or permit number (5-24 letters or digits).",
    "name": "Give the name as written in the document.",
    "birth_date": "Give the birth date (YYYY-MM-DD).",
    "purpose": "Give the business the check is for (at most 200 characters).",
    "on": "The check answers for today only.",
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
    context.setdefault("checked_on", p.today())
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
    checked_on = p.today()
    # every empty or malformed answer at once (WCAG 3.3.1); the service's own checks follow
    bad = [f for f in ("document_number", "name", "purpose") if not values[f].strip()]
    try:
        _date("birth_date", birth_date)
    except BadInput:
        bad.append("birth_date")
    if bad:
        return _form(request, who, p, status=422, values=values, errors=_errors(request, *bad))
    try:
        answer = await _service(p).check(
            who.actor,
            document_number=document_number,
            name=name,
            birth_date=_date("birth_date", birth_date),
            purpose=purpose,
            # the form asks no date (today only, Art 27); a date sent all the same is checked by the service
            on=_date("on", on) if on.strip() else None,
            per_minute=p.settings.identity_checks_per_minute,
            per_day=p.settings.identity_checks_per_day,
            per_document_per_day=p.settings.identity_checks_per_document_per_day,
        )
    except BadInput as exc:
        return _form(request, who, p, status=422, values=values, errors=_errors(request, exc.field))
    except RateLimited as exc:
        if exc.per == "day":
            message = t(request, "The number of checks allowed today has been reached. Try again tomorrow.")
        else:
            message = t(
                request,
                "Too many checks this minute. Try again in %(seconds)s seconds.",
                seconds=exc.retry_after,
            )
        return _form(request, who, p, status=429, values=values, error=message)
    except SectorNotAllowed as exc:
        raise Problem(403, "Forbidden", str(exc), rule=exc.rule, code="sector_not_allowed") from None
    return _form(request, who, p, values=values, answer=answer, checked_on=checked_on)


async def _tokens_page(
    request: Request, who: Principal, p: PlatformDep, status: int = 200, **context: Any
) -> HTMLResponse:
    """The verifier's API tokens: create one, see each one's expiry and last use, revoke it (ASVS 4.0 V3.5)."""
    listed = await tokens.of_account(p.sessions, p.now(), who.account.id)
    for row in listed:
        for key in ("created_at", "expires_at", "last_used_at", "revoked_at"):
            row[key + "_shown"] = when(request, row[key]) if row[key] is not None else None
    days = p.settings.api_token_days
    return page(request, "verify/tokens.html", who, status=status, tokens=listed, token_days=days, **context)


@router.get("/verify/tokens", response_class=HTMLResponse)
async def token_list(request: Request, who: TokenHolder, p: PlatformDep) -> HTMLResponse:
    return await _tokens_page(request, who, p)


@router.post("/verify/tokens", response_class=HTMLResponse)
async def new_token(
    request: Request, who: TokenHolder, p: PlatformDep, label: Annotated[str, Form()] = ""
) -> HTMLResponse:
    await check_csrf(request, who)
    if not label.strip() or len(label.strip()) > 100:
        return await _tokens_page(request, who, p, status=422, errors=_errors(request, "label"))
    token, record = await create_token(p, who, label)
    return await _tokens_page(request, who, p, token=token, token_label=record["label"])


@router.post("/verify/tokens/{token_id}/revoke", response_class=HTMLResponse)
async def revoke_token(request: Request, token_id: RowId, who: TokenHolder, p: PlatformDep) -> HTMLResponse:
    await check_csrf(request, who)
    if not await tokens.revoke(p.sessions, who.actor, token_id, p.now(), owner=who.account.id):
        raise Problem(404, "Not found", "no such token of yours", field="token_id", code="not_found")
    return await _tokens_page(request, who, p, revoked=token_id)


@router.get("/my/checks", response_class=HTMLResponse)
async def my_checks(request: Request, who: Holder, p: PlatformDep) -> HTMLResponse:
    checks = await _service(p).checks_of_holder(who.actor)
    zh = negotiate(request) == "zh_CN"
    for c in checks:
        c["when"] = when(request, c["at"])
        c["sector_label"] = c["sector_zh"] if zh else c["sector_en"]
    many = len({c["person_id"] for c in checks}) > 1 or bool(who.actor.represents)
    return page(request, "verify/checks.html", who, checks=checks, many=many)
