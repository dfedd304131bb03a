"""A joint application whose work-permit authority is external, end to end against WorkPermitAuthorityStub on
SQLite and PostgreSQL: accepted → the correlation opened and the submission put in the outbox in the acceptance's
transaction → sent after the commit (once, even with a retry) → the authority decides → the poll applies it
through ``receive`` with ``decide_work_permit_branch`` (via external, the system actor) → issued together; the
authority refuses → the residence case is not issuable; a duplicate changes nothing; an out-of-order message is
refused and audited; a withdrawal is notified."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from case_helpers import World, key
from joint_helpers import GRANT, RETURNED, JointWorld, joint_world
from lock_helpers import hold_then_take_every_head, postgresql_only
from sqlalchemy import select

from cnvisa.cases.actor import SYSTEM
from cnvisa.cases.agencies import (
    AgencyMessage,
    WorkPermitClient,
    WorkPermitClientConfig,
    deliver_pending,
    poll_once,
    receive,
)
from cnvisa.cases.agencies.stub import WorkPermitAuthorityStub
from cnvisa.cases.errors import Forbidden
from cnvisa.cases.joint.decide import decide_work_permit_branch
from cnvisa.cases.joint.external import WorkPermitRouting
from cnvisa.cases.joint.service import JointService
from cnvisa.store.agency_tables import AgencyCorrelation, InterAgencyMessage
from cnvisa.store.joint_tables import WorkPermitBranch
from cnvisa.store.tables import AuditEvent

pytestmark = pytest.mark.timeout(120)
SH = WorkPermitRouting(frozenset({"SH01"}))


async def _no_sleep(seconds: float) -> None:
    return None


@pytest.fixture
async def stub() -> WorkPermitAuthorityStub:
    return WorkPermitAuthorityStub()


@pytest.fixture
async def client(stub: WorkPermitAuthorityStub) -> AsyncIterator[WorkPermitClient]:
    config = WorkPermitClientConfig(base_url="http://wp.stub", backoff=0.0, backoff_max=0.0)
    async with WorkPermitClient(config, transport=httpx.ASGITransport(app=stub.app), sleep=_no_sleep) as c:
        yield c


@pytest.fixture
async def jw(world: World, client: WorkPermitClient) -> JointWorld:
    jw = await joint_world(world)
    jw.svc = JointService(world.sessions, world.clock, routing=SH, work_permit_client=client)
    return jw


async def _poll(jw: JointWorld, client: WorkPermitClient) -> list[Any]:
    return await poll_once(jw.w.sessions, client, decide_work_permit_branch, SYSTEM, jw.w.clock)


async def _state(jw: JointWorld, joint_id: int) -> tuple[Any, ...]:
    j = await jw.joint(joint_id)
    b = await jw.branch(joint_id)
    c = await jw.w.case(j.case_id)
    return (j.state, j.version, b.state, b.version, c.state, c.version)


async def _correlation(jw: JointWorld, ref: str) -> AgencyCorrelation | None:
    async with jw.w.sessions() as s:
        return await s.get(AgencyCorrelation, ref)


async def test_granted_by_the_external_authority_then_issued_together(
    jw: JointWorld, stub: WorkPermitAuthorityStub, client: WorkPermitClient
) -> None:
    w, svc = jw.w, jw.svc
    applied = await jw.apply()
    stub.fail_next(1, "error_after")  # the authority does it, then its answer is lost: the client retries
    k = key()
    j = await svc.joint_accept(w.officer, applied["joint_id"], applied["version"], key=k, **RETURNED)
    ref = j["work_permit_branch"]["reference"]
    assert j["work_permit_branch"]["route"] == "external"
    assert j["work_permit_submission"]["outcome"] == "delivered"
    assert stub.effects == [("submission", ref)]  # once, although sent twice
    assert len(stub.requests) == 2
    sent = stub.branches[ref]["payload"]
    assert sent["category"] == "A" and sent["employer_uscc"] == "91310000MA1FL0000X"
    assert {m["code"] for m in sent["materials"]} >= {"passport", "employment_contract"}
    again = await svc.joint_accept(
        w.officer, applied["joint_id"], applied["version"], key=k, **RETURNED
    )  # a retried acceptance
    assert again["replayed"] is True and stub.effects == [("submission", ref)]
    assert len(stub.requests) == 2  # delivered before: not sent again

    # the desk neither lists nor decides it
    assert await svc.work_permit_desk_queue(jw.wp_officer) == []
    with pytest.raises(Forbidden):
        await svc.take_work_permit_branch(jw.wp_officer, ref, j["work_permit_branch"]["version"], key=key())

    stub.decide(ref, "under_review")
    stub.decide(ref, "granted", {**GRANT, "number": "310000202500001", "external_reference": "WP-00000001"})
    receipts = await _poll(jw, client)
    assert [r.outcome for r in receipts] == ["applied", "applied"]
    b = await jw.branch(j["joint_id"])
    assert (b.state, b.decided_via, b.external_reference) == ("granted", "external", "WP-00000001")
    corr = await _correlation(jw, ref)
    assert (
        corr is not None and corr.last_sequence_in == 2 and corr.closed_at is not None
    )  # decided: not polled
    assert await _poll(jw, client) == []
    async with w.sessions() as s:
        applied = (
            await s.execute(select(AuditEvent).where(AuditEvent.action == "agency_message_applied"))
        ).scalars()
        assert [e.case_id for e in applied] == [j["residence_branch"]["case_id"]] * 2  # on the case's trail

    # a duplicate (the authority sends message 2 again) changes nothing
    before = await _state(jw, j["joint_id"])
    async with w.sessions() as s:
        dup = await receive(
            s,
            AgencyMessage.from_wire(stub.messages[ref][1]),
            decide_work_permit_branch,
            SYSTEM,
            now=w.clock.now(),
        )
    assert dup.outcome == "duplicate"
    assert await _state(jw, j["joint_id"]) == before

    # an out-of-order message (sequence 5, the next expected is 3) is refused, recorded and audited
    late = AgencyMessage(
        message_id="WP-MSG-LATE",
        correlation_id=ref,
        sequence=5,
        kind="refused",
        payload={"grounds": ["too late"]},
        sent_at=w.clock.now(),
        sender="WP",
    )
    async with w.sessions() as s:
        r = await receive(s, late, decide_work_permit_branch, SYSTEM, now=w.clock.now())
    assert (r.outcome, r.reason, r.response["expected_sequence"]) == ("refused", "out_of_order", 3)
    assert await _state(jw, j["joint_id"]) == before
    async with w.sessions() as s:
        events = (
            await s.execute(select(AuditEvent).where(AuditEvent.action == "agency_message_refused"))
        ).scalars()
        assert [e.detail["reason"] for e in events] == ["out_of_order"]

    # both granted: issued together
    case_id = j["residence_branch"]["case_id"]
    await w.svc.approve(w.officer, case_id, (await w.case(case_id)).version, key=key())
    out = await svc.joint_issue_together(
        w.officer, j["joint_id"], (await jw.joint(j["joint_id"])).version, key=key()
    )
    assert out["state"] == "issued" and out["work_permit"]["status"] == "active"
    assert out["work_permit"]["number"] == "310000202500001"
    assert (await w.verify()).ok


async def test_refused_by_the_external_authority_the_residence_case_is_not_issuable(
    jw: JointWorld, stub: WorkPermitAuthorityStub, client: WorkPermitClient
) -> None:
    w, svc = jw.w, jw.svc
    j = await jw.accepted()
    ref = j["work_permit_branch"]["reference"]
    stub.decide(ref, "refused", {"grounds": ["the degree certificate is not authenticated"]})
    [r] = await _poll(jw, client)
    assert r.outcome == "applied"
    p = await svc.joint_progress(w.officer, j["joint_id"])
    assert p["state"] == "not_issuable" and p["residence_branch"]["state"] == "not_issuable"
    assert p["work_permit_branch"]["decided_via"] == "external"
    assert (await w.verify()).ok


async def test_a_withdrawal_is_notified_to_the_authority(
    jw: JointWorld, stub: WorkPermitAuthorityStub, client: WorkPermitClient
) -> None:
    w, svc = jw.w, jw.svc
    j = await jw.accepted()
    ref = j["work_permit_branch"]["reference"]
    out = await svc.joint_withdraw(w.applicant, j["joint_id"], j["version"], key=key())
    assert out["state"] == "withdrawn"
    assert out["work_permit_withdrawal_notice"] == {
        "kind": "withdrawal",
        "outcome": "delivered",
        "reason": None,
        "sent_now": True,
    }
    assert stub.effects == [("submission", ref), ("withdrawal", ref)]
    assert stub.branches[ref]["withdrawn"] is True
    corr = await _correlation(jw, ref)
    assert corr is not None and corr.closed_at is not None
    # the authority's decision after the withdrawal is not polled any more
    stub.decide(ref, "granted", {**GRANT})
    assert await _poll(jw, client) == []


async def test_the_outbox_keeps_the_submission_until_the_worker_sends_it(
    world: World, stub: WorkPermitAuthorityStub, client: WorkPermitClient
) -> None:
    """A service without a client (the web process): the acceptance commits the correlation and the pending
    submission; nothing reaches the authority until ``deliver_pending`` (``cnvisa agency poll``) sends it."""
    jw = await joint_world(world)
    jw.svc = JointService(world.sessions, world.clock, routing=SH)
    j = await jw.accepted()
    ref = j["work_permit_branch"]["reference"]
    assert j["work_permit_submission"] == {"outcome": "pending", "sent_by": "cnvisa agency poll"}
    assert stub.effects == []
    async with world.sessions() as s:
        [row] = (await s.execute(select(InterAgencyMessage))).scalars()
        assert (row.direction, row.kind, row.outcome, row.correlation_id) == (
            "out",
            "submission",
            "pending",
            ref,
        )
    stub.fail_next(4, "error")  # the authority down: failed, kept for the next run
    [d] = await deliver_pending(world.sessions, client, actor=SYSTEM, clock=world.clock)
    assert d.outcome == "failed" and stub.effects == []
    [d] = await deliver_pending(world.sessions, client, actor=SYSTEM, clock=world.clock)
    assert d.outcome == "delivered" and stub.effects == [("submission", ref)]
    assert await deliver_pending(world.sessions, client, actor=SYSTEM, clock=world.clock) == []


async def test_the_desk_route_is_the_default(world: World) -> None:
    jw = await joint_world(world)
    j = await jw.accepted()  # JointService(sessions, clock): CNVISA_WORK_PERMIT_EXTERNAL unset
    assert j["work_permit_branch"]["route"] == "desk" and "work_permit_submission" not in j
    assert await _correlation(jw, j["work_permit_branch"]["reference"]) is None
    assert [r["joint_id"] for r in await jw.svc.work_permit_desk_queue(jw.wp_officer)] == [j["joint_id"]]
    async with world.sessions() as s:
        assert (await s.execute(select(WorkPermitBranch.state))).scalar_one() == "accepted"


def test_routing_reads_office_codes_jurisdictions_or_every_office() -> None:
    r = WorkPermitRouting.from_env({"CNVISA_WORK_PERMIT_EXTERNAL": " SH01, beijing "})
    assert r.route("SH01", None) == "external" and r.route("BJ01", "beijing") == "external"
    assert r.route("GZ01", "guangdong") == "desk"
    assert WorkPermitRouting.from_env({}).route("SH01", "shanghai") == "desk"
    assert WorkPermitRouting.from_env({"CNVISA_WORK_PERMIT_EXTERNAL": "*"}).route("X", None) == "external"


# -- the audit chain's head is the last lock (cnvisa.cases.audit.append) --------------------------------------


async def test_a_polled_refusal_takes_no_head_before_the_residence_case(
    jw: JointWorld, stub: WorkPermitAuthorityStub, client: WorkPermitClient
) -> None:
    """The authority's refusal ends the residence case as not issuable in the poll's transaction (its handler
    records the branch's decision, tells the applicant, then moves the case). The decision's audit event was
    written at once, so the poll held its chain's head while it waited for the case's row: a command holding
    the case and appending after (an officer's step) deadlocked with it. Now every event of the message goes
    last, in one group with its receipt."""
    postgresql_only(jw.w.sessions)
    j = await jw.accepted()
    ref, case_id = j["work_permit_branch"]["reference"], j["residence_branch"]["case_id"]
    stub.decide(ref, "refused", {"grounds": ["the degree certificate is not authenticated"]})
    receipts = await hold_then_take_every_head(
        jw.w.sessions,
        "SELECT id FROM cases WHERE id = :c FOR UPDATE",
        {"c": case_id},
        lambda: _poll(jw, client),
    )
    assert [r.outcome for r in receipts] == ["applied"]
    assert (await jw.w.case(case_id)).state == "not_issuable"
    async with jw.w.sessions() as s:
        actions = (
            (
                await s.execute(
                    select(AuditEvent.action).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
                )
            )
            .scalars()
            .all()
        )
    # in the order the message's transaction did them, its receipt last
    assert actions.index("work_permit_refused") < actions.index("end_not_issuable") < len(actions) - 1
    assert actions[-1] == "agency_message_applied"
    assert (await jw.w.verify()).ok


async def test_a_withdrawal_notified_to_the_authority_takes_no_head_before_the_work_permit(
    jw: JointWorld, stub: WorkPermitAuthorityStub, client: WorkPermitClient
) -> None:
    """A withdrawal after the authority granted the permit puts the notice in the outbox, then cancels the
    permit. The outgoing message's audit event was written at once (a head of a chain drawn at random), so the
    withdrawal held it while it waited for the permit's row, then took its case's head too, in no set order.
    Now the outbox's event joins the command's group, written last."""
    postgresql_only(jw.w.sessions)
    w, svc = jw.w, jw.svc
    j = await jw.accepted()
    ref = j["work_permit_branch"]["reference"]
    stub.decide(ref, "granted", {**GRANT, "number": "310000202500002"})
    assert [r.outcome for r in await _poll(jw, client)] == ["applied"]
    permit_id = (await jw.branch(j["joint_id"])).work_permit_id
    version = (await jw.joint(j["joint_id"])).version
    out = await hold_then_take_every_head(
        w.sessions,
        "SELECT id FROM work_permits WHERE id = :p FOR UPDATE",
        {"p": permit_id},
        lambda: svc.joint_withdraw(w.applicant, j["joint_id"], version, key=key()),
    )
    assert out["state"] == "withdrawn" and out["work_permit_withdrawal_notice"]["outcome"] == "delivered"
    assert stub.branches[ref]["withdrawn"] is True
    async with w.sessions() as s:
        sent = (
            (await s.execute(select(AuditEvent.detail).where(AuditEvent.action.like("agency_message_%"))))
            .scalars()
            .all()
        )
    assert any(d.get("kind") == "withdrawal" for d in sent)
    assert (await w.verify()).ok
