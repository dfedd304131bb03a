"""Home, sign-in, sign-out, language."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from cnvisa.cases.clock import SHANGHAI
from cnvisa.http import security
from cnvisa.http.deps import OptionalPrincipalDep, PlatformDep, Principal, PrincipalDep
from cnvisa.http.problems import Problem
from cnvisa.http.redirects import safe_next
from cnvisa.http.signin import do_sign_in, do_sign_out, role_of
from cnvisa.web.pages.render import form_errors, page, t

router = APIRouter(include_in_schema=False)

HOME_BY_ROLE = {
    "applicant": "/my/cases",
    "agent": "/my/cases",
    "officer": "/office/queue",
    "supervisor": "/office/queue",
    "org_staff": "/org/people",
    "hotel_staff": "/hotel/stays",
    "port_visa_officer": "/port-desk",
    "work_permit_officer": "/work-permit-desk",
    "police_officer": "/police",
    "verifier": "/verify",
    "admin": "/admin",
}


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, who: OptionalPrincipalDep) -> HTMLResponse:
    """The applicant's services for the public and the applicant side; staff are shown the way to their own
    pages, not the applicant's (which would refuse them)."""
    role = str(who.role) if who else None
    workspace = HOME_BY_ROLE.get(role) if role not in (None, "applicant", "agent") else None
    return page(request, "home.html", who, workspace=workspace)


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    """Browsers ask for it on every page; without it each page view logs a 404."""
    icon = Path(__file__).parent.parent / "static" / "favicon.ico"
    return FileResponse(icon, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"})


SIGNIN_CSRF = "cnvisa_signin_csrf"
"""The sign-in form's CSRF token before there is a session: the same random value in a cookie and in the form
(double submit), so that another site cannot sign a visitor in to an account of its choosing."""


def signin_page(
    request: Request, who: Principal | None, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """The sign-in form, with its pre-session CSRF token (kept while the cookie lives, else a new one)."""
    token = request.cookies.get(SIGNIN_CSRF) or secrets.token_urlsafe(32)
    if context.get(
        "error"
    ):  # a refusal concerns the pair: both fields are marked, the summary links to the first
        fields = {
            "credentials.username": ("username", "User name"),
            "credentials.password": ("password", "Password"),
        }
        context["errors"] = form_errors(request, fields, ("credentials", context.pop("error")))
    response = page(request, "signin.html", who, status=status, signin_csrf=token, **context)
    response.set_cookie(
        SIGNIN_CSRF,
        token,
        max_age=2 * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https" or request.app.state.platform.settings.secure_cookies,
        path="/signin",
    )
    return response


@router.get("/signin", response_class=HTMLResponse)
async def signin_form(request: Request, who: OptionalPrincipalDep, next: str = "") -> HTMLResponse:
    return signin_page(request, who, next=safe_next(next))


@router.post("/signin", response_model=None)
async def signin(
    request: Request,
    p: PlatformDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    target = safe_next(next)  # checked before anything is written (the session row)
    expected = request.cookies.get(SIGNIN_CSRF)
    if expected is None or not security.csrf_ok(expected, csrf):
        message = t(
            request, "The form has expired or was not sent from this site: reload the page and try again."
        )
        return signin_page(request, None, status=403, error=message, next=target, username=username)
    unanswered = [
        (key, t(request, message))
        for key, value, message in (
            ("username", username.strip(), "Enter your user name."),
            ("password", password, "Enter your password."),
        )
        if not value
    ]
    if unanswered:  # each empty field named (WCAG 3.3.1), not a refused sign-in: nothing is counted
        fields = {"username": ("username", "User name"), "password": ("password", "Password")}
        errors = form_errors(request, fields, *unanswered)
        return signin_page(request, None, status=422, errors=errors, next=target, username=username)
    response = RedirectResponse("/", status_code=303)
    try:
        await do_sign_in(p, request, response, username.strip(), password)
    except Problem as exc:
        message = signin_refusal(request, exc)
        return signin_page(request, None, status=exc.status, error=message, next=target, username=username)
    role = await role_of(p, username.strip())
    response.headers["location"] = target or HOME_BY_ROLE.get(role, "/")
    return response


def signin_refusal(request: Request, exc: Problem) -> str:
    """Why the sign-in was refused; a lockout says for how long (the wait comes with the problem)."""
    if exc.status != 429:
        return t(request, "Wrong user name or password.")
    wait = int(exc.extra.get("retry_after") or 60)
    if exc.code == "locked_out":
        until = (request.app.state.platform.now() + dt.timedelta(seconds=wait)).astimezone(SHANGHAI)
        return t(
            request,
            "Too many failed sign-ins: this user name is locked for %(minutes)s more minutes, until "
            "%(time)s Beijing time. Try again then.",
            minutes=max(1, round(wait / 60)),
            time=until.strftime("%H:%M"),
        )
    return t(
        request,
        "Too many sign-in attempts from this address. Try again in %(seconds)s seconds.",
        seconds=wait,
    )


@router.post("/signout", response_model=None)
async def signout(request: Request, who: PrincipalDep, p: PlatformDep) -> Response:
    return await do_sign_out(p, request, who, RedirectResponse("/", status_code=303))
