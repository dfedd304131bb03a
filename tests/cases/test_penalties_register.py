"""Penalty decisions for illegal residence (issue 12), both engines: recorded by an officer of the person's office
after the person was heard, checked against Law Art 78 and 70, one per spell (Administrative Penalty Law Art 29),
audited; nobody else may record or read them; the platform itself imposes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from case_helpers import World
from test_overstay_sweep import ON, overstayer, registered

from cnvisa.cases.clock import SHANGHAI
from cnvisa.cases.errors import BadInput, Conflict, Forbidden
from cnvisa.cases.penalties import PenaltyRegister

HEARD = ON - dt.timedelta(days=1)


@pytest.fixture
async def person(world: World) -> int:
    pid = await overstayer(world, "SHANGHAI")
    await registered(world, pid, "310115")
    world.clock.set(dt.datetime.combine(ON, dt.time(16, 1), tzinfo=SHANGHAI))
    return pid


async def test_a_warning_recorded_after_the_hearing_once_and_audited(world: World, person: int) -> None:
    reg = PenaltyRegister(world.sessions, world.clock)
    facts = {
        "subject": "person",
        "warning": True,
        "authority": "exit_entry",
        "heard_on": HEARD,
        "statement": "I lost my passport",
    }
    d = await reg.decide(world.officer, person, facts)
    assert d["warning"] and d["fine_cny"] == 0 and d["days_overstayed"] == 10 and d["max_fine_cny"] == 5000
    assert (
        d["decided_on"] == ON.isoformat()
        and d["payment_due"] is None
        and d["imposed_by_the_platform"] is False
    )
    assert "Exit and Entry Administration Law Art 78 para 1" in [c["cite"] for c in d["citations"]]
    again = await reg.decide(world.officer2, person, facts)  # sent again: answered as it stands
    assert again["id"] == d["id"]
    with pytest.raises(Conflict):  # another decision for the same spell (Administrative Penalty Law Art 29)
        await reg.decide(
            world.officer,
            person,
            {**facts, "warning": False, "serious": True, "serious_reason": "x", "fine_cny": 1000},
        )
    assert [p["id"] for p in await reg.of_person(world.officer, person)] == [d["id"]]
    actions = await world.actions()
    assert actions.count("penalty_decided") == 1 and "read_penalties" in actions
    assert (await world.verify()).ok


async def test_the_law_and_the_office_bound_what_may_be_recorded(world: World, person: int) -> None:
    reg = PenaltyRegister(world.sessions, world.clock)
    base = {"subject": "person", "authority": "exit_entry", "heard_on": HEARD}
    fine = {**base, "serious": True, "serious_reason": "worked without a permit"}
    for facts, field in [
        ({**base, "warning": True, "heard_on": ON + dt.timedelta(days=1)}, "heard_on"),
        ({**fine, "fine_cny": 5001}, "fine_cny"),  # 10 days: at most 5,000
        ({**fine, "detention_days": 10}, "authority"),  # Law Art 70: the public security organ's
        ({**base, "fine_cny": 500}, "serious"),
    ]:
        with pytest.raises(BadInput) as e:
            await reg.decide(world.officer, person, facts)
        assert e.value.field == field
    d = await reg.decide(
        world.supervisor,
        person,
        {
            **fine,
            "detention_days": 10,
            "authority": "public_security",
            "decision_number": "沪公(出)决字〔2026〕7号",
        },
    )
    assert d["detention_days"] == 10 and d["fine_cny"] == 0 and d["authority"] == "public_security"


async def test_only_staff_of_the_persons_office_and_only_while_in_illegal_residence(
    world: World, person: int
) -> None:
    reg = PenaltyRegister(world.sessions, world.clock)
    facts = {"subject": "person", "warning": True, "authority": "exit_entry", "heard_on": HEARD}
    with pytest.raises(Forbidden):
        await reg.decide(world.foreign_officer, person, facts)  # Beijing: not its area
    with pytest.raises(Forbidden):
        await reg.decide(world.applicant, person, facts)
    with pytest.raises(Forbidden):
        await reg.of_person(world.foreign_officer, person)
    lawful = await overstayer(world, "LAWFUL", days_ago=5)
    await registered(world, lawful, "310115")
    with pytest.raises(BadInput) as e:
        await reg.decide(world.officer, lawful, facts)
    assert e.value.field == "person_id"
