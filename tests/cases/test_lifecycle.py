"""Every in-country matter through every state, refusal with a second officer, no-show, withdrawal, lapse,
the one-time notice rule and who may act (Regulations Art 13, 18, 19, 20, 21; Guide VII, X)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from case_helpers import MATTERS, ON, VISA_EXTENSION, MatterCase, World, at, key, pdf, png

from cnvisa.cases.errors import Forbidden, GuardFailed, InvalidCommand
from cnvisa.cases.workflow import GUARD_ARTICLES
from cnvisa.law.acceptance import receipt_valid_until
from cnvisa.law.refusals import check_refusal, grounds_for
from cnvisa.store.tables import AuditEvent, Case, Holding, Notice

LIFECYCLE = ["create", "submit", "issue_notice", "supplement", "accept", "approve", "issue", "collect"]


@pytest.mark.parametrize("matter", sorted(MATTERS))
async def test_lifecycle_every_matter(world: World, matter: str) -> None:
    """create → submit → one-time notice (one material missing) → supplement → accept → approve → issue →
    collect, for every in-country matter; the receipt and the issued document are recorded."""
    mc = MATTERS[matter]
    svc = world.svc
    old_id = await world.add_existing(mc.existing) if mc.existing else None
    *given, missing = mc.materials

    c = await world.create(mc, files=tuple(given))
    assert c["state"] == "draft" and c["number"].startswith(f"SH01-{ON:%Y%m%d}-")
    cid, born = c["case_id"], c["version"]
    c = await svc.submit(world.applicant, cid, c["version"], key=key())
    assert c["state"] == "submitted"

    n = await svc.issue_notice(world.officer, cid, c["version"], key=key())
    assert n["state"] == "deficient"
    assert n["notice"]["items"] == [missing]
    assert n["notice"]["seq"] == 1 and dt.date.fromisoformat(n["notice"]["respond_by"]) > ON

    c = await svc.supplement(world.applicant, cid, n["version"], key=key(), files=[png(missing)])
    assert c["state"] == "submitted"

    c = await svc.accept(world.officer, cid, c["version"], key=key(), retention_reason="applicant_request")
    assert c["state"] == "accepted"
    assert c["receipt_number"] == f"RSH01{ON:%y%m%d}{cid:08d}"
    expected_until = receipt_valid_until(matter, ON)
    assert c["receipt_valid_until"] == (expected_until.isoformat() if expected_until else None)
    if matter != "exit_without_passport":  # Art 23 sets no receipt period
        assert expected_until is not None and expected_until > ON

    c = await svc.approve(world.officer2, cid, c["version"], key=key(), **mc.approve)
    assert c["state"] == "approved"
    c = await svc.issue(world.officer, cid, c["version"], key=key())
    assert c["state"] == "issued" and c["issued_holding_id"] is not None
    c = await svc.collect(world.officer, cid, c["version"], key=key(), passport_presented=True)
    assert c["state"] == "collected"

    stored = await world.case(cid)
    assert stored.state == "collected" and stored.version == c["version"] == born + len(LIFECYCLE) - 1
    assert stored.decided_by == world.officer2.account_id
    assert stored.law_version and stored.calendar_version and stored.accepted_on == ON

    doc = await world.holding(c["issued_holding_id"])
    assert doc.person_id == world.person_id and doc.number and not doc.number.startswith("pending")
    if mc.new_kind is None:  # visa extension: the stay of this entry is extended on the same visa (Art 14)
        assert doc.id == old_id and doc.extended_days == mc.inputs["requested"]["extension_days"]
        assert doc.status == "valid"
    else:
        assert doc.kind == mc.new_kind and doc.status == "valid" and doc.issued_by_case_id == cid
        assert (
            doc.number[0]
            == {"visa": "V", "stay_permit": "T", "residence_permit": "J", "exit_permit": "E"}[mc.new_kind]
        )
        if old_id is not None:  # the replaced document no longer serves (Art 34)
            old = await world.holding(old_id)
            assert old.status == "void" and doc.id != old_id
    if matter == "study_work_annotation":
        assert doc.annotations and doc.annotations[-1]["case"] == stored.number

    assert await world.actions(cid) == LIFECYCLE
    assert (await world.verify()).ok
    files = (await svc.read(world.applicant, cid))["files"]
    assert sorted(f["material_code"] for f in files) == sorted(mc.materials)
    assert {f["media_type"] for f in files} == {"application/pdf", "image/png"}
    assert all(len(f["sha256"]) == 64 and f["size"] > 0 for f in files)


async def test_agent_with_mandate_submits_for_the_person(world: World) -> None:
    """Art 19: a relative may submit when the law engine finds a ground (first entry no, good record)."""
    c = await world.create(actor=world.agent, submitted_by="relative")
    c = await world.svc.submit(world.agent, c["case_id"], c["version"], key=key())
    assert c["state"] == "submitted"
    assert (await world.case(c["case_id"])).proxy_grounds == ["art19_2"]


async def test_proxy_without_art19_ground_fails_guard(world: World) -> None:
    inputs = {**VISA_EXTENSION.inputs, "applicant": {"nationality": "DEU"}}
    c = await world.create(actor=world.agent, submitted_by="relative", inputs=inputs)
    before = await world.audit_count()
    with pytest.raises(GuardFailed) as err:
        await world.svc.submit(world.agent, c["case_id"], c["version"], key=key())
    assert err.value.guard == "submitter_may_apply"
    assert err.value.article == GUARD_ARTICLES["submitter_may_apply"] and "Art 19" in err.value.article
    assert await world.audit_count() == before
    assert (await world.case(c["case_id"])).state == "draft"


async def test_refusal_needs_a_second_officer(world: World) -> None:
    svc = world.svc
    c = await world.accepted()
    cid = c["case_id"]
    c = await svc.propose_refusal(world.officer, cid, c["version"], key=key(), grounds=["reg21_1"])
    assert c["state"] == "refusal_proposed"
    before = await world.audit_count()

    with pytest.raises(GuardFailed) as err:
        await svc.confirm_refusal(world.officer, cid, c["version"], key=key())
    assert err.value.guard == "second_officer"
    assert err.value.article == GUARD_ARTICLES["second_officer"]
    assert "second_officer" in str(err.value) and "Art 21" in str(err.value)
    assert await world.audit_count() == before
    assert (await world.case(cid)).state == "refusal_proposed"

    c = await svc.confirm_refusal(world.officer2, cid, c["version"], key=key())
    assert c["state"] == "refused"
    stored = await world.case(cid)
    assert stored.refusal_grounds == ["reg21_1"] and stored.decided_by == world.officer2.account_id
    assert stored.refusal_proposed_by == world.officer.account_id
    assert await world.actions(cid) == ["create", "submit", "accept", "propose_refusal", "confirm_refusal"]
    # refused is terminal
    with pytest.raises(InvalidCommand):
        await svc.approve(world.officer, cid, c["version"], key=key())


async def test_refusal_grounds_are_checked(world: World) -> None:
    c = await world.accepted()
    before = await world.audit_count()
    for grounds in (["no_such_ground"], [], ["law31_1"]):  # law31_1: residence permits only
        with pytest.raises(GuardFailed) as err:
            await world.svc.propose_refusal(
                world.officer, c["case_id"], c["version"], key=key(), grounds=grounds
            )
        assert err.value.guard == "refusal_grounds_valid" and "Art 21" in err.value.article
    assert await world.audit_count() == before


async def test_revoked_refusal_proposal_returns_to_accepted(world: World) -> None:
    svc = world.svc
    c = await world.accepted()
    c = await svc.propose_refusal(world.officer, c["case_id"], c["version"], key=key(), grounds=["reg21_1"])
    c = await svc.revoke_refusal_proposal(world.supervisor, c["case_id"], c["version"], key=key())
    assert c["state"] == "accepted"
    stored = await world.case(c["case_id"])
    assert stored.refusal_grounds == [] and stored.refusal_proposed_by is None
    c = await svc.approve(world.officer, c["case_id"], c["version"], key=key())
    assert c["state"] == "approved"


async def test_no_show_at_verification_then_refusal(world: World) -> None:
    """Art 20 verification by interview; Guide VII(III): a no-show is a ground of refusal."""
    svc = world.svc
    c = await world.accepted()
    cid = c["case_id"]
    c = await svc.request_verification(
        world.officer,
        cid,
        c["version"],
        key=key(),
        method="interview",
        scheduled_for=at(ON + dt.timedelta(days=2)),
    )
    assert c["state"] == "under_verification"
    c = await svc.record_verification(world.officer, cid, c["version"], key=key(), outcome="no_show")
    assert c["state"] == "accepted"
    c = await svc.propose_refusal(world.officer, cid, c["version"], key=key(), grounds=[NO_SHOW])
    c = await svc.confirm_refusal(world.supervisor, cid, c["version"], key=key())
    assert c["state"] == "refused"
    assert (await world.case(cid)).refusal_grounds == [NO_SHOW]
    assert await world.actions(cid) == [
        "create",
        "submit",
        "accept",
        "request_verification",
        "record_verification",
        "propose_refusal",
        "confirm_refusal",
    ]
    assert (await world.verify()).ok


async def test_withdrawal(world: World) -> None:
    svc = world.svc
    c = await world.accepted()
    with pytest.raises(Forbidden):  # staff do not withdraw an application
        await svc.withdraw(world.officer, c["case_id"], c["version"], key=key())
    c = await svc.withdraw(world.applicant, c["case_id"], c["version"], key=key())
    assert c["state"] == "withdrawn"
    with pytest.raises(InvalidCommand):
        await svc.withdraw(world.applicant, c["case_id"], c["version"], key=key())
    draft = await world.create()
    d = await svc.withdraw(world.agent, draft["case_id"], draft["version"], key=key())
    assert d["state"] == "withdrawn"


async def test_unanswered_notice_lapses(world: World) -> None:
    svc = world.svc
    c = await world.submitted(files=VISA_EXTENSION.materials[:-1])
    n = await svc.issue_notice(world.officer, c["case_id"], c["version"], key=key())
    respond_by = dt.date.fromisoformat(n["notice"]["respond_by"])
    world.clock.set(at(respond_by))
    assert await svc.lapse_due() == []  # the last day to answer is still open
    world.clock.set(at(respond_by + dt.timedelta(days=1)))
    assert await svc.lapse_due() == [c["number"]]
    stored = await world.case(c["case_id"])
    assert stored.state == "lapsed"
    events = await world.actions(c["case_id"])
    assert events[-1] == "lapse"
    assert await svc.lapse_due() == []  # nothing left, nothing written
    assert await world.actions(c["case_id"]) == events


async def test_old_draft_lapses(world: World) -> None:
    svc = world.svc
    old = await world.create()
    world.clock.advance(days=20)
    young = await world.create()
    submitted = await world.submitted()
    world.clock.advance(days=11)  # old: 31 days, young: 11 days
    assert await svc.lapse_due() == [old["number"]]
    assert (await world.case(old["case_id"])).state == "lapsed"
    assert (await world.case(young["case_id"])).state == "draft"
    assert (await world.case(submitted["case_id"])).state == "submitted"
    async with world.sessions() as s:
        ev = (await s.execute(AuditEvent.__table__.select().where(AuditEvent.action == "lapse"))).one()
    assert ev.role == "system" and ev.actor_account_id is None and ev.state_before == "draft"


async def test_second_notice_may_not_repeat(world: World) -> None:
    """Art 13 para 2: everything at once; a later notice may not list what was already required."""
    svc = world.svc
    c = await world.submitted(files=("passport", "application_form"))  # photo and itinerary missing
    n = await svc.issue_notice(world.officer, c["case_id"], c["version"], key=key())
    assert n["notice"]["items"] == ["photo", "itinerary"]
    c = await svc.supplement(world.applicant, c["case_id"], n["version"], key=key(), files=[pdf("photo")])
    before_events, before_notices = await world.audit_count(), await world.count(Notice)
    with pytest.raises(GuardFailed) as err:
        await svc.issue_notice(world.officer, c["case_id"], c["version"], key=key())
    assert err.value.guard == "notice_repeats_nothing"
    assert (
        err.value.article == GUARD_ARTICLES["notice_repeats_nothing"] and "Art 13 para 2" in err.value.article
    )
    assert "itinerary" in err.value.detail
    assert await world.audit_count() == before_events and await world.count(Notice) == before_notices
    assert (await world.case(c["case_id"])).version == c["version"]
    # nothing missing at all: no notice either
    c2 = await world.submitted()
    with pytest.raises(GuardFailed) as err:
        await svc.issue_notice(world.officer, c2["case_id"], c2["version"], key=key())
    assert err.value.guard == "notice_repeats_nothing"


async def test_second_notice_lists_what_the_supplement_made_necessary(world: World) -> None:
    """A residence permit of 180 days needs no health certificate; the supplement asks 365 days, so a second
    notice may ask for it (Regulations Art 16 last paragraph) — and only for it."""
    svc = world.svc
    base = MATTERS["residence_permit"]
    short = dataclasses.replace(
        base,
        inputs={
            **base.inputs,
            "requested": {"permit_type": "work", "validity_days": 180},
        },
    )
    c = await world.submitted(short, files=("passport", "application_form", "photo", "biometrics"))
    n = await svc.issue_notice(world.officer, c["case_id"], c["version"], key=key())
    assert n["notice"]["items"] == ["work_permit"]
    c = await svc.supplement(
        world.applicant,
        c["case_id"],
        n["version"],
        key=key(),
        files=[pdf("work_permit")],
        inputs={"requested": {"permit_type": "work", "validity_days": 365}},
    )
    n2 = await svc.issue_notice(world.officer, c["case_id"], c["version"], key=key())
    assert n2["notice"]["items"] == ["health_certificate"] and n2["notice"]["seq"] == 2
    c = await svc.supplement(
        world.applicant, c["case_id"], n2["version"], key=key(), files=[pdf("health_certificate")]
    )
    c = await svc.accept(
        world.officer, c["case_id"], c["version"], key=key(), retention_reason="applicant_request"
    )
    assert c["state"] == "accepted"
    read = await svc.read(world.officer, c["case_id"])
    assert [x["items"] for x in read["notices"]] == [["work_permit"], ["health_certificate"]]


async def test_accept_refuses_an_incomplete_application(world: World) -> None:
    c = await world.submitted(files=VISA_EXTENSION.materials[:-1])
    before = await world.audit_count()
    with pytest.raises(GuardFailed) as err:
        await world.svc.accept(
            world.officer, c["case_id"], c["version"], key=key(), retention_reason="applicant_request"
        )
    assert err.value.guard == "application_complete" and "itinerary" in err.value.detail
    assert "Art 13 para 1" in err.value.article
    assert await world.audit_count() == before
    stored = await world.case(c["case_id"])
    assert stored.state == "submitted" and stored.receipt_number is None


async def test_collect_needs_the_passport(world: World) -> None:
    svc = world.svc
    c = await world.accepted()
    c = await svc.approve(world.officer, c["case_id"], c["version"], key=key())
    c = await svc.issue(world.officer, c["case_id"], c["version"], key=key())
    with pytest.raises(GuardFailed) as err:
        await svc.collect(world.officer, c["case_id"], c["version"], key=key(), passport_presented=False)
    assert err.value.guard == "passport_presented" and err.value.article == "Guide X"
    assert (await world.case(c["case_id"])).state == "issued"


async def test_commands_out_of_order_are_invalid(world: World) -> None:
    svc = world.svc
    c = await world.create()
    for call in (
        svc.accept(
            world.officer, c["case_id"], c["version"], key=key(), retention_reason="applicant_request"
        ),
        svc.approve(world.officer, c["case_id"], c["version"], key=key()),
        svc.issue(world.officer, c["case_id"], c["version"], key=key()),
    ):
        with pytest.raises(InvalidCommand):
            await call
    assert await world.actions(c["case_id"]) == ["create"]


# --- who may act ----------------------------------------------------------------------------------


async def test_officer_of_another_office_is_forbidden(world: World) -> None:
    svc = world.svc
    c = await world.submitted()
    before = await world.audit_count()
    with pytest.raises(Forbidden, match="another office"):
        await svc.accept(world.foreign_officer, c["case_id"], c["version"], key=key())
    with pytest.raises(Forbidden):
        await svc.read(world.foreign_officer, c["case_id"])
    assert await world.audit_count() == before
    assert (await world.case(c["case_id"])).state == "submitted"


async def test_applicant_may_not_touch_someone_elses_case(world: World) -> None:
    svc = world.svc
    c = await world.create()
    with pytest.raises(Forbidden):
        await svc.submit(world.other_applicant, c["case_id"], c["version"], key=key())
    with pytest.raises(Forbidden):
        await svc.withdraw(world.other_applicant, c["case_id"], c["version"], key=key())
    with pytest.raises(Forbidden):
        await svc.read(world.other_applicant, c["case_id"])
    with pytest.raises(Forbidden):  # applying for another person
        await world.create(actor=world.other_applicant)
    assert await world.count(Case) == 1
    assert await world.actions() == ["create"]


async def test_agent_without_mandate_is_forbidden(world: World) -> None:
    svc = world.svc
    with pytest.raises(Forbidden, match="mandate"):
        await world.create(actor=world.agent_without_mandate, submitted_by="relative")
    c = await world.create()
    with pytest.raises(Forbidden):
        await svc.submit(world.agent_without_mandate, c["case_id"], c["version"], key=key())
    assert await world.count(Case) == 1


async def test_applicants_do_not_decide_and_staff_do_not_apply(world: World) -> None:
    svc = world.svc
    c = await world.submitted()
    with pytest.raises(Forbidden):
        await svc.accept(world.applicant, c["case_id"], c["version"], key=key())
    with pytest.raises(Forbidden):
        await world.create(actor=world.officer)
    with pytest.raises(Forbidden):
        await svc.reevaluate(world.applicant, c["case_id"], c["version"], key=key())


async def test_issue_leaves_other_people_documents_alone(world: World) -> None:
    """inputs.holding_number only reaches the applicant's own documents."""
    mc: MatterCase = MATTERS["visa_replacement"]
    assert mc.existing is not None
    theirs = await world.add_existing(mc.existing, person_id=world.other_person_id)
    c = await world.accepted(mc)
    c = await world.svc.approve(world.officer, c["case_id"], c["version"], key=key())
    c = await world.svc.issue(world.officer, c["case_id"], c["version"], key=key())
    assert (await world.holding(theirs)).status == "valid"
    assert await world.count(Holding) == 2


