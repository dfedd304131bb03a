"""A joint submission's round trips stay few (issue 10: ≥ 200 joint submissions/s; benchmarks/RESULTS.md): the
statements ``apply_joint`` and ``joint_accept`` send, counted on the engine, on both engines — the passport kept
and read-and-returned, the second acceptance at the office costing what the first did (the collection appointment
found from one read, not a statement per seat already booked). The audit chain verifies."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from case_helpers import VISA_EXTENSION, World, key
from joint_helpers import RETURNED, WP_A, JointWorld, all_codes, joint_world
from sqlalchemy import event, func, select

from cnvisa.cases import audit
from cnvisa.cases.errors import BadInput
from cnvisa.store.tables import AuditEvent, CaseFile

# PostgreSQL: one INSERT for the case, the joint application, its branch and the files; the audit chain's
# head locked (last: test_audit_lock.py), the audit group in one statement (the office's papers are read
# in the transaction here, by the HTTP layer before it). SQLite: an INSERT each, and the audit's head read
# and moved apart. Returned: the first read of the passport also records it (one statement more than the next).
LIMITS = {
    # PostgreSQL: the idempotency record rides with the audit events (audit.Also); the presence refresh is a lock
    # and one statement (cnvisa.cases.queries.presence); a submission's key is not looked up first (runner's
    # replay_first)
    "postgresql": {"apply": 4, "kept": 11, "returned": 19},
    "sqlite": {"apply": 11, "kept": 16, "returned": 24},
}


@pytest.fixture
async def jw(world: World) -> JointWorld:
    return await joint_world(world)


async def test_a_joint_submission_sends_few_statements(jw: JointWorld) -> None:
    engine = jw.w.sessions.kw["bind"].sync_engine
    limits = LIMITS[engine.dialect.name]
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])

    async def counted(step: Any) -> tuple[Any, int]:
        sent.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            return await step, len(sent)
        finally:
            event.remove(engine, "before_cursor_execute", count)

    kept = {"passport_kept": True, "retention_reason": "applicant_request"}
    j = await jw.apply(actor=jw.org_staff)  # warm: the office's code is then known to the service
    await jw.svc.joint_accept(jw.w.officer, j["joint_id"], j["version"], key=key(), **kept)
    returned: list[int] = []
    for accept in (kept, RETURNED, RETURNED, RETURNED):
        j, n = await counted(jw.apply(actor=jw.org_staff))
        assert n <= limits["apply"], n
        _, n = await counted(
            jw.svc.joint_accept(jw.w.officer, j["joint_id"], j["version"], key=key(), **accept)
        )
        assert n <= limits["kept" if accept is kept else "returned"], n
        if accept is not kept:
            returned.append(n)
    # the first read records the passport; after it, each booking at the office costs what the one before did
    assert returned[1] == returned[2]
    async with jw.w.sessions() as s:
        assert (await audit.verify(s)).ok


async def test_the_office_papers_read_with_the_facts_save_a_statement(jw: JointWorld) -> None:
    """The HTTP layer reads the window office's own papers with the applicant's facts, before the transaction
    (``applications.application_facts_and_papers``), and hands them to ``apply_joint``: one statement fewer inside
    it, and those papers — not the table — decide which extra files are taken."""
    engine = jw.w.sessions.kw["bind"].sync_engine
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])

    await jw.apply(actor=jw.org_staff)  # warm
    counts = []
    for asks in (None, []):
        sent.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            await jw.apply(actor=jw.org_staff, office_asks=asks)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(sent))
    assert counts[1] == counts[0] - 1, counts
    assert not any("office_papers" in q for q in sent)
    extra = (*all_codes(WP_A), "employer_business_licence")  # asked by no OfficePaper row here
    with pytest.raises(BadInput) as refused:
        await jw.apply(actor=jw.org_staff, files=extra)
    assert refused.value.field == "files[employer_business_licence]"
    j = await jw.apply(actor=jw.org_staff, files=extra, office_asks=["employer_business_licence"])
    assert j["joint_id"]


# A plain application (``apply``: the online form's one command). PostgreSQL: the case and its files in one
# statement (cnvisa.cases.new_rows), the audit head's lock, the audit group with the idempotency record; the key
# not looked up first. SQLite: an INSERT each, BEGIN IMMEDIATE counted.
PLAIN = {"postgresql": 3, "sqlite": 8}


async def test_a_plain_submission_sends_few_statements(world: World) -> None:
    engine = world.sessions.kw["bind"].sync_engine
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])

    await world.applied()  # warm: the office's code is then known to the service
    event.listen(engine, "before_cursor_execute", count)
    try:
        c = await world.applied()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(sent) <= PLAIN[engine.dialect.name], sent
    assert len(VISA_EXTENSION.materials) > 1  # the files' rows went with the case
    async with world.sessions() as s:
        n = await s.scalar(select(func.count()).where(CaseFile.case_id == c["case_id"]))
        assert n == len(VISA_EXTENSION.materials)
        assert (await audit.verify(s)).ok


async def test_joint_submissions_at_once_keep_every_audit_chain_whole(jw: JointWorld) -> None:
    """24 submissions at once over 16 chains wait for each other's head (PostgreSQL: a row lock, the numbers
    drawn once it is held), and every chain still verifies, its numbers rising along it."""
    answers = await asyncio.wait_for(asyncio.gather(*(jw.apply(actor=jw.org_staff) for _ in range(24))), 120)
    assert len({a["joint_id"] for a in answers}) == 24
    async with jw.w.sessions() as s:
        assert (await audit.verify(s)).ok
        rows = (await s.execute(select(AuditEvent.chain, AuditEvent.chain_seq, AuditEvent.seq))).all()
    for chain in {c for c, _, _ in rows}:
        seqs = [seq for c, _, seq in sorted(rows) if c == chain]
        assert seqs == sorted(seqs), chain
