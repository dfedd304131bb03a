"""The joint application's pages (issue 10 §1), zh and en, over the demo's joint applications in every state
(``cnvisa.demo.joint_story``): the employer's list and form (errors in the page's language, the GOV.UK error
summary linking to the field), the progress page with both branches and both clocks, the one notice supplemented
from it, the single window's page linked from the residence case's page, the work-permit desk's queue and
decision page; strangers refused."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_e2e_browser import photo_jpeg, titled_pdf
from test_joint_http import INPUTS, codes, mandate
from web_support import TODAY, Web

from cnvisa.demo.joint_story import DESK, FOREIGNERS
from cnvisa.http.i18n import gettext

SUMMARY = re.compile(r'<div class="error-summary".*?</div>', re.S)


def signed_in(web: Web, who: str) -> tuple[TestClient, str]:
    c = web.new_client()
    if who == DESK[0][0]:
        r = c.post("/api/v1/auth/signin", json={"username": who, "password": DESK[0][1]})
        assert r.status_code == 200, r.text
        return c, str(r.json()["csrf"])
    return c, web.signin(who, c)


def joint(web: Web, state: str) -> int:
    return int(web.ids["joint"][state][0])


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_employer_lists_and_follows_joint_applications(web: Web, lang: str) -> None:
    c, _csrf = signed_in(web, "employer.hr")
    r = c.get(f"/joint-applications?lang={lang}")
    assert r.status_code == 200
    assert gettext(lang, "Work and residence permits together") in r.text
    for state in ("submitted", "deficient", "accepted", "collected", "not_issuable", "partial", "withdrawn"):
        assert f'href="/joint-applications/{joint(web, state)}"' in r.text, state
    assert 'href="/joint-applications/new"' in r.text
    # the accepted one: both branches, both clocks, which branch is waiting
    r = c.get(f"/joint-applications/{joint(web, 'accepted')}?lang={lang}")
    assert r.status_code == 200
    for text in (
        "Both clocks",
        "Service commitment",
        "Statutory deadline of the work permit",
        "Waiting for this branch",
    ):
        assert gettext(lang, text) in r.text, text
    assert r.text.count(gettext(lang, "Waiting for this branch")) == 2  # both branches are open
    # under review: the residence branch decided? no — the work permit still waited for, named
    r = c.get(f"/joint-applications/{joint(web, 'not_issuable')}?lang={lang}")
    assert gettext(lang, "Not issuable: the work permit was refused") in r.text


def test_the_employer_applies_with_errors_first(web: Web) -> None:
    mandate(web, "employer.hr", web.ids["people"][0])
    c, csrf = signed_in(web, "employer.hr")
    form = c.get("/joint-applications/new?lang=zh_CN")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    key = re.search(r'name="key" value="([0-9a-f]+)"', form.text)
    assert key
    data = {
        "csrf": csrf,
        "key": key.group(1),
        "person_id": str(web.ids["people"][0]),
        "office_id": str(web.ids["offices"]["SH01"]),
        "category": "A",
        "position": "Chief engineer",
        "work_region": "31",  # not a division code
        "contract_until": "2028-10-31",
        "entry_date": INPUTS["entry_date"],
        "visa_category": "Z",
        "validity_days": "730",
    }
    files = [
        (
            m,
            ("photo.jpg", photo_jpeg(), "image/jpeg")
            if m == "photo"
            else (f"{m}.pdf", titled_pdf(m), "application/pdf"),
        )
        for m in codes()
    ]
    r = c.post("/joint-applications?lang=zh_CN", data=data, files=files)
    assert r.status_code == 422
    summary = SUMMARY.search(r.text)
    assert summary and 'href="#work_region"' in summary.group(0)
    assert "请填写工作地点的六位行政区划代码" in summary.group(0)  # in the page's language
    assert 'aria-invalid="true"' in r.text and "Chief engineer" in r.text  # the answers kept
    r = c.post("/joint-applications", data={**data, "work_region": "310115"}, files=files)
    assert r.status_code == 303, r.text[:500]
    page = c.get(r.headers["location"] + "&lang=en")
    assert page.status_code == 200 and "Submitted: waiting for the single window" in page.text


def test_the_one_notice_is_supplemented_from_the_progress_page(web: Web) -> None:
    c, csrf = signed_in(web, "employer.hr")
    jid = joint(web, "deficient")
    r = c.get(f"/joint-applications/{jid}?lang=en")
    assert "The one-time notice: hand in" in r.text
    version = re.search(r'name="version" value="(\d+)"', r.text)
    assert version
    empty = c.post(
        f"/joint-applications/{jid}/supplement?lang=en", data={"csrf": csrf, "version": version.group(1)}
    )
    assert empty.status_code == 422 and SUMMARY.search(empty.text)
    files = [
        (m, (f"{m}.pdf", titled_pdf(m), "application/pdf"))
        for m in ("criminal_record_certificate", "health_certificate")
    ]
    r = c.post(
        f"/joint-applications/{jid}/supplement", data={"csrf": csrf, "version": version.group(1)}, files=files
    )
    assert r.status_code == 303
    assert "Submitted: waiting for the single window" in c.get(f"/joint-applications/{jid}?lang=en").text


def test_the_single_window_from_the_case_page(web: Web) -> None:
    c, csrf = signed_in(web, "sh01.officer")
    jid = joint(web, "submitted")
    view = c.get(f"/api/v1/joint-applications/{jid}").json()
    case_page = c.get(f"/office/cases/{view['residence_branch']['case_id']}?lang=zh_CN")
    assert f'href="/office/joint-applications/{jid}"' in case_page.text
    r = c.get(f"/office/joint-applications/{jid}?lang=zh_CN")
    assert r.status_code == 200 and "受理两项申请" in r.text and "出具一次性告知书" in r.text
    kept = c.post(  # kept without its reason (seed 001 l.20: returned unless a reason is recorded)
        f"/office/joint-applications/{jid}/accept?lang=zh_CN",
        data={"csrf": csrf, "version": str(view["version"]), "passport": "kept"},
    )
    assert kept.status_code == 422
    summary = SUMMARY.search(kept.text)
    assert (
        summary
        and 'href="#retention_reason"' in summary.group(0)
        and "请选择留存护照的原因" in summary.group(0)  # as at the case page (office_passport.FIELD_TEXTS)
    )
    r = c.post(  # the passport on record, checked on the spot and returned
        f"/office/joint-applications/{jid}/accept",
        data={
            "csrf": csrf,
            "version": str(view["version"]),
            "passport_source": "on_record",
            "passport": "returned",
        },
    )
    assert r.status_code == 303, r.text[:500]
    after = c.get(f"/api/v1/joint-applications/{jid}").json()
    assert after["state"] == "accepted" and after["clocks"]["service_commitment"]
    # issue together from the window, for the application waiting for it
    waiting = joint(web, "approved_waiting")
    page = c.get(f"/office/joint-applications/{waiting}?lang=en")
    assert "Issue both together" in page.text
    v = c.get(f"/api/v1/joint-applications/{waiting}").json()["version"]
    r = c.post(f"/office/joint-applications/{waiting}/issue_together", data={"csrf": csrf, "version": str(v)})
    assert r.status_code == 303
    page = c.get(f"/office/joint-applications/{waiting}?lang=en")
    assert "Hand over both permits" in page.text
    v = c.get(f"/api/v1/joint-applications/{waiting}").json()["version"]
    r = c.post(
        f"/office/joint-applications/{waiting}/collect_together?lang=en",
        data={"csrf": csrf, "version": str(v)},
    )
    assert r.status_code == 422  # not ticked: the summary names the checkbox
    summary = SUMMARY.search(r.text)
    assert summary and 'href="#passport_presented"' in summary.group(0)


def test_the_desk_queue_and_decision(web: Web) -> None:
    c, csrf = signed_in(web, DESK[0][0])
    assert c.get("/").status_code == 200
    r = c.get("/work-permit-desk?lang=zh_CN")
    assert r.status_code == 200 and "工作许可审批窗口" in r.text
    accepted = joint(web, "accepted")
    assert f'href="/work-permit-desk/{accepted}"' in r.text
    assert f'href="/work-permit-desk/{joint(web, "collected")}"' not in r.text  # decided: off the queue
    page = c.get(f"/work-permit-desk/{accepted}?lang=en")
    assert "Take under review" in page.text

    def form(path: str, **data: str) -> Any:
        current = c.get(f"/api/v1/joint-applications/{accepted}").json()
        return c.post(
            path, data={"csrf": csrf, "version": str(current["work_permit_branch"]["version"]), **data}
        )

    assert form(f"/work-permit-desk/{accepted}/take").status_code == 303
    grant = {"category": "A", "position": "CTO", "work_region": "310115", "valid_from": TODAY.isoformat()}
    r = form(f"/work-permit-desk/{accepted}/grant?lang=zh_CN", **grant, valid_until="2025-01-01")
    assert r.status_code == 422
    summary = SUMMARY.search(r.text)
    assert summary and 'href="#valid_until"' in summary.group(0) and "有效期截止日" in summary.group(0)
    r = form(f"/work-permit-desk/{accepted}/grant", **grant, valid_until="2027-06-30")
    assert r.status_code == 303, r.text[:400]
    view = c.get(f"/api/v1/joint-applications/{accepted}").json()
    assert view["work_permit"]["status"] == "granted" and view["waiting_for"] == ["residence_permit"]


def test_the_foreigner_follows_her_own(web: Web) -> None:
    """Giulia ROSSI (the demo's foreigner who applied at the counter) sees her joint application, its one notice
    and the supplement form — in Chinese — and no one else's."""
    c, _csrf = signed_in(web, FOREIGNERS[0][0])
    mine = c.get("/api/v1/joint-applications").json()
    assert [r["joint_id"] for r in mine] == [joint(web, "deficient")]
    page = c.get(f"/joint-applications/{joint(web, 'deficient')}?lang=zh_CN")
    assert page.status_code == 200 and "一次性告知：请补交" in page.text and "提交补正材料" in page.text
    assert 'href="/joint-applications"' in c.get("/my/cases").text  # in her navigation
    assert c.get(f"/joint-applications/{joint(web, 'accepted')}").status_code in (403, 404)


def test_strangers_are_refused(web: Web) -> None:
    jid = joint(web, "accepted")
    bob, _ = signed_in(web, "bob")
    assert bob.get(f"/joint-applications/{jid}").status_code in (403, 404)
    bj, _ = signed_in(web, "bj01.officer")
    assert bj.get(f"/office/joint-applications/{jid}").status_code in (403, 404)
    school, _ = signed_in(web, "university.office")
    assert school.get(f"/joint-applications/{jid}").status_code in (403, 404)
    assert school.get("/joint-applications/new").status_code == 200  # an employer's form, its own people only
    officer, _ = signed_in(web, "sh01.officer")
    assert officer.get("/work-permit-desk").status_code == 403
    assert web.new_client().get("/work-permit-desk").status_code == 303
