"""Post changes without a new residence permit over HTTP (issue 10 §3): the employer's staff file one for their
own employee (JSON API with an Idempotency-Key, and the page form), the answer shows "acknowledged" with what is
still due or "referred" with what to apply for instead; the holder and the responsible office see it. Both
engines."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from test_org import db, separate_organisations, signed_in
from web_support import TODAY, Web

from cnvisa.store.post_change_tables import PostChange
from cnvisa.store.tables import Holding, OrgReport

API = "/api/v1/org/post-changes"
YESTERDAY = TODAY.replace(day=TODAY.day - 1)


def _alice_permit(web: Web) -> int:
    async def q(s: AsyncSession) -> int:
        return int((await s.execute(select(Holding.id).where(Holding.number == "J25DEMO0001"))).scalar_one())

    return db(web, q)


def _body(web: Web, **over: Any) -> dict[str, Any]:
    return {
        "person_id": web.ids["people"][0],
        "holding_id": _alice_permit(web),
        "to_region": "110000",
        "position": "Head of research",
        "work_location": "1 Chang'an Avenue, Beijing",
        "effective_on": YESTERDAY.isoformat(),
        "role": "manager",
        **over,
    }


def _post(client: Any, csrf: str, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"X-CSRF-Token": csrf}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(API, json=body, headers=headers)


def _count(web: Web, table: Any) -> int:
    async def q(s: AsyncSession) -> int:
        return int((await s.execute(select(func.count()).select_from(table))).scalar_one())

    return db(web, q)


def test_acknowledged_across_regions_moves_the_office_and_files_the_art_26_report(web: Web) -> None:
    separate_organisations(web)
    hr, csrf = signed_in(web, "employer.hr")
    reports = _count(web, OrgReport)
    key = uuid.uuid4().hex
    r = _post(hr, csrf, _body(web), key)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["state"] == "acknowledged" and out["responsible_office"] == "BJ01"
    assert out["from_region"] == "310000" and out["to_region"] == "110000"
    assert out["org_report_id"] is not None and _count(web, OrgReport) == reports + 1
    due = {d["code"]: d for d in out["due"]}
    assert due["employer_report_work_location"]["done"] is True
    assert due["work_permit_change"]["done"] is False and "Exit and Entry Administration Law Art 43" in str(
        due["work_permit_change"]["citations"]
    )
    assert "residence_permit_particulars_change" not in due  # nothing printed changed: no Art 33 change
    # the same request with the same key: the first answer, nothing written again
    again = _post(hr, csrf, _body(web), key)
    assert again.status_code == 200 and again.json()["id"] == out["id"]
    assert _count(web, PostChange) == 1 and _count(web, OrgReport) == reports + 1
    # the same key with another request is refused, naming the key
    other = _post(hr, csrf, _body(web, position="CTO"), key)
    assert other.status_code == 422 and other.json()["field"] == "idempotency_key"
    assert other.headers["content-type"].startswith("application/problem+json")
    # the holder sees it and what is still due; so does the new office, not the old one's list only
    alice, _ = signed_in(web, "alice")
    mine = alice.get("/api/v1/me/post-changes").json()
    assert [m["id"] for m in mine] == [out["id"]]
    page = alice.get("/my/post-changes")
    assert page.status_code == 200 and "Head of research" in page.text and "BJ01" in page.text
    bj, _ = signed_in(web, "bj01.officer")
    assert [m["id"] for m in bj.get("/api/v1/office/post-changes").json()] == [out["id"]]
    assert "Head of research" in bj.get("/office/post-changes").text
    bob, _ = signed_in(web, "bob")
    assert bob.get("/api/v1/me/post-changes").json() == []
    school, _ = signed_in(web, "university.office")
    assert school.get("/api/v1/org/post-changes").json() == []  # another organisation's: not shown
    assert [m["id"] for m in hr.get("/api/v1/org/post-changes").json()] == [out["id"]]
    sh, _ = signed_in(web, "sh01.officer")  # never responsible for alice's permit (not issued by a case)
    assert sh.get("/api/v1/office/post-changes").json() == []


def test_referred_when_another_employer_with_the_cited_answer(web: Web) -> None:
    separate_organisations(web)
    hr, csrf = signed_in(web, "employer.hr")
    reports = _count(web, OrgReport)
    r = _post(hr, csrf, _body(web, organisation="subsidiary_or_affiliate"), uuid.uuid4().hex)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["state"] == "referred" and out["responsible_office"] is None and out["due"] == []
    assert {i["code"] for i in out["instead"]} >= {"work_permit_for_new_employer"}
    assert "seed 001" in out["referred_reason"]
    assert _count(web, OrgReport) == reports  # nothing else written
    listed = hr.get("/org/post-changes")
    assert listed.status_code == 200 and "Referred" in listed.text


def test_printed_particular_changed_adds_the_art_33_change_in_zh(web: Web) -> None:
    separate_organisations(web)
    hr, csrf = signed_in(web, "employer.hr")
    body = _body(web, to_region="310000", printed_changes=["other_printed"])
    out = _post(hr, csrf, body, uuid.uuid4().hex).json()
    due = {d["code"]: d for d in out["due"]}
    assert due["residence_permit_particulars_change"]["by"] is not None
    assert out["org_report_id"] is None  # same region: no change of work location to report
    page = hr.get("/org/post-changes?lang=zh_CN")
    assert page.status_code == 200 and "仍须办理" in page.text
    # Law Art 33 para 1: the holder's duty is on her obligations page, opened with the post change
    alice, _ = signed_in(web, "alice")
    mine = alice.get("/my/obligations?lang=zh_CN")
    assert mine.status_code == 200 and "申请办理居留证件登记事项变更" in mine.text
    [duty] = [
        o
        for p in alice.get("/api/v1/me/obligations").json()["people"]
        for o in p["obligations"]
        if o["kind"] == "change_of_particulars"
    ]
    assert duty["state"] == "open" and duty["due_by"] == due["residence_permit_particulars_change"]["by"]


def test_key_required_and_fields_named(web: Web) -> None:
    separate_organisations(web)
    hr, csrf = signed_in(web, "employer.hr")
    r = _post(hr, csrf, _body(web))
    assert r.status_code == 422 and r.json()["field"] == "Idempotency-Key"
    for over, field in (
        ({"to_region": "11000"}, "to_region"),
        ({"effective_on": TODAY.replace(year=TODAY.year + 1).isoformat()}, "effective_on"),
        ({"role": "boss"}, "role"),
    ):
        r = _post(hr, csrf, _body(web, **over), uuid.uuid4().hex)
        assert r.status_code == 422, (over, r.text)
        assert r.json()["field"].endswith(field)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert _count(web, PostChange) == 0


def test_only_for_own_employees(web: Web) -> None:
    separate_organisations(web)
    school, csrf = signed_in(web, "university.office")
    r = _post(school, csrf, _body(web), uuid.uuid4().hex)  # alice is the employer's, not the school's
    assert r.status_code == 422 and r.json()["field"] == "person_id"
    bob_permit = _body(web, person_id=web.ids["people"][1])
    hr, csrf2 = signed_in(web, "employer.hr")
    r = _post(hr, csrf2, bob_permit, uuid.uuid4().hex)  # bob is the school's student
    assert r.status_code == 422 and r.json()["field"] == "person_id"
    alice, csrf3 = signed_in(web, "alice")
    assert _post(alice, csrf3, _body(web), uuid.uuid4().hex).status_code == 403
    assert school.get("/org/post-changes/new").status_code == 200
    assert "MARTIN ALICE" not in school.get("/org/post-changes/new").text
    assert _count(web, PostChange) == 0


def test_the_page_form_files_and_shows_the_answer(web: Web) -> None:
    separate_organisations(web)
    hr, csrf = signed_in(web, "employer.hr")
    form = hr.get("/org/post-changes/new")
    assert form.status_code == 200 and "J25DEMO0001" in form.text
    assert 'value="post_change" checked' in form.text  # the usual case chosen at first
    data = {
        "csrf": csrf,
        "key": uuid.uuid4().hex,
        "holding_id": str(_alice_permit(web)),
        "kind": "post_change",
        "role": "professional_technical",
        "organisation": "branch",
        "to_region": "110000",
        "position": "Lead engineer",
        "work_location": "Beijing branch",
        "effective_on": YESTERDAY.isoformat(),
    }
    r = hr.post("/org/post-changes", data=data)
    assert r.status_code == 303, r.text
    page = hr.get(r.headers["location"].split("#")[0])
    assert "Acknowledged" in page.text and "Lead engineer" in page.text and "Civil Code Art 74" in page.text
    again = hr.post("/org/post-changes", data=data)  # a double submit replays the answer
    assert again.status_code == 303 and again.headers["location"] == r.headers["location"]
    assert _count(web, PostChange) == 1
    bad = hr.post(
        "/org/post-changes", data={**data, "key": uuid.uuid4().hex, "to_region": "x", "position": ""}
    )
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text and "six-digit" in bad.text
    assert _count(web, PostChange) == 1
