"""Whether a case is the residence branch of a joint application (cnvisa.cases.joint): such a case is issued,
collected and withdrawn only with its joint application (issue together, collect together, withdrawal ends both),
never on its own."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases.actor import SYSTEM
from cnvisa.cases.errors import InvalidCommand
from cnvisa.cases.joint import parent_flow as pf
from cnvisa.cases.joint import work_permit_flow as wf
from cnvisa.cases.joint.decide import load_joint_parts, record
from cnvisa.store.joint_tables import JointApplication
from cnvisa.store.tables import Case


async def refuse_if_joint(s: AsyncSession, case: Case, command: str) -> None:
    number = (
        await s.execute(select(JointApplication.number).where(JointApplication.case_id == case.id))
    ).scalar_one_or_none()
    if number is not None:
        raise InvalidCommand(
            f"case {case.number} is the residence branch of joint application {number}: {command} it with the "
            "joint application (both permits are issued and collected together; withdrawal ends both)"
        )


async def lapse_with_case(s: AsyncSession, case: Case, now: dt.datetime) -> None:
    """The residence case of a joint application lapsed (its one-time notice unanswered): the joint application
    lapses with it and its work-permit branch (not yet accepted) is withdrawn, in the same transaction."""
    joint = (
        await s.execute(select(JointApplication).where(JointApplication.case_id == case.id))
    ).scalar_one_or_none()
    if joint is None:
        return
    branch, _ = await load_joint_parts(s, joint)
    jt = pf.transition(pf.JState(joint.state), pf.JCommand.LAPSE)
    wt = wf.transition(wf.WState(branch.state), wf.WCommand.WITHDRAW)
    if jt is None or wt is None:
        raise InvalidCommand(f"joint application {joint.number} cannot lapse when it is {joint.state}")
    steps = ((joint, jt.next, str(pf.JCommand.LAPSE)), (branch, wt.next, "work_permit_withdraw"))
    for obj, after, action in steps:
        before = obj.state
        obj.state, obj.updated_at = str(after), now
        await record(
            s,
            now=now,
            actor=SYSTEM,
            case_id=case.id,
            office_id=joint.window_office_id,
            action=action,
            before=before,
            after=obj.state,
            detail={"joint": joint.number, "cause": "notice_unanswered"},
        )
