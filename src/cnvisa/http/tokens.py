"""A verifier's API tokens (Regulations Art 27 clients) over their life: issued with an expiry, listed, revoked —
from the verifier's page, the API and the command line — and dead once their account is switched off, even
after it is switched back on (ASVS 4.0 V3.5.x: tokens revocable, expiring; V3.3.x). Every change is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases import audit
from cnvisa.cases.actor import Actor, caseless_event
from cnvisa.http import security
from cnvisa.store.tables import Account, ApiToken, WebSession


def state(row: dict[str, Any], now: dt.datetime) -> str:
    """ "revoked", "expired" or "active"."""
    if row["revoked"]:
        return "revoked"
    return "expired" if row["expires_at"] <= now else "active"


async def issue(
    sessions: async_sessionmaker[AsyncSession], actor: Actor, label: str, now: dt.datetime, days: int
) -> tuple[str, dict[str, Any]]:
    """A new token of ``actor``'s account, valid ``days`` days: (the token, shown once; its record)."""
    assert actor.account_id is not None
    async with sessions() as s, s.begin():
        token, row = await security.issue_api_token(s, actor.account_id, label, now, days)
        detail = {"token_id": row.id, "label": label, "expires_at": row.expires_at.isoformat()}
        await audit.append(s, **caseless_event(actor, now, "issue_api_token", detail, None))
    return token, _record(row, None, now)


def _record(t: ApiToken, username: str | None, now: dt.datetime) -> dict[str, Any]:
    row = {
        "id": t.id,
        "label": t.label,
        "username": username,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        "last_used_at": t.last_used_at,
        "revoked_at": t.revoked_at,
        "revoked": t.revoked,
    }
    return row | {"state": state(row, now)}


async def of_account(
    sessions: async_sessionmaker[AsyncSession], now: dt.datetime, account_id: int | None = None
) -> list[dict[str, Any]]:
    """The tokens of one account (None: of every account, for the command line), newest first."""
    q = select(ApiToken, Account.username).join(Account, Account.id == ApiToken.account_id)
    if account_id is not None:
        q = q.where(ApiToken.account_id == account_id)
    async with sessions() as s:
        rows = (await s.execute(q.order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))).all()
    return [_record(t, username, now) for t, username in rows]


async def revoke(
    sessions: async_sessionmaker[AsyncSession],
    actor: Actor,
    token_id: int,
    now: dt.datetime,
    *,
    owner: int | None,
) -> bool:
    """Revokes one token; ``owner`` set: only if it is that account's (a verifier revokes only its own). False
    when there is no such token (or not the owner's); revoking a revoked token changes nothing but is True."""
    async with sessions() as s, s.begin():
        t = await s.get(ApiToken, token_id)
        if t is None or (owner is not None and t.account_id != owner):
            return False
        if not t.revoked:
            t.revoked, t.revoked_at = True, now
            detail = {"token_id": t.id, "label": t.label, "account_id": t.account_id}
            await audit.append(s, **caseless_event(actor, now, "revoke_api_token", detail, None))
    return True


async def revoke_all(s: AsyncSession, account_id: int, now: dt.datetime) -> int:
    """Revokes every live token of an account, inside the caller's transaction; how many."""
    result = await s.execute(
        update(ApiToken)
        .where(ApiToken.account_id == account_id, ApiToken.revoked.is_(False))
        .values(revoked=True, revoked_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def set_active(
    sessions: async_sessionmaker[AsyncSession], actor: Actor, username: str, active: bool, now: dt.datetime
) -> dict[str, Any] | None:
    """Switches an account off (its tokens revoked, its sessions closed) or back on (``active_since`` = now, so
    any session or token from before stays dead even if it escaped the revocation — say the account was
    switched off directly in the database). None when there is no such account."""
    async with sessions() as s, s.begin():
        account = (await s.execute(select(Account).where(Account.username == username))).scalar_one_or_none()
        if account is None:
            return None
        detail: dict[str, Any] = {"username": username, "active": active}
        if active:
            account.active, account.active_since = True, now
        else:
            account.active = False
            detail["tokens_revoked"] = await revoke_all(s, account.id, now)
            await s.execute(delete(WebSession).where(WebSession.account_id == account.id))
        action = "activate_account" if active else "deactivate_account"
        await audit.append(s, **caseless_event(actor, now, action, detail, None))
    return detail