# --- every matter through the other states -------------------------------------------------------

NO_SHOW = "guide_vii3_no_show"


def _refusal_ground(matter: str) -> str:
    """The no-show ground (Guide VII(III)) where the law engine allows it for the matter, else the matter's
    first ground (exit_without_passport: Regulations Art 23)."""
    if check_refusal(matter, [NO_SHOW], on=ON).valid:
        return NO_SHOW
    return grounds_for(matter, on=ON)[0].code


@pytest.mark.parametrize("matter", sorted(MATTERS))
async def test_every_matter_verification_no_show_refusal_confirmed(world: World, matter: str) -> None:
    """accepted → under_verification → (no-show) accepted → refusal_proposed → refused, confirmed by a second
    officer; the refused applicant's receipt stops counting (Art 13 para 3)."""
    mc = MATTERS[matter]
    if mc.existing:
        await world.add_existing(mc.existing)
    svc = world.svc
    c = await world.accepted(mc)
    cid = c["case_id"]
    c = await svc.request_verification(world.officer, cid, c["version"], key=key(), method="site_visit")
    assert c["state"] == "under_verification"
    c = await svc.record_verification(world.officer, cid, c["version"], key=key(), outcome="no_show")
    assert c["state"] == "accepted"
    ground = _refusal_ground(matter)
    c = await svc.propose_refusal(world.officer, cid, c["version"], key=key(), grounds=[ground])
    assert c["state"] == "refusal_proposed"
    with pytest.raises(GuardFailed):
        await svc.confirm_refusal(world.officer, cid, c["version"], key=key())
    c = await svc.confirm_refusal(world.supervisor, cid, c["version"], key=key())
    assert c["state"] == "refused"
    stored = await world.case(cid)
    assert stored.refusal_grounds == [ground] and stored.decided_by == world.supervisor.account_id
    st = await svc.person_status(world.person_id, ON)
    assert st.basis is None or st.basis.number != stored.receipt_number  # the receipt ended with the refusal
    assert await world.actions(cid) == [
        "create",
        "submit",
        "accept",
        "request_verification",
        "record_verification",
        "propose_refusal",
        "confirm_refusal",
    ]
    assert await world.count(Holding, Holding.issued_by_case_id == cid) == 0
    assert (await world.verify()).ok


