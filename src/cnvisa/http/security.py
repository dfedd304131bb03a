"""Sign-in and sessions.

- Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile).
- A session is a random 256-bit token in an HttpOnly, SameSite=Lax cookie (Secure when served over https);
  the database keeps only its SHA-256, so a stolen database does not give working cookies.
- Every form carries the session's CSRF token; state-changing requests authenticated by cookie must send it
  (form field ``csrf`` or header ``X-CSRF-Token``). Bearer tokens (institution API clients) need none.
- Sign-in is rate-limited per client address (``signin_per_minute_per_ip`` attempts a minute, counted from the
  recorded attempts, so across workers), and locked per user name: after ``signin_max_failures`` failures
  within the lockout window the account is locked for that window, whatever the password. The count and the
  check are atomic on both engines (``serialise``): the attempt is recorded, as a failure, before the password
  is checked, so concurrent guesses cannot all pass the check (ASVS 4.0 V2.2.1).
- Every failed sign-in costs one argon2 verification, whether the name is unknown, the account switched off,
  the name locked out or the password wrong, so timing does not tell names apart (ASVS 4.0 V2.2.x, V3.2).
- Hashing runs off the event loop, a bounded number at once (``password_hashes_at_once``), so sign-ins do not
  stall other requests (ASVS 4.0 V11.1.4 anti-automation; V1.11.x business logic under load).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import secrets
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from cnvisa.cases.clock import beijing_time
from cnvisa.store import locks
from cnvisa.store.fast import FastQuery, Reads
from cnvisa.store.tables import Account, ApiToken, Mandate, SigninAttempt, WebSession

COOKIE = "cnvisa_session"
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a password")  # equalises timing for unknown user names


def hash_password(password: str) -> str:
    """On the calling thread: for the command line and the demo seeding; requests use ``hash_off_loop``."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """One argon2 verification, against the dummy hash when there is no stored hash (so it costs the same)."""
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


HASHES_AT_ONCE = 2
"""The default of ``Settings.password_hashes_at_once``: each argon2id hash takes 64 MiB and most of a core."""
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _limiter(at_once: int) -> anyio.CapacityLimiter:
    """One limiter per event loop (a worker has one; the tests start many)."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(at_once)
    limiter.total_tokens = at_once
    return limiter


async def verify_off_loop(stored: str | None, password: str, at_once: int = HASHES_AT_ONCE) -> bool:
    """``verify_password`` on a worker thread (argon2-cffi releases the GIL), at most ``at_once`` at a time:
    the event loop keeps answering other requests meanwhile."""
    return await anyio.to_thread.run_sync(verify_password, stored, password, limiter=_limiter(at_once))


async def hash_off_loop(password: str, at_once: int = HASHES_AT_ONCE) -> str:
    return await anyio.to_thread.run_sync(hash_password, password, limiter=_limiter(at_once))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Locked(Exception):
    def __init__(self, until: dt.datetime) -> None:
        self.until = until
        super().__init__(
            f"too many failed sign-ins: try again after {beijing_time(until):%H:%M} Beijing time"
        )


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many sign-in attempts from this address: try again in {retry_after} s")


ADDRESS_WINDOW = dt.timedelta(minutes=1)


SIGNIN_ADDRESS, SIGNIN_NAME, PUBLIC_LOOKUP = locks.SIGNIN_ADDRESS, locks.SIGNIN_NAME, locks.PUBLIC_LOOKUP
lock_key, serialise = locks.lock_key, locks.serialise
"""Namespaces and locks of ``cnvisa.store.locks`` (shared with the case core's limits)."""


