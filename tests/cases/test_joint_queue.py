"""The exit-entry officer's main queue (issue 10 §1 "two clocks on every joint case ... the officer queue shows
both, and which branch is waiting"): a case that is a joint application's residence branch carries the joint
application's number, the service commitment's due (the second clock; the case's own deadline is the receipt's)
and the branch the join is waiting for — read in the queue's one statement (no read per row), for the API's queue
and the page's. A plain case carries none. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from case_helpers import World, key
from joint_helpers import GRANT, JointWorld, joint_world
from sqlalchemy import event

from cnvisa.cases.queries.queue import joint_part


@pytest.fixture
async def jw(world: World) -> JointWorld:
    return await joint_world(world)


def _by_case(items: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {i["case_id"]: i for i in items}


async def test_the_queue_shows_the_joint_clock_and_the_branch_waiting(jw: JointWorld) -> None:
    w, svc = jw.w, jw.svc
    plain = await w.accepted()
    j = await jw.accepted()
    case_id = j["residence_branch"]["case_id"]
    due = j["clocks"]["service_commitment"]["due"]
    assert due and due <= j["clocks"]["residence_receipt_valid_until"]

    engine = w.sessions.kw["bind"].sync_engine
    sent: list[str] = []

    def count(*args: Any) -> None:
        if args[2].lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN IMMEDIATE
            sent.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        items = _by_case(await w.svc.queue(w.office_id, 50))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(sent) == 1, sent  # one statement, however many joint cases the page holds
    assert items[plain["case_id"]]["joint"] is None
    part = items[case_id]["joint"]
    assert part == {
        "joint_id": j["joint_id"],
        "number": j["number"],
        "service_commitment_due": due,
        "work_permit_state": "accepted",
        "work_permit_statutory_due": j["clocks"]["work_permit_statutory_due"],
        "waiting_for": ["work_permit", "residence_permit"],
        "join": "pending",
    }
    page = await w.svc.queue_page(w.office_id, 50, w.officer)
    assert _by_case(page["due"])[case_id]["joint"] == part
    assert _by_case(page["due"])[plain["case_id"]]["joint"] is None

    # the work permit granted: the join now waits for the residence branch only, as the progress page says
    ref = j["work_permit_branch"]["reference"]
    b = await svc.take_work_permit_branch(jw.wp_officer, ref, j["work_permit_branch"]["version"], key=key())
    await svc.grant_work_permit_branch(jw.wp_officer, ref, b["branch"]["version"], key=key(), **GRANT)
    progress = await svc.joint_progress(w.officer, j["joint_id"])
    page = await w.svc.queue_page(w.office_id, 50, w.officer)
    part = _by_case(page["due"])[case_id]["joint"]
    assert part["waiting_for"] == progress["waiting_for"] == ["residence_permit"]
    assert part["work_permit_state"] == "granted"
    assert _by_case(await w.svc.queue(w.office_id, 50))[case_id]["joint"] == part


async def test_a_submitted_joint_application_waits_at_the_single_window(jw: JointWorld) -> None:
    w = jw.w
    j = await jw.apply(actor=jw.org_staff)
    page = await w.svc.queue_page(w.office_id, 50, w.officer)
    (row,) = [i for i in page["awaiting"] if i["case_id"] == j["residence_branch"]["case_id"]]
    assert row["joint"]["number"] == j["number"]
    assert row["joint"]["service_commitment_due"] is None  # pinned at the acceptance
    assert row["joint"]["work_permit_statutory_due"] is None


def test_a_row_without_a_joint_application_has_no_joint_part() -> None:
    row = {"joint_id": None, "state": "accepted", "commitment_due": None, "work_permit_state": None}
    assert joint_part(row) is None
