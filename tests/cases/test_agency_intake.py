"""The work-permit authority's messages reach a branch only through ``receive``: a duplicate changes nothing, a
reused id is refused, an out-of-order message is refused and audited, a handler's refusal leaves nothing
half-written, and two workers receiving one message at once apply it once (both engines)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from typing import Any

import pytest
from agency_helpers import (
    BRANCH,
    START,
    SYSTEM,
    FakeBranches,
    agency_events,
    branch,
    count,
    last_in,
    message,
    open_branch,
    records,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases import audit
from cnvisa.cases.agencies import (
    WORK_PERMIT_KINDS,
    AgencyMessage,
    payload_hash,
    receive,
    register_correlation,
)
from cnvisa.cases.errors import BadInput
from cnvisa.store.db import sessionmaker

NOW = START + dt.timedelta(hours=1)


async def test_a_message_is_applied_once_and_a_duplicate_changes_nothing(engine: AsyncEngine) -> None:
    sessions = await open_branch(engine)
    handler = FakeBranches()
    m = message(1, "under_review")
    async with sessions() as s:
        first = await receive(s, m, handler, SYSTEM, now=NOW)
    assert (first.outcome, first.reason) == ("applied", None)
    assert first.response["result"]["state"] == "under_review"
    assert await branch(sessions) == ("under_review", 1)
    before = [(r.id, r.outcome, r.response, r.final_key) for r in await records(sessions)]

    async with sessions() as s:
        again = await receive(s, m, handler, SYSTEM, now=NOW + dt.timedelta(minutes=5))
    assert again.outcome == "duplicate"
    assert again.response == dict(first.response, duplicate=True)
    assert again.settled
    assert handler.calls == [(BRANCH, "under_review", "external")]  # the handler was not asked again
    assert await branch(sessions) == ("under_review", 1)
    assert await last_in(sessions) == 1
    rows = await records(sessions)
    assert [
        (r.id, r.outcome, r.response, r.final_key) for r in rows[:1]
    ] == before  # the first record unchanged
    assert (rows[1].outcome, rows[1].duplicate_of, rows[1].final_key) == ("duplicate", rows[0].id, None)
    assert rows[0].payload_hash == payload_hash(m.payload) == rows[1].payload_hash
    assert rows[0].received_at == NOW and rows[0].sent_at == m.sent_at  # instants kept (as UTC)
    events = await agency_events(sessions)
    assert [e.action for e in events] == ["agency_message_applied", "agency_message_duplicate"]
    assert events[0].detail["message_id"] == m.message_id and events[0].detail["next_sequence"] == 2
    async with sessions() as s:
        assert (await audit.verify(s)).ok


async def test_a_reused_message_id_with_another_payload_is_refused(engine: AsyncEngine) -> None:
    sessions = await open_branch(engine)
    handler = FakeBranches()
    async with sessions() as s:
        assert (await receive(s, message(1, "under_review"), handler, SYSTEM, now=NOW)).outcome == "applied"
    changed = message(1, "granted", {"number": "WP-999"})  # same message_id, other content
    async with sessions() as s:
        r = await receive(s, changed, handler, SYSTEM, now=NOW)
    assert (r.outcome, r.reason) == ("refused", "message_id_reused")
    assert not r.settled
    assert await branch(sessions) == ("under_review", 1)
    assert len(handler.calls) == 1
    rows = await records(sessions)
    assert (rows[-1].outcome, rows[-1].reason, rows[-1].payload_hash) == (
        "refused",
        "message_id_reused",
        payload_hash(changed.payload),
    )
    assert rows[-1].payload == changed.payload  # what was sent is kept, for the record
    assert [e.detail["reason"] for e in await agency_events(sessions)] == [None, "message_id_reused"]
    # the same id and payload about another sequence is a reuse too
    async with sessions() as s:
        r = await receive(
            s,
            message(2, "under_review", {"note": "message 1"}, message_id="WP-MSG-0001"),
            handler,
            SYSTEM,
            now=NOW,
        )
    assert (r.outcome, r.reason) == ("refused", "message_id_reused")
    # the original, sent again, is still a duplicate of what was applied
    async with sessions() as s:
        assert (await receive(s, message(1, "under_review"), handler, SYSTEM, now=NOW)).outcome == "duplicate"


async def test_an_out_of_order_message_is_refused_audited_and_applied_when_its_turn_comes(
    engine: AsyncEngine,
) -> None:
    sessions = await open_branch(engine)
    handler = FakeBranches()
    early = message(2, "extended", {"working_days": 10})
    async with sessions() as s:
        r = await receive(s, early, handler, SYSTEM, now=NOW)
    assert (r.outcome, r.reason, r.response["expected_sequence"]) == ("refused", "out_of_order", 1)
    assert handler.calls == [] and await branch(sessions) == ("submitted", 0) and await last_in(sessions) == 0
    events = await agency_events(sessions)
    assert [(e.action, e.detail["reason"], e.detail["sequence"]) for e in events] == [
        ("agency_message_refused", "out_of_order", 2)
    ]
    assert events[0].role == "system" and events[0].case_id is None
    async with sessions() as s:
        assert (await receive(s, message(1), handler, SYSTEM, now=NOW)).outcome == "applied"
        # the refused message, sent again once the gap is filled, is examined again (a gap settles nothing)
        assert (await receive(s, early, handler, SYSTEM, now=NOW)).outcome == "applied"
        # an older sequence under a new id (a replay) is out of order too
        replay = message(1, "granted", {"number": "WP-1"}, message_id="WP-MSG-REPLAY")
        r = await receive(s, replay, handler, SYSTEM, now=NOW)
    assert (r.outcome, r.reason, r.response["expected_sequence"]) == ("refused", "out_of_order", 3)
    assert await branch(sessions) == ("extended", 2) and await last_in(sessions) == 2
    assert [c[1] for c in handler.calls] == ["under_review", "extended"]


async def test_an_unknown_correlation_or_sender_is_refused(engine: AsyncEngine) -> None:
    sessions = await open_branch(engine)
    handler = FakeBranches()
    async with sessions() as s:
        r1 = await receive(s, message(1, correlation_id="JA-NOPE-WP"), handler, SYSTEM, now=NOW)
        r2 = await receive(s, message(1, message_id="X-1", sender="OTHER"), handler, SYSTEM, now=NOW)
        r3 = await receive(
            s,
            message(1, "approved_by_magic", message_id="WP-MSG-MAGIC"),
            handler,
            SYSTEM,
            now=NOW,
            kinds=WORK_PERMIT_KINDS,
        )
    assert (r1.outcome, r1.reason) == ("refused", "unknown_correlation")
    assert (r2.outcome, r2.reason) == ("refused", "unknown_correlation")
    # an unknown kind is a settled refusal: its sequence is consumed, a resend gets the same answer
    assert (r3.outcome, r3.reason, r3.settled) == ("refused", "unknown_kind", True)
    assert handler.calls == [] and await branch(sessions) == ("submitted", 0)
    assert await count(sessions) == 3 and len(await agency_events(sessions)) == 3


async def test_a_handler_refusal_leaves_nothing_half_written(engine: AsyncEngine) -> None:
    sessions = await open_branch(engine)
    handler = FakeBranches()
    bad = message(1, "granted", {"category": "B"})  # no number: the handler wrote, then refused
    async with sessions() as s:
        r = await receive(s, bad, handler, SYSTEM, now=NOW)
    assert (r.outcome, r.reason, r.response["field"]) == ("refused", "bad_input", "payload.number")
    assert r.settled
    assert len(handler.calls) == 1
    assert await branch(sessions) == ("submitted", 0)  # the handler's write was undone (savepoint)
    assert await last_in(sessions) == 1  # the message was answered: the sender's next is sequence 2
    async with sessions() as s:
        assert (await receive(s, bad, handler, SYSTEM, now=NOW)).outcome == "duplicate"
        fixed = message(2, "granted", {"category": "B", "number": "WP-110000-1"})
        assert (await receive(s, fixed, handler, SYSTEM, now=NOW)).outcome == "applied"
    assert await branch(sessions) == ("granted", 1)
    assert len(handler.calls) == 2
    async with sessions() as s:
        assert (await audit.verify(s)).ok


async def test_a_guard_refusal_names_the_guard_and_its_article(engine: AsyncEngine) -> None:
    sessions = await open_branch(engine)
    async with sessions() as s:
        r = await receive(
            s, message(1, "granted", {"number": "1", "guard": True}), FakeBranches(), SYSTEM, now=NOW
        )
    assert (r.outcome, r.reason, r.response["guard"], r.response["article"]) == (
        "refused",
        "guard_failed",
        "branch_open",
        "Law Art 41",
    )
    assert await branch(sessions) == ("submitted", 0) and await last_in(sessions) == 1


async def test_a_conflict_settles_nothing_and_the_resend_is_examined_again(engine: AsyncEngine) -> None:
    sessions = await open_branch(engine)
    handler = FakeBranches()
    m = message(1, "under_review", {"stale": True})
    async with sessions() as s:
        r = await receive(s, m, handler, SYSTEM, now=NOW)
    assert (r.outcome, r.reason, r.settled) == ("refused", "conflict", False)
    assert await branch(sessions) == ("submitted", 0) and await last_in(sessions) == 0
    async with sessions() as s:
        again = await receive(s, m, handler, SYSTEM, now=NOW)
    assert again.reason == "conflict" and len(handler.calls) == 2  # examined again, not a duplicate


@pytest.mark.timeout(60)
async def test_two_workers_receiving_one_message_at_once_apply_it_once(engine: AsyncEngine) -> None:
    """Two sessions (two connections) receive the same message at the same moment; the handler holds its
    transaction open for a while so that they overlap: one applies, the other waits on the correlation's lock
    and answers duplicate."""
    sessions = await open_branch(engine)
    handler = FakeBranches(delay=0.3)
    m = message(1, "under_review")

    async def worker() -> str:
        async with sessions() as s:
            return (await receive(s, m, handler, SYSTEM, now=NOW)).outcome

    outcomes = await asyncio.wait_for(asyncio.gather(worker(), worker()), timeout=30)
    assert sorted(outcomes) == ["applied", "duplicate"]
    assert await branch(sessions) == ("under_review", 1)
    assert len(handler.calls) == 1
    rows = await records(sessions)
    assert sorted(r.outcome for r in rows) == ["applied", "duplicate"]
    assert sum(r.final_key is not None for r in rows) == 1


@pytest.mark.timeout(60)
async def test_two_workers_receiving_consecutive_messages_apply_both_in_order(engine: AsyncEngine) -> None:
    sessions = await open_branch(engine)
    handler = FakeBranches(delay=0.2)

    async def worker(n: int) -> str:
        async with sessions() as s:
            return (await receive(s, message(n), handler, SYSTEM, now=NOW)).outcome

    first = asyncio.create_task(worker(1))
    await asyncio.sleep(0.05)  # the first holds the correlation when the second arrives
    second = await asyncio.wait_for(worker(2), timeout=30)
    assert await asyncio.wait_for(first, timeout=30) == "applied"
    assert second == "applied"  # it waited for the first, then found itself next
    assert await last_in(sessions) == 2


async def test_register_correlation_is_idempotent_and_keeps_its_agency(engine: AsyncEngine) -> None:
    sessions = await open_branch(engine)
    async with sessions() as s, s.begin():
        again = await register_correlation(
            s, correlation_id=BRANCH, agency="WP", subject="work_permit_branch", now=NOW
        )
        assert again.opened_at == START
    with pytest.raises(BadInput) as err:
        async with sessions() as s, s.begin():
            await register_correlation(
                s, correlation_id=BRANCH, agency="XX", subject="work_permit_branch", now=NOW
            )
    assert err.value.field == "correlation_id"


def test_a_malformed_message_is_bad_input_naming_the_field() -> None:
    good = message(1).wire()
    assert AgencyMessage.from_wire(good) == message(1)
    for field, value in [
        ("sequence", 0),
        ("sent_at", "2025-11-03T09:00:00"),
        ("sender", "wp"),
        ("message_id", ""),
    ]:
        with pytest.raises(BadInput) as err:
            AgencyMessage.from_wire({**good, field: value})
        assert err.value.field == f"message.{field}"
    with pytest.raises(BadInput) as err:
        AgencyMessage.from_wire({**good, "extra": 1})
    assert err.value.field == "message.extra"


def test_the_payload_hash_is_of_canonical_json() -> None:
    a = {"number": "WP-1", "validity": {"from": "2025-11-03", "to": "2026-11-02"}, "名": "张"}
    b = {"名": "张", "validity": {"to": "2026-11-02", "from": "2025-11-03"}, "number": "WP-1"}
    assert payload_hash(a) == payload_hash(b)
    assert payload_hash(a) != payload_hash({**a, "number": "WP-2"})
    expected = '{"number":"WP-1","validity":{"from":"2025-11-03","to":"2026-11-02"},"名":"张"}'
    assert payload_hash(a) == hashlib.sha256(expected.encode()).hexdigest()


async def test_the_migrated_tables_take_the_session_factory(engine: AsyncEngine) -> None:
    # the template was migrated: the tables are there on both engines, empty
    assert await count(sessionmaker(engine)) == 0


async def test_a_handler_bug_rolls_everything_back_and_records_nothing(engine: AsyncEngine) -> None:
    """Not a case error (a bug, the database gone): the whole transaction is undone and the error raised; the
    sender's resend is examined afresh."""
    sessions = await open_branch(engine)

    async def broken(s: Any, **kw: Any) -> dict[str, Any]:
        await FakeBranches()(s, **kw)
        raise RuntimeError("a bug")

    async with sessions() as s:
        with pytest.raises(RuntimeError):
            await receive(s, message(1), broken, SYSTEM, now=NOW)
    assert await branch(sessions) == ("submitted", 0) and await count(sessions) == 0
    assert await agency_events(sessions) == []
    async with sessions() as s:
        assert (await receive(s, message(1), FakeBranches(), SYSTEM, now=NOW)).outcome == "applied"


async def test_a_message_about_a_case_is_audited_in_the_cases_chain(engine: AsyncEngine) -> None:
    sessions = await open_branch(engine)

    async def names_case(s: Any, **kw: Any) -> dict[str, Any]:
        return {**(await FakeBranches()(s, **kw)), "case_id": 42}

    async with sessions() as s:
        await receive(s, message(1), names_case, SYSTEM, now=NOW, via="desk")
    (event,) = await agency_events(sessions)
    assert (event.case_id, event.chain) == (42, 42 % audit.CHAINS)
