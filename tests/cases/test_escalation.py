"""Escalation (issue 12): the supervisor's list of cases near their statutory deadline (an office rule: N working
days or fewer left) and past it, per office, travelling with the clock across the hours where Beijing's date and
UTC's differ. Runs on both engines (the ``world`` fixture)."""

from __future__ import annotations

import datetime as dt

import pytest
from case_helpers import ON, World, at, key
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from cnvisa.cases.errors import Forbidden
from cnvisa.cases.queries.escalation import near_cutoff
from cnvisa.law import calendar as workdays
from cnvisa.store.tables import AuditEvent

DEADLINE = dt.date(2025, 11, 12)  # a visa extension accepted on Monday 3 November: 7 working days


def _at(day: dt.date, hh: int, mm: int) -> dt.datetime:
    return at(day).replace(hour=hh, minute=mm)


def _ids(view: dict[str, object], name: str) -> list[int]:
    part = view[name]
    assert isinstance(part, dict)
    return [i["case_id"] for i in part["items"]]


async def test_a_case_becomes_near_then_overdue_then_clears(world: World) -> None:
    svc = world.svc
    c = await world.accepted()
    assert c["receipt_valid_until"] == DEADLINE.isoformat() == workdays.add_working_days(ON, 7).isoformat()
    sup = world.supervisor

    # Sunday 9 November 23:59 Beijing (15:59 UTC): 3 working days left (10, 11, 12) — not near with N = 2
    world.clock.set(_at(dt.date(2025, 11, 9), 23, 59))
    v = await svc.escalations(world.office_id, 2, actor=sup)
    assert v["today"] == "2025-11-09" and _ids(v, "near") == [] and _ids(v, "overdue") == []
    assert v["near"]["count"] == 0 and v["rule"] == "office rule"
    # ... but near with N = 3
    assert _ids(await svc.escalations(world.office_id, 3, actor=sup), "near") == [c["case_id"]]

    # Monday 10 November 00:30 Beijing (still the 9th in UTC): 2 working days left — near
    world.clock.set(_at(dt.date(2025, 11, 10), 0, 30))
    v = await svc.escalations(world.office_id, 2, actor=sup)
    assert v["today"] == "2025-11-10" and _ids(v, "near") == [c["case_id"]]
    assert v["near"]["items"][0]["working_days_left"] == 2 and v["near"]["count"] == 1
    assert v["near_until"] == "2025-11-12" and not v["near"]["more"]

    # the deadline day at 23:59: still near (0 left), not overdue
    world.clock.set(_at(DEADLINE, 23, 59))
    v = await svc.escalations(world.office_id, 2, actor=sup)
    assert _ids(v, "near") == [c["case_id"]] and _ids(v, "overdue") == []
    assert v["near"]["items"][0]["working_days_left"] == 0
    # with N = 0 only the deadline day itself is near
    assert _ids(await svc.escalations(world.office_id, 0, actor=sup), "near") == [c["case_id"]]

    # the next day at 00:30, 07:59 (both still the 12th in UTC) and 16:01 Beijing: overdue
    for hh, mm in ((0, 30), (7, 59), (16, 1)):
        world.clock.set(_at(DEADLINE + dt.timedelta(days=1), hh, mm))
        v = await svc.escalations(world.office_id, 2, actor=sup)
        assert _ids(v, "overdue") == [c["case_id"]] and _ids(v, "near") == [], (hh, mm)
        assert v["overdue"]["items"][0]["working_days_left"] == -1

    # another office sees nothing of it; the counts per office say the same
    counts = {o["office"]: o for o in await svc.escalation_counts(2)}
    assert [o["overdue"] for o in counts.values()].count(1) == 1 and sum(
        o["near"] for o in counts.values()
    ) == 0

    # decided: the deadline no longer runs, the escalation clears
    await svc.approve(world.officer, c["case_id"], c["version"], key=key())
    v = await svc.escalations(world.office_id, 2, actor=sup)
    assert _ids(v, "overdue") == [] and _ids(v, "near") == []
    assert all(o["overdue"] == 0 for o in await svc.escalation_counts(2))


async def test_lists_are_paged_and_counted(world: World) -> None:
    svc = world.svc
    made = [await world.accepted() for _ in range(3)]
    world.clock.set(at(DEADLINE + dt.timedelta(days=1)))
    v = await svc.escalations(world.office_id, 2, actor=world.supervisor, limit=2)
    assert v["overdue"]["count"] == 3 and v["overdue"]["more"]
    assert _ids(v, "overdue") == sorted(c["case_id"] for c in made)[:2]


async def test_the_read_is_audited_and_another_office_is_refused(world: World) -> None:
    svc = world.svc
    await svc.escalations(world.office_id, 2, actor=world.supervisor)
    async with world.sessions() as s:
        actions = (await s.execute(select(AuditEvent.action))).scalars().all()
    assert "read_escalations" in actions
    with pytest.raises(Forbidden):
        await svc.escalations(world.other_office_id, 2, actor=world.supervisor)


async def test_near_is_unknown_where_the_holiday_notice_is_not_loaded(world: World) -> None:
    world.clock.set(at(dt.date(2040, 3, 1)))
    v = await world.svc.escalations(world.office_id, 2, actor=world.supervisor)
    assert v["near_known"] is False and v["near"] is None and v["overdue"]["count"] == 0
    assert all(o["near"] is None for o in await world.svc.escalation_counts(2))


LOADED = (dt.date(2024, 1, 1), dt.date(2026, 11, 30))


@given(
    today=st.dates(min_value=LOADED[0], max_value=LOADED[1]),
    n=st.integers(min_value=0, max_value=15),
)
def test_near_cutoff_is_the_last_day_with_at_most_n_working_days_left(today: dt.date, n: int) -> None:
    cutoff = near_cutoff(today, n)
    assert cutoff is not None and cutoff >= today
    assert workdays.working_days_between(today, cutoff) <= n
    assert workdays.working_days_between(today, cutoff + dt.timedelta(days=1)) == n + 1


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="near_working_days"):
        near_cutoff(ON, -1)
