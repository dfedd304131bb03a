"""Work permits in the registry (issue 10 §1, §3, §5), on SQLite and PostgreSQL: the points, category and table
version recorded at the desk's grant from the facts (a category against the law's only with a recorded reason); a
post change recorded on the holder's work permit; the five-year answer bounded by the register's work permit; the
work-permit register's lookup waiving the paper (found and matching, not found, found but not matching)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from case_helpers import MATTERS, ON, World, key
from joint_helpers import GRANT, JointWorld, joint_world
from sqlalchemy import select
from test_post_change import _args, _seed

from cnvisa.cases.errors import BadInput, Forbidden, GuardFailed
from cnvisa.cases.post_change import PostChanges
from cnvisa.cases.work_permits import WorkPermitQueries, five_year_answer
from cnvisa.law import work_permit_points
from cnvisa.store.joint_tables import WorkPermit
from cnvisa.store.post_change_tables import PostChange
from cnvisa.store.register_tables import EvidenceLookup
from cnvisa.store.tables import AuditEvent, Organisation, OrgPerson

FACTS_B = {
    "birth_date": "1985-05-01",
    "education": "doctorate",
    "annual_salary_cny": 800000,
    "years_experience": 10,
    "months_in_china_per_year": 12,
    "hsk_level": 0,
    "region": "ordinary",
    "extras": [],
}
RP = MATTERS["residence_permit"]
USCC = "91310000MA1FL4XL2K"


@pytest.fixture
async def jw(world: World) -> JointWorld:
    return await joint_world(world)


async def _grant(jw: JointWorld, **kw: Any) -> dict[str, Any]:
    j = await jw.accepted()
    particulars = {k: v for k, v in GRANT.items() if k != "category"}
    return await jw.svc.grant_work_permit_branch(
        jw.wp_officer,
        j["work_permit_branch"]["reference"],
        j["work_permit_branch"]["version"],
        key=key(),
        **{**particulars, **kw},
    )


async def test_the_desk_grants_from_the_facts_and_the_points_are_recorded(jw: JointWorld) -> None:
    law = work_permit_points({"on": ON.isoformat(), **FACTS_B})
    b = await _grant(jw, facts=FACTS_B)
    p = b["work_permit"]
    assert (p["category"], p["points"], p["table_version"]) == ("B", law["points"], law["table_version"])
    assert p["category_reason"] is None
    async with jw.w.sessions() as s:
        row = (await s.execute(select(WorkPermit))).scalar_one()
        assert (row.category, row.points, row.table_version) == ("B", law["points"], "zanxing")


async def test_a_category_against_the_law_needs_a_recorded_reason(jw: JointWorld) -> None:
    before = await jw.counts()
    with pytest.raises(BadInput) as bad:
        await _grant(jw, facts=FACTS_B, category="A")
    assert bad.value.field == "payload.category_reason" and "differs from the law's B" in str(bad.value)
    with pytest.raises(BadInput) as bad:
        await _grant(jw, facts={**FACTS_B, "education": "none"})
    assert bad.value.field == "payload.facts.education"
    assert (await jw.counts())[3] == before[3]  # no work permit written
    reason = "Shanghai: encouraged post (分类标准 一(三)), shown by the employer's letter"
    b = await _grant(jw, facts=FACTS_B, category="A", category_reason=reason)
    assert b["work_permit"]["category"] == "A" and b["work_permit"]["category_reason"] == reason


async def test_without_facts_the_category_is_the_authoritys_as_given(jw: JointWorld) -> None:
    b = await _grant(jw, category="A")
    assert b["work_permit"]["category"] == "A" and b["work_permit"]["points"] is None


async def _work_permit(world: World, org_id: int, **kw: Any) -> int:
    async with world.sessions() as s, s.begin():
        p = WorkPermit(
            number=kw.pop("number", "310000202400001"),
            person_id=kw.pop("person_id", world.person_id),
            category="B",
            employer_organisation_id=org_id,
            position="Researcher",
            work_region="310115",
            valid_from=kw.pop("valid_from", dt.date(2024, 6, 1)),
            valid_until=kw.pop("valid_until", dt.date(2026, 12, 31)),
            status=kw.pop("status", "active"),
            created_at=world.clock.now(),
        )
        s.add(p)
        await s.flush()
        return p.id


async def test_a_post_change_is_recorded_on_the_holders_work_permit(world: World) -> None:
    seed = await _seed(world)
    permit_id = await _work_permit(world, seed["org"])
    out = await PostChanges(world.sessions, world.clock).file(seed["hr"], **_args(seed, world))
    assert out["state"] == "acknowledged"
    change = out["work_permit_change"]
    assert change["before"] == {"position": "Researcher", "work_region": "310115"}
    assert change["after"] == {"position": "Head of research, Beijing lab", "work_region": "110000"}
    async with world.sessions() as s:
        p = await s.get(WorkPermit, permit_id)
        assert p is not None and (p.position, p.work_region) == ("Head of research, Beijing lab", "110000")
        rec = (await s.execute(select(PostChange))).scalar_one()
        assert rec.work_permit_id == permit_id
        ev = (
            await s.execute(select(AuditEvent).where(AuditEvent.action == "work_permit_changed"))
        ).scalar_one()
        assert ev.detail["number"] == "310000202400001"
    assert (await world.verify()).ok


async def test_a_post_change_without_a_registered_work_permit_records_none(world: World) -> None:
    seed = await _seed(world)
    other = await _seed_other_org(world)
    await _work_permit(world, other)  # another employer's permit is not changed
    out = await PostChanges(world.sessions, world.clock).file(seed["hr"], **_args(seed, world))
    assert out["state"] == "acknowledged" and out["work_permit_change"] is None
    assert any(d["code"] == "work_permit_change" for d in out["due"])  # still listed as due


async def _seed_other_org(world: World) -> int:
    async with world.sessions() as s, s.begin():
        org = Organisation(uscc="91110000MA00000000", name="Other Co.", kind="employer", region="110000")
        s.add(org)
        await s.flush()
        return org.id


FIVE = {
    "on": ON.isoformat(),
    "research_team_member": True,
    "work_permit_valid_until": "2030-06-30",
    "passport_valid_until": "2032-01-01",
}


async def test_the_five_year_answer_is_bounded_by_the_registers_work_permit(world: World) -> None:
    async with world.sessions() as s:
        stated = await five_year_answer(s, world.person_id, dict(FIVE))
    assert stated["work_permit_bound"]["source"] == "stated" and stated["may_grant_until"] == "2030-06-30"
    org = await _seed_other_org(world)
    await _work_permit(world, org, valid_until=dt.date(2027, 3, 31))
    async with world.sessions() as s:
        out = await five_year_answer(s, world.person_id, dict(FIVE))
    assert out["work_permit_bound"] == {
        "source": "register",
        "number": "310000202400001",
        "valid_until": "2027-03-31",
        "stated": "2030-06-30",
    }
    assert out["may_grant_until"] == "2027-03-31" and out["bounded_by"] == ["work_permit"]
    async with world.sessions() as s:
        with pytest.raises(BadInput) as bad:
            await five_year_answer(s, world.person_id, {**FIVE, "on": "soon"})
    assert bad.value.field == "facts.on"


async def _employ(world: World) -> int:
    async with world.sessions() as s, s.begin():
        org = Organisation(uscc=USCC, name="Example Technology Co., Ltd.", kind="employer", region="310000")
        s.add(org)
        await s.flush()
        s.add(
            OrgPerson(
                organisation_id=org.id,
                person_id=world.person_id,
                relation="employee",
                since=dt.date(2025, 10, 1),
            )
        )
        return org.id


async def _wp_lookups(world: World, case_id: int) -> list[EvidenceLookup]:
    async with world.sessions() as s:
        q = select(EvidenceLookup).where(
            EvidenceLookup.case_id == case_id, EvidenceLookup.register == "work_permit"
        )
        return list((await s.execute(q)).scalars())


WITHOUT_WP = tuple(c for c in RP.materials if c != "work_permit")


async def test_an_active_work_permit_for_the_employer_waives_the_paper(world: World) -> None:
    org = await _employ(world)
    await _work_permit(world, org)
    c = await world.submitted(RP, files=WITHOUT_WP)
    a = await world.svc.accept(
        world.officer, c["case_id"], c["version"], key=key(), retention_reason="applicant_request"
    )
    assert a["state"] == "accepted"
    [row] = await _wp_lookups(world, c["case_id"])
    assert (row.found, row.matched, row.matched_fields) == (
        True,
        True,
        ["person", "employer", "status", "dates"],
    )
    assert row.query_key == f"person:{world.person_id};uscc:{USCC}" and len(row.record_sha256 or "") == 64


async def test_no_work_permit_on_record_the_paper_is_asked(world: World) -> None:
    await _employ(world)
    c = await world.submitted(RP, files=WITHOUT_WP)
    with pytest.raises(GuardFailed):
        await world.svc.accept(
            world.officer, c["case_id"], c["version"], key=key(), retention_reason="applicant_request"
        )
    [row] = await _wp_lookups(world, c["case_id"])
    assert (row.found, row.matched, row.mismatch_reason) == (False, False, "no record found")


async def test_a_work_permit_for_another_employer_does_not_waive_the_paper(world: World) -> None:
    await _employ(world)
    other = await _seed_other_org(world)
    await _work_permit(world, other)
    c = await world.submitted(RP, files=WITHOUT_WP)
    with pytest.raises(GuardFailed):
        await world.svc.accept(
            world.officer, c["case_id"], c["version"], key=key(), retention_reason="applicant_request"
        )
    [row] = await _wp_lookups(world, c["case_id"])
    assert (row.found, row.matched) == (True, False)
    assert row.mismatch_reason == "employer: the work permit is for another employer"


async def test_the_five_year_read_is_the_persons_own_or_staffs(world: World) -> None:
    org = await _seed_other_org(world)
    await _work_permit(world, org, valid_until=dt.date(2027, 3, 31))
    reads = WorkPermitQueries(world.sessions, world.clock)
    facts = {k: v for k, v in FIVE.items() if k != "on"}  # on: today
    mine = await reads.five_year(world.applicant, world.person_id, facts)
    assert mine["on"] == ON.isoformat() and mine["may_grant_until"] == "2027-03-31"
    staff = await reads.five_year(world.officer, world.person_id, facts)
    assert staff["work_permit_bound"]["source"] == "register"
    with pytest.raises(Forbidden):
        await reads.five_year(world.other_applicant, world.person_id, facts)
    with pytest.raises(Forbidden):
        await reads.five_year(world.agent_without_mandate, world.person_id, facts)
