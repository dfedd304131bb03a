"""The validity of an extended residence permit is the officer's decision: required on approval, within the
law engine's bounds (Exit and Entry Administration Law Art 30 para 2), and ending later than the permit it
replaces (Law Art 32). The applicant's ``requested.validity_days`` is a request."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from case_helpers import MATTERS, ON, VISA_EXTENSION, World, key
from sqlalchemy import update

from cnvisa.cases.errors import BadInput, GuardFailed
from cnvisa.cases.workflow import GUARD_ARTICLES
from cnvisa.store.tables import AuditEvent, Holding

RP_EXTENSION = MATTERS["residence_permit_extension"]
ART_30 = "Exit and Entry Administration Law Art 30 para 2"
WORK_MAX = (dt.date(2030, 11, 3) - ON).days  # 5 years from the decision day: 1826 days


async def _accepted(world: World) -> dict[str, Any]:
    assert RP_EXTENSION.existing is not None
    await world.add_existing(RP_EXTENSION.existing)
    return await world.accepted(RP_EXTENSION)


async def _refused_with_nothing_written(world: World, c: dict[str, Any], **kw: Any) -> Exception:
    before = await world.audit_count()
    with pytest.raises((BadInput, GuardFailed)) as err:
        await world.svc.approve(world.officer, c["case_id"], c["version"], key=key(), **kw)
    assert await world.audit_count() == before
    stored = await world.case(c["case_id"])
    assert (
        stored.state == "accepted"
        and stored.decided_by is None
        and "granted_validity_days" not in stored.inputs
    )
    return err.value


async def test_extension_approval_requires_the_granted_validity(world: World) -> None:
    c = await _accepted(world)
    err = await _refused_with_nothing_written(world, c)
    assert isinstance(err, BadInput) and err.field == "validity_days"
    assert ART_30 in err.message and "90 to 1826" in err.message


@pytest.mark.parametrize("days", [89, WORK_MAX + 1, 0, -30])
async def test_granted_validity_outside_the_law_engine_bounds_is_refused(world: World, days: int) -> None:
    """A work-type permit: 90 days to 5 years (Law Art 30 para 2)."""
    c = await _accepted(world)
    err = await _refused_with_nothing_written(world, c, validity_days=days)
    assert isinstance(err, BadInput) and err.field == "validity_days"
    assert ART_30 in err.message and str(days) in err.message


async def test_granted_validity_at_the_upper_bound_is_issued_from_the_decision_day(world: World) -> None:
    c = await _accepted(world)
    c = await world.svc.approve(world.officer, c["case_id"], c["version"], key=key(), validity_days=WORK_MAX)
    c = await world.svc.issue(world.officer, c["case_id"], c["version"], key=key())
    new = await world.holding(c["issued_holding_id"])
    assert new.valid_until == dt.date(2030, 11, 3) and new.kind == "residence_permit"


async def test_an_extension_that_would_not_end_later_is_refused_on_approval(world: World) -> None:
    """ON + 200 days = 2026-05-22, before the permit's end 2026-06-30: within Art 30's bounds, extends nothing."""
    c = await _accepted(world)
    err = await _refused_with_nothing_written(world, c, validity_days=200)
    assert isinstance(err, GuardFailed) and err.guard == "extension_ends_later"
    assert err.article == GUARD_ARTICLES["extension_ends_later"] and "Art 32" in err.article
    assert "2026-05-22" in err.detail and "2026-06-30" in err.detail


async def test_issue_refuses_a_permit_that_would_not_end_later_than_the_one_it_replaces(world: World) -> None:
    """The permit on record was extended meanwhile (to 2027-12-31): the approved 365 days (to 2026-11-03)
    would shorten it, so issuing is refused and the old permit stays valid."""
    c = await _accepted(world)
    c = await world.svc.approve(world.officer, c["case_id"], c["version"], key=key(), validity_days=365)
    assert RP_EXTENSION.existing is not None
    async with world.sessions() as s, s.begin():
        await s.execute(
            update(Holding)
            .where(Holding.number == RP_EXTENSION.existing.number)
            .values(valid_until=dt.date(2027, 12, 31))
        )
    before = await world.audit_count()
    with pytest.raises(GuardFailed) as err:
        await world.svc.issue(world.officer, c["case_id"], c["version"], key=key())
    assert err.value.guard == "extension_ends_later" and "Art 32" in err.value.article
    assert "2026-11-03" in err.value.detail and "2027-12-31" in err.value.detail
    assert await world.audit_count() == before and await world.count(Holding) == 1
    assert (await world.holding(number=RP_EXTENSION.existing.number)).status == "valid"
    assert (await world.case(c["case_id"])).state == "approved"


async def test_the_granted_validity_not_the_request_is_issued(world: World) -> None:
    """Requested 365 days, granted 730: the new permit ends 730 days after issue; the old one is void."""
    c = await _accepted(world)
    c = await world.svc.approve(world.officer, c["case_id"], c["version"], key=key(), validity_days=730)
    stored = await world.case(c["case_id"])
    assert stored.inputs["granted_validity_days"] == 730 and stored.inputs["requested"] == {
        "validity_days": 365
    }
    async with world.sessions() as s:
        detail = (
            await s.execute(
                AuditEvent.__table__.select().where(
                    AuditEvent.case_id == c["case_id"], AuditEvent.action == "approve"
                )
            )
        ).one()
    assert detail.detail == {"decision": "approve", "validity_days": 730}
    c = await world.svc.issue(world.officer, c["case_id"], c["version"], key=key())
    new = await world.holding(c["issued_holding_id"])
    assert new.valid_until == ON + dt.timedelta(days=730)
    assert RP_EXTENSION.existing is not None
    assert (await world.holding(number=RP_EXTENSION.existing.number)).status == "void"


async def test_validity_bounds_for_the_approval_form(world: World) -> None:
    c = await _accepted(world)
    view = await world.svc.read(world.officer, c["case_id"])
    assert world.svc.validity_bounds(view) == {
        "field": "validity_days",
        "on": ON.isoformat(),
        "min_days": 90,
        "max_days": WORK_MAX,
        "rule": ART_30,
        "requested_days": 365,
        "replaces_valid_until": "2026-06-30",
    }
    other = await world.accepted(VISA_EXTENSION)
    assert world.svc.validity_bounds(await world.svc.read(world.officer, other["case_id"])) is None


async def test_study_permit_bounds_start_at_180_days(world: World) -> None:
    """Law Art 30 para 2: permits other than work-type are valid at least 180 days."""
    inputs = {
        **RP_EXTENSION.inputs,
        "residence_permit": {"type": "study", "valid_until": "2026-06-30"},
        "holding_number": "J25900000099",
    }
    c = await world.create(RP_EXTENSION, inputs=inputs)
    view = await world.svc.read(world.officer, c["case_id"])
    bounds = world.svc.validity_bounds(view)
    assert bounds is not None and bounds["min_days"] == 180 and bounds["rule"] == ART_30


async def test_other_matters_take_no_granted_validity(world: World) -> None:
    c = await world.accepted(VISA_EXTENSION)
    with pytest.raises(BadInput) as err:
        await world.svc.approve(world.officer, c["case_id"], c["version"], key=key(), validity_days=365)
    assert err.value.field == "validity_days"
    c = await world.svc.approve(world.officer, c["case_id"], c["version"], key=key())  # the old call
    assert c["state"] == "approved"


async def test_applicants_may_not_set_the_granted_validity(world: World) -> None:
    inputs = {**RP_EXTENSION.inputs, "granted_validity_days": 1826}
    before = await world.audit_count()
    with pytest.raises(BadInput) as err:
        await world.create(RP_EXTENSION, inputs=inputs)
    assert err.value.field == "inputs.granted_validity_days"
    c = await world.create(RP_EXTENSION)
    with pytest.raises(BadInput):
        await world.svc.supplement(
            world.applicant, c["case_id"], c["version"], key=key(), inputs={"granted_validity_days": 1826}
        )
    assert await world.audit_count() == before + 1
