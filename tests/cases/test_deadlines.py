"""Time travel with ManualClock: the receipt as proof of lawful stay (Art 13 para 3, Art 25), working days
left, the overdue list, the officer queue, and deadlines recomputed when holiday data changes."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest
from case_helpers import MATTERS, ON, VISA_EXTENSION, Existing, World, at, key

from cnvisa.cases.clock import SHANGHAI
from cnvisa.cases.errors import Conflict, InvalidCommand
from cnvisa.law import calendar as workdays
from cnvisa.law.acceptance import receipt_valid_until
from cnvisa.store.tables import AuditEvent, CalendarState

# A visa extension accepted on the given Friday: the L visa's 30-day stay from an entry on the 6th of
# September ends on 6 October, so only the receipt keeps the stay lawful after it.
RECEIPT_CASES = [
    pytest.param(dt.date(2025, 9, 26), dt.date(2025, 10, 13), id="2025-09-26"),  # 28 Sep and 11 Oct worked
    pytest.param(dt.date(2024, 9, 27), dt.date(2024, 10, 12), id="2024-09-27"),  # 29 Sep and 12 Oct worked
]


def _extension_entered(entered: dt.date) -> tuple[Existing, dict[str, object]]:
    number = f"V{entered:%y}900000{entered.year % 100:03d}"
    existing = Existing("visa", number, "L", entered + dt.timedelta(days=150), "single", 30, entered)
    inputs = {
        **VISA_EXTENSION.inputs,
        "entry_date": entered.isoformat(),
        "visa": {
            "category": "L",
            "entries": "single",
            "valid_until": existing.valid_until.isoformat(),
            "stay_days": 30,
        },
        "holding_number": number,
    }
    return existing, inputs


@pytest.mark.parametrize(("accepted_on", "valid_through"), RECEIPT_CASES)
async def test_receipt_is_proof_of_lawful_stay_through_its_last_working_day(
    world: World, accepted_on: dt.date, valid_through: dt.date
) -> None:
    existing, inputs = _extension_entered(accepted_on.replace(day=6))
    await world.add_existing(existing)
    world.clock.set(at(accepted_on))
    c = await world.accepted(inputs=inputs)
    assert c["receipt_valid_until"] == valid_through.isoformat()
    stored = await world.case(c["case_id"])
    assert stored.deadline == valid_through and stored.accepted_on == accepted_on

    stay_end = existing.entry_on + dt.timedelta(days=30)  # type: ignore[operator]
    svc = world.svc
    on_visa = await svc.person_status(world.person_id, stay_end)
    assert on_visa.lawful and on_visa.basis is not None  # on the visa or the receipt: both still run

    last = await svc.person_status(world.person_id, valid_through)
    assert last.lawful and valid_through > stay_end
    assert last.basis is not None and last.basis.kind == "acceptance_receipt"
    assert last.basis.number == c["receipt_number"] and last.until == valid_through

    after = await svc.person_status(world.person_id, valid_through + dt.timedelta(days=1))
    assert not after.lawful and after.ground in ("reg25_1", "reg25_4")
    assert after.overstay_days == 1

    # the clock's own date is the default
    world.clock.set(at(valid_through + dt.timedelta(days=1)))
    assert not (await svc.person_status(world.person_id)).lawful


async def test_receipt_ends_with_the_decision(world: World) -> None:
    """Once the document is issued and collected the receipt no longer counts; the new visa stay does."""
    existing, inputs = _extension_entered(dt.date(2025, 9, 6))
    await world.add_existing(existing)
    world.clock.set(at(dt.date(2025, 9, 26)))
    c = await world.accepted(inputs=inputs)
    svc = world.svc
    c = await svc.approve(world.officer, c["case_id"], c["version"], key=key())
    st = await svc.person_status(world.person_id, dt.date(2025, 10, 13))
    assert st.basis is not None and st.basis.kind == "acceptance_receipt"  # approved, not yet issued
    c = await svc.issue(world.officer, c["case_id"], c["version"], key=key())
    st = await svc.person_status(world.person_id, dt.date(2025, 10, 13))
    assert st.lawful and st.basis is not None and st.basis.kind == "visa"
    assert st.until == dt.date(2025, 11, 5)  # 6 Sep + 30 + 30 days


async def test_working_days_left_and_overdue(world: World) -> None:
    svc = world.svc
    c = await world.accepted()
    deadline = dt.date.fromisoformat(c["receipt_valid_until"])
    assert deadline == workdays.add_working_days(ON, 7) == dt.date(2025, 11, 12)
    r = await svc.read(world.officer, c["case_id"])
    assert r["deadline"] == deadline.isoformat() and r["working_days_left"] == 7
    assert await svc.overdue(world.office_id) == []

    world.clock.set(at(deadline))
    assert (await svc.read(world.officer, c["case_id"]))["working_days_left"] == 0
    assert await svc.overdue() == []

    world.clock.set(at(deadline + dt.timedelta(days=1)))
    assert (await svc.read(world.officer, c["case_id"]))["working_days_left"] == -1
    late = await svc.overdue(world.office_id)
    assert [x["case_id"] for x in late] == [c["case_id"]] and late[0]["deadline"] == deadline.isoformat()
    assert await svc.overdue(world.other_office_id) == []

    # deciding the case takes it off the overdue list; the deadline no longer runs
    c = await svc.approve(world.officer, c["case_id"], c["version"], key=key())
    assert await svc.overdue() == []
    assert (await svc.read(world.officer, c["case_id"]))["working_days_left"] is None


async def test_queue_orders_by_deadline(world: World) -> None:
    svc = world.svc
    rp = MATTERS["residence_permit"]
    residence = await world.accepted(rp)  # 15 working days
    world.clock.advance(days=1)
    visa = await world.accepted()  # 7 working days from the next day: earlier
    waiting = await world.submitted()  # no deadline yet
    await world.create()  # drafts are not in the queue
    q = await svc.queue(world.office_id)
    assert [x["case_id"] for x in q] == [visa["case_id"], residence["case_id"], waiting["case_id"]]
    assert q[0]["deadline"] < q[1]["deadline"] and q[2]["deadline"] is None
    assert await svc.queue(world.other_office_id) == []


async def test_recompute_deadlines_after_holiday_data_changes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = world.svc
    c = await world.accepted()
    old_deadline = dt.date.fromisoformat(c["receipt_valid_until"])
    decided = await world.accepted()
    await svc.approve(world.officer, decided["case_id"], decided["version"], key=key())

    assert await svc.recompute_deadlines() == []  # same calendar: nothing changes, nothing audited
    assert "recompute_deadline" not in await world.actions()
    assert await world.count(CalendarState) == 1

    # A new notice turns the day after acceptance into a holiday: every receipt ends one working day later.
    real_add = workdays.add_working_days
    monkeypatch.setattr(workdays, "calendar_version", lambda: "test-holidays-changed")
    monkeypatch.setattr(workdays, "add_working_days", lambda start, n: real_add(start, n + 1))
    new_deadline = receipt_valid_until("visa_extension", ON)
    assert new_deadline is not None and new_deadline > old_deadline

    before = await world.audit_count()
    changes = await svc.recompute_deadlines()
    assert changes == [
        {
            "case": c["number"],
            "from": old_deadline.isoformat(),
            "to": new_deadline.isoformat(),
            "calendar_version": "test-holidays-changed",
        }
    ]
    stored = await world.case(c["case_id"])
    assert stored.deadline == stored.receipt_valid_until == new_deadline
    assert stored.calendar_version == "test-holidays-changed"
    assert stored.version == c["version"] + 1  # a change of the case, visible to concurrent writers
    assert (await world.case(decided["case_id"])).receipt_valid_until == old_deadline  # decided: untouched
    assert await world.audit_count() == before + 1
    async with world.sessions() as s:
        ev = (
            await s.execute(AuditEvent.__table__.select().where(AuditEvent.action == "recompute_deadline"))
        ).one()
    assert ev.case_id == c["case_id"] and ev.role == "system"
    assert ev.detail["from"] == old_deadline.isoformat() and ev.detail["to"] == new_deadline.isoformat()
    assert (await world.verify()).ok

    # the same calendar again: nothing to do
    assert await svc.recompute_deadlines() == []
    assert await world.audit_count() == before + 1


async def test_reevaluate_is_explicit_and_audited(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = world.svc
    c = await world.accepted()
    fixed = await world.case(c["case_id"])
    monkeypatch.setattr(workdays, "calendar_version", lambda: "test-newer-calendar")
    # nothing changes by itself
    assert (await world.case(c["case_id"])).calendar_version == fixed.calendar_version
    r = await svc.reevaluate(world.supervisor, c["case_id"], c["version"], key=key())
    stored = await world.case(c["case_id"])
    assert stored.calendar_version == "test-newer-calendar" and r["version"] == c["version"] + 1
    async with world.sessions() as s:
        ev = (await s.execute(AuditEvent.__table__.select().where(AuditEvent.action == "reevaluate"))).one()
    assert ev.detail["before"]["calendar_version"] == fixed.calendar_version
    assert ev.detail["after"]["calendar_version"] == "test-newer-calendar"


async def test_a_decided_case_is_not_reevaluated(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The record of a decided case keeps the law and calendar it was decided under."""
    svc = world.svc
    c = await world.accepted()
    c = await svc.approve(world.officer2, c["case_id"], c["version"], key=key())
    monkeypatch.setattr(workdays, "calendar_version", lambda: "test-newer-calendar")
    before = await world.case(c["case_id"])
    with pytest.raises(InvalidCommand):
        await svc.reevaluate(world.supervisor, c["case_id"], c["version"], key=key())
    after = await world.case(c["case_id"])
    assert (after.calendar_version, after.version) == (before.calendar_version, before.version)
    w = await world.submitted()
    w = await svc.withdraw(world.applicant, w["case_id"], w["version"], key=key())
    with pytest.raises(InvalidCommand):
        await svc.reevaluate(world.supervisor, w["case_id"], w["version"], key=key())


