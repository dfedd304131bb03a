"""A joint application's passport is handled as any work-type residence permit's (免留存护照, issue 10 §4): read at
the one acceptance and returned with a collection appointment within the one receipt, or kept with a reason; at
the collection of both permits the same passport or the holder's new one, checked again. And the residence branch
takes its notice, acceptance and refusal only with the joint application. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from case_helpers import ON, World, at, key, pdf
from joint_helpers import GRANT, PASSPORT, RETURNED, WP_A, JointWorld, all_codes, joint_world
from test_evidence import lookups

from cnvisa.cases.errors import BadInput, GuardFailed, InvalidCommand
from cnvisa.cases.passport_check import CollectionSlot, PassportShown
from cnvisa.demo.vocab import mrz
from cnvisa.law import calendar
from cnvisa.store.register_tables import OfficePaper, OrganisationLicence
from cnvisa.store.tables import Appointment, Organisation


@pytest.fixture
async def jw(world: World) -> JointWorld:
    return await joint_world(world)


async def granted_and_issued(jw: JointWorld, j: dict[str, Any]) -> dict[str, Any]:
    w, svc = jw.w, jw.svc
    ref = j["work_permit_branch"]["reference"]
    b = await svc.take_work_permit_branch(jw.wp_officer, ref, j["work_permit_branch"]["version"], key=key())
    await svc.grant_work_permit_branch(jw.wp_officer, ref, b["branch"]["version"], key=key(), **GRANT)
    case_id = j["residence_branch"]["case_id"]
    await w.svc.approve(w.officer2, case_id, (await w.case(case_id)).version, key=key())
    return await svc.joint_issue_together(
        w.officer, j["joint_id"], (await jw.joint(j["joint_id"])).version, key=key()
    )


async def test_the_one_receipt_says_the_passport_was_returned_and_books_its_collection(
    jw: JointWorld,
) -> None:
    j = await jw.accepted()
    p = j["receipt"]["passport"]
    assert j["receipt"]["passport_kept"] is False and p["outcome"] == "returned"
    assert p["travel_document"]["number"] == "C01X00T47" and p["checked_by"] == jw.w.officer.account_id
    assert p["receipt_proves_lawful_residence"] is True and "Regulations Art 18 para 3" in p["cites"]
    assert p["collection"]["day"] == j["receipt"]["valid_until"]  # the receipt's last day unless agreed
    async with jw.w.sessions() as s:
        appt = await s.get(Appointment, p["collection"]["appointment_id"])
        assert appt is not None and appt.case_id == j["residence_branch"]["case_id"]
    # the collection of both permits with the same passport, read again
    j = await granted_and_issued(jw, j)
    j = await jw.svc.joint_collect_together(
        jw.w.officer, j["joint_id"], j["version"], key=key(), passport_presented=True, passport=PASSPORT
    )
    assert j["state"] == "collected"
    events = await jw.w.actions(j["residence_branch"]["case_id"])
    assert "collect" in events


async def test_an_agreed_collection_slot_is_booked(jw: JointWorld) -> None:
    j = await jw.apply()
    day = calendar.add_working_days(jw.w.svc.today(), 14)  # a working day before the receipt's last (15)
    j = await jw.svc.joint_accept(
        jw.w.officer,
        j["joint_id"],
        j["version"],
        key=key(),
        **RETURNED,
        collection=CollectionSlot(day, "10:00"),
    )
    assert j["receipt"]["passport"]["collection"]["day"] == day.isoformat()


async def test_returning_needs_the_read_and_keeping_needs_a_reason(jw: JointWorld) -> None:
    j = await jw.apply()
    with pytest.raises(GuardFailed, match=r"passport\.mrz") as err:
        await jw.svc.joint_accept(jw.w.officer, j["joint_id"], j["version"], key=key(), passport_kept=False)
    assert err.value.guard == "passport_checked_on_site"
    with pytest.raises(BadInput, match="retention_reason"):
        await jw.svc.joint_accept(jw.w.officer, j["joint_id"], j["version"], key=key(), passport_kept=True)
    assert (await jw.joint(j["joint_id"])).state == "submitted"  # nothing written
    kept = await jw.svc.joint_accept(
        jw.w.officer,
        j["joint_id"],
        j["version"],
        key=key(),
        passport_kept=True,
        passport=PASSPORT,
        retention_reason="verification_art20",
    )
    p = kept["receipt"]["passport"]
    assert kept["receipt"]["passport_kept"] is True and p["outcome"] == "kept"
    assert p["retention_reason"] == "verification_art20" and p["collection"] is None


async def test_collected_with_the_holders_new_passport_and_not_with_another(jw: JointWorld) -> None:
    j = await granted_and_issued(jw, await jw.accepted())
    with pytest.raises(GuardFailed, match=r"passport\.mrz"):  # returned at acceptance: read what is presented
        await jw.svc.joint_collect_together(
            jw.w.officer, j["joint_id"], j["version"], key=key(), passport_presented=True
        )
    stranger = PassportShown(
        *mrz("SMITH", "JOHN", "USA", "X12345678", dt.date(1980, 1, 2), "M", dt.date(2033, 1, 1)).split("\n")
    )
    with pytest.raises(GuardFailed):
        await jw.svc.joint_collect_together(
            jw.w.officer, j["joint_id"], j["version"], key=key(), passport_presented=True, passport=stranger
        )
    new = PassportShown(
        *mrz("MUELLER", "ANNA", "DEU", "C02Y11U58", dt.date(1961, 5, 14), "F", dt.date(2036, 6, 1)).split(
            "\n"
        )
    )
    j = await jw.svc.joint_collect_together(
        jw.w.officer, j["joint_id"], j["version"], key=key(), passport_presented=True, passport=new
    )
    assert j["state"] == "collected"
    holding = await jw.w.holding(j["residence_branch"]["issued_holding_id"])
    async with jw.w.sessions() as s:
        from cnvisa.store.tables import TravelDocument

        doc = await s.get(TravelDocument, holding.travel_document_id)
        assert doc is not None and doc.number == "C02Y11U58" and doc.current


@pytest.mark.parametrize("command", ["issue_notice", "accept", "supplement", "propose_refusal"])
async def test_the_residence_branch_takes_no_single_case_notice_acceptance_or_refusal(
    jw: JointWorld, command: str
) -> None:
    j = await jw.apply(files=all_codes(WP_A)[:-1])
    case_id = j["residence_branch"]["case_id"]
    version = (await jw.w.case(case_id)).version
    calls = {
        "issue_notice": lambda: jw.w.svc.issue_notice(jw.w.officer, case_id, version, key=key()),
        "accept": lambda: jw.w.svc.accept(jw.w.officer, case_id, version, key=key(), **RETURNED),
        "supplement": lambda: jw.w.svc.supplement(
            jw.w.applicant, case_id, version, key=key(), files=[pdf(all_codes(WP_A)[-1])]
        ),
        "propose_refusal": lambda: jw.w.svc.propose_refusal(
            jw.w.officer, case_id, version, key=key(), grounds=["false_statements"]
        ),
    }
    if command == "supplement":  # a supplement answers a notice: the joint application's one notice first
        j = await jw.svc.joint_issue_notice(jw.w.officer, j["joint_id"], j["version"], key=key())
        version = (await jw.w.case(case_id)).version
    before = await jw.counts()
    with pytest.raises(InvalidCommand, match="joint application"):
        await calls[command]()
    assert await jw.counts() == before


async def office_asks_licence(jw: JointWorld, *, licence: str | None) -> None:
    """The window office asks for the employer's business licence (office rule); the register holds ``licence``
    (a status) for the employer the joint application names, or nothing."""
    async with jw.w.sessions() as s, s.begin():
        s.add(
            OfficePaper(
                office_id=jw.w.office_id,
                material_code="employer_business_licence",
                source="Office rule: SH01 checklist, work-type residence permit (营业执照复印件)",
                matters=["residence_permit"],
            )
        )
        if licence is not None:
            org = await s.get(Organisation, jw.employer_id)
            assert org is not None
            s.add(
                OrganisationLicence(
                    organisation_id=org.id,
                    uscc=org.uscc,
                    status=licence,
                    valid_until=None,
                    source="market regulation register",
                    recorded_at=at(ON),
                )
            )


async def test_the_named_employers_licence_found_in_the_register_waives_the_paper(jw: JointWorld) -> None:
    await office_asks_licence(jw, licence="active")
    j = (
        await jw.accepted()
    )  # no licence uploaded, no employment on record: the application names the employer
    assert j["state"] == "accepted"
    rows = await lookups(jw.w, j["residence_branch"]["case_id"])
    assert [(r.material_code, r.found, r.matched, r.purpose) for r in rows] == [
        ("employer_business_licence", True, True, "acceptance")
    ]
    org_uscc = "91310000MA1FL0000X"
    assert rows[0].query_key == f"uscc:{org_uscc}"


@pytest.mark.parametrize("hands_in_the_paper", [False, True])
async def test_a_revoked_licence_puts_the_paper_in_the_one_notice_and_the_acceptance_guard(
    jw: JointWorld, hands_in_the_paper: bool
) -> None:
    await office_asks_licence(jw, licence="revoked")
    j = await jw.apply(files=all_codes(WP_A)[:-1])
    n = await jw.svc.joint_issue_notice(jw.w.officer, j["joint_id"], j["version"], key=key())
    items = {i["code"]: i for i in n["notice"]["items"]}
    assert items["employer_business_licence"]["required_by"] == ["residence_permit"]
    assert "business_licence register" in items["employer_business_licence"]["paper_needed"]
    files = [all_codes(WP_A)[-1], *(["employer_business_licence"] if hands_in_the_paper else [])]
    j = await jw.svc.joint_supplement(
        jw.w.applicant, j["joint_id"], n["version"], key=key(), files=[pdf(c) for c in files]
    )
    case_id = j["residence_branch"]["case_id"]
    before = len(await lookups(jw.w, case_id))
    if hands_in_the_paper:  # the paper answers the notice: nothing looked up, accepted
        j = await jw.svc.joint_accept(jw.w.officer, j["joint_id"], j["version"], key=key(), **RETURNED)
        assert j["state"] == "accepted" and len(await lookups(jw.w, case_id)) == before
        return
    with pytest.raises(GuardFailed, match="employer_business_licence") as err:
        await jw.svc.joint_accept(jw.w.officer, j["joint_id"], j["version"], key=key(), **RETURNED)
    assert err.value.guard == "joint_complete"
    assert len(await lookups(jw.w, case_id)) == before + 1  # the refused command's lookup stays on record
    assert (await jw.joint(j["joint_id"])).state == "submitted"
