"""Sign-in for API clients and the signed-in account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from cnvisa.web import security
from cnvisa.web.deps import PlatformDep, PrincipalDep, check_csrf
from cnvisa.web.problems import Problem

router = APIRouter(tags=["auth"])


class SignIn(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)


class Me(BaseModel):
    account_id: int
    username: str
    display_name: str
    role: str
    office_id: int | None
    organisation_id: int | None
    person_id: int | None
    represents: list[int]
    csrf: str | None


async def do_sign_in(p: Any, request: Request, response: Response, username: str, password: str) -> str:
    """Shared by the API and the sign-in page: sets the session cookie, returns the CSRF token."""
    now = p.now()
    ip = request.client.host if request.client else None
    async with p.sessions() as s, s.begin():
        try:
            await security.check_address(s, ip, now, p.settings.signin_per_minute_per_ip)
        except security.RateLimited as exc:
            raise Problem(
                429, "Too many attempts", str(exc), code="rate_limited", retry_after=exc.retry_after
            ) from None
        try:
            account = await security.sign_in(
                s,
                username,
                password,
                now=now,
                ip=ip,
                max_failures=p.settings.signin_max_failures,
                lockout_minutes=p.settings.signin_lockout_minutes,
            )
        except security.Locked as exc:
            wait = max(1, int((exc.until - now).total_seconds()) + 1)
            raise Problem(429, "Too many attempts", str(exc), code="locked_out", retry_after=wait) from None
        if account is None:
            await s.commit()
            raise Problem(401, "Unauthorised", "wrong user name or password", code="bad_credentials")
        token, csrf = await security.open_session(s, account.id, now=now, hours=p.settings.session_hours)
    response.set_cookie(
        security.COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=p.settings.secure_cookies or request.url.scheme == "https",
        max_age=p.settings.session_hours * 3600,
        path="/",
    )
    return csrf


@router.post("/auth/signin", response_model=dict[str, str], summary="Sign in (sets the session cookie)")
async def sign_in(body: SignIn, request: Request, response: Response, p: PlatformDep) -> dict[str, str]:
    csrf = await do_sign_in(p, request, response, body.username, body.password)
    return {"csrf": csrf}


@router.post("/auth/signout", status_code=204, summary="Sign out")
async def sign_out(request: Request, who: PrincipalDep, p: PlatformDep) -> Response:
    await check_csrf(request, who)
    token = request.cookies.get(security.COOKIE)
    if token:
        async with p.sessions() as s, s.begin():
            await security.close_session(s, token)
    resp = Response(status_code=204)
    resp.delete_cookie(security.COOKIE, path="/")
    return resp


@router.get("/auth/me", response_model=Me, summary="The signed-in account")
async def me(who: PrincipalDep) -> Me:
    a = who.account
    return Me(
        account_id=a.id,
        username=a.username,
        display_name=a.display_name,
        role=a.role,
        office_id=a.office_id,
        organisation_id=a.organisation_id,
        person_id=a.person_id,
        represents=sorted(who.actor.represents),
        csrf=who.csrf,
    )
