"""Notification pages (issue 12), for every signed-in role: the inbox at /inbox (read and unread; mark one read
or unread) and the notification settings at /my/notifications (language, channels — e-mail and SMS only where
offered, and the page says when one is not). Over the same core as the API (cnvisa.api.notifications)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from cnvisa.cases.errors import BadInput
from cnvisa.http.deps import Platform, PlatformDep, Principal, PrincipalDep, check_csrf
from cnvisa.http.i18n import negotiate
from cnvisa.http.office import RowId
from cnvisa.web import pdf
from cnvisa.web.pages.render import form_errors, page, t

router = APIRouter(include_in_schema=False)


def _(message: str) -> str:
    return message


FIELDS = {
    "language": ("language", _("Language of messages")),
    "channels": ("channels", _("Channels")),
    "email": ("email", _("E-mail address")),
    "phone": ("phone", _("Text message (SMS)")),
}
MESSAGES = {
    "language": _("Choose Chinese or English."),
    "channels": _("Choose a channel the platform offers."),
    "email": _("Enter an e-mail address, such as name@example.com."),
    "phone": _("Enter a mobile number with its country code, such as +8613800138000."),
}


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(request: Request, who: PrincipalDep, p: PlatformDep) -> HTMLResponse:
    box = await p.inbox.inbox(who.actor, limit=100)
    return page(request, "notifications/inbox.html", who, box=box, **pdf.helpers(negotiate(request)))


@router.post("/inbox/{message_id}/read")
async def mark_read(
    message_id: RowId, request: Request, who: PrincipalDep, p: PlatformDep
) -> RedirectResponse:
    await check_csrf(request, who)
    form = await request.form()
    await p.inbox.mark_read(who.actor, message_id, form.get("read", "1") != "0")
    return RedirectResponse(f"/inbox#message-{message_id}", status_code=303)


async def _settings_page(
    request: Request, who: Principal, p: Platform, status: int = 200, **context: Any
) -> HTMLResponse:
    context.setdefault("prefs", await p.inbox.preferences(who.actor))
    context.setdefault("errors", form_errors(request, FIELDS))
    return page(request, "notifications/settings.html", who, status=status, **context)


@router.get("/my/notifications", response_class=HTMLResponse)
async def settings(request: Request, who: PrincipalDep, p: PlatformDep, saved: bool = False) -> HTMLResponse:
    return await _settings_page(request, who, p, saved=saved)


@router.post("/my/notifications", response_class=HTMLResponse, response_model=None)
async def save(request: Request, who: PrincipalDep, p: PlatformDep) -> HTMLResponse | RedirectResponse:
    await check_csrf(request, who)
    form = await request.form()
    values: dict[str, Any] = {
        "language": str(form.get("language", "")),
        "channels": [str(c) for c in form.getlist("channels")],
        "email": str(form.get("email", "")) or None,
        "phone": str(form.get("phone", "")) or None,
    }
    try:
        await p.inbox.set_preferences(
            who.actor,
            language=values["language"],
            channels=values["channels"],
            email=values["email"],
            phone=values["phone"],
        )
    except BadInput as exc:
        field = exc.field if exc.field in FIELDS else "channels"
        prefs = {**await p.inbox.preferences(who.actor), **values}
        errors = form_errors(request, FIELDS, (field, t(request, MESSAGES[field])))
        return await _settings_page(request, who, p, status=422, prefs=prefs, errors=errors)
    return RedirectResponse("/my/notifications?saved=1", status_code=303)
