"""Staff reads' audit events are committed in groups (audit.GroupCommit): every read is still answered only after
its own event is committed, concurrent reads share a transaction, a failed group fails every read in it, and the
chains verify. The queue page's hot reads give the same answers on a plain asyncpg pool as on the ORM."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from case_helpers import World

from cnvisa.cases import audit
from cnvisa.cases.errors import Forbidden
from cnvisa.cases.service import CaseService
from cnvisa.store.fast import Reads


async def test_concurrent_staff_reads_share_a_commit_and_each_is_recorded(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.submitted()
    groups: list[int] = []
    append = audit._append

    async def counting(writer: Any, events: Any) -> Any:
        groups.append(len(events))
        return await append(writer, events)

    monkeypatch.setattr(audit, "_append", counting)
    pages = await asyncio.gather(
        *(world.svc.queue_page(world.office_id, 10, world.officer) for _ in range(20))
    )
    assert all(p["awaiting"] == pages[0]["awaiting"] for p in pages)
    assert sum(groups) == 20 and len(groups) < 20  # all recorded, in fewer transactions than reads
    assert (await world.actions()).count("read_queue") == 20
    assert (await world.verify()).ok


async def test_a_read_is_answered_only_after_its_event_is_committed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.submitted()

    async def failing(writer: Any, events: Any) -> Any:
        raise RuntimeError("the audit log cannot be written")

    monkeypatch.setattr(audit, "_append", failing)
    results = await asyncio.gather(
        *(world.svc.queue_page(world.office_id, 10, world.officer) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)  # no read got its rows unaudited
    assert "read_queue" not in await world.actions()
    monkeypatch.undo()
    await world.svc.queue_page(world.office_id, 10, world.officer)  # the writer recovers
    assert (await world.actions()).count("read_queue") == 1


async def test_another_offices_queue_is_refused_before_anything_is_read(world: World) -> None:
    with pytest.raises(Forbidden):
        await world.svc.queue_page(world.office_id, 10, world.foreign_officer)
    assert "read_queue" not in await world.actions()


async def test_queue_page_on_the_pool_answers_as_on_the_orm(world: World) -> None:
    for _ in range(3):
        await world.submitted()
    reads = await Reads.open(world.engine, world.sessions)
    try:
        assert (reads.pool is not None) == (world.engine.dialect.name == "postgresql")
        fast = CaseService(world.sessions, world.clock, reads)
        orm = CaseService(world.sessions, world.clock, Reads(world.sessions))
        a = await fast.queue_page(world.office_id, 2, world.officer)
        b = await orm.queue_page(world.office_id, 2, world.officer)
        assert a == b and len(a["awaiting"]) == 2
    finally:
        await reads.close()
    assert (await world.verify()).ok


async def test_a_group_on_the_pool_commits_durably(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hot-read pool commits with ``synchronous_commit = off`` (its other writes are the public lookups'
    counts); a staff read's audit event must not be answered before it is on disk (and, under Patroni's
    synchronous mode, on the standby). SQLite has no pool: the group goes through an ORM session, which commits
    durably."""
    seen: list[str] = []
    append = audit._append

    async def watching(writer: Any, events: Any) -> Any:
        if isinstance(writer, audit._PoolWriter):
            seen.append(await writer.conn.fetchval("SELECT current_setting('synchronous_commit')"))
        else:
            seen.append(type(writer).__name__)
        return await append(writer, events)

    monkeypatch.setattr(audit, "_append", watching)
    reads = await Reads.open(world.engine, world.sessions)
    try:
        if world.engine.dialect.name == "postgresql":
            assert await reads.pool.fetchval("SELECT current_setting('synchronous_commit')") == "off"
        await CaseService(world.sessions, world.clock, reads).queue_page(world.office_id, 2, world.officer)
    finally:
        await reads.close()
    assert seen == (["on"] if world.engine.dialect.name == "postgresql" else ["_SessionWriter"])
    assert (await world.actions()).count("read_queue") == 1


async def test_the_pool_takes_a_connection_back_without_a_reset_round_trip(world: World) -> None:
    """The hot-read pool no longer resets each connection it takes back (a round trip after every read): what
    must not outlive a use still does not — a transaction left open is rolled back, a ``SET LOCAL`` ends with its
    transaction — and the pool's own settings stay."""
    reads = await Reads.open(world.engine, world.sessions)
    if world.engine.dialect.name != "postgresql":
        assert reads.pool is None  # SQLite: reads run on ORM sessions, which end their own transactions
        return
    try:
        sent: list[str] = []
        async with reads.pool.acquire() as conn:
            conn.add_query_logger(lambda q: sent.append(q.query))
            await conn.execute("BEGIN")
            await conn.execute("SET LOCAL synchronous_commit TO on")
        assert sent == ["BEGIN", "SET LOCAL synchronous_commit TO on", "ROLLBACK"]  # no RESET ALL, UNLISTEN…
        # every connection the pool holds: none is in a transaction, each has the pool's setting
        held = [await reads.pool.acquire() for _ in range(reads.pool.get_max_size())]
        try:
            for c in held:
                assert not c.is_in_transaction()
                assert await c.fetchval("SELECT current_setting('synchronous_commit')") == "off"
        finally:
            for c in held:
                await reads.pool.release(c)
    finally:
        await reads.close()
