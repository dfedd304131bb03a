"""Safety of the case core: the hash-chained audit (every command, every staff read, same transaction),
tamper detection, stale versions, concurrent decisions, idempotency keys, bad input written nowhere."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from case_helpers import MATTERS, VISA_EXTENSION, World, key, pdf
from sqlalchemy import delete, func, select, update

from cnvisa.cases import audit
from cnvisa.cases.errors import BadInput, Conflict, GuardFailed
from cnvisa.cases.records import FileIn
from cnvisa.cases.service import Actor
from cnvisa.cases.workflow import Role
from cnvisa.store.tables import AuditEvent, AuditHead, Case, CaseFile, IdempotencyRecord

# --- audit -----------------------------------------------------------------------------------------


async def _full_lifecycle(world: World) -> int:
    svc = world.svc
    mc = MATTERS["visa_replacement"]
    assert mc.existing is not None
    await world.add_existing(mc.existing)
    c = await world.create(mc, files=mc.materials[:-1])
    c = await svc.submit(world.applicant, c["case_id"], c["version"], key=key())
    c = await svc.issue_notice(world.officer, c["case_id"], c["version"], key=key())
    c = await svc.supplement(
        world.applicant, c["case_id"], c["version"], key=key(), files=[pdf(mc.materials[-1])]
    )
    c = await svc.accept(
        world.officer, c["case_id"], c["version"], key=key(), retention_reason="applicant_request"
    )
    c = await svc.approve(world.officer2, c["case_id"], c["version"], key=key())
    c = await svc.issue(world.officer, c["case_id"], c["version"], key=key())
    c = await svc.collect(world.officer, c["case_id"], c["version"], key=key(), passport_presented=True)
    return int(c["case_id"])


async def test_every_command_and_staff_read_is_audited(world: World) -> None:
    svc = world.svc
    assert await world.audit_count() == 0
    cid = await _full_lifecycle(world)
    assert await world.audit_count() == 8
    await svc.read(world.applicant, cid)  # the applicant reading their own case: not a staff read
    assert await world.audit_count() == 8
    await svc.read(world.officer, cid)
    await svc.read(world.supervisor, cid)
    assert await world.actions() == [
        "create",
        "submit",
        "issue_notice",
        "supplement",
        "accept",
        "approve",
        "issue",
        "collect",
        "read",
        "read",
    ]
    async with world.sessions() as s:
        rows = (await s.execute(select(AuditEvent).order_by(AuditEvent.seq))).scalars().all()
        head = await s.get(AuditHead, audit.chain_for(cid))
    assert [e.seq for e in rows] == list(range(1, 11))
    assert all(e.case_id == cid for e in rows)
    assert rows[0].prev_hash == audit.GENESIS and all(
        b.prev_hash == a.hash for a, b in itertools.pairwise(rows)
    )
    assert head is not None and head.seq == 10 and head.last_seq == 10 and head.hash == rows[-1].hash
    assert {e.chain for e in rows} == {audit.chain_for(cid)}  # a case's history is one chain
    # who, where, what
    assert rows[0].actor_account_id == world.applicant.account_id and rows[0].role == "applicant"
    assert rows[0].office_id == world.office_id and rows[0].state_after == "draft"
    assert (rows[5].role, rows[5].actor_account_id, rows[5].state_before, rows[5].state_after) == (
        "officer",
        world.officer2.account_id,
        "accepted",
        "approved",
    )
    assert rows[8].actor_account_id == world.officer.account_id and rows[8].action == "read"
    v = await world.verify()
    assert v.ok and v.events == 10 and v.first_bad_seq is None


async def test_reads_by_admin_are_audited_and_by_the_applicant_side_not(world: World) -> None:
    c = await world.create()
    admin = Actor(None, Role.ADMIN)
    await world.svc.read(world.applicant, c["case_id"])
    await world.svc.read(world.agent, c["case_id"])
    assert await world.actions() == ["create"]
    await world.svc.read(admin, c["case_id"])
    assert await world.actions() == ["create", "read"]
    async with world.sessions() as s:
        ev = await s.get(AuditEvent, 2)
    assert ev is not None and ev.role == "admin" and ev.office_id == world.office_id


@pytest.mark.parametrize("column", ["detail", "action", "actor_account_id", "at"])
async def test_tampering_with_one_event_is_named(world: World, column: str) -> None:
    await _full_lifecycle(world)
    assert (await world.verify()).ok
    target = 4
    async with world.sessions() as s, s.begin():
        ev = await s.get(AuditEvent, target)
        assert ev is not None
        value: Any = {
            "detail": {**ev.detail, "files": ["forged"]},
            "action": "approve",
            "actor_account_id": world.supervisor.account_id,
            "at": ev.at.replace(year=ev.at.year - 1),
        }[column]
        await s.execute(update(AuditEvent).where(AuditEvent.seq == target).values({column: value}))
    v = await world.verify()
    assert not v.ok and v.first_bad_seq == target and v.events == target - 1
    assert v.reason is not None and "hash" in v.reason


async def test_a_recomputed_hash_breaks_the_link_to_the_next_event(world: World) -> None:
    """A forger who also rewrites the row's own hash is caught at the following event."""
    await _full_lifecycle(world)
    async with world.sessions() as s, s.begin():
        ev = await s.get(AuditEvent, 3)
        assert ev is not None
        ev.detail = {"items": []}
        ev.hash = audit.event_hash(ev)
    v = await world.verify()
    assert not v.ok and v.first_bad_seq == 4 and "prev_hash" in (v.reason or "")


