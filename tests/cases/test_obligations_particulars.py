"""Law Art 33 para 1 in the obligations register (issue 12): a post change that changed a particular printed on the
residence permit opens the holder's duty to apply for the change within 10 days, in the post change's own
transaction; a replacement application for that permit made on or after the change meets it; nothing made by the
deadline → late (Beijing date); the permit no longer valid → waived. Both engines."""

from __future__ import annotations

import datetime as dt
import uuid

from case_helpers import MATTERS, World, at
from post_change_helpers import EFFECTIVE, _args, _seed
from sqlalchemy import select, update

from cnvisa.cases.obligations import ObligationRegister
from cnvisa.cases.post_change import PostChanges
from cnvisa.law import obligations as rules
from cnvisa.store.obligation_tables import Obligation
from cnvisa.store.tables import AuditEvent, Holding

REPLACEMENT = MATTERS["residence_permit_replacement"]  # its permit J25900000005, work, to 2026-06-30
DUE = dt.date(2025, 11, 10)  # 31 October + 10 days, a Monday (Law Art 33 para 1; Civil Code Art 201)


async def _filed(world: World, **kw: object) -> tuple[int, dict[str, object]]:
    assert REPLACEMENT.existing is not None
    holding = await world.add_existing(REPLACEMENT.existing)
    seed = await _seed(world, holding_id=holding)
    out = await PostChanges(world.sessions, world.clock).file(seed["hr"], **_args(seed, world, **kw))
    return holding, out


async def _duties(world: World) -> list[Obligation]:
    async with world.sessions() as s:
        q = select(Obligation).where(Obligation.kind == "change_of_particulars")
        return list((await s.execute(q)).scalars())


async def test_a_printed_change_opens_the_duty_with_the_post_change(world: World) -> None:
    _, out = await _filed(world, printed_changes=["other_printed"])
    assert out["state"] == "acknowledged"
    [ob] = await _duties(world)
    assert (ob.state, ob.basis, ob.basis_id, ob.person_id) == (
        "open",
        "post_change",
        out["id"],
        world.person_id,
    )
    assert ob.due_by == DUE == rules.due("change_of_particulars", EFFECTIVE).by
    assert "Exit and Entry Administration Law Art 33 para 1" in [c["cite"] for c in ob.citations]
    async with world.sessions() as s:
        opened = (
            await s.execute(select(AuditEvent.detail).where(AuditEvent.action == "obligation_opened"))
        ).scalars()
        assert [d["obligation"] for d in opened] == [ob.id]
    # the sweep opens no second one (only the permit's own Art 32 duty) and leaves it open before its day
    swept = await ObligationRegister(world.sessions, world.clock).sweep()
    assert ob.id not in swept["opened"] + swept["late"] + swept["met"] + swept["waived"]
    assert [o.state for o in await _duties(world)] == ["open"]
    assert (await world.verify()).ok


async def test_no_printed_change_no_duty(world: World) -> None:
    await _filed(world)
    assert await _duties(world) == []


async def test_met_by_the_replacement_application_for_that_permit(world: World) -> None:
    await _filed(world, printed_changes=["other_printed"])
    await world.submitted(REPLACEMENT)  # made on 3 November, within the 10 days
    reg = ObligationRegister(world.sessions, world.clock)
    [ob] = await _duties(world)
    assert (await reg.sweep())["met"] == [ob.id]
    [ob] = await _duties(world)
    assert ob.state == "met" and ob.met_by_case_id is not None


async def test_late_from_the_day_after_in_beijing_time_then_met_late(world: World) -> None:
    await _filed(world, printed_changes=["other_printed"])
    reg = ObligationRegister(world.sessions, world.clock)
    world.clock.set(at(DUE).replace(hour=23, minute=59))  # still 10 November in Beijing
    assert (await reg.sweep())["late"] == []
    world.clock.set(at(DUE + dt.timedelta(days=1)).replace(hour=0, minute=30))
    [ob] = await _duties(world)
    assert (await reg.sweep())["late"] == [ob.id]
    await world.submitted(REPLACEMENT)  # made on 11 November: done after the deadline
    await reg.sweep()
    [ob] = await _duties(world)
    assert ob.state == "late" and ob.met_by_case_id is not None


async def test_ends_with_the_permit(world: World) -> None:
    holding, _ = await _filed(world, printed_changes=["passport_number"])
    async with world.sessions() as s, s.begin():
        await s.execute(update(Holding).where(Holding.id == holding).values(status="cancelled"))
    [ob] = await _duties(world)
    assert (await ObligationRegister(world.sessions, world.clock).sweep())["waived"] == [ob.id]


async def test_a_replayed_post_change_opens_no_second_duty(world: World) -> None:
    assert REPLACEMENT.existing is not None
    holding = await world.add_existing(REPLACEMENT.existing)
    seed = await _seed(world, holding_id=holding)
    args = _args(seed, world, printed_changes=["other_printed"], idempotency_key=uuid.uuid4().hex)
    svc = PostChanges(world.sessions, world.clock)
    await svc.file(seed["hr"], **args)
    await svc.file(seed["hr"], **args)
    assert len(await _duties(world)) == 1
