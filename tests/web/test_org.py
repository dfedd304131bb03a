"""Employers and schools (Regulations Art 26): their people's documents, their reports, the office's view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from web_support import TODAY, Web

from cnvisa.cases.org_reports import responsible_office
from cnvisa.demo.cast import _uscc
from cnvisa.demo.joint_story import PLANS as JOINT_PLANS
from cnvisa.store.tables import Account, AuditEvent, Holding, Organisation, OrgPerson

T = TypeVar("T")


def db(web: Web, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``fn`` in one transaction of the application's own database (on the application's event loop)."""

    async def go() -> T:
        async with web.client.app.state.platform.sessions() as s, s.begin():  # type: ignore[attr-defined]
            return await fn(s)

    return web.client.portal.call(go)  # type: ignore[attr-defined]


def separate_organisations(web: Web) -> dict[str, int]:
    """The demo gives employer, school and bank distinct organisations (it reused one while their codes
    collided): make sure they are distinct, the students enrolled at the school, the bank a bank."""

    async def fix(s: AsyncSession) -> dict[str, int]:
        accounts = web.ids["accounts"]
        org_of = {
            u: (
                await s.execute(select(Account.organisation_id).where(Account.id == accounts[u]))
            ).scalar_one()
            for u in ("employer.hr", "university.office", "bank.teller")
        }
        if org_of["university.office"] == org_of["employer.hr"]:
            school = (
                await s.execute(
                    insert(Organisation)
                    .values(
                        uscc=_uscc("310000", "MA1DEM12"),
                        name="Demo University",
                        kind="school",
                        region="310000",
                    )
                    .returning(Organisation.id)
                )
            ).scalar_one()
            await s.execute(
                update(Account)
                .where(Account.id == accounts["university.office"])
                .values(organisation_id=school)
            )
            await s.execute(
                update(OrgPerson)
                .where(OrgPerson.relation == "student", OrgPerson.organisation_id == org_of["employer.hr"])
                .values(organisation_id=school)
            )
            org_of["university.office"] = school
        if org_of["bank.teller"] in (org_of["employer.hr"], org_of["university.office"]):
            bank = (
                await s.execute(
                    insert(Organisation)
                    .values(uscc=_uscc("310000", "MA1DEM13"), name="Demo Bank", kind="bank", region="310000")
                    .returning(Organisation.id)
                )
            ).scalar_one()
            await s.execute(
                update(Account).where(Account.id == accounts["bank.teller"]).values(organisation_id=bank)
            )
            org_of["bank.teller"] = bank
        return {
            "employer": org_of["employer.hr"],
            "school": org_of["university.office"],
            "bank": org_of["bank.teller"],
        }

    return db(web, fix)


@pytest.fixture
def orgs(web: Web) -> dict[str, int]:
    return separate_organisations(web)


def signed_in(web: Web, username: str) -> tuple[Any, str]:
    client = web.new_client()
    return client, web.signin(username, client)


def report(client: Any, csrf: str | None, **body: Any) -> Any:
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    return client.post("/api/v1/org/reports", json=body, headers=headers)


# --- our people -------------------------------------------------------------------------------------------


def test_org_staff_see_only_their_own_people(web: Web, orgs: dict[str, int]) -> None:
    people = web.ids["people"]
    employer, _ = signed_in(web, "employer.hr")
    school, _ = signed_in(web, "university.office")
    mine = employer.get("/api/v1/org/people")
    assert mine.status_code == 200
    # the cast's employees, and the engineers the demo's joint applications hired (cnvisa.demo.joint_story)
    assert {p["person_id"] for p in mine.json()} & set(people) == {people[0], people[3]}
    hires = {p["person_id"] for p in mine.json()} - set(people)
    assert len(hires) == len(JOINT_PLANS) - 1  # the one hired by the Beijing branch is not Demo Employer's
    assert {p["relation"] for p in mine.json()} == {"employee"}
    theirs = school.get("/api/v1/org/people").json()
    assert {p["person_id"] for p in theirs} == {people[1], people[4]}
    alice = next(p for p in mine.json() if p["person_id"] == people[0])
    permit = next(d for d in alice["documents"] if d["number"] == "J25DEMO0001")
    assert (
        permit["status"] == "valid" and permit["valid_until"] == (TODAY + dt.timedelta(days=165)).isoformat()
    )
    assert permit["days_left"] == 165 and permit["expiring_soon"] is False


