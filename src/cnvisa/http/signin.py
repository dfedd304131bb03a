"""Signing in (the session cookie, the per-address limit, the lockout) and a verifier's API tokens: shared by
the API and the pages."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlalchemy import select

from cnvisa.http import security, tokens
from cnvisa.http.deps import Platform, Principal, check_csrf
from cnvisa.http.problems import Problem
from cnvisa.store.tables import Account


async def do_sign_in(p: Platform, request: Request, response: Response, username: str, password: str) -> str:
    """Shared by the API and the sign-in page: sets the session cookie, returns the CSRF token.

    Three steps: (1) one short transaction, serialised per address and per name, checks the address limit and
    the lockout and records the attempt as failed; (2) the password is checked off the event loop — always one
    argon2 verification, also for an unknown name, a switched-off account or a locked-out name, so all failures
    cost the same; (3) on success the attempt is marked good and the session opened."""
    now = p.now()
    ip = request.client.host if request.client else None
    locked: security.Locked | None = None
    attempt: security.Attempt | None = None
    async with p.sessions() as s, s.begin():
        await security.serialise(
            s,
            security.lock_key(security.SIGNIN_ADDRESS, ip or ""),
            security.lock_key(security.SIGNIN_NAME, username[:80]),
        )
        try:
            await security.check_address(s, ip, now, p.settings.signin_per_minute_per_ip)
        except security.RateLimited as exc:
            raise Problem(
                429, "Too many attempts", str(exc), code="rate_limited", retry_after=exc.retry_after
            ) from None
        try:
            attempt = await security.record_attempt(
                s,
                username,
                now=now,
                ip=ip,
                max_failures=p.settings.signin_max_failures,
                lockout_minutes=p.settings.signin_lockout_minutes,
            )
        except security.Locked as exc:
            locked = exc
    stored = attempt.password_hash if attempt is not None else None
    ok = await security.verify_off_loop(stored, password, p.settings.password_hashes_at_once)
    if locked is not None:
        wait = max(1, int((locked.until - now).total_seconds()) + 1)
        raise Problem(429, "Too many attempts", str(locked), code="locked_out", retry_after=wait)
    if not ok or attempt is None or attempt.account_id is None:
        raise Problem(401, "Unauthorised", "wrong user name or password", code="bad_credentials")
    async with p.sessions() as s, s.begin():
        await security.attempt_succeeded(s, attempt.id)
        token, csrf = await security.open_session(
            s, attempt.account_id, now=now, hours=p.settings.session_hours
        )
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


async def create_token(p: Platform, who: Principal, label: str) -> tuple[str, dict[str, Any]]:
    """A verifier signed in by session creates a bearer token for their client, valid
    ``Settings.api_token_days``; audited. Returns the token (shown once) and its record."""
    if who.via != "session":
        raise Problem(403, "Forbidden", "tokens are created from a signed-in session", code="forbidden")
    label = label.strip()
    if not label:
        raise Problem(422, "Invalid input", "name the API client", field="label", code="bad_input")
    return await tokens.issue(p.sessions, who.actor, label, p.now(), p.settings.api_token_days)


async def role_of(p: Platform, username: str) -> str:
    """The role of the account just signed in (where its home page is)."""
    async with p.sessions() as s:
        role: str = (await s.execute(select(Account.role).where(Account.username == username))).scalar_one()
    return role