async def test_deleting_events_is_detected(world: World) -> None:
    await _full_lifecycle(world)
    last = await world.audit_count()
    async with world.sessions() as s, s.begin():
        await s.execute(delete(AuditEvent).where(AuditEvent.seq == last))
    v = await world.verify()
    assert not v.ok and v.first_bad_seq == last

    async with world.sessions() as s, s.begin():
        await s.execute(delete(AuditEvent).where(AuditEvent.seq == 2))
    v = await world.verify()
    assert not v.ok and v.first_bad_seq == 2 and "missing" in (v.reason or "")


async def test_a_failed_guard_writes_nothing(world: World) -> None:
    svc = world.svc
    c = await world.accepted()
    c = await svc.propose_refusal(world.officer, c["case_id"], c["version"], key=key(), grounds=["reg21_1"])
    snapshot = await _snapshot(world)
    k = key()
    with pytest.raises(GuardFailed):
        await svc.confirm_refusal(world.officer, c["case_id"], c["version"], key=k)
    assert await _snapshot(world) == snapshot
    assert await world.count(IdempotencyRecord, IdempotencyRecord.key == k) == 0
    # the same key may be used again once the command can succeed
    done = await svc.confirm_refusal(world.officer2, c["case_id"], c["version"], key=k)
    assert done["state"] == "refused"


async def _snapshot(world: World) -> tuple[Any, ...]:
    async with world.sessions() as s:
        cases = (await s.execute(select(Case.id, Case.state, Case.version).order_by(Case.id))).all()
        head = (await s.execute(select(AuditHead.seq, AuditHead.hash).order_by(AuditHead.id))).all()
        counts = [
            (await s.execute(select(func.count()).select_from(t))).scalar_one()
            for t in (AuditEvent, IdempotencyRecord, CaseFile)
        ]
    return tuple(map(tuple, cases)), tuple(head), tuple(counts)


# --- versions, concurrency, idempotency ------------------------------------------------------------


async def test_stale_version_is_a_conflict_and_writes_nothing(world: World) -> None:
    svc = world.svc
    c = await world.submitted()
    stale = c["version"]
    c = await svc.accept(
        world.officer, c["case_id"], c["version"], key=key(), retention_reason="applicant_request"
    )
    snapshot = await _snapshot(world)
    with pytest.raises(Conflict):
        await svc.approve(world.officer, c["case_id"], stale, key=key())
    with pytest.raises(Conflict):
        await svc.approve(world.officer, c["case_id"], c["version"] + 1, key=key())
    assert await _snapshot(world) == snapshot


