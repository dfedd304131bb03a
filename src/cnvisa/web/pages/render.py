"""Rendering a page: the template gets the reader's language, who is signed in and the CSRF token."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from cnvisa.http.deps import Principal
from cnvisa.http.i18n import COOKIE, gettext, negotiate
from cnvisa.web.form_errors import Errors, Form, Found, build
from cnvisa.web.templating import render


def page(
    request: Request, template: str, who: Principal | None, status: int = 200, **context: Any
) -> HTMLResponse:
    loc = negotiate(request)
    context.setdefault("lang_query", request.query_params.multi_items())
    html = render(
        loc,
        template,
        principal=who,
        csrf=who.csrf if who else None,
        path=request.url.path,
        request=request,
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    chosen = request.query_params.get(COOKIE)
    if chosen in ("zh_CN", "en"):
        secure = request.url.scheme == "https" or request.app.state.platform.settings.secure_cookies
        response.set_cookie(COOKIE, chosen, max_age=365 * 86400, samesite="lax", secure=secure, path="/")
    return response


def t(request: Request, message: str, **values: Any) -> str:
    return gettext(negotiate(request), message, **values)


def form_errors(request: Request, fields: dict[str, tuple[str, str]], *found: tuple[str, str]) -> Errors:
    """A simple form's errors: ``fields`` maps each key to its control id and label (a msgid); each of ``found``
    is a key and its message, already in the reader's language."""
    return build(
        negotiate(request),
        Form(fields, fallback=next(iter(fields.values()))[0]),
        [Found(key, text=text) for key, text in found],
    )