async def check_address(s: AsyncSession, ip: str | None, now: dt.datetime, per_minute: int) -> None:
    """At most ``per_minute`` sign-in attempts a minute from one client address — it slows down guessing across
    many user names, which the per-name lockout does not. Counted from the recorded attempts, so every worker
    and every restart sees the same count; ``RateLimited`` (and nothing recorded) when over the limit. Call it
    after ``serialise`` in the transaction that records the attempt."""
    since = now - ADDRESS_WINDOW
    from_ip = SigninAttempt.ip.is_(None) if ip is None else SigninAttempt.ip == ip
    count, first = (
        await s.execute(
            select(func.count(), func.min(SigninAttempt.at)).where(from_ip, SigninAttempt.at > since)
        )
    ).one()
    if count >= per_minute:
        wait = (first + ADDRESS_WINDOW - now).total_seconds()
        raise RateLimited(max(1, int(wait) + 1))


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt recorded (as failed until the password is found right) and what checking it needs."""

    id: int
    account_id: int | None
    password_hash: str | None
    """The hash to check the password against; None (so the dummy) for an unknown or switched-off account."""


async def record_attempt(
    s: AsyncSession,
    username: str,
    *,
    now: dt.datetime,
    ip: str | None,
    max_failures: int,
    lockout_minutes: int,
) -> Attempt:
    """Records the attempt as failed and returns what to check the password against; ``Locked`` (nothing
    recorded) while the name is locked out. Call it after ``serialise``: the count and the record are then one
    step, and at most ``max_failures`` attempts a window ever reach the account's hash."""
    window = now - dt.timedelta(minutes=lockout_minutes)
    failures = (
        await s.execute(
            select(func.count(), func.max(SigninAttempt.at)).where(
                SigninAttempt.username == username[:80],
                SigninAttempt.ok.is_(False),
                SigninAttempt.at > window,
            )
        )
    ).one()
    if failures[0] >= max_failures:
        raise Locked(failures[1] + dt.timedelta(minutes=lockout_minutes))
    account = (
        await s.execute(
            select(Account.id, Account.password_hash, Account.active).where(Account.username == username)
        )
    ).one_or_none()
    attempt = SigninAttempt(username=username[:80], ip=ip, ok=False, at=now)
    s.add(attempt)
    await s.flush()
    if account is None or not account.active:
        return Attempt(attempt.id, None, None)
    return Attempt(attempt.id, account.id, account.password_hash)


async def attempt_succeeded(s: AsyncSession, attempt_id: int) -> None:
    await s.execute(update(SigninAttempt).where(SigninAttempt.id == attempt_id).values(ok=True))


async def open_session(s: AsyncSession, account_id: int, *, now: dt.datetime, hours: int) -> tuple[str, str]:
    """A new session: (cookie token, csrf token)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    s.add(
        WebSession(
            id=digest(token),
            account_id=account_id,
            csrf=csrf,
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    return token, csrf


_ACCOUNT = tuple(c for c in Account.__table__.columns if c.key != "password_hash")
"""What a request needs of its account: everything but the password hash, which stays in the database."""


class person_ids(FunctionElement[Any]):
    """The ids of a group as one value: PostgreSQL ``array_agg`` (a list; NULL for none), SQLite
    ``json_group_array`` (JSON text)."""

    inherit_cache = True
    name = "person_ids"


@compiles(person_ids, "postgresql")
def _person_ids_pg(element: person_ids, compiler: Any, **kw: Any) -> str:
    return f"array_agg({compiler.process(element.clauses, **kw)})"


@compiles(person_ids, "sqlite")
def _person_ids_sqlite(element: person_ids, compiler: Any, **kw: Any) -> str:
    return f"json_group_array({compiler.process(element.clauses, **kw)})"


def _ids(value: Any) -> frozenset[int]:
    if value is None:
        return frozenset()
    return frozenset(int(i) for i in (json.loads(value) if isinstance(value, str) else value))


def _with_mandates(q: Select[Any]) -> Select[Any]:
    """The account's row with the people of its mandates in force on ``on`` (Regulations Art 19: whom an agent
    may act for) as ONE value, so who is asking is one round trip and one row however many foreigners an
    employer's staff or an agent acts for (one row per mandate before: 200 mandates cost 0.4 ms a request)."""
    in_force = and_(
        Mandate.agent_account_id == Account.id,
        Mandate.valid_from <= bindparam("on"),
        or_(Mandate.valid_until.is_(None), Mandate.valid_until >= bindparam("on")),
    )
    people = select(person_ids(Mandate.person_id)).where(in_force).scalar_subquery()
    return q.add_columns(people.label("mandate_people"))


