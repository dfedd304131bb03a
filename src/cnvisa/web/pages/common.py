"""Home, sign-in, sign-out, language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cnvisa.api.auth import do_sign_in
from cnvisa.web import security
from cnvisa.web.deps import OptionalPrincipalDep, PlatformDep, PrincipalDep, check_csrf
from cnvisa.web.pages.render import page, t
from cnvisa.web.problems import Problem

router = APIRouter(include_in_schema=False)

HOME_BY_ROLE = {
    "applicant": "/my/cases",
    "agent": "/my/cases",
    "officer": "/office/queue",
    "supervisor": "/office/queue",
    "org_staff": "/org/people",
    "verifier": "/verify",
    "admin": "/",
}


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, who: OptionalPrincipalDep) -> HTMLResponse:
    return page(request, "home.html", who)


@router.get("/signin", response_class=HTMLResponse)
async def signin_form(request: Request, who: OptionalPrincipalDep, next: str = "") -> HTMLResponse:
    return page(request, "signin.html", who, next=next if next.startswith("/") else "")


@router.post("/signin", response_model=None)
async def signin(
    request: Request,
    p: PlatformDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
) -> Response:
    target = next if next.startswith("/") and not next.startswith("//") else ""
    response = RedirectResponse("/", status_code=303)
    try:
        await do_sign_in(p, request, response, username.strip(), password)
    except Problem as exc:
        message = (
            t(request, "Too many failed sign-ins. Try again later.")
            if exc.status == 429
            else t(request, "Wrong user name or password.")
        )
        return page(
            request, "signin.html", None, status=exc.status, error=message, next=target, username=username
        )
    async with p.sessions() as s:
        from sqlalchemy import select

        from cnvisa.store.tables import Account

        role = (
            await s.execute(select(Account.role).where(Account.username == username.strip()))
        ).scalar_one()
    response.headers["location"] = target or HOME_BY_ROLE.get(role, "/")
    return response


@router.post("/signout", response_model=None)
async def signout(request: Request, who: PrincipalDep, p: PlatformDep) -> Response:
    await check_csrf(request, who)
    token = request.cookies.get(security.COOKIE)
    if token:
        async with p.sessions() as s, s.begin():
            await security.close_session(s, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(security.COOKIE, path="/")
    return response
