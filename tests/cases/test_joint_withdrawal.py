"""Withdrawal ends both branches of a joint application in any open state before the join — even when the
residence branch is approved or a refusal is proposed — by a system-only command of the case table that only
the joint service runs; an ordinary case keeps its own table. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from case_helpers import World, key
from joint_helpers import GRANT, JointWorld, joint_world

from cnvisa.cases.errors import GuardFailed, InvalidCommand
from cnvisa.cases.workflow import GUARD_ARTICLES, TRANSITIONS, Command, Role, State, allowed_commands


@pytest.fixture
async def jw(world: World) -> JointWorld:
    return await joint_world(world)


def test_the_joint_withdrawal_is_a_system_only_command_with_its_reading() -> None:
    rows = {s: t for (s, c), t in TRANSITIONS.items() if c is Command.WITHDRAW_WITH_JOINT}
    assert set(rows) == {
        State.SUBMITTED,
        State.DEFICIENT,
        State.ACCEPTED,
        State.UNDER_VERIFICATION,
        State.REFUSAL_PROPOSED,
        State.APPROVED,
    }
    assert all(t.roles == frozenset({Role.SYSTEM}) and t.next is State.WITHDRAWN for t in rows.values())
    assert all(t.guards == ("joint_withdrawal",) for t in rows.values())
    assert (
        "Reading" in GUARD_ARTICLES["joint_withdrawal"]
        and "reforms.md §1" in GUARD_ARTICLES["joint_withdrawal"]
    )
    for role in Role:
        if role is not Role.SYSTEM:
            for state in State:
                assert Command.WITHDRAW_WITH_JOINT not in allowed_commands(state, role)
    # the ordinary table is unchanged: no withdrawal once approved or a refusal is proposed
    assert (State.APPROVED, Command.WITHDRAW) not in TRANSITIONS
    assert (State.REFUSAL_PROPOSED, Command.WITHDRAW) not in TRANSITIONS


async def test_withdrawal_after_the_residence_approval_ends_both(jw: JointWorld) -> None:
    w, svc = jw.w, jw.svc
    j = await jw.accepted()
    case_id = j["residence_branch"]["case_id"]
    await w.svc.approve(w.officer, case_id, (await w.case(case_id)).version, key=key())
    j = await svc.joint_withdraw(
        w.applicant, j["joint_id"], (await jw.joint(j["joint_id"])).version, key=key()
    )
    assert j["state"] == "withdrawn" and j["residence_branch"]["state"] == "withdrawn"
    assert j["work_permit_branch"]["state"] == "withdrawn"
    actions = await w.actions(case_id)
    assert actions[-3:] == ["withdraw_with_joint", "work_permit_withdraw", "joint_withdraw"]
    assert (await w.verify()).ok


async def test_withdrawal_while_a_refusal_is_proposed_ends_both(jw: JointWorld) -> None:
    w, svc = jw.w, jw.svc
    j = await jw.accepted()
    case_id = j["residence_branch"]["case_id"]
    await w.svc.propose_refusal(
        w.officer, case_id, (await w.case(case_id)).version, key=key(), grounds=["law31_2"]
    )
    j = await svc.joint_withdraw(w.agent, j["joint_id"], (await jw.joint(j["joint_id"])).version, key=key())
    assert j["state"] == "withdrawn" and j["residence_branch"]["state"] == "withdrawn"


async def test_withdrawal_after_the_join_is_refused_with_nothing_written(jw: JointWorld) -> None:
    w, svc = jw.w, jw.svc
    j = await jw.accepted()
    case_id = j["residence_branch"]["case_id"]
    ref = j["work_permit_branch"]["reference"]
    await svc.grant_work_permit_branch(
        jw.wp_officer, ref, j["work_permit_branch"]["version"], key=key(), **GRANT
    )
    await w.svc.approve(w.officer, case_id, (await w.case(case_id)).version, key=key())
    before = await jw.counts()
    with pytest.raises(GuardFailed) as err:
        await svc.joint_withdraw(
            w.applicant, j["joint_id"], (await jw.joint(j["joint_id"])).version, key=key()
        )
    assert err.value.guard == "join_pending"
    assert await jw.counts() == before
    assert (await w.case(case_id)).state == "approved"


async def test_an_ordinary_approved_case_still_cannot_be_withdrawn(jw: JointWorld) -> None:
    w = jw.w
    c = await w.accepted()
    c = await w.svc.approve(w.officer, c["case_id"], c["version"], key=key())
    with pytest.raises(InvalidCommand):
        await w.svc.withdraw(w.applicant, c["case_id"], c["version"], key=key())