def test_people_are_sorted_by_nearest_expiry_and_30_days_are_flagged(web: Web, orgs: dict[str, int]) -> None:
    people = web.ids["people"]

    async def add(s: AsyncSession) -> None:
        await s.execute(
            insert(Holding).values(
                person_id=people[3],
                kind="stay_permit",
                number="T25SOON0001",
                category="private",
                entries_used=0,
                valid_from=TODAY - dt.timedelta(days=60),
                valid_until=TODAY + dt.timedelta(days=30),  # 以内 includes the 30th day
                extended_days=0,
                annotations=[],
                status="valid",
            )
        )

    db(web, add)
    employer, _ = signed_in(web, "employer.hr")
    rows = [r for r in employer.get("/api/v1/org/people").json() if r["person_id"] in people]  # the cast's
    assert [r["person_id"] for r in rows] == [people[3], people[0]]
    first = rows[0]
    assert first["expiring_soon"] is True and first["days_left"] == 30
    assert [d["expiring_soon"] for d in first["documents"] if d["number"] == "T25SOON0001"] == [True]
    assert rows[1]["expiring_soon"] is False
    page = employer.get("/org/people")
    assert page.status_code == 200 and "Expires within 30 days" in page.text and "T25SOON0001" in page.text


def test_people_need_org_staff(web: Web) -> None:
    assert web.new_client().get("/api/v1/org/people").status_code == 401
    for username in ("alice", "sh01.officer", "bank.teller"):
        client, _ = signed_in(web, username)
        r = client.get("/api/v1/org/people")
        assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
        assert client.get("/org/people").status_code == 403
    assert web.new_client().get("/org/people").status_code == 303  # to the sign-in page


# --- reports -------------------------------------------------------------------------------------------------


def test_graduated_is_refused_for_an_employee_naming_art_26_2(web: Web, orgs: dict[str, int]) -> None:
    employer, csrf = signed_in(web, "employer.hr")
    r = report(employer, csrf, person_id=web.ids["people"][0], event="graduated", occurred_on="2025-11-19")
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["field"] == "event" and body["rule"] == "Regulations Art 26(2)"
    school, csrf2 = signed_in(web, "university.office")
    r = report(school, csrf2, person_id=web.ids["people"][1], event="resigned", occurred_on="2025-11-19")
    assert r.status_code == 422 and r.json()["rule"] == "Regulations Art 26(1)"
    r = report(school, csrf2, person_id=web.ids["people"][1], event="graduated", occurred_on="2025-11-19")
    assert r.status_code == 201 and r.json()["rule"] == "Regulations Art 26(2)"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": "resigned", "occurred_on": "2025-11-21"}, "occurred_on"),  # not in the future
        ({"event": "other", "occurred_on": "2025-11-19"}, "note"),  # "other" is described
        ({"event": "fired", "occurred_on": "2025-11-19"}, "event"),
        ({"event": "resigned", "occurred_on": "yesterday"}, "occurred_on"),
    ],
)
def test_report_validation_names_the_field(
    web: Web, orgs: dict[str, int], body: dict[str, Any], field: str
) -> None:
    employer, csrf = signed_in(web, "employer.hr")
    r = report(employer, csrf, person_id=web.ids["people"][0], **body)
    assert r.status_code == 422 and r.json()["field"] == field


def test_reports_only_for_own_people_and_with_csrf(web: Web, orgs: dict[str, int]) -> None:
    people = web.ids["people"]
    employer, csrf = signed_in(web, "employer.hr")
    r = report(
        employer, csrf, person_id=people[1], event="violated_exit_entry_rules", occurred_on="2025-11-19"
    )
    assert r.status_code == 422 and r.json()["field"] == "person_id"  # the school's student, not ours
    r = report(employer, None, person_id=people[0], event="resigned", occurred_on="2025-11-19")
    assert r.status_code == 403 and r.json()["code"] == "csrf"
    alice, csrf_a = signed_in(web, "alice")
    r = report(alice, csrf_a, person_id=people[0], event="resigned", occurred_on="2025-11-19")
    assert r.status_code == 403


