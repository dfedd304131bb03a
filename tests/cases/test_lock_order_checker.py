"""The checker of the audit head's rule (tests/lock_order.py) sees what it must and only that: a write, a write in
a WITH clause, a row lock or an advisory lock after a head; a head taken below one already held; not the same
head twice, nor a head locked inside a savepoint that was rolled back (PostgreSQL released it)."""

from __future__ import annotations

import datetime as dt

import pytest
from case_helpers import World
from sqlalchemy import text

import lock_order
from cnvisa.cases import audit

AT = dt.datetime(2026, 12, 5, 8, 1, tzinfo=dt.UTC)  # 16:01 Beijing


def _event(case_id: int | None) -> dict[str, object]:
    return {"at": AT, "actor_account_id": None, "role": "system", "office_id": None, "case_id": case_id,
            "action": "checker_test"}  # fmt: skip


async def _seen(world: World, *then: str, case_id: int = 7, savepoint: bool = False) -> list[str]:
    """Append one event (case ``case_id``'s chain), then run ``then``; what the checker recorded (cleared)."""
    lock_order.violations.clear()
    async with world.sessions() as s, s.begin():
        if savepoint:
            async with s.begin_nested() as sp:
                await audit.append_many(s, [_event(case_id)])
                await sp.rollback()
        else:
            await audit.append_many(s, [_event(case_id)])
        for statement in then:
            await s.execute(text(statement))
        await s.rollback()
    seen = list(lock_order.violations)
    lock_order.violations.clear()
    return seen


async def test_the_checker_sees_what_comes_after_a_head(world: World) -> None:
    if world.sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite: no row locks; the checker looks at PostgreSQL only")
    p = world.person_id
    assert await _seen(world, "SELECT id FROM people") == []  # a read
    assert len(await _seen(world, f"UPDATE people SET id = id WHERE id = {p}")) == 1
    in_with = f"WITH u AS (UPDATE people SET id = id WHERE id = {p} RETURNING id) SELECT id FROM u"
    assert len(await _seen(world, in_with)) == 1
    assert len(await _seen(world, f"SELECT id FROM people WHERE id = {p} FOR KEY SHARE")) == 1
    assert len(await _seen(world, "SELECT pg_advisory_xact_lock(42)")) == 1
    # a head below the one held can deadlock; the same head again cannot wait
    assert (
        len(await _seen(world, "SELECT id FROM audit_head WHERE id = 2 FOR UPDATE", case_id=7)) == 0
    )  # (text: no chain parameter)
    lower = await _seen_two_appends(world, 7, 3)
    assert len(lower) == 1 and "chain 3's head locked after" in lower[0]
    assert await _seen_two_appends(world, 7, 7 + audit.CHAINS) == []
    # a head locked in a savepoint rolled back is released: what follows is not after it
    assert await _seen(world, f"UPDATE people SET id = id WHERE id = {p}", savepoint=True) == []


async def _seen_two_appends(world: World, first: int, second: int) -> list[str]:
    lock_order.violations.clear()
    async with world.sessions() as s, s.begin():
        await audit.append_many(s, [_event(first)])
        await audit.append_many(s, [_event(second)])
        await s.rollback()
    seen = list(lock_order.violations)
    lock_order.violations.clear()
    return seen
