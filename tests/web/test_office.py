"""The officers' side (issue 4): queue by deadline, case page, every command through the API and the pages,
search — each limited to the officer's office; the case core's guards shown by name."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import uuid
from typing import Any

from fastapi.testclient import TestClient
from web_support import TODAY, Web

from cnvisa.cases.records import FileIn
from cnvisa.cases.service import Actor
from cnvisa.cases.workflow import Role

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ALL = (
    "passport",
    "application_form",
    "photo",
    "current_residence_permit",
    "work_permit",
    "health_certificate",
)
PROBLEM = "application/problem+json"


def call(web: Web, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a coroutine of the case core on the application's event loop (its database pool lives there)."""
    return web.client.portal.call(functools.partial(fn, *args, **kwargs))  # type: ignore[attr-defined]


def files(*codes: str) -> list[FileIn]:
    return [FileIn(code, f"{code}.pdf", PDF + code.encode()) for code in codes]


def inputs() -> dict[str, Any]:
    """A work-type residence permit extension (Regulations Art 17, 18; Law Art 32) for alice's permit."""
    return {
        "residence_permit": {"type": "work", "valid_until": "2026-05-04"},
        "requested": {"validity_days": 365},
        "health_certificate_issued_on": "2025-10-01",
        "holding_number": "J25DEMO0001",
    }


def apply(web: Web, person: int | None = None, materials: tuple[str, ...] = ALL, office: str = "SH01") -> int:
    """An application submitted by the person themself (the applicant side of the platform)."""
    person_id = person or web.ids["people"][0]
    actor = Actor(web.ids["accounts"]["alice"], Role.APPLICANT, person_id=person_id)
    out = call(
        web,
        web.client.app.state.platform.cases.apply,  # type: ignore[attr-defined]
        actor,
        key=uuid.uuid4().hex,
        person_id=person_id,
        office_id=web.ids["offices"][office],
        matter="residence_permit_extension",
        inputs=inputs(),
        files=files(*materials),
    )
    return int(out["case_id"])


def command(
    client: TestClient, csrf: str, case_id: int, name: str, version: int, **body: Any
) -> dict[str, Any]:
    r = client.post(
        f"/api/v1/office/cases/{case_id}/{name}",
        json={"version": version, "idempotency_key": uuid.uuid4().hex, **body},
        headers={"X-CSRF-Token": csrf},
    )
    return {"status": r.status_code, **r.json()}


def version(client: TestClient, case_id: int) -> int:
    r = client.get(f"/api/v1/office/cases/{case_id}")
    assert r.status_code == 200, r.text
    return int(r.json()["case"]["version"])