def test_the_office_of_the_organisations_region_sees_the_report(web: Web, orgs: dict[str, int]) -> None:
    people = web.ids["people"]
    employer, csrf = signed_in(web, "employer.hr")
    r = report(
        employer, csrf, person_id=people[0], event="resigned", occurred_on="2025-11-19", note="last day"
    )
    assert r.status_code == 201, r.text
    filed = r.json()
    assert filed["office_code"] == "SH01" and filed["rule"] == "Regulations Art 26(1)"  # region 310000
    assert filed["person_name"] and filed["organisation"]

    sh01, _ = signed_in(web, "sh01.officer")
    seen = sh01.get("/api/v1/office/reports").json()
    assert [x["id"] for x in seen] == [filed["id"]] and seen[0]["event"] == "resigned"
    assert seen[0]["note"] == "last day" and seen[0]["relation"] == "employee"
    bj01, _ = signed_in(web, "bj01.officer")
    assert bj01.get("/api/v1/office/reports").json() == []
    assert "last day" not in bj01.get("/office/reports").text

    assert [x["id"] for x in employer.get("/api/v1/org/reports").json()] == [filed["id"]]
    school, _ = signed_in(web, "university.office")
    assert school.get("/api/v1/org/reports").json() == []
    # the report and the office's read are audited
    actions = db(web, lambda s: _actions(s))
    assert "org_report" in actions and "read_org_reports" in actions
    # neither side reads the other's list
    assert employer.get("/api/v1/office/reports").status_code == 403
    assert sh01.get("/api/v1/org/reports").status_code == 403


async def _actions(s: AsyncSession) -> list[str]:
    return [a for (a,) in await s.execute(select(AuditEvent.action))]


def test_invitees_get_only_the_events_of_items_3_and_4(web: Web, orgs: dict[str, int]) -> None:
    people = web.ids["people"]

    async def invite(s: AsyncSession) -> None:
        await s.execute(
            insert(OrgPerson).values(
                organisation_id=orgs["employer"], person_id=people[5], relation="invitee", since=TODAY
            )
        )

    db(web, invite)
    employer, csrf = signed_in(web, "employer.hr")
    r = report(employer, csrf, person_id=people[5], event="resigned", occurred_on="2025-11-19")
    assert (
        r.status_code == 422 and r.json()["field"] == "event" and r.json()["rule"] == "Regulations Art 26(1)"
    )
    r = report(employer, csrf, person_id=people[5], event="missing", occurred_on="2025-11-19")
    assert (
        r.status_code == 201
        and r.json()["relation"] == "invitee"
        and r.json()["rule"] == "Regulations Art 26(4)"
    )
    events = employer.get("/api/v1/org/report-events").json()
    assert {e["code"] for e in events if "invitee" in e["relations"]} == {
        "violated_exit_entry_rules",
        "died",
        "missing",
        "other",
    }


def test_reports_go_to_the_office_of_the_locality(web: Web) -> None:
    async def office_for(region: str) -> str | None:
        async with web.client.app.state.platform.sessions() as s:  # type: ignore[attr-defined]
            office = await responsible_office(s, region)
            return office.code if office else None

    def code(region: str) -> str | None:
        return web.client.portal.call(office_for, region)  # type: ignore[attr-defined]

    assert code("310000") == "SH01"  # the same division
    assert code("330782") == "YW01"  # the county office of Yiwu
    assert code("330783") == "YW01"  # same prefecture (Jinhua): the only office there
    assert code("330500") == "HZ01"  # same province: the prefecture office before a county one
    assert code("990000") == "SH01"  # nowhere near: the first office


# --- pages -------------------------------------------------------------------------------------------------


def test_report_form_files_and_refuses_with_the_rule(web: Web, orgs: dict[str, int]) -> None:
    people = web.ids["people"]
    employer, csrf = signed_in(web, "employer.hr")
    form = employer.get("/org/reports/new")
    assert form.status_code == 200 and 'name="csrf"' in form.text and '<label for="event">' in form.text
    bad = employer.post(
        "/org/reports",
        data={"csrf": csrf, "person_id": str(people[0]), "event": "graduated", "occurred_on": "2025-11-19"},
    )
    assert bad.status_code == 422 and 'role="alert"' in bad.text and "Regulations Art 26(2)" in bad.text
    assert 'aria-invalid="true"' in bad.text
    no_csrf = employer.post(
        "/org/reports", data={"person_id": str(people[0]), "event": "resigned", "occurred_on": "2025-11-19"}
    )
    assert no_csrf.status_code == 403
    ok = employer.post(
        "/org/reports",
        data={"csrf": csrf, "person_id": str(people[0]), "event": "resigned", "occurred_on": "2025-11-19"},
    )
    assert ok.status_code == 303 and ok.headers["location"].startswith("/org/reports?filed=")
    listed = employer.get(ok.headers["location"])
    assert listed.status_code == 200 and "The employee resigned" in listed.text


