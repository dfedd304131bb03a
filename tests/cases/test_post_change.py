"""Post changes without a new residence permit (issue 10 §3) on both engines: acknowledged (new location, office
moved, Art 26 report filed), referred with the unmet condition, idempotent, audited, nothing half-written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from case_helpers import ON, World
from post_change_helpers import EFFECTIVE, _args, _seed
from sqlalchemy import func, select

from cnvisa.cases import audit
from cnvisa.cases.errors import BadInput, Forbidden
from cnvisa.cases.post_change import PostChanges
from cnvisa.store.post_change_tables import PostChange
from cnvisa.store.tables import AuditEvent, Holding, Office, OrgReport


async def _count(world: World, table: Any) -> int:
    async with world.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_covered_change_is_acknowledged_moves_the_office_and_files_the_report(world: World) -> None:
    seed = await _seed(world)
    svc = PostChanges(world.sessions, world.clock)
    out = await svc.file(seed["hr"], **_args(seed, world))
    assert out["state"] == "acknowledged"
    assert out["responsible_office"] == "BJ01"  # the office of the new region (Law Art 30 para 1, Art 32)
    assert {d["code"] for d in out["due"]} == {"employer_report_work_location", "work_permit_change"}
    assert out["instead"] == []
    assert (await svc.responsible_office(world.officer, seed["holding"]))["office"] == "BJ01"
    async with world.sessions() as s:
        record = (await s.execute(select(PostChange))).scalar_one()
        assert (record.state, record.work_location, record.to_region) == (
            "acknowledged",
            "Haidian District, Beijing",
            "110000",
        )
        report = await s.get(OrgReport, out["org_report_id"])
        assert report is not None and report.event == "changed_work_location"
        assert report.occurred_on == EFFECTIVE and report.person_id == world.person_id
        # Art 26: the employer reports to the office of its own locality (Shanghai)
        sh = await s.get(Office, report.office_id)
        assert sh is not None and sh.code == "SH01"
        actions = [a for (a,) in await s.execute(select(AuditEvent.action).order_by(AuditEvent.seq))]
        assert {"post_change_filed", "post_change_acknowledged", "org_report"} <= set(actions)
        states = {
            (b, a)
            for b, a in await s.execute(
                select(AuditEvent.state_before, AuditEvent.state_after).where(
                    AuditEvent.action.like("post_change%")
                )
            )
        }
        assert states == {(None, "filed"), ("filed", "acknowledged")}
        assert (await audit.verify(s)).ok


async def test_a_second_change_starts_from_the_office_the_first_moved_to(world: World) -> None:
    seed = await _seed(world)
    svc = PostChanges(world.sessions, world.clock)
    await svc.file(seed["hr"], **_args(seed, world))
    back = await svc.file(
        seed["hr"],
        **_args(seed, world, to_region="310000", work_location="Pudong, Shanghai", effective_on=ON),
    )
    assert (back["from_office"], back["from_region"], back["responsible_office"]) == (
        "BJ01",
        "110000",
        "SH01",
    )


async def test_the_same_key_replays_and_another_request_with_it_is_refused(world: World) -> None:
    seed = await _seed(world)
    svc = PostChanges(world.sessions, world.clock)
    args = _args(seed, world)
    first = await svc.file(seed["hr"], **args)
    again = await svc.file(seed["hr"], **args)
    assert again["replayed"] is True and again["id"] == first["id"]
    assert await _count(world, PostChange) == 1 and await _count(world, OrgReport) == 1
    with pytest.raises(BadInput) as info:
        await svc.file(seed["hr"], **{**args, "position": "Another post"})
    assert info.value.field == "idempotency_key"


async def test_other_staff_are_referred_with_the_unmet_condition_and_nothing_else_is_written(
    world: World,
) -> None:
    seed = await _seed(world)
    svc = PostChanges(world.sessions, world.clock)
    out = await svc.file(seed["hr"], **_args(seed, world, role="other"))
    assert out["state"] == "referred"
    assert "经营管理和专业技术人员" in out["referred_reason"] and "seed 001 l.16" in out["referred_reason"]
    assert [i["code"] for i in out["instead"]] == ["residence_permit_change"]
    assert out["org_report_id"] is None and out["responsible_office"] is None
    assert await _count(world, OrgReport) == 0
    assert (await svc.responsible_office(seed["hr"], seed["holding"]))["office"] is None
    async with world.sessions() as s:
        acts = {a for (a,) in await s.execute(select(AuditEvent.action))}
    assert {"post_change_filed", "post_change_referred"} <= acts


async def test_another_employer_is_referred_with_what_to_apply_for(world: World) -> None:
    seed = await _seed(world)
    out = await PostChanges(world.sessions, world.clock).file(
        seed["hr"], **_args(seed, world, organisation="other")
    )
    assert out["state"] == "referred"
    assert {i["code"] for i in out["instead"]} >= {
        "work_permit_for_new_employer",
        "residence_permit_for_new_employer",
    }


async def test_a_printed_particular_changed_leaves_the_law_33_change_due(world: World) -> None:
    seed = await _seed(world)
    out = await PostChanges(world.sessions, world.clock).file(
        seed["hr"], **_args(seed, world, printed_changes=["other_printed"])
    )
    due = {d["code"]: d for d in out["due"]}
    assert due["residence_permit_particulars_change"]["by"] == (EFFECTIVE + dt.timedelta(days=10)).isoformat()
    assert due["residence_permit_particulars_change"]["citations"] == [
        "Exit and Entry Administration Law Art 33"
    ]


async def test_a_study_permit_holder_is_referred(world: World) -> None:
    seed = await _seed(world, category="study")
    out = await PostChanges(world.sessions, world.clock).file(seed["hr"], **_args(seed, world))
    assert out["state"] == "referred"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"to_region": "1100"}, "to_region"),
        ({"position": " "}, "position"),
        ({"work_location": "a\nb"}, "work_location"),
        ({"effective_on": ON + dt.timedelta(days=1)}, "effective_on"),
        ({"role": "boss"}, "role"),
        ({"idempotency_key": ""}, "idempotency_key"),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(
    world: World, change: dict[str, Any], field: str
) -> None:
    seed = await _seed(world)
    with pytest.raises(BadInput) as info:
        await PostChanges(world.sessions, world.clock).file(seed["hr"], **_args(seed, world, **change))
    assert info.value.field == field
    assert await _count(world, PostChange) == 0 and await _count(world, OrgReport) == 0


async def test_only_the_employer_files_and_only_for_its_employees_and_their_permits(world: World) -> None:
    seed = await _seed(world)
    svc = PostChanges(world.sessions, world.clock)
    with pytest.raises(Forbidden):
        await svc.file(world.applicant, **_args(seed, world))
    with pytest.raises(BadInput) as info:
        await svc.file(seed["hr"], **_args(seed, world, person_id=world.other_person_id))
    assert info.value.field == "person_id"
    async with world.sessions() as s, s.begin():
        h = await s.get(Holding, seed["holding"])
        assert h is not None
        h.valid_until = EFFECTIVE - dt.timedelta(days=1)
    with pytest.raises(BadInput) as info:
        await svc.file(seed["hr"], **_args(seed, world))
    assert info.value.field == "holding_id"
    with pytest.raises(Forbidden):
        await svc.responsible_office(world.other_applicant, seed["holding"])
    assert await _count(world, PostChange) == 0