WITHDRAWABLE = ["draft", "submitted", "deficient", "accepted", "under_verification"]


@pytest.mark.parametrize(
    ("matter", "from_state"),
    [(m, WITHDRAWABLE[i % len(WITHDRAWABLE)]) for i, m in enumerate(sorted(MATTERS))],
)
async def test_every_matter_may_be_withdrawn_while_open(world: World, matter: str, from_state: str) -> None:
    mc = MATTERS[matter]
    svc = world.svc
    c = await world.create(mc, files=mc.materials[:-1] if from_state == "deficient" else None)
    if from_state != "draft":
        c = await svc.submit(world.applicant, c["case_id"], c["version"], key=key())
    if from_state == "deficient":
        c = await svc.issue_notice(world.officer, c["case_id"], c["version"], key=key())
    if from_state in ("accepted", "under_verification"):
        c = await svc.accept(
            world.officer, c["case_id"], c["version"], key=key(), retention_reason="applicant_request"
        )
    if from_state == "under_verification":
        c = await svc.request_verification(
            world.officer, c["case_id"], c["version"], key=key(), method="telephone"
        )
    assert c["state"] == from_state
    w = await svc.withdraw(world.applicant, c["case_id"], c["version"], key=key())
    assert w["state"] == "withdrawn"
    assert (await world.actions(c["case_id"]))[-1] == "withdraw"
    with pytest.raises(InvalidCommand):  # withdrawn is final
        await svc.submit(world.applicant, c["case_id"], w["version"], key=key())


@pytest.mark.parametrize("matter", sorted(MATTERS))
async def test_every_matter_lapses_when_the_notice_goes_unanswered(world: World, matter: str) -> None:
    mc = MATTERS[matter]
    svc = world.svc
    c = await world.submitted(mc, files=mc.materials[:-1])
    n = await svc.issue_notice(world.officer, c["case_id"], c["version"], key=key())
    assert n["notice"]["items"] == [mc.materials[-1]]
    world.clock.set(at(dt.date.fromisoformat(n["notice"]["respond_by"]) + dt.timedelta(days=1)))
    assert await svc.lapse_due() == [c["number"]]
    stored = await world.case(c["case_id"])
    assert stored.state == "lapsed" and stored.version == n["version"] + 1
    with pytest.raises(InvalidCommand):  # lapsed is final: a late supplement is refused
        await svc.supplement(world.applicant, c["case_id"], stored.version, key=key(), files=[pdf("x")])
