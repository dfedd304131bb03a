"""Obligations over HTTP (issue 12, "the holder's obligations … the employer's view of its people's deadlines"):
the demo's register as the daily sweep left it, for the holder, an agent's people and an employer — in both
languages, each seeing only their own."""

from __future__ import annotations

import datetime as dt

from test_office import call
from web_support import Web


def _sweep(web: Web) -> None:
    """The daily sweep (``cnvisa db sweep``) on the platform's clock."""
    call(web, web.client.app.state.platform.obligations.sweep)  # type: ignore[attr-defined]


def _permit_end(web: Web) -> dt.date:
    docs = web.client.get("/api/v1/me/documents").json()["people"][0]["documents"]
    return dt.date.fromisoformat(next(d["valid_until"] for d in docs if d["number"] == "J25DEMO0001"))


def test_the_holder_sees_the_art_32_deadline_of_her_permit(web: Web) -> None:
    _sweep(web)
    web.signin("alice")
    end = _permit_end(web)
    mine = web.client.get("/api/v1/me/obligations").json()
    [group] = mine["people"]
    [duty] = [o for o in group["obligations"] if o["kind"] == "residence_permit_extension"]
    assert duty["due_by"] == (end - dt.timedelta(days=30)).isoformat()
    assert duty["state"] == "open" and duty["met_by_case_id"] is None
    assert "Exit and Entry Administration Law Art 32 para 1" in [c["cite"] for c in duty["citations"]]
    en = web.client.get("/my/obligations?lang=en").text
    assert "Apply to extend the residence permit, if you need to stay longer" in en and "Art 32" in en
    zh = web.client.get("/my/obligations?lang=zh_CN").text
    assert "如需继续居留，申请延长居留期限" in zh and "待办理" in zh and "《出境入境管理法》第32条第1款" in zh


def test_an_agent_sees_the_people_of_the_mandate_only(web: Web) -> None:
    _sweep(web)
    web.signin("carol")
    people = web.client.get("/api/v1/me/obligations").json()["people"]
    names = {g["person"]["name"] for g in people}
    assert names and all("ALICE" not in n for n in names), names


def test_each_organisation_sees_its_own_peoples_open_deadlines(web: Web) -> None:
    _sweep(web)
    seen: dict[str, set[int]] = {}
    for who in ("employer.hr", "university.office"):
        web.signin(who)
        people = {p["person_id"] for p in web.client.get("/api/v1/org/people").json()}
        items = web.client.get("/api/v1/org/obligations").json()["items"]
        assert items and {i["person_id"] for i in items} <= people, who
        assert all(i["state"] in ("open", "late") for i in items)
        dues = [i["due_by"] for i in items if i["due_by"]]
        assert dues == sorted(dues)
        page = web.client.get("/org/obligations?lang=en")
        assert page.status_code == 200 and items[0]["name"] in page.text
        seen[who] = {i["person_id"] for i in items}
    # the school's student Bob: his permit's Art 32 deadline is the school's to see, not the employer's
    assert not seen["employer.hr"] & seen["university.office"]


def test_the_officer_sees_on_the_case_whether_it_came_in_time(web: Web) -> None:
    from test_office import apply

    _sweep(web)
    case_id = apply(web)  # Alice's extension of J25DEMO0001, months before its Art 32 deadline
    _sweep(web)
    web.signin("sh01.officer")
    view = web.client.get(f"/api/v1/office/cases/{case_id}").json()
    [duty] = [o for o in view["obligations"] if o["kind"] == "residence_permit_extension"]
    assert duty["state"] == "met" and duty["met_by_case_id"] == case_id
    en = web.client.get(f"/office/cases/{case_id}?lang=en").text
    assert "The applicant&#39;s deadlines" in en or "The applicant's deadlines" in en
    assert "Done on time" in en and "by this application" in en
    zh = web.client.get(f"/office/cases/{case_id}?lang=zh_CN").text
    assert "申请人的办理期限" in zh and "已按期办理" in zh and "即本申请" in zh


def test_an_officer_records_that_a_duty_no_longer_binds(web: Web) -> None:
    from test_office import apply

    _sweep(web)
    web.signin("alice")
    duties = web.client.get("/api/v1/me/obligations").json()["people"][0]["obligations"]
    duty = next(o for o in duties if o["kind"] == "residence_permit_extension")
    assert duty["state"] == "open"
    path = f"/api/v1/office/obligations/{duty['id']}/waive"
    reason = {"reason": "leaves China for good on 1 December; permit to be cancelled"}
    # another office does not know her (no case there); the office she has a case at does
    apply(web)
    csrf = web.signin("bj01.officer")
    assert web.client.post(path, json=reason, headers={"X-CSRF-Token": csrf}).status_code == 403
    csrf = web.signin("sh01.officer")
    assert web.client.post(path, json=reason).status_code == 403  # no CSRF token
    short = web.client.post(path, json={"reason": "x"}, headers={"X-CSRF-Token": csrf})
    assert short.status_code == 422 and short.json()["field"].endswith("reason")
    done = web.client.post(path, json=reason, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200 and done.json()["state"] == "waived", done.text
    web.signin("alice")
    zh = web.client.get("/my/obligations?lang=zh_CN").text
    assert "已无需办理" in zh and "permit to be cancelled" in zh


def test_the_waiver_on_the_case_page_with_its_error_in_the_pages_language(web: Web) -> None:
    from test_office import apply

    _sweep(web)
    case_id = apply(web)  # not swept again: her Art 32 duty is still open
    csrf = web.signin("sh01.officer")
    page = web.client.get(f"/office/cases/{case_id}?lang=zh_CN").text
    duty = int(page.split('action="/office/obligations/')[1].split("/")[0])
    bad = web.client.post(
        f"/office/obligations/{duty}/waive?lang=zh_CN",
        data={"csrf": csrf, "case_id": str(case_id), "reason": " "},
    )
    assert bad.status_code == 422 and "<title>错误：" in bad.text
    assert f'href="#waive-reason-{duty}"' in bad.text and "请说明该事项为何已无需办理" in bad.text
    assert f'id="waive-reason-{duty}" name="reason" maxlength="500" aria-invalid="true"' in bad.text
    ok = web.client.post(
        f"/office/obligations/{duty}/waive",
        data={
            "csrf": csrf,
            "case_id": str(case_id),
            "reason": "leaves China for good; permit to be cancelled",
        },
    )
    assert ok.status_code == 303 and ok.headers["location"] == f"/office/cases/{case_id}#obligations-h"
    after = web.client.get(f"/office/cases/{case_id}?lang=en").text
    assert "No longer required" in after and f'action="/office/obligations/{duty}/waive"' not in after
