"""Work permit granted and residence permit refused (partial): the employer is told to cancel the work permit — a
duty shown on the joint application's view (progress, and the desk's reading of it) and recorded with the closing
event, cited (reforms.md §1 edge cases; Law Art 41, 43; the Employment Rules as secondary), never enforced. On
SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from case_helpers import World, key
from joint_helpers import GRANT, JointWorld, joint_world
from sqlalchemy import select

from cnvisa.law import one_stop
from cnvisa.store.tables import AuditEvent


@pytest.fixture
async def jw(world: World) -> JointWorld:
    return await joint_world(world)


def test_the_duty_is_cited_and_only_after_a_partial_outcome() -> None:
    d = one_stop.EMPLOYER_CANCELS_WORK_PERMIT.as_dict()
    assert d["text"] == "employer to cancel work permit" and d["who"] == "employer" and d["enforced"] is False
    assert d["citations"] == [
        "Exit and Entry Administration Law Art 41",
        "Exit and Entry Administration Law Art 43",
    ]
    assert d["secondary"] == ["Employment Rules Art 24"]
    assert "reforms.md §1 edge cases" in d["reading"]
    assert [x.code for x in one_stop.duties("partial")] == ["employer_cancel_work_permit"]
    for outcome in ("pending", "issue_together", "not_issuable", "refused_both", "withdrawn"):
        assert one_stop.duties(outcome) == ()


async def test_partial_shows_the_employers_duty(jw: JointWorld) -> None:
    w, svc = jw.w, jw.svc
    j = await jw.accepted()
    assert j["duties"] == []
    ref, case_id = j["work_permit_branch"]["reference"], j["residence_branch"]["case_id"]
    c = await w.case(case_id)
    c2 = await w.svc.propose_refusal(w.officer, case_id, c.version, key=key(), grounds=["law31_2"])
    await w.svc.confirm_refusal(w.officer2, case_id, c2["version"], key=key())
    b = await svc.grant_work_permit_branch(
        jw.wp_officer, ref, j["work_permit_branch"]["version"], key=key(), **GRANT
    )
    assert b["joint_state"] == "partial"
    for reader in (w.applicant, w.officer, jw.wp_officer, jw.org_staff):
        p = await svc.joint_progress(reader, j["joint_id"])
        assert [d["code"] for d in p["duties"]] == ["employer_cancel_work_permit"]
        assert p["work_permit"]["status"] == "active"  # shown, not enforced: the permit stands
    async with w.sessions() as s:
        ev = (
            await s.execute(select(AuditEvent).where(AuditEvent.action == "joint_close_partial"))
        ).scalar_one()
    assert [d["code"] for d in ev.detail["duties"]] == ["employer_cancel_work_permit"]
    assert (await w.verify()).ok
