"""What the administrator sees: accounts, offices and their capacity, mandates, API tokens — and the audit
chains' verification. Each read and each verification is itself an audit event (the administrator's reads are
staff reads: they leave a trace, as an officer's do). Never a password hash or a token hash."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from cnvisa.cases import audit
from cnvisa.cases.errors import Forbidden
from cnvisa.cases.service import Actor, caseless_event
from cnvisa.cases.workflow import Role
from cnvisa.store.tables import Account, ApiToken, Mandate, Office, Organisation, Person

LIMIT = 500
"""Rows shown of each list; the counts are always whole."""


def _admin_only(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise Forbidden(f"the role {actor.role} may not see the administration")


async def _rows(s: AsyncSession, query: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in (await s.execute(query.limit(LIMIT + 1))).all()]


async def overview(
    sessions: async_sessionmaker[AsyncSession], actor: Actor, now: dt.datetime
) -> dict[str, Any]:
    """Accounts, offices with their appointment capacity, mandates and API tokens; audited as one read."""
    _admin_only(actor)
    agent = aliased(Account)
    async with sessions() as s, s.begin():
        accounts = await _rows(
            s,
            select(
                Account.id,
                Account.username,
                Account.display_name,
                Account.role,
                Account.active,
                Office.code.label("office"),
                Organisation.name.label("organisation"),
            )
            .outerjoin(Office, Office.id == Account.office_id)
            .outerjoin(Organisation, Organisation.id == Account.organisation_id)
            .order_by(Account.role, Account.username),
        )
        offices = await _rows(
            s,
            select(
                Office.id,
                Office.code,
                Office.name_zh,
                Office.name_en,
                Office.level,
                Office.region,
                Office.opening_hours,
                Office.slot_minutes,
                Office.slot_capacity,
            ).order_by(Office.code),
        )
        mandates = await _rows(
            s,
            select(
                Mandate.id,
                agent.username.label("agent"),
                Mandate.person_id,
                Person.surname,
                Person.given_names,
                Mandate.capacity,
                Mandate.valid_from,
                Mandate.valid_until,
            )
            .join(agent, agent.id == Mandate.agent_account_id)
            .join(Person, Person.id == Mandate.person_id)
            .order_by(agent.username, Mandate.valid_from),
        )
        tokens = await _rows(
            s,
            select(ApiToken.id, ApiToken.label, Account.username, ApiToken.created_at, ApiToken.revoked)
            .join(Account, Account.id == ApiToken.account_id)
            .order_by(ApiToken.created_at.desc()),
        )
        out = {"accounts": accounts, "offices": offices, "mandates": mandates, "tokens": tokens}
        counts = {name: len(rows) for name, rows in out.items()}
        for rows in out.values():
            del rows[LIMIT:]
        await audit.append(s, **caseless_event(actor, now, "admin_overview", counts, None))
    return out | {"more": {name: n > LIMIT for name, n in counts.items()}}


async def verify_audit(
    sessions: async_sessionmaker[AsyncSession], actor: Actor, now: dt.datetime
) -> audit.VerifyResult:
    """Recompute every audit chain (``cnvisa audit verify``); the verification and its outcome are audited."""
    _admin_only(actor)
    async with sessions() as s:
        result = await audit.verify(s)
    detail = {"ok": result.ok, "events": result.events, "first_bad_seq": result.first_bad_seq}
    async with sessions() as s, s.begin():
        await audit.append(s, **caseless_event(actor, now, "audit_verify", detail, None))
    return result
