"""Joint applications (one-stop work permit + work-type residence permit) through their lifecycle, on SQLite
and PostgreSQL: one notice, one acceptance and receipt, parallel decisions, issue and collection together; the
work permit refused; the residence permit refused; withdrawal; extension; the clocks; invalid transitions refused
with nothing half-written."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from case_helpers import ON, World, key, pdf
from joint_helpers import GRANT, PASSPORT, RETURNED, WP_A, WP_B, JointWorld, all_codes, joint_world, shanghai
from sqlalchemy import select

from cnvisa.cases.actor import SYSTEM, Actor
from cnvisa.cases.errors import BadInput, Conflict, Forbidden, GuardFailed, InvalidCommand, NotFound
from cnvisa.cases.joint.decide import decide_work_permit_branch
from cnvisa.cases.workflow import Role
from cnvisa.law import calendar
from cnvisa.store.joint_tables import WorkPermit
from cnvisa.store.tables import Case, Holding, Notice


@pytest.fixture
async def jw(world: World) -> JointWorld:
    return await joint_world(world)


async def test_notice_supplement_accept_grant_issue_collect_together(jw: JointWorld) -> None:
    w, svc = jw.w, jw.svc
    missing = ("criminal_record_certificate", "health_certificate")
    j = await jw.apply(files=tuple(c for c in all_codes(WP_A) if c not in missing), actor=jw.org_staff)
    assert j["state"] == "submitted" and j["residence_branch"]["state"] == "submitted"
    assert j["work_permit_branch"]["state"] == "submitted" and j["clocks"] is None

    # ONE one-time notice for both branches: each item once, with the branches that need it
    j = await svc.joint_issue_notice(w.officer, j["joint_id"], j["version"], key=key())
    assert j["state"] == "deficient" and j["residence_branch"]["state"] == "deficient"
    assert j["notice"]["items"] == [
        {"code": "criminal_record_certificate", "required_by": ["work_permit"]},
        {"code": "health_certificate", "required_by": ["residence_permit", "work_permit"]},
    ]
    assert "Regulations Art 18 para 2" in j["notice"]["citations"]
    with pytest.raises(InvalidCommand):  # one notice while deficient
        await svc.joint_issue_notice(w.officer, j["joint_id"], j["version"], key=key())

    j = await svc.joint_supplement(
        w.applicant, j["joint_id"], j["version"], key=key(), files=[pdf(c) for c in missing]
    )
    assert j["state"] == "submitted"

    # ONE acceptance, ONE receipt covering both branches
    j = await svc.joint_accept(w.officer, j["joint_id"], j["version"], key=key(), **RETURNED)
    assert j["state"] == "accepted" and j["residence_branch"]["state"] == "accepted"
    assert j["receipt"]["number"] and j["receipt"]["covers"] == ["work_permit", "residence_permit"]
    assert j["receipt"]["valid_until"] == calendar.add_working_days(ON, 15).isoformat()
    ref = j["work_permit_branch"]["reference"]
    assert ref and j["work_permit_branch"]["state"] == "accepted"
    clocks = j["clocks"]
    assert clocks["work_permit_statutory_due"] == calendar.add_working_days(ON, 20).isoformat()
    assert clocks["service_commitment"]["jurisdiction"] == "shanghai"
    assert clocks["service_commitment"]["due"] == calendar.add_working_days(ON, 7).isoformat()
    assert j["waiting_for"] == ["work_permit", "residence_permit"]

    # parallel decisions: the work permit at the desk, the residence permit by the exit-entry office
    b = await svc.take_work_permit_branch(jw.wp_officer, ref, j["work_permit_branch"]["version"], key=key())
    assert b["branch"]["state"] == "under_review"
    b = await svc.grant_work_permit_branch(jw.wp_officer, ref, b["branch"]["version"], key=key(), **GRANT)
    assert b["branch"]["state"] == "granted" and b["work_permit"]["status"] == "granted"
    assert b["join"]["outcome"] == "pending" and b["join"]["waiting_for"] == ["residence_permit"]
    case_id = j["residence_branch"]["case_id"]
    c = await w.case(case_id)
    with pytest.raises(GuardFailed) as err:  # the join: the residence permit is not decided yet
        await svc.joint_issue_together(
            w.officer, j["joint_id"], (await jw.joint(j["joint_id"])).version, key=key()
        )
    assert err.value.guard == "join_issue_together"
    await w.svc.approve(w.officer, case_id, c.version, key=key())
    progress = await svc.joint_progress(w.applicant, j["joint_id"])
    assert progress["join"]["outcome"] == "issue_together" and progress["waiting_for"] == []

    # issued together in one transaction, collected together
    j = await svc.joint_issue_together(w.officer, j["joint_id"], progress["version"], key=key())
    assert j["state"] == "issued" and j["residence_branch"]["state"] == "issued"
    assert j["work_permit"]["status"] == "active"
    holding = await w.holding(j["residence_branch"]["issued_holding_id"])
    assert holding.valid_until == dt.date(
        2026, 10, 31
    )  # capped at the work permit's end (365 days would pass it)
    with pytest.raises(GuardFailed):
        await svc.joint_collect_together(
            w.officer, j["joint_id"], j["version"], key=key(), passport_presented=False, passport=PASSPORT
        )
    j = await svc.joint_collect_together(
        w.officer, j["joint_id"], j["version"], key=key(), passport_presented=True, passport=PASSPORT
    )
    assert j["state"] == "collected" and j["residence_branch"]["state"] == "collected"
    actions = await w.actions(case_id)
    assert actions[:2] == ["apply", "joint_apply"]
    assert {"joint_issue_notice", "joint_accept", "work_permit_granted", "joint_issue_together"} <= set(
        actions
    )
    assert (await w.verify()).ok


async def test_work_permit_refused_ends_the_residence_branch_as_not_issuable(jw: JointWorld) -> None:
    w, svc = jw.w, jw.svc
    j = await jw.accepted()
    ref = j["work_permit_branch"]["reference"]
    case_id = j["residence_branch"]["case_id"]
    c = await w.case(case_id)
    await w.svc.approve(w.officer, case_id, c.version, key=key())  # even an approved RP is not issuable
    before = await jw.counts()
    with pytest.raises(BadInput) as bad:  # ALL Art 38: reasons required
        await svc.refuse_work_permit_branch(
            jw.wp_officer, ref, j["work_permit_branch"]["version"], key=key(), grounds=[]
        )
    assert bad.value.field == "payload.grounds"
    assert await jw.counts() == before
    b = await svc.refuse_work_permit_branch(
        jw.wp_officer,
        ref,
        j["work_permit_branch"]["version"],
        key=key(),
        grounds=["the degree certificate is not authenticated"],
    )
    assert b["branch"]["state"] == "refused" and b["joint_state"] == "not_issuable"
    assert b["residence_case"]["state"] == "not_issuable"
    assert b["join"]["citations"] == ["Exit and Entry Administration Law Art 41", "Regulations Art 16(1)"]
    stored = await w.case(case_id)
    assert stored.state == "not_issuable" and stored.refusal_grounds == []  # ended, not refused
    assert (await w.actions(case_id))[-3:] == [
        "work_permit_refused",
        "end_not_issuable",
        "joint_close_not_issuable",
    ]
    assert (await w.verify()).ok


async def test_residence_refused_while_work_permit_granted_is_recorded(jw: JointWorld) -> None:
    w, svc = jw.w, jw.svc
    j = await jw.accepted()
    ref, case_id = j["work_permit_branch"]["reference"], j["residence_branch"]["case_id"]
    await svc.grant_work_permit_branch(
        jw.wp_officer, ref, j["work_permit_branch"]["version"], key=key(), **GRANT
    )
    c = await w.case(case_id)
    c2 = await w.svc.propose_refusal(w.officer, case_id, c.version, key=key(), grounds=["law31_2"])
    await w.svc.confirm_refusal(w.officer2, case_id, c2["version"], key=key())
    p = await svc.joint_progress(w.officer, j["joint_id"])
    assert p["join"]["outcome"] == "partial" and p["state"] == "accepted"
    with pytest.raises(Forbidden):
        await svc.joint_settle(w.applicant, j["joint_id"], p["version"], key=key())
    p = await svc.joint_settle(w.officer, j["joint_id"], p["version"], key=key())
    assert p["state"] == "partial" and p["work_permit"]["status"] == "active"  # the work permit stands
    with pytest.raises(InvalidCommand):
        await svc.joint_settle(w.officer, j["joint_id"], p["version"], key=key())


async def test_residence_refused_first_then_work_permit_granted_closes_partial(jw: JointWorld) -> None:
    w, svc = jw.w, jw.svc
    j = await jw.accepted()
    ref, case_id = j["work_permit_branch"]["reference"], j["residence_branch"]["case_id"]
    c = await w.case(case_id)
    c2 = await w.svc.propose_refusal(w.officer, case_id, c.version, key=key(), grounds=["law31_2"])
    await w.svc.confirm_refusal(w.officer2, case_id, c2["version"], key=key())
    b = await svc.grant_work_permit_branch(
        jw.wp_officer, ref, j["work_permit_branch"]["version"], key=key(), **GRANT
    )
    assert b["joint_state"] == "partial" and b["join"]["outcome"] == "partial"


async def test_withdrawal_ends_both(jw: JointWorld) -> None:
    w, svc = jw.w, jw.svc
    j = await jw.accepted()
    ref = j["work_permit_branch"]["reference"]
    await svc.take_work_permit_branch(jw.wp_officer, ref, j["work_permit_branch"]["version"], key=key())
    with pytest.raises(Forbidden):
        await svc.joint_withdraw(w.officer, j["joint_id"], j["version"], key=key())
    j = await svc.joint_withdraw(w.applicant, j["joint_id"], j["version"], key=key())
    assert j["state"] == "withdrawn" and j["residence_branch"]["state"] == "withdrawn"
    assert j["work_permit_branch"]["state"] == "withdrawn" and j["join"]["outcome"] == "withdrawn"
    before = await jw.counts()
    with pytest.raises(Conflict):
        await svc.grant_work_permit_branch(
            jw.wp_officer, ref, j["work_permit_branch"]["version"], key=key(), **GRANT
        )
    assert await jw.counts() == before


async def test_withdrawal_before_acceptance(jw: JointWorld) -> None:
    j = await jw.apply(actor=jw.w.agent)
    j = await jw.svc.joint_withdraw(jw.w.agent, j["joint_id"], j["version"], key=key())
    assert j["state"] == "withdrawn" and j["work_permit_branch"]["state"] == "withdrawn"


async def test_extension_once_within_the_receipt_in_beijing(jw: JointWorld) -> None:
    w, svc = jw.w, jw.svc
    j = await jw.accepted(WP_B, office_id=w.other_office_id)  # Beijing: 5 working days, every category
    ref = j["work_permit_branch"]["reference"]
    assert j["clocks"]["service_commitment"]["due"] == calendar.add_working_days(ON, 5).isoformat()
    with pytest.raises(Forbidden):  # the desk of another single window
        await svc.extend_work_permit_branch(
            jw.wp_officer, ref, j["work_permit_branch"]["version"], key=key(), reason="verification abroad"
        )
    with pytest.raises(BadInput) as bad:
        await svc.extend_work_permit_branch(
            jw.wp_officer_bj, ref, j["work_permit_branch"]["version"], key=key(), reason=" "
        )
    assert bad.value.field == "payload.reason"
    b = await svc.extend_work_permit_branch(
        jw.wp_officer_bj, ref, j["work_permit_branch"]["version"], key=key(), reason="verification abroad"
    )
    assert b["branch"]["extended"] is True
    assert b["branch"]["statutory_due"] == calendar.add_working_days(ON, 30).isoformat()
    p = await svc.joint_progress(jw.wp_officer_bj, j["joint_id"])
    assert p["clocks"]["service_commitment"]["due"] == calendar.add_working_days(ON, 15).isoformat()
    assert p["clocks"]["receipt_covers_work_permit"] is True
    before = await jw.counts()
    with pytest.raises(GuardFailed) as err:
        await svc.extend_work_permit_branch(
            jw.wp_officer_bj, ref, b["branch"]["version"], key=key(), reason="again"
        )
    assert err.value.guard == "extend_once" and "Art 42" in err.value.article
    assert await jw.counts() == before


async def test_extension_refused_when_it_would_outrun_the_receipt(jw: JointWorld) -> None:
    j = await jw.accepted()  # Shanghai category A: 7 + 10 = 17 working days > 15
    before = await jw.counts()
    with pytest.raises(GuardFailed) as err:
        await jw.svc.extend_work_permit_branch(
            jw.wp_officer,
            j["work_permit_branch"]["reference"],
            j["work_permit_branch"]["version"],
            key=key(),
            reason="more time",
        )
    assert err.value.guard == "receipt_covers_work_permit" and "Regulations Art 18" in err.value.article
    assert await jw.counts() == before
    assert (await jw.branch(j["joint_id"])).extended is False


async def test_no_commitment_no_joint_acceptance(jw: JointWorld) -> None:
    """Shanghai's commitment is for category A only: a category B application has none, and the statutory 20
    working days outrun the 15-day receipt — the acceptance is refused with nothing written."""
    w = jw.w
    j = await jw.apply(WP_B)
    before = await jw.counts()
    with pytest.raises(GuardFailed) as err:
        await jw.svc.joint_accept(w.officer, j["joint_id"], j["version"], key=key(), **RETURNED)
    assert err.value.guard == "receipt_covers_work_permit" and "no service commitment" in err.value.detail
    assert await jw.counts() == before
    assert (await jw.joint(j["joint_id"])).state == "submitted"
    assert (await w.case(j["residence_branch"]["case_id"])).receipt_number is None


@pytest.mark.parametrize(("hour", "minute"), [(0, 30), (7, 59), (16, 1), (23, 59)])
async def test_acceptance_dates_do_not_shift_with_the_hour(
    make_world: Callable[..., Awaitable[World]], hour: int, minute: int
) -> None:
    w = await make_world(shanghai(ON, hour, minute))
    jw = await joint_world(w)
    j = await jw.accepted()
    assert (await jw.joint(j["joint_id"])).accepted_on == ON
    assert j["clocks"]["accepted_on"] == ON.isoformat()
    assert j["receipt"]["valid_until"] == calendar.add_working_days(ON, 15).isoformat()
    assert j["clocks"]["work_permit_statutory_due"] == calendar.add_working_days(ON, 20).isoformat()
    assert j["clocks"]["service_commitment"]["due"] == calendar.add_working_days(ON, 7).isoformat()
    assert j["receipt"]["number"].startswith(f"RSH01{ON:%y%m%d}")


async def test_invalid_transitions_are_refused_with_nothing_written(jw: JointWorld) -> None:
    w, svc = jw.w, jw.svc
    j = await jw.apply()
    before = await jw.counts()
    with pytest.raises(
        InvalidCommand
    ):  # nothing is missing: accept instead … but first, wrong state commands
        await svc.joint_collect_together(
            w.officer, j["joint_id"], j["version"], key=key(), passport_presented=True, passport=PASSPORT
        )
    with pytest.raises(GuardFailed):
        await svc.joint_issue_notice(w.officer, j["joint_id"], j["version"], key=key())
    with pytest.raises(Forbidden):
        await svc.joint_accept(w.applicant, j["joint_id"], j["version"], key=key(), **RETURNED)
    with pytest.raises(Forbidden):
        await svc.joint_accept(w.foreign_officer, j["joint_id"], j["version"], key=key(), **RETURNED)
    with pytest.raises(Conflict):
        await svc.joint_accept(w.officer, j["joint_id"], j["version"] + 1, key=key(), **RETURNED)
    assert await jw.counts() == before
    j = await svc.joint_accept(w.officer, j["joint_id"], j["version"], key=key(), **RETURNED)
    ref = j["work_permit_branch"]["reference"]
    before = await jw.counts()
    async with w.sessions() as s, s.begin():
        with pytest.raises(BadInput) as bad:
            await decide_work_permit_branch(
                s,
                correlation_id=ref,
                kind="approved",
                payload={},
                actor=SYSTEM,
                via="external",
                now=w.clock.now(),
            )
        assert bad.value.field == "kind"
        with pytest.raises(BadInput) as bad:
            await decide_work_permit_branch(
                s, correlation_id=ref, kind="granted", payload={}, actor=SYSTEM, via="fax", now=w.clock.now()
            )
        assert bad.value.field == "via"
        with pytest.raises(Forbidden):  # via desk needs a work-permit officer
            await decide_work_permit_branch(
                s,
                correlation_id=ref,
                kind="under_review",
                payload={},
                actor=SYSTEM,
                via="desk",
                now=w.clock.now(),
            )
        with pytest.raises(NotFound):
            await decide_work_permit_branch(
                s,
                correlation_id="nope",
                kind="under_review",
                payload={},
                actor=SYSTEM,
                via="external",
                now=w.clock.now(),
            )
        with pytest.raises(BadInput) as bad:
            await decide_work_permit_branch(
                s,
                correlation_id=ref,
                kind="granted",
                payload={**GRANT, "valid_until": "2025-11-01"},
                actor=SYSTEM,
                via="external",
                now=w.clock.now(),
            )
        assert bad.value.field == "payload.valid_until"
    assert await jw.counts() == before
    # the external system's decisions, through the same entry point; the caller commits
    async with w.sessions() as s, s.begin():
        out = await decide_work_permit_branch(
            s,
            correlation_id=ref,
            kind="granted",
            payload={**GRANT, "external_reference": "EXT-1"},
            actor=SYSTEM,
            via="external",
            now=w.clock.now(),
        )
    assert out["branch"]["decided_via"] == "external" and out["branch"]["external_reference"] == "EXT-1"
    before = await jw.counts()
    with pytest.raises(Conflict):  # granted is final: a refusal after it is not a transition of the branch
        await svc.refuse_work_permit_branch(
            jw.wp_officer, ref, out["branch"]["version"], key=key(), grounds=["x"]
        )
    with pytest.raises(Conflict):  # stale version
        await svc.take_work_permit_branch(jw.wp_officer, ref, 1, key=key())
    assert await jw.counts() == before


async def test_the_desk_queue_orders_by_the_earlier_due(jw: JointWorld) -> None:
    w, svc = jw.w, jw.svc
    first = await jw.accepted()
    w.clock.advance(days=1)
    second = await jw.accepted()
    queue = await svc.work_permit_desk_queue(jw.wp_officer)
    assert [r["joint_id"] for r in queue] == [first["joint_id"], second["joint_id"]]
    assert queue[0]["due"] == queue[0]["service_commitment_due"] < queue[0]["statutory_due"]
    await svc.grant_work_permit_branch(
        jw.wp_officer,
        first["work_permit_branch"]["reference"],
        first["work_permit_branch"]["version"],
        key=key(),
        **GRANT,
    )
    assert [r["joint_id"] for r in await svc.work_permit_desk_queue(jw.wp_officer)] == [second["joint_id"]]
    assert await svc.work_permit_desk_queue(jw.wp_officer_bj) == []
    with pytest.raises(Forbidden):
        await svc.work_permit_desk_queue(w.officer)
    with pytest.raises(Forbidden):
        await svc.joint_progress(w.other_applicant, first["joint_id"])


async def test_submission_checks(jw: JointWorld) -> None:
    w = jw.w
    before = await jw.counts()
    with pytest.raises(Forbidden):  # employer staff of another organisation
        await jw.apply(
            actor=Actor(None, Role.ORG_STAFF, organisation_id=-1, represents=frozenset({w.person_id}))
        )
    with pytest.raises(Forbidden):
        await jw.apply(actor=w.agent_without_mandate)
    with pytest.raises(BadInput) as bad:
        await jw.apply({**WP_A, "category": "D"}, files=("passport",))
    assert bad.value.field == "work_permit.category"
    with pytest.raises(BadInput) as bad:
        await jw.apply(files=("passport", "visa_page"))
    assert bad.value.field == "files[visa_page]"
    assert await jw.counts() == before
    async with w.sessions() as s:
        assert (await s.execute(select(Case))).first() is None
        assert (await s.execute(select(Notice))).first() is None
        assert (await s.execute(select(Holding))).first() is None
        assert (await s.execute(select(WorkPermit))).first() is None


async def test_the_residence_branch_is_not_issued_collected_or_withdrawn_on_its_own(jw: JointWorld) -> None:
    w, svc = jw.w, jw.svc
    j = await jw.accepted()
    case_id = j["residence_branch"]["case_id"]
    with pytest.raises(InvalidCommand, match="joint application"):
        await w.svc.withdraw(w.applicant, case_id, (await w.case(case_id)).version, key=key())
    await svc.grant_work_permit_branch(
        jw.wp_officer,
        j["work_permit_branch"]["reference"],
        j["work_permit_branch"]["version"],
        key=key(),
        **GRANT,
    )
    await w.svc.approve(w.officer, case_id, (await w.case(case_id)).version, key=key())
    before = await jw.counts()
    with pytest.raises(InvalidCommand, match="joint application"):
        await w.svc.issue(w.officer, case_id, (await w.case(case_id)).version, key=key())
    assert await jw.counts() == before
    j = await svc.joint_issue_together(
        w.officer, j["joint_id"], (await jw.joint(j["joint_id"])).version, key=key()
    )
    with pytest.raises(InvalidCommand, match="joint application"):
        await w.svc.collect(
            w.officer, case_id, (await w.case(case_id)).version, key=key(), passport_presented=True
        )


async def test_a_repeated_key_replays_and_writes_nothing(jw: JointWorld) -> None:
    w, svc = jw.w, jw.svc
    j = await jw.apply()
    k = key()
    first = await svc.joint_accept(w.officer, j["joint_id"], j["version"], key=k, **RETURNED)
    before = await jw.counts()
    again = await svc.joint_accept(w.officer, j["joint_id"], j["version"], key=k, **RETURNED)
    assert again["replayed"] is True and again["receipt"] == first["receipt"]
    ref, version = first["work_permit_branch"]["reference"], first["work_permit_branch"]["version"]
    k = key()
    granted = await svc.grant_work_permit_branch(jw.wp_officer, ref, version, key=k, **GRANT)
    after_grant = await jw.counts()
    replay = await svc.grant_work_permit_branch(jw.wp_officer, ref, version, key=k, **GRANT)
    assert replay["work_permit"] == granted["work_permit"] and replay["replayed"] is True
    assert await jw.counts() == after_grant and after_grant[3] == before[3] + 1
    with pytest.raises(BadInput) as bad:  # the same key with another request
        await svc.grant_work_permit_branch(
            jw.wp_officer, ref, version, key=k, **{**GRANT, "position": "Other"}
        )
    assert bad.value.field == "idempotency_key"


async def test_racing_acceptances_end_in_one_receipt_and_no_error(jw: JointWorld) -> None:
    """A retry racing its first try (one key, four times) and a second try under another key, at once: one
    receipt; every answer is that acceptance (replayed) or a 409 — on PostgreSQL the race was a deadlock (500)
    before the joint application's row was locked at the read (``JointBase._load_joint_at``)."""
    w, svc = jw.w, jw.svc
    j = await jw.apply()
    kept = {"passport_kept": True, "retention_reason": "applicant_request"}
    k = key()

    async def accept(k: str) -> dict[str, Any] | Conflict:
        try:
            return await svc.joint_accept(w.officer, j["joint_id"], j["version"], key=k, **kept)
        except Conflict as exc:
            return exc

    answers = await asyncio.wait_for(asyncio.gather(*[accept(k) for _ in range(4)], accept(key())), 60)
    receipts = {a["receipt"]["number"] for a in answers if isinstance(a, dict)}
    assert len(receipts) == 1, answers
    if isinstance(answers[4], dict):  # the other key won: the first key's tries are all 409
        assert all(isinstance(a, Conflict) for a in answers[:4])
    else:
        assert all(isinstance(a, dict) for a in answers[:4])
    async with w.sessions() as s:
        numbers = (await s.execute(select(Case.receipt_number).where(Case.receipt_number.is_not(None)))).all()
    assert len(numbers) == 1


async def test_an_unanswered_notice_lapses_the_joint_application_with_its_case(jw: JointWorld) -> None:
    w, svc = jw.w, jw.svc
    j = await jw.apply(files=tuple(c for c in all_codes(WP_A) if c != "employment_contract"))
    j = await svc.joint_issue_notice(w.officer, j["joint_id"], j["version"], key=key())
    assert [i["code"] for i in j["notice"]["items"]] == ["employment_contract"]
    w.clock.set(dt.date.fromisoformat(j["notice"]["respond_by"]) + dt.timedelta(days=1))
    assert await w.svc.lapse_due() == [j["residence_branch"]["number"]]
    p = await svc.joint_progress(w.applicant, j["joint_id"])
    assert p["state"] == "lapsed" and p["residence_branch"]["state"] == "lapsed"
    assert p["work_permit_branch"]["state"] == "withdrawn"
    assert (await w.verify()).ok