def test_drive_a_case_from_submitted_to_collected(web: Web) -> None:
    case_id = apply(web, materials=ALL[:4])
    csrf = web.signin("sh01.officer")
    view = web.client.get(f"/api/v1/office/cases/{case_id}").json()
    assert view["case"]["state"] == "submitted"
    missing = {c["code"] for c in view["checklist"] if not c["provided"]}
    assert missing == {"work_permit", "health_certificate"}
    assert view["files"][0]["sha256"] and view["files"][0]["url"].startswith(
        f"/office/cases/{case_id}/files/"
    )
    assert "issue_notice" in view["commands"] and "accept" in view["commands"]

    v = view["case"]["version"]
    incomplete = command(web.client, csrf, case_id, "accept", v)
    assert incomplete["status"] == 409 and incomplete["code"] == "application_complete"
    assert "Art 18 para 1" in incomplete["rule"]

    notice = command(web.client, csrf, case_id, "issue_notice", v)
    assert notice["status"] == 200 and notice["state"] == "deficient"
    assert notice["notice"]["items"] == ["work_permit", "health_certificate"]

    # the applicant hands in what the notice asked for
    platform = web.client.app.state.platform  # type: ignore[attr-defined]
    alice = Actor(web.ids["accounts"]["alice"], Role.APPLICANT, person_id=web.ids["people"][0])
    call(
        web,
        platform.cases.supplement,
        alice,
        case_id,
        notice["version"],
        key=uuid.uuid4().hex,
        files=files("work_permit", "health_certificate"),
    )

    v = version(web.client, case_id)
    key = uuid.uuid4().hex
    # a residence document: the passport on record is confirmed at the window and returned (免留存护照)
    body = {"version": v, "idempotency_key": key, "passport_kept": False, "passport_on_record": True}
    accepted = web.client.post(
        f"/api/v1/office/cases/{case_id}/accept", json=body, headers={"X-CSRF-Token": csrf}
    ).json()
    assert accepted["state"] == "accepted" and accepted["receipt_number"].startswith("RSH01")
    again = web.client.post(
        f"/api/v1/office/cases/{case_id}/accept", json=body, headers={"X-CSRF-Token": csrf}
    ).json()
    assert again["replayed"] is True and again["version"] == accepted["version"]  # idempotent
    returned = accepted["receipt"]["passport"]
    assert returned["outcome"] == "returned" and returned["travel_document"]["number"] == "21FR04417"
    assert returned["collection"]["day"] == accepted["receipt"]["valid_until"]
    assert returned["checked_by_name"] and returned["receipt_proves_lawful_residence"] is True

    r = command(
        web.client,
        csrf,
        case_id,
        "request_verification",
        accepted["version"],
        method="interview",
        scheduled_for="2025-11-24T10:00:00",
    )
    assert r["state"] == "under_verification"
    r = command(
        web.client, csrf, case_id, "record_verification", r["version"], outcome="confirmed", note="ok"
    )
    assert r["state"] == "accepted"
    page = web.client.get(f"/office/cases/{case_id}?lang=en").text
    assert 'name="validity_days"' in page and "Law Art 30" in page  # the bounds beside the field
    unset = command(web.client, csrf, case_id, "approve", r["version"])
    assert unset["status"] == 422 and unset["field"] == "validity_days"  # the officer decides the validity
    r = command(web.client, csrf, case_id, "approve", r["version"], validity_days=365)
    assert r["state"] == "approved"
    r = command(web.client, csrf, case_id, "issue", r["version"])
    assert r["state"] == "issued" and r["issued_holding_id"]
    no_passport = command(web.client, csrf, case_id, "collect", r["version"])
    assert no_passport["status"] == 409 and no_passport["code"] == "passport_presented"
    unread = command(web.client, csrf, case_id, "collect", r["version"], passport_presented=True)
    assert unread["status"] == 409 and unread["code"] == "collect_with_checked_passport"
    r = command(
        web.client, csrf, case_id, "collect", r["version"], passport_presented=True, passport_on_record=True
    )
    assert r["state"] == "collected" and r["passport_check"]["outcome"] == "same"

    view = web.client.get(f"/api/v1/office/cases/{case_id}").json()
    actions = [e["action"] for e in view["history"]]
    for step in ("apply", "issue_notice", "supplement", "accept", "approve", "issue", "collect", "read"):
        assert step in actions
    assert view["verifications"][0]["outcome"] == "confirmed"
    assert view["documents"]["receipt"]["passport_kept"] is False
    assert view["documents"]["decision"]["outcome"] == "approved"
    assert view["documents"]["decision"]["document"]["kind"] == "residence_permit"
    assert view["commands"] == []