async def test_a_case_accepted_on_a_rest_day_counts_from_the_next_working_day(world: World) -> None:
    """Civil Code Art 201 as the law engine applies it: acceptance on Saturday 1 November 2025."""
    world.clock.set(at(dt.date(2025, 11, 1)))
    c = await world.accepted(dataclasses.replace(VISA_EXTENSION))
    assert c["receipt_valid_until"] == workdays.add_working_days(dt.date(2025, 11, 1), 7).isoformat()


@pytest.mark.parametrize(("matter", "stay_days"), [("visa_replacement", 90), ("visa_reissue", 120)])
async def test_a_visa_issued_in_china_carries_the_stay_of_the_entry(
    world: World, matter: str, stay_days: int
) -> None:
    """After a replacement or reissue the old visa is void; the new one counts the stay from the same entry."""
    mc = MATTERS[matter]
    assert mc.existing is not None and mc.existing.entry_on is not None
    await world.add_existing(mc.existing)
    svc = world.svc
    c = await world.accepted(mc)
    c = await svc.approve(world.officer, c["case_id"], c["version"], key=key())
    c = await svc.issue(world.officer, c["case_id"], c["version"], key=key())
    new = await world.holding(c["issued_holding_id"])
    st = await svc.person_status(world.person_id, ON)
    assert st.lawful and st.basis is not None and (st.basis.kind, st.basis.number) == ("visa", new.number)
    assert st.until == mc.existing.entry_on + dt.timedelta(days=stay_days)
    assert any("void" in n for n in st.notes)