def test_pages_in_chinese(web: Web, orgs: dict[str, int]) -> None:
    people = web.ids["people"]
    employer, csrf = signed_in(web, "employer.hr")
    assert (
        report(employer, csrf, person_id=people[0], event="resigned", occurred_on="2025-11-19").status_code
        == 201
    )
    page = employer.get("/org/people?lang=zh_CN")
    assert page.status_code == 200 and 'lang="zh-CN"' in page.text
    assert "本单位人员" in page.text and "居留证件" in page.text and "2026年5月4日" in page.text
    form = employer.get("/org/reports/new?lang=zh_CN")
    assert "报告情况" in form.text and "招收的外国留学生毕业" in form.text and "提交报告" in form.text
    bad = employer.post(
        "/org/reports?lang=zh_CN",
        data={"csrf": csrf, "person_id": str(people[0]), "event": "graduated", "occurred_on": "2025-11-19"},
    )
    assert bad.status_code == 422 and "该人员与本单位的关系不适用此情形" in bad.text
    assert "《条例》第二十六条第（二）项" in bad.text
    assert "聘用的外国人离职" in employer.get("/org/reports?lang=zh_CN").text
    sh01, _ = signed_in(web, "sh01.officer")
    office = sh01.get("/office/reports?lang=zh_CN")
    assert office.status_code == 200 and "单位报告" in office.text and "聘用的外国人离职" in office.text
    assert "2025年11月19日" in office.text and "《条例》第二十六条第（一）项" in office.text


# --- the roster's end starts the report's duty (Regulations Art 26; issue 12) ----------------------------


def test_an_employee_who_leaves_starts_the_report_shown_on_the_deadlines(
    web: Web, orgs: dict[str, int]
) -> None:
    alice = web.ids["people"][0]
    employer, csrf = signed_in(web, "employer.hr")
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    r = employer.post(
        f"/api/v1/org/people/{alice}/end", json={"on": yesterday}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["relation"] == "employee" and out["until"] == yesterday
    report = out["report"]
    assert report["label"] == "office rule" and report["by"] == (TODAY + dt.timedelta(days=9)).isoformat()
    assert report["citations"] == ["Regulations Art 26"] and report["events"] == ["resigned"]
    again = employer.post(
        f"/api/v1/org/people/{alice}/end", json={"on": yesterday}, headers={"X-CSRF-Token": csrf}
    )
    assert again.status_code == 200  # the same day again changes nothing
    # she has left: not among the people; the duty to report is the organisation's, on its deadlines
    assert alice not in {p["person_id"] for p in employer.get("/api/v1/org/people").json()}
    items = employer.get("/api/v1/org/obligations").json()["items"]
    [duty] = [o for o in items if o["kind"] == "employer_report"]
    assert duty["person_id"] == alice and duty["state"] == "open" and duty["label"] == "office rule"
    page = employer.get("/org/obligations", params={"lang": "zh_CN"})
    assert "向公安机关出入境管理机构报告该外国人离职或者离校" in page.text
    assert "天数为本机关工作规则；条例规定为及时报告" in page.text

    async def ended(s: AsyncSession) -> int:
        return len((await s.execute(select(AuditEvent).where(AuditEvent.action == "org_person_ended"))).all())

    assert db(web, ended) == 1
    # her report is still filed as before (she is the organisation's, though no longer current)
    body = {"person_id": alice, "event": "resigned", "occurred_on": yesterday}
    assert employer.post("/api/v1/org/reports", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_leaving_form_names_the_day_it_refuses(web: Web, orgs: dict[str, int], lang: str) -> None:
    alice = web.ids["people"][0]
    employer, csrf = signed_in(web, "employer.hr")
    form = employer.get(f"/org/people/{alice}/end", params={"lang": lang})
    assert form.status_code == 200
    bad = employer.post(
        f"/org/people/{alice}/end", data={"csrf": csrf, "on": "1999-01-01"}, params={"lang": lang}
    )
    assert bad.status_code == 422
    message = (
        "请填写最后一日：不早于聘用或者招收开始之日，最晚为一年以后。"
        if lang == "zh_CN"
        else "Give the last day: not before the relationship began, at most a year ahead."
    )
    assert message in bad.text and 'href="#on"' in bad.text
    ok = employer.post(
        f"/org/people/{alice}/end", data={"csrf": csrf, "on": TODAY.isoformat()}, params={"lang": lang}
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/org/obligations"
    school, _ = signed_in(web, "university.office")
    assert school.get(f"/org/people/{alice}/end").status_code == 404
