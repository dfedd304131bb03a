"""The head of an audit chain is the last lock a command takes (``cnvisa.cases.audit.append``), here for a post
change (its Art 26 report's event) and the deadlines' recomputation (after the calendar row). PostgreSQL only:
a holder transaction locks a row the command writes late; once the command waits for it the holder takes every
chain's head and commits. Had the command taken a head before that row, the two would deadlock and PostgreSQL
would fail one of them (``DeadlockDetectedError``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from typing import Any

import pytest
from case_helpers import World
from lock_helpers import hold_then_take_every_head, postgresql_only
from post_change_helpers import _args, _seed
from sqlalchemy import select

from cnvisa.cases.post_change import PostChanges
from cnvisa.law import calendar as workdays
from cnvisa.store.joint_tables import WorkPermit
from cnvisa.store.tables import AuditEvent, CalendarState

pytestmark = pytest.mark.timeout(60)


async def _work_permit(world: World, org_id: int) -> int:
    async with world.sessions() as s, s.begin():
        p = WorkPermit(
            number="310000202400001",
            person_id=world.person_id,
            category="B",
            employer_organisation_id=org_id,
            position="Researcher",
            work_region="310115",
            valid_from=dt.date(2024, 6, 1),
            valid_until=dt.date(2026, 12, 31),
            status="active",
            created_at=world.clock.now(),
        )
        s.add(p)
        await s.flush()
        return p.id


async def test_a_post_change_takes_its_audit_head_after_the_work_permit(world: World) -> None:
    """A cross-region post change files the employer's Art 26 report, then changes the holder's work permit
    and opens the Law Art 33 duty (its foreign key share-locks the person). The report's audit event used to be
    written at once (``org_reports.add_report``): the command held a chain head while it waited for the work
    permit's row."""
    postgresql_only(world.sessions)
    seed = await _seed(world)
    permit_id = await _work_permit(world, seed["org"])
    svc = PostChanges(world.sessions, world.clock)

    def file() -> Awaitable[dict[str, Any]]:
        return svc.file(seed["hr"], **_args(seed, world, printed_changes=["other_printed"]))

    out = await hold_then_take_every_head(
        world.sessions, "SELECT id FROM work_permits WHERE id = :p FOR UPDATE", {"p": permit_id}, file
    )
    assert out["state"] == "acknowledged" and out["org_report_id"] and out["work_permit_change"]
    async with world.sessions() as s:
        actions = list(
            (
                await s.execute(
                    select(AuditEvent.action).where(AuditEvent.case_id.is_(None)).order_by(AuditEvent.seq)
                )
            ).scalars()
        )
    assert actions[-5:] == [
        "post_change_filed",
        "org_report",
        "work_permit_changed",
        "obligation_opened",
        "post_change_acknowledged",
    ]
    assert (await world.verify()).ok


async def test_recomputed_deadlines_take_their_audit_heads_after_the_calendar_row(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep recorded each changed case's event at once (a head per case, in case order) and wrote the
    calendar's row after them: it held heads while it waited for that row."""
    postgresql_only(world.sessions)
    svc = world.svc
    cases = [await world.accepted() for _ in range(3)]
    assert await svc.recompute_deadlines() == []  # the calendar's row written (the same calendar)
    assert await world.count(CalendarState) == 1
    real_add = workdays.add_working_days
    monkeypatch.setattr(workdays, "calendar_version", lambda: "test-holidays-changed")
    monkeypatch.setattr(workdays, "add_working_days", lambda start, n: real_add(start, n + 1))

    changes = await hold_then_take_every_head(
        world.sessions, "SELECT id FROM calendar_state WHERE id = 1 FOR UPDATE", {}, svc.recompute_deadlines
    )
    assert sorted(ch["case"] for ch in changes) == sorted(c["number"] for c in cases)
    async with world.sessions() as s:
        recorded = (
            await s.execute(select(AuditEvent.case_id).where(AuditEvent.action == "recompute_deadline"))
        ).scalars()
        assert sorted(recorded) == sorted(c["case_id"] for c in cases)
        state = await s.get(CalendarState, 1)
        assert state is not None and state.version == "test-holidays-changed"
    assert (await world.verify()).ok