async def test_recompute_deadlines_alongside_commands(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep and officers' commands at the same moment: no deadlock, no lost change, one chain."""
    svc = world.svc
    cases = [await world.accepted() for _ in range(6)]
    real_add = workdays.add_working_days
    monkeypatch.setattr(workdays, "calendar_version", lambda: "test-holidays-changed")
    monkeypatch.setattr(workdays, "add_working_days", lambda start, n: real_add(start, n + 1))
    new_deadline = receipt_valid_until("visa_extension", ON)
    results = await asyncio.gather(
        svc.recompute_deadlines(),
        *(
            svc.request_verification(world.officer, c["case_id"], c["version"], key=key(), method="telephone")
            for c in cases[3:]
        ),
        return_exceptions=True,
    )
    changes, *commands = results
    assert isinstance(changes, list), changes
    assert all(isinstance(r, dict | Conflict) for r in commands), commands
    assert sorted(ch["case"] for ch in changes) == sorted(c["number"] for c in cases)
    for c in cases:
        assert (await world.case(c["case_id"])).deadline == new_deadline
    assert (await world.actions()).count("recompute_deadline") == len(cases)
    assert (await world.verify()).ok


@pytest.mark.parametrize("passport_kept", [True, False])
async def test_receipt_number_issue_time_validity_and_passport(world: World, passport_kept: bool) -> None:
    """Art 13 para 1, Art 18 para 1: the receipt states its number, when it was issued, its last valid day and
    whether the office kept the passport — stored with the case and shown to its readers."""
    world.clock.set(dt.datetime(2025, 11, 3, 10, 17, 5, tzinfo=SHANGHAI))
    c = await world.submitted()
    c = await world.svc.accept(
        world.officer, c["case_id"], c["version"], key=key(), passport_kept=passport_kept
    )
    expected = {
        "number": f"RSH01251103{c['case_id']:08d}",
        "issued_at": "2025-11-03T10:17:05+08:00",
        "valid_until": workdays.add_working_days(ON, 7).isoformat(),
        "passport_kept": passport_kept,
    }
    assert c["receipt"] == expected
    world.clock.advance(days=2)  # the receipt keeps the time it was issued, not the time it is read
    assert (await world.svc.read(world.applicant, c["case_id"]))["receipt"] == expected
    stored = await world.case(c["case_id"])
    assert stored.passport_kept is passport_kept and stored.receipt_issued_at is not None
