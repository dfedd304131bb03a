"""Signing in (the session cookie, the per-address limit, the lockout) and a verifier's API tokens: shared by
the API and the pages."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy import select

from cnvisa.cases import audit
from cnvisa.cases.service import caseless_event
from cnvisa.http import security
from cnvisa.http.deps import Platform, Principal, check_csrf
from cnvisa.http.problems import Problem
from cnvisa.store.tables import Account


async def do_sign_in(p: Platform, request: Request, response: Response, username: str, password: str) -> str:
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


async def do_sign_out(p: Platform, request: Request, who: Principal, response: Response) -> Response:
    """Shared by the API and the sign-out form: checks the CSRF token, closes the session, clears the cookie."""
    await check_csrf(request, who)
    token = request.cookies.get(security.COOKIE)
    if token:
        async with p.sessions() as s, s.begin():
            await security.close_session(s, token)
    response.delete_cookie(security.COOKIE, path="/")
    return response


async def create_token(p: Platform, who: Principal, label: str) -> str:
    """A verifier signed in by session creates a bearer token for their client; audited."""
    if who.via != "session":
        raise Problem(403, "Forbidden", "tokens are created from a signed-in session", code="forbidden")
    label = label.strip()
    if not label:
        raise Problem(422, "Invalid input", "name the API client", field="label", code="bad_input")
    now = p.now()
    async with p.sessions() as s, s.begin():
        token = await security.issue_api_token(s, who.account.id, label, now)
        await audit.append(s, **caseless_event(who.actor, now, "issue_api_token", {"label": label}, None))
    return token


async def role_of(p: Platform, username: str) -> str:
    """The role of the account just signed in (where its home page is)."""
    async with p.sessions() as s:
        role: str = (await s.execute(select(Account.role).where(Account.username == username))).scalar_one()
    return role