def test_stale_version_and_missing_key_are_problems(web: Web) -> None:
    case_id = apply(web)
    csrf = web.signin("sh01.officer")
    stale = command(web.client, csrf, case_id, "accept", 99)
    assert stale["status"] == 409 and stale["code"] == "conflict"
    r = web.client.post(
        f"/api/v1/office/cases/{case_id}/accept", json={"version": 1}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 422 and r.json()["field"] == "idempotency_key"
    r = web.client.post(
        f"/api/v1/office/cases/{case_id}/request_verification",
        json={"version": 1, "idempotency_key": "k", "method": "carrier pigeon"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["field"] == "method"
    # the Idempotency-Key header serves as well as the body field
    r = web.client.post(
        f"/api/v1/office/cases/{case_id}/accept",
        json={"version": 1, "retention_reason": "applicant_request"},
        headers={"X-CSRF-Token": csrf, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 200 and r.json()["state"] == "accepted"


def test_refusal_needs_a_second_officer(web: Web) -> None:
    case_id = apply(web)
    csrf = web.signin("sh01.officer")
    r = command(web.client, csrf, case_id, "accept", 1, retention_reason="applicant_request")
    view = web.client.get(f"/api/v1/office/cases/{case_id}").json()
    offered = {g["code"] for g in view["refusal_grounds_available"]}
    assert {"law31_3", "reg21_1"} <= offered and "law21_1" not in offered  # Law Art 21 is for visas

    wrong = command(web.client, csrf, case_id, "propose_refusal", r["version"], grounds=["law21_1"])
    assert wrong["status"] == 409 and wrong["code"] == "refusal_grounds_valid"
    empty = command(web.client, csrf, case_id, "propose_refusal", r["version"], grounds=[])
    assert empty["status"] == 422 and empty["field"] == "grounds"
    r = command(web.client, csrf, case_id, "propose_refusal", r["version"], grounds=["law31_3"])
    assert r["state"] == "refusal_proposed"

    same = command(web.client, csrf, case_id, "confirm_refusal", r["version"])
    assert same["status"] == 409 and same["code"] == "second_officer"
    assert "Art 21" in same["rule"] and "other than the one who proposed" in same["detail"]

    second = web.new_client()
    csrf2 = web.signin("sh01.officer2", second)
    done = command(second, csrf2, case_id, "confirm_refusal", r["version"])
    assert done["state"] == "refused"
    decision = second.get(f"/api/v1/office/cases/{case_id}").json()["documents"]["decision"]
    assert decision["outcome"] == "refused" and decision["final"] is True
    assert decision["grounds"][0]["citation"]["cite"] == "Exit and Entry Administration Law Art 31(3)"


def test_same_officer_confirming_on_the_page_sees_the_guard(web: Web) -> None:
    case_id = apply(web)
    csrf = web.signin("sh01.officer")
    r = command(web.client, csrf, case_id, "accept", 1, retention_reason="applicant_request")
    r = command(web.client, csrf, case_id, "propose_refusal", r["version"], grounds=["reg21_1"])
    page = web.client.get(f"/office/cases/{case_id}?lang=en")
    assert "confirm_refusal" in page.text
    key = re.search(
        r'action="/office/cases/\d+/confirm_refusal".*?name="key" value="([^"]+)"', page.text, re.S
    )
    assert key is not None
    r2 = web.client.post(
        f"/office/cases/{case_id}/confirm_refusal",
        data={"csrf": csrf, "version": str(r["version"]), "key": key.group(1)},
    )
    assert r2.status_code == 409 and 'role="alert"' in r2.text
    assert "second_officer" in r2.text and "second officer" in r2.text
    zh = web.client.post(
        f"/office/cases/{case_id}/confirm_refusal?lang=zh_CN",
        data={"csrf": csrf, "version": str(r["version"]), "key": uuid.uuid4().hex},
    )
    assert zh.status_code == 409 and "second_officer" in zh.text and "另一名" in zh.text


def test_page_forms_need_csrf_and_carry_version_and_key(web: Web) -> None:
    case_id = apply(web)
    csrf = web.signin("sh01.officer")
    page = web.client.get(f"/office/cases/{case_id}")
    assert page.status_code == 200
    forms = re.findall(r'<form method="post" action="/office/cases/\d+/(\w+)".*?</form>', page.text, re.S)
    assert {"issue_notice", "accept", "propose_refusal"} <= set(forms)
    for block in re.findall(r'<form method="post" action="/office/cases/.*?</form>', page.text, re.S):
        assert f'name="csrf" value="{csrf}"' in block and 'name="version" value="1"' in block
        assert re.search(r'name="key" value="[\w-]{16,}"', block)
    keys = re.findall(r'name="key" value="([\w-]+)"', page.text)
    assert len(keys) == len(set(keys))  # a fresh key per form

    refused = web.client.post(f"/office/cases/{case_id}/accept", data={"version": "1", "key": "k1"})
    assert refused.status_code == 403
    assert web.client.get(f"/api/v1/office/cases/{case_id}").json()["case"]["state"] == "submitted"
    api = web.client.post(
        f"/api/v1/office/cases/{case_id}/accept", json={"version": 1, "idempotency_key": "x"}
    )
    assert api.status_code == 403 and api.json()["code"] == "csrf"

    ok = web.client.post(
        f"/office/cases/{case_id}/accept",
        data={
            "csrf": csrf,
            "version": "1",
            "key": "k2",
            "passport": "returned",
            "passport_source": "on_record",
        },
    )
    assert ok.status_code == 303 and ok.headers["location"].startswith(f"/office/cases/{case_id}?done=accept")
    view = web.client.get(f"/api/v1/office/cases/{case_id}").json()
    assert view["case"]["state"] == "accepted" and view["case"]["passport_kept"] is False

    # verification with a date-time, then its outcome, through the page forms
    ok = web.client.post(
        f"/office/cases/{case_id}/request_verification",
        data={
            "csrf": csrf,
            "version": "2",
            "key": "k3",
            "method": "site_visit",
            "scheduled_for": "2025-11-25T14:30",
        },
    )
    assert ok.status_code == 303
    bad = web.client.post(
        f"/office/cases/{case_id}/record_verification",
        data={"csrf": csrf, "version": "3", "key": "k4", "outcome": "maybe"},
    )
    assert bad.status_code == 422 and "outcome" in bad.text
    ok = web.client.post(
        f"/office/cases/{case_id}/record_verification",
        data={"csrf": csrf, "version": "3", "key": "k5", "outcome": "no_show"},
    )
    assert ok.status_code == 303
    view = web.client.get(f"/api/v1/office/cases/{case_id}").json()
    v = view["verifications"][0]
    assert v["method"] == "site_visit" and v["outcome"] == "no_show"
    assert v["scheduled_for"].startswith("2025-11-25T06:30")  # 14:30 Beijing = 06:30 UTC


def test_officer_sees_only_their_office(web: Web) -> None:
    case_id = apply(web)
    number = web.new_client()
    web.signin("sh01.officer", number)
    sh_number = number.get(f"/api/v1/office/cases/{case_id}").json()["case"]["number"]

    csrf = web.signin("bj01.officer")
    r = web.client.get(f"/api/v1/office/cases/{case_id}")
    assert r.status_code in (403, 404) and r.headers["content-type"].startswith(PROBLEM)
    assert web.client.get(f"/office/cases/{case_id}").status_code in (403, 404)
    assert command(web.client, csrf, case_id, "accept", 1)["status"] in (403, 404)
    files_ = number.get(f"/api/v1/office/cases/{case_id}").json()["files"]
    assert web.client.get(files_[0]["url"]).status_code in (403, 404)

    queue = web.client.get("/api/v1/office/queue?limit=500").json()
    assert queue["items"] and all(i["number"].startswith("BJ01-") for i in queue["items"])
    overdue = web.client.get("/api/v1/office/overdue").json()
    assert all(i["number"].startswith("BJ01-") for i in overdue["items"])
    for q in (sh_number, "SH01", "RSH01"):
        found = web.client.get("/api/v1/office/search", params={"q": q}).json()
        assert not any(c["number"].startswith("SH01-") for c in found["cases"])
    page = web.client.get("/office/queue")
    assert page.status_code == 200 and "SH01-" not in page.text


def test_queue_orders_by_deadline_and_flags_near_and_overdue(web: Web) -> None:
    csrf = web.signin("sh01.officer")
    queue = web.client.get("/api/v1/office/queue?limit=500").json()
    items = queue["items"]
    assert items and all(i["number"].startswith("SH01-") for i in items)
    deadlines = [i["deadline"] for i in items if i["deadline"]]
    assert deadlines == sorted(deadlines)
    first_without = next((k for k, i in enumerate(items) if i["deadline"] is None), len(items))
    assert all(i["deadline"] is None for i in items[first_without:])  # awaiting acceptance: last
    for i in items:
        if i["flag"] == "overdue":
            assert i["deadline"] < TODAY.isoformat()
        elif i["flag"] == "near":
            assert 0 <= i["working_days_left"] <= 2
    # a case accepted today has 15 working days (Regulations Art 18 para 1); after 13 it is near, then overdue
    case_id = apply(web)
    command(web.client, csrf, case_id, "accept", 1, retention_reason="applicant_request")
    flags = {i["case_id"]: i for i in web.client.get("/api/v1/office/queue?limit=500").json()["items"]}
    assert flags[case_id]["working_days_left"] == 15 and flags[case_id]["flag"] is None
    web.clock.set(dt.date.fromisoformat(flags[case_id]["deadline"]))
    web.signin("sh01.officer")  # the session of weeks ago has expired
    flags = {i["case_id"]: i for i in web.client.get("/api/v1/office/queue?limit=500").json()["items"]}
    assert flags[case_id]["flag"] == "near" and flags[case_id]["working_days_left"] == 0
    web.clock.advance(days=1)
    web.signin("sh01.officer")
    overdue = web.client.get("/api/v1/office/overdue?limit=500").json()
    assert case_id in {i["case_id"] for i in overdue["items"]} and overdue["more"] is False
    # read a page at a time: the oldest first, and ``more`` says whether others follow
    first = web.client.get("/api/v1/office/overdue?limit=1").json()
    assert first["items"] == overdue["items"][:1] and first["more"] is (len(overdue["items"]) > 1)
    bad = web.client.get("/api/v1/office/overdue?limit=0")
    assert bad.status_code == 422 and bad.json()["field"] == "limit"
    page = web.client.get("/office/queue?lang=en")
    assert page.status_code == 200 and 'class="overdue"' in page.text


def test_search_by_number_passport_and_name(web: Web) -> None:
    case_id = apply(web)
    web.signin("sh01.officer")
    view = web.client.get(f"/api/v1/office/cases/{case_id}").json()
    person, number = view["person"], view["case"]["number"]
    passport = person["passports"][0]["number"]
    for q in (
        number,
        number.lower(),
        passport,
        f"{person['surname']} {person['given_names']}",
        person["surname"].lower(),
    ):
        found = web.client.get("/api/v1/office/search", params={"q": q}).json()
        assert case_id in {c["case_id"] for c in found["cases"]}, q
        assert person["id"] in {x["id"] for x in found["people"]}, q
    short = web.client.get("/api/v1/office/search", params={"q": "x"})
    assert short.status_code == 422 and short.json()["field"] == "q"
    page = web.client.get("/office/search", params={"q": passport, "lang": "zh_CN"})
    assert page.status_code == 200 and number in page.text and "搜索" in page.text
    # a person without a case in this office is not found, even by their passport number
    web.signin("bj01.officer")
    found = web.client.get("/api/v1/office/search", params={"q": passport}).json()
    assert person["id"] not in {x["id"] for x in found["people"]}


def test_applicant_and_anonymous_cannot_use_the_office(web: Web) -> None:
    case_id = apply(web)
    anonymous = web.new_client()
    assert anonymous.get("/api/v1/office/queue").status_code == 401
    assert anonymous.get("/office/queue").status_code == 303  # to the sign-in page
    csrf = web.signin("alice")
    for url in ("/api/v1/office/queue", "/api/v1/office/overdue", f"/api/v1/office/cases/{case_id}"):
        r = web.client.get(url)
        assert r.status_code == 403 and r.json()["code"] == "forbidden", url
    assert web.client.get("/api/v1/office/search?q=SH01").status_code == 403
    assert command(web.client, csrf, case_id, "accept", 1)["status"] == 403
    assert web.client.get(f"/office/cases/{case_id}").status_code == 403
    assert (
        web.client.post(f"/office/cases/{case_id}/accept", data={"csrf": csrf, "version": "1"}).status_code
        == 403
    )


def test_file_download_for_the_office(web: Web) -> None:
    case_id = apply(web)
    web.signin("sh01.officer")
    f = web.client.get(f"/api/v1/office/cases/{case_id}").json()["files"][0]
    r = web.client.get(f["url"])
    assert (
        r.status_code == 200
        and r.content.startswith(b"%PDF")
        and r.headers["content-type"] == "application/pdf"
    )
    assert "attachment" in r.headers["content-disposition"]
    assert hashlib.sha256(r.content).hexdigest() == f["sha256"]
    history = web.client.get(f"/api/v1/office/cases/{case_id}").json()["history"]
    assert "read_file" in [e["action"] for e in history]
    assert web.client.get(f"/office/cases/{case_id}/files/999999").status_code == 404


def test_office_pages_in_chinese(web: Web) -> None:
    case_id = apply(web, materials=ALL[:3])
    csrf = web.signin("sh01.officer")
    queue = web.client.get("/office/queue?lang=zh_CN")
    assert queue.status_code == 200 and 'lang="zh-CN"' in queue.text and "逾期" in queue.text
    page = web.client.get(f"/office/cases/{case_id}")
    text = page.text
    assert page.status_code == 200 and "材料清单" in text and "有效护照" in text
    assert "《外国人入境出境管理条例》第17条" in text  # citations in the reader's language
    assert "不能按照规定提供相关证明材料" in text  # refusal ground, in Chinese
    assert "一次性告知" in text
    web.client.post(
        f"/office/cases/{case_id}/issue_notice", data={"csrf": csrf, "version": "1", "key": uuid.uuid4().hex}
    )
    page = web.client.get(f"/office/cases/{case_id}?done=issue_notice")
    assert "已完成" in page.text and "答复期限" in page.text


def test_queue_page_shows_decisions_due_then_applications_awaiting_acceptance(web: Web) -> None:
    """The page splits the queue: decisions due by deadline (Regulations Art 13, 18: the deadline runs from
    acceptance), and submitted applications awaiting acceptance — so a new application is never pushed off
    the page by a long list of running deadlines."""
    csrf = web.signin("sh01.officer")
    submitted, accepted = apply(web), apply(web)
    command(web.client, csrf, accepted, "accept", 1, retention_reason="applicant_request")
    page = web.client.get("/office/queue?lang=en&limit=500")
    assert page.status_code == 200
    due, awaiting = page.text.split('id="awaiting-h"', 1)
    assert f'href="/office/cases/{accepted}"' in due and f'href="/office/cases/{accepted}"' not in awaiting
    assert f'href="/office/cases/{submitted}"' in awaiting and f'href="/office/cases/{submitted}"' not in due
    small = web.client.get("/office/queue?lang=en&limit=1")
    assert small.text.count('href="/office/cases/') == 2 and 'href="/office/queue?limit=2"' in small.text
    bad = web.client.get("/office/queue?limit=0")
    assert bad.status_code == 422 and "between 1 and 500" in bad.text


def test_a_reused_idempotency_key_with_another_body_is_422(web: Web) -> None:
    """draft-ietf-httpapi-idempotency-key-header §2.7: same key, same body → the first result again; same key,
    another body → 422 problem+json naming Idempotency-Key (never the first result)."""
    case_id = apply(web)
    csrf = web.signin("sh01.officer")
    v = version(web.client, case_id)
    key = uuid.uuid4().hex
    url = f"/api/v1/office/cases/{case_id}/accept"
    headers = {"X-CSRF-Token": csrf, "Idempotency-Key": key}
    kept = {"version": v, "passport_kept": True, "retention_reason": "applicant_request"}
    first = web.client.post(url, json=kept, headers=headers)
    assert first.status_code == 200, first.text
    same = web.client.post(url, json=kept, headers=headers)
    assert same.status_code == 200 and same.json() == {**first.json(), "replayed": True}
    other = web.client.post(url, json={"version": v, "passport_kept": False}, headers=headers)
    assert other.status_code == 422 and other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["field"] == "idempotency_key" and "Idempotency-Key" in other.json()["detail"]
