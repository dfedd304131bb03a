"""Paper waived through shared records (信息共享免交; issue 10 §5): a waived material found and matching; not found;
found but not matching (licence revoked, dates not covering, address outside the office's area) — each lookup
recorded with the hash of what was seen, the paper back in the one-time notice with the reason, the acceptance
guard counting it, and the applicant's "records used instead of paper". On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from case_helpers import MATTERS, ON, World, at, key, pdf
from sqlalchemy import select
from test_accommodation import MUELLER, _hotel

from cnvisa.cases.accommodation import AccommodationService, Stay
from cnvisa.cases.errors import GuardFailed
from cnvisa.store.register_tables import (
    AccommodationRegistration,
    EvidenceLookup,
    OfficePaper,
    OrganisationLicence,
)
from cnvisa.store.tables import Organisation, OrgPerson

RP = MATTERS["residence_permit"]
USCC = "91310000MA1FL4XL2K"
ACC = "accommodation_registration"
LIC = "employer_business_licence"


async def seed(
    world: World,
    *,
    registration: dict[str, Any] | None = None,
    licence: dict[str, Any] | None = None,
    employed: bool = True,
) -> None:
    async with world.sessions() as s, s.begin():
        s.add_all(
            [
                OfficePaper(
                    office_id=world.office_id,
                    material_code=ACC,
                    source="Office rule: SH01 checklist (住宿登记证明)",
                    matters=[],
                ),
                OfficePaper(
                    office_id=world.office_id,
                    material_code=LIC,
                    source="Office rule: SH01 checklist, work-type residence permit (营业执照复印件)",
                    matters=["residence_permit"],
                ),
            ]
        )
        org = Organisation(uscc=USCC, name="Example Technology Co., Ltd.", kind="employer", region="310000")
        s.add(org)
        await s.flush()
        if employed:
            s.add(
                OrgPerson(
                    organisation_id=org.id,
                    person_id=world.person_id,
                    relation="employee",
                    since=dt.date(2025, 10, 1),
                    until=None,
                )
            )
        if registration is not None:
            s.add(
                AccommodationRegistration(
                    person_id=world.person_id,
                    address="上海市浦东新区世纪大道100号",
                    division_code=registration.get("division_code", "310115"),
                    registered_from=registration.get("from", dt.date(2025, 10, 20)),
                    registered_until=registration.get("until"),
                    registered_by="hotel",
                    recorded_at=at(ON),
                )
            )
        if licence is not None:
            s.add(
                OrganisationLicence(
                    organisation_id=org.id,
                    uscc=USCC,
                    status=licence.get("status", "active"),
                    valid_until=licence.get("valid_until"),
                    source="market regulation register",
                    recorded_at=at(ON),
                )
            )


async def lookups(world: World, case_id: int) -> list[EvidenceLookup]:
    async with world.sessions() as s:
        q = select(EvidenceLookup).where(EvidenceLookup.case_id == case_id).order_by(EvidenceLookup.id)
        return list((await s.execute(q)).scalars())


async def test_found_and_matching_records_waive_the_paper(world: World) -> None:
    await seed(world, registration={}, licence={})
    c = await world.submitted(RP)
    a = await world.svc.accept(
        world.officer, c["case_id"], c["version"], key=key(), retention_reason="applicant_request"
    )
    assert a["state"] == "accepted"
    rows = await lookups(world, c["case_id"])
    assert {(r.material_code, r.register, r.found, r.matched) for r in rows} == {
        (ACC, "accommodation", True, True),
        (LIC, "business_licence", True, True),
    }
    by = {r.material_code: r for r in rows}
    assert by[ACC].matched_fields == ["person", "dates", "address"]
    assert (
        by[LIC].matched_fields == ["organisation", "status", "dates"] and by[LIC].query_key == f"uscc:{USCC}"
    )
    assert all(len(r.record_sha256 or "") == 64 and r.looked_up_by == world.officer.account_id for r in rows)
    assert all(r.purpose == "acceptance" for r in rows)
    used = await world.svc.records_used(world.applicant, c["case_id"])
    assert [(u["material"], u["used_instead_of_paper"]) for u in used] == [(ACC, True), (LIC, True)]
    assert "世纪大道" not in str(used)  # the record is not shown, only what matched
    assert "NIA measures 2024-03-20 seed 001 l.20" in used[0]["citations"]


@pytest.mark.parametrize("channel", ["hotel", "private"])
async def test_a_stay_registered_through_the_register_waives_the_paper(world: World, channel: str) -> None:
    """Issue 11 §3 (the register is what the waiver reads; seed 001 l.20): a stay registered the way the platform
    registers stays — a hotel's report from the passport's MRZ, or the foreigner's own registration of a private
    stay — not a row put in the table, covers the application date: the acceptance waives the paper."""
    await seed(world, registration=None, licence={})
    register = AccommodationService(world.sessions, world.clock)
    hotel = await _hotel(world)  # also puts Mueller's passport on record
    moved_in = world.clock.now() - dt.timedelta(days=3)
    if channel == "hotel":
        out = await register.report_hotel_stays(
            hotel, [Stay(MUELLER, "Room 1208, 88 Riverside Road, Pudong", "310115", moved_in, stay_ref="R-1")]
        )
        assert out["counts"] == {"registered": 1}, out
        by = "hotel"
    else:
        out = await register.register_private_stay(
            world.applicant, world.person_id, Stay(None, "Flat 3, 5 Lane 100, Xuhui", "310104", moved_in)
        )
        by = "self"
    c = await world.submitted(RP)
    a = await world.svc.accept(
        world.officer, c["case_id"], c["version"], key=key(), retention_reason="applicant_request"
    )
    assert a["state"] == "accepted"
    (row,) = [r for r in await lookups(world, c["case_id"]) if r.material_code == ACC]
    assert (row.register, row.found, row.matched, row.purpose) == ("accommodation", True, True, "acceptance")
    assert (
        row.matched_fields == ["person", "dates", "address"] and row.query_key == f"person:{world.person_id}"
    )
    async with world.sessions() as s:
        (reg,) = (await s.execute(select(AccommodationRegistration))).scalars().all()
    assert (reg.person_id, reg.registered_by, reg.registered_until) == (world.person_id, by, None)
    used = await world.svc.records_used(world.applicant, c["case_id"])
    assert {u["material"]: u["used_instead_of_paper"] for u in used} == {ACC: True, LIC: True}


async def test_paper_handed_in_needs_no_lookup(world: World) -> None:
    await seed(world)
    c = await world.submitted(RP, files=(*RP.materials, ACC, LIC))
    a = await world.svc.accept(
        world.officer, c["case_id"], c["version"], key=key(), retention_reason="applicant_request"
    )
    assert a["state"] == "accepted" and await lookups(world, c["case_id"]) == []


async def test_not_found_puts_the_paper_back_in_the_notice(world: World) -> None:
    await seed(world, registration=None, licence={})
    c = await world.submitted(RP)
    with pytest.raises(GuardFailed) as err:
        await world.svc.accept(
            world.officer, c["case_id"], c["version"], key=key(), retention_reason="applicant_request"
        )
    assert err.value.guard == "application_complete" and ACC in err.value.detail
    assert "no record found" in err.value.detail
    # the acceptance was refused and rolled back, but the lookups it made are recorded and audited all the same
    assert (await world.case(c["case_id"])).state == "submitted"
    refused = await lookups(world, c["case_id"])
    assert [(r.material_code, r.purpose, r.matched) for r in refused] == [
        (ACC, "acceptance", False),
        (LIC, "acceptance", True),
    ]
    assert (await world.actions(c["case_id"]))[-1] == "evidence_lookup"
    assert (await world.verify()).ok
    n = await world.svc.issue_notice(world.officer, c["case_id"], c["version"], key=key())
    assert n["notice"]["items"] == [ACC]
    assert n["notice"]["waived"] == [LIC]
    assert n["notice"]["paper_needed"][ACC] == "accommodation register: no record found"
    rows = [r for r in await lookups(world, c["case_id"]) if r.purpose == "notice"]
    assert [(r.material_code, r.found, r.record_sha256) for r in rows if not r.matched] == [
        (ACC, False, None)
    ]
    # the applicant hands the paper in: accepted, with no further lookup of it
    s = await world.svc.supplement(world.applicant, c["case_id"], n["version"], key=key(), files=[pdf(ACC)])
    a = await world.svc.accept(
        world.officer, c["case_id"], s["version"], key=key(), retention_reason="applicant_request"
    )
    assert a["state"] == "accepted"
    used = await world.svc.records_used(world.officer, c["case_id"])
    assert {u["material"]: u["used_instead_of_paper"] for u in used} == {ACC: False, LIC: True}
    assert "read_records_used" in await world.actions(c["case_id"])


async def test_no_employer_on_record_is_not_found(world: World) -> None:
    await seed(world, registration={}, licence={}, employed=False)
    c = await world.submitted(RP)
    n = await world.svc.issue_notice(world.officer, c["case_id"], c["version"], key=key())
    assert n["notice"]["items"] == [LIC]
    assert "no inviting or employing organisation" in n["notice"]["paper_needed"][LIC]


@pytest.mark.parametrize(
    ("registration", "licence", "material", "reason"),
    [
        ({}, {"status": "revoked"}, LIC, "status: the licence is revoked, not active"),
        ({}, {"status": "cancelled"}, LIC, "status: the licence is cancelled"),
        ({}, {"valid_until": dt.date(2025, 10, 31)}, LIC, "dates: the licence ended on 2025-10-31"),
        ({"until": dt.date(2025, 10, 25)}, {}, ACC, "does not cover the application date 2025-11-03"),
        ({"from": dt.date(2025, 11, 10)}, {}, ACC, "does not cover the application date"),
        ({"division_code": "110105"}, {}, ACC, "address: division 110105 is outside the office's area"),
    ],
)
async def test_found_but_not_matching(
    world: World, registration: dict[str, Any], licence: dict[str, Any], material: str, reason: str
) -> None:
    await seed(world, registration=registration, licence=licence)
    c = await world.submitted(RP)
    n = await world.svc.issue_notice(world.officer, c["case_id"], c["version"], key=key())
    assert n["notice"]["items"] == [material]
    assert reason in n["notice"]["paper_needed"][material]
    row = next(r for r in await lookups(world, c["case_id"]) if r.material_code == material)
    assert row.found and not row.matched and reason in (row.mismatch_reason or "")
    assert row.record_sha256 is not None
    used = {u["material"]: u for u in await world.svc.records_used(world.applicant, c["case_id"])}
    assert used[material]["found"] and not used[material]["used_instead_of_paper"]
    assert reason in used[material]["reason"]


async def test_each_use_is_its_own_lookup(world: World) -> None:
    await seed(world, registration=None, licence={})
    c = await world.submitted(RP)
    n = await world.svc.issue_notice(world.officer, c["case_id"], c["version"], key=key())
    async with world.sessions() as s, s.begin():  # the police station registers the stay meanwhile
        s.add(
            AccommodationRegistration(
                person_id=world.person_id,
                address="上海市徐汇区",
                division_code="310104",
                registered_from=dt.date(2025, 10, 21),
                registered_until=None,
                registered_by="police",
                recorded_at=at(ON),
            )
        )
    s2 = await world.svc.supplement(world.applicant, c["case_id"], n["version"], key=key())
    a = await world.svc.accept(
        world.officer, c["case_id"], s2["version"], key=key(), retention_reason="applicant_request"
    )
    assert a["state"] == "accepted"
    rows = await lookups(world, c["case_id"])
    assert [(r.material_code, r.purpose, r.matched) for r in rows if r.material_code == ACC] == [
        (ACC, "notice", False),
        (ACC, "acceptance", True),
    ]


async def test_a_visa_matter_is_asked_only_the_papers_its_office_asks_for_it(world: World) -> None:
    from case_helpers import VISA_EXTENSION

    await seed(world, registration={}, licence={})
    await world.add_existing(VISA_EXTENSION.existing)  # type: ignore[arg-type]
    c = await world.submitted(VISA_EXTENSION)
    a = await world.svc.accept(
        world.officer, c["case_id"], c["version"], key=key(), retention_reason="applicant_request"
    )
    assert a["state"] == "accepted"
    assert [r.material_code for r in await lookups(world, c["case_id"])] == [ACC]  # the licence: RP only