SESSION_QUERY = FastQuery(
    _with_mandates(
        select(
            WebSession.csrf,
            WebSession.expires_at,
            WebSession.created_at.label("session_created_at"),
            *_ACCOUNT,
        )
        .join(Account, Account.id == WebSession.account_id)
        .where(WebSession.id == bindparam("digest"))
    )
)
"""The session a cookie names, with its account and mandates: the first read of every signed-in request."""

TOKEN_QUERY = FastQuery(
    _with_mandates(
        select(ApiToken.id.label("token_id"), ApiToken.last_used_at, *_ACCOUNT)
        .join(ApiToken, ApiToken.account_id == Account.id)
        .where(
            ApiToken.token_hash == bindparam("digest"),
            ApiToken.revoked.is_(False),
            ApiToken.expires_at > bindparam("now"),
            Account.active.is_(True),
            # issued before the account was last switched back on: dead (ASVS 4.0 V3.5.x)
            or_(Account.active_since.is_(None), ApiToken.created_at >= Account.active_since),
        )
    )
)
"""The account a bearer token signs in: unrevoked, unexpired, issued since the account was last switched on."""


@dataclass(frozen=True)
class SignedIn:
    account: Account
    """Detached (built from the read's row; no session holds it, nothing lazy-loads)."""
    represents: frozenset[int]
    """The people the account holds a mandate in force for."""
    csrf: str | None = None


def _signed_in(rows: Sequence[Mapping[str, Any]], csrf: str | None) -> SignedIn:
    account = Account(**{c.key: rows[0][c.name] for c in _ACCOUNT})
    return SignedIn(account, _ids(rows[0]["mandate_people"]), csrf)


async def find_session(reads: Reads, token: str, now: dt.datetime, on: dt.date) -> SignedIn | None:
    """Who a session cookie signs in (mandates as of ``on``), or None when the token is unknown, expired or its
    account switched off."""
    rows = await reads.all(SESSION_QUERY, digest=digest(token), on=on)
    if not rows:
        return None
    expires: dt.datetime = rows[0]["expires_at"]
    if expires <= now or not rows[0]["active"]:
        return None
    since: dt.datetime | None = rows[0]["active_since"]
    if since is not None and rows[0]["session_created_at"] < since:
        return None  # opened before the account was switched back on
    return _signed_in(rows, rows[0]["csrf"])


TOUCH_EVERY = dt.timedelta(minutes=1)
"""A token's last use is recorded at most this often: one write a minute per token, not one a request."""


@dataclass(frozen=True)
class TokenUse:
    signed_in: SignedIn
    token_id: int
    stale: bool
    """Its recorded last use is older than ``TOUCH_EVERY`` (or there is none): record this one."""


async def find_api_token(reads: Reads, token: str, now: dt.datetime, on: dt.date) -> TokenUse | None:
    rows = await reads.all(TOKEN_QUERY, digest=digest(token), now=now, on=on)
    if not rows:
        return None
    last: dt.datetime | None = rows[0]["last_used_at"]
    stale = last is None or last <= now - TOUCH_EVERY
    return TokenUse(_signed_in(rows, None), rows[0]["token_id"], stale)


async def touch_api_token(s: AsyncSession, token_id: int, now: dt.datetime) -> None:
    """Records the token's use; conditional, so concurrent requests of one minute write it once."""
    await s.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOUCH_EVERY),
        )
        .values(last_used_at=now)
    )


async def close_session(s: AsyncSession, token: str) -> None:
    await s.execute(delete(WebSession).where(WebSession.id == digest(token)))


def csrf_ok(expected: str, given: str | None) -> bool:
    # bytes: compare_digest refuses a str with non-ASCII characters (a TypeError, not an answer)
    return given is not None and hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


async def issue_api_token(
    s: AsyncSession, account_id: int, label: str, now: dt.datetime, days: int
) -> tuple[str, ApiToken]:
    """A new bearer token (returned once; only its SHA-256 is kept), valid for ``days`` days."""
    token = "cnv_" + secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=digest(token),
        account_id=account_id,
        label=label,
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
        revoked=False,
    )
    s.add(row)
    await s.flush()
    return token, row
