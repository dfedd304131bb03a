"""The obligations register (issue 12): the daily sweep opens each duty a record starts (Law Art 29, 30, 32), marks
it met by the application that meets it, late when its day passes, waived when it no longer binds — idempotent,
audited — travelling with the clock across the hours where Beijing's date and UTC's differ. Both engines."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from case_helpers import MATTERS, VISA_EXTENSION, World, at, key
from sqlalchemy import select, update

from cnvisa.cases.errors import BadInput, Forbidden
from cnvisa.cases.obligations import ObligationRegister
from cnvisa.law import obligations as rules
from cnvisa.store.obligation_tables import Obligation
from cnvisa.store.tables import AuditEvent, Holding, Movement

ENTERED = dt.date(2025, 10, 20)  # VISA_EXTENSION's L visa: 30 days' stay, to 19 November
APPLY_BY = dt.date(2025, 11, 12)  # Law Art 29 para 1: seven days before the stay ends


def _at(day: dt.date, hh: int, mm: int) -> dt.datetime:
    return at(day).replace(hour=hh, minute=mm)


def register(world: World) -> ObligationRegister:
    return ObligationRegister(world.sessions, world.clock)


async def _mine(world: World, kind: str) -> list[Obligation]:
    async with world.sessions() as s:
        rows = await s.execute(
            select(Obligation).where(Obligation.person_id == world.person_id, Obligation.kind == kind)
        )
        return list(rows.scalars())


async def test_a_visa_stay_duty_opens_once_and_is_met_by_the_extension_application(world: World) -> None:
    assert VISA_EXTENSION.existing is not None
    await world.add_existing(VISA_EXTENSION.existing)
    reg = register(world)
    first = await reg.sweep()
    [ob] = await _mine(world, "visa_stay_extension")
    assert ob.id in first["opened"] and ob.state == "open" and ob.due_by == APPLY_BY
    assert ob.due_by == rules.due("visa_stay_extension", dt.date(2025, 11, 19)).by
    assert "Exit and Entry Administration Law Art 29 para 1" in [c["cite"] for c in ob.citations]
    assert await reg.sweep() == {"opened": [], "met": [], "late": [], "waived": []}  # the same day again

    # a draft meets nothing; the submitted application does
    c = await world.create()
    assert (await reg.sweep())["met"] == []
    await world.svc.submit(world.applicant, c["case_id"], c["version"], key=key())
    swept = await reg.sweep()
    assert swept["met"] == [ob.id]
    [ob] = await _mine(world, "visa_stay_extension")
    assert ob.state == "met" and ob.met_by_case_id == c["case_id"]
    view = await reg.of_person(world.person_id)
    assert [o["state"] for o in view if o["kind"] == "visa_stay_extension"] == ["met"]
    async with world.sessions() as s:
        events = (
            (await s.execute(select(AuditEvent.detail).where(AuditEvent.action == "obligations_swept")))
            .scalars()
            .all()
        )
    assert any(ob.id in e["opened"] for e in events) and any(ob.id in e["met"] for e in events)


@pytest.mark.parametrize(("hh", "mm", "late"), [(23, 59, False), (0, 30, True), (7, 59, True), (16, 1, True)])
async def test_late_from_the_day_after_the_deadline_in_beijing_time(
    world: World, hh: int, mm: int, late: bool
) -> None:
    assert VISA_EXTENSION.existing is not None
    await world.add_existing(VISA_EXTENSION.existing)
    reg = register(world)
    await reg.sweep()
    day = APPLY_BY if not late else APPLY_BY + dt.timedelta(days=1)
    world.clock.set(_at(day, hh, mm))
    await reg.sweep()
    [ob] = await _mine(world, "visa_stay_extension")
    assert ob.state == ("late" if late else "open")
    if late:  # applied after the deadline: still late, with the case that came
        await world.submitted()
        await reg.sweep()
        [ob] = await _mine(world, "visa_stay_extension")
        assert ob.state == "late" and ob.met_by_case_id is not None


async def test_leaving_china_waives_the_stay_duty(world: World) -> None:
    assert VISA_EXTENSION.existing is not None
    await world.add_existing(VISA_EXTENSION.existing)
    reg = register(world)
    await reg.sweep()
    async with world.sessions() as s, s.begin():
        s.add(
            Movement(
                person_id=world.person_id, direction="exit", on=ENTERED + dt.timedelta(days=9), port="PVG"
            )
        )
    swept = await reg.sweep()
    [ob] = await _mine(world, "visa_stay_extension")
    assert swept["waived"] == [ob.id] and ob.state == "waived" and "exit" in (ob.reason or "")


async def test_a_residence_permit_duty_art_32_ends_with_the_permit(world: World) -> None:
    rp = MATTERS["residence_permit_extension"]
    assert rp.existing is not None
    holding = await world.add_existing(rp.existing)
    reg = register(world)
    await reg.sweep()
    [ob] = [o for o in await _mine(world, "residence_permit_extension") if o.basis_id == holding]
    assert ob.due_by == dt.date(2026, 5, 31)  # 30 days before 30 June 2026 (Law Art 32 para 1)
    async with world.sessions() as s, s.begin():
        await s.execute(update(Holding).where(Holding.id == holding).values(status="cancelled"))
    assert ob.id in (await reg.sweep())["waived"]


async def test_a_residence_permit_after_entry_art_30_is_met_by_the_application(world: World) -> None:
    rp = MATTERS["residence_permit"]
    z = dataclasses.replace(
        VISA_EXTENSION.existing,  # type: ignore[type-var]
        number="V25900000099",
        category="Z",
        entry_on=dt.date(2025, 10, 20),
    )
    await world.add_existing(z)
    reg = register(world)
    await reg.sweep()
    [ob] = await _mine(world, "residence_permit_after_entry")
    assert (
        ob.due_by
        == rules.due("residence_permit_after_entry", dt.date(2025, 10, 20)).by
        == dt.date(2025, 11, 19)
    )
    assert await _mine(world, "visa_stay_extension") == []  # a Z visa is not extended: Art 30 applies
    await world.submitted(rp)
    await reg.sweep()
    [ob] = await _mine(world, "residence_permit_after_entry")
    assert ob.state == "met"


async def test_an_officer_waives_with_a_reason_and_is_audited(world: World) -> None:
    assert VISA_EXTENSION.existing is not None
    await world.add_existing(VISA_EXTENSION.existing)
    reg = register(world)
    await reg.sweep()
    [ob] = await _mine(world, "visa_stay_extension")
    with pytest.raises(Forbidden):  # the person has no case at the officer's office yet
        await reg.waive(world.officer, ob.id, "left by land at Erlian; exit record pending")
    await world.create()  # a draft at the officer's office: the office knows the person
    with pytest.raises(Forbidden):
        await reg.waive(world.foreign_officer, ob.id, "left by land at Erlian; exit record pending")
    with pytest.raises(Forbidden):
        await reg.waive(world.applicant, ob.id, "left by land")
    with pytest.raises(BadInput):
        await reg.waive(world.officer, ob.id, " ")
    out = await reg.waive(world.officer, ob.id, "left by land at Erlian; exit record pending")
    assert out["state"] == "waived" and out["reason"].startswith("left by land")
    again = await reg.waive(world.officer2, ob.id, "left by land at Erlian;  exit record pending")
    assert again == out  # sent again: answered as it stands, nothing written
    with pytest.raises(BadInput):
        await reg.waive(world.officer, ob.id, "another reason")
    assert (await world.actions()).count("obligation_waived") == 1


async def test_art_30_is_met_by_a_permit_issued_after_the_entry_by_another_procedure(world: World) -> None:
    z = dataclasses.replace(
        VISA_EXTENSION.existing,  # type: ignore[type-var]
        number="V25900000098",
        category="Z",
        entry_on=dt.date(2025, 10, 20),
    )
    await world.add_existing(z)
    reg = register(world)
    await reg.sweep()
    [ob] = await _mine(world, "residence_permit_after_entry")
    assert ob.state == "open"
    permit = dataclasses.replace(
        MATTERS["residence_permit_extension"].existing,  # type: ignore[type-var]
        number="J25900000098",
        entry_on=None,
    )
    holding = await world.add_existing(permit)
    async with world.sessions() as s, s.begin():  # issued on 28 October, after the entry
        await s.execute(update(Holding).where(Holding.id == holding).values(valid_from=dt.date(2025, 10, 28)))
    assert ob.id in (await reg.sweep())["met"]
    [ob] = await _mine(world, "residence_permit_after_entry")
    assert ob.state == "met" and ob.met_by_case_id is None
