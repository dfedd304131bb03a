"""The officer's main queue (/office/queue and GET /api/v1/office/queue) with the demo's joint applications
(issue 10 §1): a joint application's residence branch shows the joint application, its service commitment's due
and which branch is waiting, in Chinese and English; a plain case shows none."""

from __future__ import annotations

import pytest
from test_joint_pages import joint, signed_in
from web_support import Web


def test_the_api_queue_carries_the_joint_clock_and_the_branch_waiting(web: Web) -> None:
    c, _ = signed_in(web, "sh01.officer")
    items = c.get("/api/v1/office/queue?limit=500").json()["items"]
    by_case = {i["case_id"]: i for i in items}
    assert any(i["joint"] is None for i in items)  # the office's plain cases
    for state, waiting in (("under_review", ["work_permit"]), ("approved_waiting", [])):
        view = c.get(f"/api/v1/joint-applications/{joint(web, state)}").json()
        part = by_case[view["residence_branch"]["case_id"]]["joint"]
        assert part["number"] == view["number"], state
        assert part["service_commitment_due"] == view["clocks"]["service_commitment"]["due"], state
        assert part["waiting_for"] == view["waiting_for"], state
        assert set(waiting) <= set(part["waiting_for"]), state
        assert part["join"] == view["join"]["outcome"], state


@pytest.mark.parametrize(
    ("lang", "commitment", "waiting", "work_permit", "together"),
    [
        ("en", "Service commitment", "Waiting for", "Work permit", "Both granted: to be issued together"),
        ("zh_CN", "承诺办理时限", "等待", "工作许可", "两项均已批准：待同时发证"),
    ],
)
def test_the_queue_page_shows_both_clocks_and_the_branch_waiting(
    web: Web, lang: str, commitment: str, waiting: str, work_permit: str, together: str
) -> None:
    c, _ = signed_in(web, "sh01.officer")
    view = c.get(f"/api/v1/joint-applications/{joint(web, 'under_review')}").json()
    page = c.get(f"/office/queue?lang={lang}&limit=500")
    assert page.status_code == 200
    row = next(
        r for r in page.text.split("<tr>") if f'/office/cases/{view["residence_branch"]["case_id"]}"' in r
    )
    assert f'href="/office/joint-applications/{view["joint_id"]}"' in row
    assert commitment in row and waiting in row and work_permit in row
    submitted = c.get(f"/api/v1/joint-applications/{joint(web, 'submitted')}").json()
    row = next(
        r
        for r in page.text.split("<tr>")
        if f'/office/cases/{submitted["residence_branch"]["case_id"]}"' in r
    )
    assert f'href="/office/joint-applications/{submitted["joint_id"]}"' in row and commitment not in row
    both = c.get(f"/api/v1/joint-applications/{joint(web, 'approved_waiting')}").json()
    row = next(
        r for r in page.text.split("<tr>") if f'/office/cases/{both["residence_branch"]["case_id"]}"' in r
    )
    assert together in row and waiting not in row  # the join waits for no branch: its outcome instead
