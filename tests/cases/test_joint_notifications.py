"""A joint application's decisions reach the applicant through the outbox, in the decision's own transaction
(issues 10 and 12): the work permit granted; the work permit refused — one message that also says the residence
permit applied for with it cannot be issued (Law Art 41; Regulations Art 16(1)), not refused. Both engines."""

from __future__ import annotations

import pytest
from case_helpers import World, key
from joint_helpers import GRANT, JointWorld, joint_world
from notify_helpers import outbox
from sqlalchemy import select

from cnvisa.cases.channels import INBOX
from cnvisa.cases.inbox import InboxService
from cnvisa.store.outbox_tables import Notification


@pytest.fixture
async def jw(world: World) -> JointWorld:
    return await joint_world(world)


async def _stages(w: World, case_id: int) -> list[tuple[str, int]]:
    async with w.sessions() as s:
        q = select(Notification.stage, Notification.recipient_account_id).where(
            Notification.subject_kind == "case", Notification.subject_id == case_id
        )
        return sorted((await s.execute(q)).tuples())


async def test_the_work_permit_refused_is_told_once_with_what_it_means_for_the_residence_permit(
    jw: JointWorld,
) -> None:
    w = jw.w
    j = await jw.accepted()
    case_id = j["residence_branch"]["case_id"]
    b = j["work_permit_branch"]
    await jw.svc.refuse_work_permit_branch(
        jw.wp_officer, b["reference"], b["version"], key=key(), grounds=["the degree is not authenticated"]
    )
    told = [
        st for st in await _stages(w, case_id) if st[0].startswith("work_permit") or st[0] == "not_issuable"
    ]
    assert told == [("work_permit_refused", w.applicant.account_id)]  # one message, not one per consequence
    await outbox(w.sessions, w.clock).deliver_due()
    items = (await InboxService(w.sessions, w.clock, (INBOX,)).inbox(w.applicant))["items"]
    [m] = [i for i in items if i["stage"] == "work_permit_refused"]
    assert m["language"] == "zh_CN" and m["subject"].endswith("工作许可不予批准")
    assert "不能签发" in m["body"] and "第四十一条" in m["body"] and "不是对居留许可申请的拒绝" in m["body"]


async def test_the_work_permit_granted_is_told_in_the_readers_language(jw: JointWorld) -> None:
    w = jw.w
    await InboxService(w.sessions, w.clock, (INBOX,)).set_preferences(w.applicant, language="en", channels=[])
    j = await jw.accepted()
    case_id = j["residence_branch"]["case_id"]
    b = j["work_permit_branch"]
    await jw.svc.grant_work_permit_branch(jw.wp_officer, b["reference"], b["version"], key=key(), **GRANT)
    assert ("work_permit_granted", w.applicant.account_id) in await _stages(w, case_id)
    await outbox(w.sessions, w.clock).deliver_due()
    items = (await InboxService(w.sessions, w.clock, (INBOX,)).inbox(w.applicant))["items"]
    [m] = [i for i in items if i["stage"] == "work_permit_granted"]
    assert m["subject"].endswith("the work permit is granted") and "issued together" in m["body"]