@pytest.mark.parametrize("round_", range(3))
async def test_two_officers_approve_at_the_same_moment(world: World, round_: int) -> None:
    """Exactly one decision is stored; the other officer gets a conflict."""
    svc = world.svc
    c = await world.accepted()
    results = await asyncio.gather(
        svc.approve(world.officer, c["case_id"], c["version"], key=key()),
        svc.approve(world.officer2, c["case_id"], c["version"], key=key()),
        return_exceptions=True,
    )
    ok = [r for r in results if isinstance(r, dict)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(ok) == 1 and len(conflicts) == 1, results
    stored = await world.case(c["case_id"])
    assert stored.state == "approved" and stored.version == c["version"] + 1
    winner = world.officer if results[0] is ok[0] else world.officer2
    assert stored.decided_by == winner.account_id
    assert (await world.actions(c["case_id"])).count("approve") == 1
    assert (await world.verify()).ok


async def test_approve_and_refusal_race(world: World) -> None:
    """Two different decisions at the same moment: one wins, the other writes nothing."""
    svc = world.svc
    c = await world.accepted()
    results = await asyncio.gather(
        svc.approve(world.officer, c["case_id"], c["version"], key=key()),
        svc.propose_refusal(world.officer2, c["case_id"], c["version"], key=key(), grounds=["reg21_1"]),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "dict"], results
    stored = await world.case(c["case_id"])
    actions = await world.actions(c["case_id"])
    assert actions[-1] in ("approve", "propose_refusal") and actions.count(actions[-1]) == 1
    assert (
        len(actions) == 4
        and stored.state == {"approve": "approved", "propose_refusal": "refusal_proposed"}[actions[-1]]
    )
    assert (await world.verify()).ok


async def test_many_concurrent_commands_keep_one_chain(world: World) -> None:
    """Commands on different cases at once: the audit chain never forks."""
    svc = world.svc
    cases = [await world.create() for _ in range(6)]
    results = await asyncio.gather(
        *(svc.submit(world.applicant, c["case_id"], c["version"], key=key()) for c in cases),
        *(svc.read(world.officer, c["case_id"]) for c in cases),
    )
    assert all(r["state"] == "submitted" for r in results[:6])
    v = await world.verify()
    assert v.ok and v.events == 18


async def test_same_idempotency_key_returns_the_first_result(world: World) -> None:
    svc = world.svc
    k = key()
    first = await svc.create(
        world.applicant,
        key=k,
        person_id=world.person_id,
        office_id=world.office_id,
        matter="visa_extension",
        inputs=VISA_EXTENSION.inputs,
        files=[pdf("passport")],
    )
    again = await svc.create(
        world.applicant,
        key=k,
        person_id=world.person_id,
        office_id=world.office_id,
        matter="visa_extension",
        inputs=VISA_EXTENSION.inputs,
        files=[pdf("passport")],
    )
    assert "replayed" not in first and again == {**first, "replayed": True}
    assert await world.count(Case) == 1 and await world.count(CaseFile) == 1

    k2 = key()
    sub = await svc.submit(world.applicant, first["case_id"], first["version"], key=k2)
    events = await world.audit_count()
    # the retry names the version it first saw: still the first result, not a conflict
    retry = await svc.submit(world.applicant, first["case_id"], first["version"], key=k2)
    assert retry == {**sub, "replayed": True}
    assert await world.audit_count() == events
    assert (await world.case(first["case_id"])).version == sub["version"]


async def test_a_submission_retried_after_its_facts_changed_still_gets_its_first_result(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new application's key is not looked up before the work (``replay_first=False``): a retry is answered
    from the idempotency record all the same — when the key's unique index ends the transaction, and when the
    body would now refuse (here the law engine's answer changed) — and writes nothing; two retries at once
    write once."""
    svc = world.svc
    k = key()

    def apply() -> Any:
        return world.applied(files=("passport",), k=k)

    first = await apply()
    events = await world.audit_count()
    assert await apply() == {**first, "replayed": True}

    def refuse(*_: Any, **__: Any) -> Any:
        raise BadInput("inputs.requested", "refused now")

    monkeypatch.setattr(type(svc), "_assess", refuse)
    assert await apply() == {**first, "replayed": True}
    with pytest.raises(BadInput) as err:  # a fresh key gets the body's refusal
        await world.applied(files=())
    assert err.value.field == "inputs.requested"
    monkeypatch.undo()
    results = await asyncio.gather(apply(), apply())
    assert results == [{**first, "replayed": True}] * 2
    assert await world.count(Case) == 1 and await world.count(CaseFile) == 1
    assert await world.audit_count() == events
    assert await world.count(IdempotencyRecord, IdempotencyRecord.key == k) == 1


async def test_concurrent_retries_with_one_key_write_once(world: World) -> None:
    svc = world.svc
    c = await world.submitted()
    k = key()
    results = await asyncio.gather(
        *(svc.accept(world.officer, c["case_id"], c["version"], key=k) for _ in range(3)),
        return_exceptions=True,
    )
    assert all(isinstance(r, dict) for r in results), results  # never a conflict with oneself
    first = [r for r in results if "replayed" not in r]
    assert len(first) == 1 and all(r == {**first[0], "replayed": True} for r in results if r is not first[0])
    assert (await world.actions(c["case_id"])).count("accept") == 1
    assert await world.count(IdempotencyRecord, IdempotencyRecord.key == k) == 1


async def test_idempotency_key_is_required(world: World) -> None:
    with pytest.raises(BadInput) as err:
        await world.svc.submit(world.applicant, 1, 1, key="")
    assert err.value.field == "idempotency_key"
    with pytest.raises(BadInput):
        await world.svc.submit(world.applicant, 1, 1, key="k" * 81)


# --- bad input -------------------------------------------------------------------------------------


async def _nothing_written(world: World) -> None:
    assert await world.count(Case) == 0
    assert await world.count(CaseFile) == 0
    assert await world.audit_count() == 0
    assert await world.count(IdempotencyRecord) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"visa": {**VISA_EXTENSION.inputs["visa"], "stay_days": None}}, "inputs.visa.stay_days"),
        ({"visa": {**VISA_EXTENSION.inputs["visa"], "stay_days": -5}}, "inputs.visa.stay_days"),
        ({"visa": {**VISA_EXTENSION.inputs["visa"], "stay_days": "thirty"}}, "inputs.visa.stay_days"),
        ({"entry_date": None}, "inputs.entry_date"),
        ({"entry_date": "2025-13-45"}, "inputs.entry_date"),
        ({"no_such_field": 1}, "inputs.no_such_field"),
    ],
)
async def test_bad_inputs_name_the_field_and_write_nothing(
    world: World, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(BadInput) as err:
        await world.create(inputs={**VISA_EXTENSION.inputs, **change})
    assert err.value.field == field and err.value.message
    assert field in str(err.value)
    await _nothing_written(world)


async def test_unknown_matter_and_office_are_bad_input(world: World) -> None:
    with pytest.raises(BadInput) as err:
        await world.create(MATTERS["visa_extension"].__class__("visa_renewal", {}, ()))
    assert err.value.field == "inputs.matter"
    with pytest.raises(BadInput) as err:
        await world.create(office_id=999_999)
    assert err.value.field == "office_id"
    await _nothing_written(world)


@pytest.mark.parametrize(
    ("file", "rule"),
    [
        (FileIn("passport", "passport.pdf", b""), "empty"),
        (FileIn("passport", "passport.pdf", b"MZ\x90\x00 not a pdf at all"), "sniffed"),
        (FileIn("passport", "passport.pdf", b"<html><body>%PDF-1.4</body></html>"), "sniffed"),
    ],
)
async def test_bad_files_are_refused_whole(world: World, file: FileIn, rule: str) -> None:
    """A file is judged by its content, not its name; one bad file and nothing of the command is stored."""
    with pytest.raises(BadInput) as err:
        await world.svc.create(
            world.applicant,
            key=key(),
            person_id=world.person_id,
            office_id=world.office_id,
            matter="visa_extension",
            inputs=VISA_EXTENSION.inputs,
            files=[pdf("photo"), file],
        )
    assert err.value.field == "files[passport]" and rule in err.value.message
    await _nothing_written(world)


async def test_bad_supplement_writes_nothing(world: World) -> None:
    svc = world.svc
    c = await world.submitted(files=VISA_EXTENSION.materials[:-1])
    n = await svc.issue_notice(world.officer, c["case_id"], c["version"], key=key())
    snapshot = await _snapshot(world)
    with pytest.raises(BadInput) as err:
        await svc.supplement(
            world.applicant,
            c["case_id"],
            n["version"],
            key=key(),
            files=[pdf("itinerary")],
            inputs={"requested": {"extension_days": 0}},
        )
    assert err.value.field == "inputs.requested.extension_days"
    assert await _snapshot(world) == snapshot
    assert (await world.case(c["case_id"])).inputs == VISA_EXTENSION.inputs


async def test_a_key_never_replays_another_command_case_or_account(world: World) -> None:
    """A key already used is refused for any other command, case or account — never someone else's result."""
    svc = world.svc
    a, b = await world.submitted(), await world.submitted()
    k = key()
    first = await svc.accept(world.officer, a["case_id"], a["version"], key=k)
    snapshot = await _snapshot(world)
    attempts = (
        svc.accept(world.officer, b["case_id"], b["version"], key=k),  # another case
        svc.accept(world.officer2, a["case_id"], a["version"], key=k),  # another officer
        svc.approve(world.officer, a["case_id"], first["version"], key=k),  # another command
        svc.withdraw(
            world.applicant, a["case_id"], first["version"], key=k
        ),  # the applicant, another command
    )
    for attempt in attempts:
        with pytest.raises(BadInput) as err:
            await attempt
        assert err.value.field == "idempotency_key"
    assert await _snapshot(world) == snapshot
    again = await svc.accept(world.officer, a["case_id"], a["version"], key=k)
    assert again == {**first, "replayed": True}


async def test_a_reused_key_with_another_request_is_refused_not_replayed(world: World) -> None:
    """draft-ietf-httpapi-idempotency-key-header §2.7: the key is stored with a fingerprint of the request; the
    same key with a different request is refused (422 naming the key), never answered with the first result."""
    svc = world.svc
    k = key()
    first = await svc.create(
        world.applicant,
        key=k,
        person_id=world.person_id,
        office_id=world.office_id,
        matter="visa_extension",
        inputs=VISA_EXTENSION.inputs,
        files=[pdf("passport")],
    )
    with pytest.raises(BadInput) as err:  # same key, another file
        await svc.create(
            world.applicant,
            key=k,
            person_id=world.person_id,
            office_id=world.office_id,
            matter="visa_extension",
            inputs=VISA_EXTENSION.inputs,
            files=[pdf("itinerary")],
        )
    assert err.value.field == "idempotency_key" and "Idempotency-Key" in err.value.message
    assert await world.count(Case) == 1 and await world.count(CaseFile) == 1
    await svc.submit(world.applicant, first["case_id"], first["version"], key=(k2 := key()))
    with pytest.raises(BadInput):  # same key, another version named
        await svc.submit(world.applicant, first["case_id"], first["version"] + 5, key=k2)
    sub = await world.submitted()
    c = await svc.accept(world.officer, sub["case_id"], sub["version"], key=(k3 := key()), passport_kept=True)
    with pytest.raises(BadInput):  # same key, another value of a field
        await svc.accept(world.officer, sub["case_id"], sub["version"], key=k3, passport_kept=False)
    again = await svc.accept(world.officer, sub["case_id"], sub["version"], key=k3, passport_kept=True)
    assert again == {**c, "replayed": True}
