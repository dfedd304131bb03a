"""The applicant side (issue 4): what do I need, online appointments, online application with uploads, progress,
my documents — for applicants and for agents acting for someone (亲友帮办, Regulations Art 19).

alice: applicant, person 1; bob: applicant, person 2; carol: agent for person 3 (a relative); sh01.officer: staff.
The clock stands at Thursday 2025-11-20 09:00 Beijing time."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import insert, select, update
from web_support import Web

from cnvisa.cases.photo import check_photo
from cnvisa.cases.service import Actor
from cnvisa.cases.workflow import Role
from cnvisa.http.settings import PhotoSpec, Settings
from cnvisa.store.tables import Appointment, Mandate, Office, Person

T = TypeVar("T")
PROBLEM = "application/problem+json"
SPEC = PhotoSpec()


def _blank_pdf() -> bytes:
    """A one-page PDF that parses (uploads are decoded, cnvisa.cases.uploads)."""
    w = PdfWriter()
    w.add_blank_page(595, 842)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


PDF = _blank_pdf()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def jpeg(width: int = 360, height: int = 480, size: int | None = 30 * 1024) -> bytes:
    """A JPEG of the given pixel size, padded with comment segments to exactly ``size`` bytes."""
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (235, 235, 240)).save(buf, "JPEG", quality=70)
    data = buf.getvalue()
    if size is None:
        return data
    pad = size - len(data)
    assert pad == 0 or pad >= 4, f"the plain JPEG is {len(data)} bytes, larger than {size}"
    segments = []
    while pad > 0:
        chunk = min(pad, 65537)
        if 0 < pad - chunk < 4:
            chunk -= 4
        body = b"x" * (chunk - 4)
        segments.append(b"\xff\xfe" + (len(body) + 2).to_bytes(2, "big") + body)
        pad -= chunk
    out = data[:2] + b"".join(segments) + data[2:]
    assert len(out) == size
    return out


def run(web: Web, fn: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on the application's event loop (its database pool lives there)."""
    return web.client.portal.call(fn)  # type: ignore[attr-defined,no-any-return]


def platform(web: Web) -> Any:
    return web.client.app.state.platform  # type: ignore[attr-defined]


def signed_in(web: Web, username: str) -> tuple[TestClient, str]:
    c = web.new_client()
    return c, web.signin(username, c)


def problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers["content-type"]
    body: dict[str, Any] = r.json()
    return body


def test_smoke_pages(web: Web) -> None:
    for lang in ("en", "zh_CN"):
        assert web.client.get(f"/what-do-i-need?lang={lang}").status_code == 200
        r = web.client.get(
            f"/what-do-i-need/visa_extension?lang={lang}&check=1&visa.category=L&visa.stay_days=30&entry_date=2025-11-01"
        )
        assert r.status_code == 200, r.text
    c, _csrf = signed_in(web, "alice")
    for path in (
        "/appointments",
        "/appointments?office=1",
        "/appointments?office=1&day=2025-11-21",
        "/apply",
        "/apply?matter=visa_extension",
        "/apply?matter=visa_extension&step=check&office=1",
        "/my/cases",
        "/my/documents",
    ):
        r = c.get(path + ("&" if "?" in path else "?") + "lang=zh_CN")
        assert r.status_code in (200, 422), (path, r.text)


# ------------------------------------------------------------------------------------------------ helpers


def office_id(web: Web, code: str = "SH01") -> int:
    return int(web.ids["offices"][code])


def person(web: Web, k: int) -> int:
    """Person k (1-based) of the demo: alice is 1, bob 2, carol acts for 3."""
    return int(web.ids["people"][k - 1])


def officer(web: Web) -> Actor:
    return Actor(web.ids["accounts"]["sh01.officer"], Role.OFFICER, office_id=office_id(web))


EXTENSION = {
    "entry_date": "2025-11-01",
    "visa": {"category": "L", "entries": "single", "stay_days": 30},
    "requested": {"extension_days": 20},
}


def apply_api(
    c: TestClient,
    csrf: str,
    web: Web,
    *,
    key: str,
    inputs: dict[str, Any] | None = None,
    person_id: int | None = None,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    matter: str = "visa_extension",
) -> Any:
    application: dict[str, Any] = {
        "office_id": office_id(web),
        "matter": matter,
        "inputs": inputs or EXTENSION,
    }
    if person_id is not None:
        application["person_id"] = person_id
    if files is None:
        files = [
            ("passport", ("passport.pdf", PDF, "application/pdf")),
            ("photo", ("me.jpg", jpeg(), "image/jpeg")),
            ("itinerary", ("plan.pdf", PDF, "application/pdf")),
        ]
    return c.post(
        "/api/v1/cases",
        data={"application": json.dumps(application)},
        files=files,
        headers={"X-CSRF-Token": csrf, "Idempotency-Key": key},
    )


# ------------------------------------------------------------------------------------------------ the photo


@pytest.mark.parametrize(
    ("width", "height", "size", "faults"),
    [
        (354, 472, 30 * 1024, []),  # the smallest photo
        (480, 640, 30 * 1024, []),  # the largest photo
        (353, 472, 30 * 1024, ["photo.width"]),  # one pixel too narrow (ratio 0.748 is within 2 %)
        (481, 640, 30 * 1024, ["photo.width"]),
        (354, 471, 30 * 1024, ["photo.height"]),
        (480, 641, 30 * 1024, ["photo.height"]),
        (367, 480, 30 * 1024, []),  # 0.7646: within 2 % of 3:4
        (368, 480, 30 * 1024, ["photo.ratio"]),  # 0.7667: beyond
        (360, 660, 30 * 1024, ["photo.height", "photo.ratio"]),  # every broken rule is named
        (400, 472, 30 * 1024, ["photo.ratio"]),
        (360, 480, 20 * 1024, []),  # 20 KB exactly
        (360, 480, 20 * 1024 - 1, ["photo.size"]),
        (360, 480, 80 * 1024, []),  # 80 KB exactly
        (360, 480, 80 * 1024 + 1, ["photo.size"]),
    ],
)
def test_photo_rules_at_their_edges(width: int, height: int, size: int, faults: list[str]) -> None:
    assert [f.rule for f in check_photo(jpeg(width, height, size), SPEC)] == faults


def test_photo_limits_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNVISA_PHOTO_MAX_KB", "25")
    monkeypatch.setenv("CNVISA_PHOTO_MIN_WIDTH", "400")
    spec = Settings().photo
    assert (spec.max_bytes, spec.min_width, spec.max_width) == (25 * 1024, 400, 480)
    assert [f.rule for f in check_photo(jpeg(360, 480, 30 * 1024), spec)] == ["photo.size", "photo.width"]
    assert [f.rule for f in check_photo(jpeg(360, 480, 30 * 1024), SPEC)] == []  # the defaults


def test_photo_must_be_a_readable_jpeg() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (360, 480)).save(buf, "PNG")
    assert [f.rule for f in check_photo(buf.getvalue(), SPEC)] == ["photo.format"]
    assert [f.rule for f in check_photo(b"\xff\xd8\xff" + b"\x00" * 30000, SPEC)] == ["photo.format"]


# ------------------------------------------------------------------------------------------------ what do I need


def test_matters_and_assess_are_public_and_cited(web: Web) -> None:
    matters = web.client.get("/api/v1/matters").json()
    by = {m["matter"]: m for m in matters}
    assert "visa" not in by and set(by) >= {"visa_extension", "residence_permit", "exit_without_passport"}
    names = [q["name"] for q in by["visa_extension"]["inputs"]]
    assert names[:5] == [
        "visa.category",
        "visa.entries",
        "visa.stay_days",
        "visa.extended_days",
        "entry_date",
    ]
    purpose = next(q for q in by["visa_extension"]["inputs"] if q["name"] == "purpose")
    assert (
        purpose["when"] == {"field": "visa.category", "in": ["S2"]} and purpose["label"]["zh"] == "停留事由"
    )
    assert "requested.permit_type" in [q["name"] for q in by["residence_permit"]["inputs"]]

    r = web.client.post("/api/v1/assess", json={"matter": "visa_extension", **EXTENSION})
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["on"] == "2025-11-20" and a["max_extension_days"] == 30 and a["last_day_of_stay"] == "2025-12-01"
    codes = [m["code"] for m in a["required_materials"]]
    assert codes == ["passport", "application_form", "photo", "itinerary"]
    itinerary = a["required_materials"][3]
    assert itinerary["label"]["zh"] and itinerary["citations"][0]["cite"] == "Guide VI(II)5"

    bad = problem(
        web.client.post("/api/v1/assess", json={"matter": "visa_extension", "visa": {"category": "L"}}), 422
    )
    assert bad["field"] == "entry_date"
    bad = problem(web.client.post("/api/v1/assess", json={"matter": "nonsense"}), 422)
    assert bad["field"] == "matter"


def test_what_do_i_need_pages_in_both_languages(web: Web) -> None:
    r = web.client.get("/what-do-i-need?lang=zh_CN")
    assert r.status_code == 200 and "签证延期" in r.text and "居留证件延期" in r.text
    query = (
        "check=1&visa.category=S2&visa.stay_days=60&entry_date=2025-11-01&purpose=private_affairs"
        "&requested.extension_days=100"
    )
    zh = web.client.get(f"/what-do-i-need/visa_extension?lang=zh_CN&{query}")
    assert zh.status_code == 200
    assert "处理私人事务或者人道主义事由的证明材料" in zh.text  # Guide VI(II)9, other purposes
    assert "《外国人签证延期、换发、补发指南》VI(II)9" in zh.text and "60日" in zh.text  # min(90, 60)
    assert "申请延长100日，超过最长可延长的60日。" in zh.text  # the problem, in Chinese
    en = web.client.get(f"/what-do-i-need/visa_extension?lang=en&{query}")
    assert "Proof of personal or humanitarian matters" in en.text and "Guide VI(II)9" in en.text
    wrong = web.client.get("/what-do-i-need/visa_extension?lang=en&check=1&visa.stay_days=many")
    assert wrong.status_code == 422 and "visa.stay_days" in wrong.text and 'role="alert"' in wrong.text
    assert web.client.get("/what-do-i-need/visa").status_code == 404  # overseas: not an in-country matter


# ------------------------------------------------------------------------------------------------ appointments


def test_offices_and_slots_follow_working_days_and_opening_hours(web: Web) -> None:
    offices = web.client.get("/api/v1/offices").json()
    sh = next(o for o in offices if o["code"] == "SH01")
    assert sh["bookable_days"][0] == "2025-11-21" and "2025-11-22" not in sh["bookable_days"]
    assert sh["bookable_days"][-1] == "2025-12-19"  # 2025-12-20 is a Saturday
    r = web.client.get(f"/api/v1/offices/{sh['id']}/slots", params={"day": "2025-11-21"})
    slots = [s["slot"] for s in r.json()["slots"]]
    assert slots[0] == "09:00" and slots[5] == "11:30" and slots[6] == "13:30" and slots[-1] == "16:30"
    assert len(slots) == 13 and all(s["free"] == sh["slot_capacity"] for s in r.json()["slots"])
    saturday = problem(web.client.get(f"/api/v1/offices/{sh['id']}/slots", params={"day": "2025-11-22"}), 422)
    assert saturday["field"] == "day" and saturday["rule"] == "appointment.working_day"
    for day in ("2025-11-20", "2025-12-21"):  # today; beyond 30 days
        p = problem(web.client.get(f"/api/v1/offices/{sh['id']}/slots", params={"day": day}), 422)
        assert p["rule"] == "appointment.window"
    assert web.client.get("/api/v1/offices/999999/slots", params={"day": "2025-11-21"}).status_code == 404
    huge = web.client.get("/api/v1/offices/24518901092830937088/slots", params={"day": "2025-11-21"})
    assert problem(huge, 422)["field"] == "office_id"  # not a 64-bit key: refused before the database


def test_holidays_and_adjusted_working_days(web: Web) -> None:
    from cnvisa.cases.clock import SHANGHAI

    web.clock.set(dt.datetime(2025, 9, 20, 9, 0, tzinfo=SHANGHAI))
    oid = office_id(web)
    holiday = problem(web.client.get(f"/api/v1/offices/{oid}/slots", params={"day": "2025-10-01"}), 422)
    assert holiday["rule"] == "appointment.working_day" and "National Day" in holiday["detail"]
    # 2025-10-11 is a Saturday the State Council notice makes a working day (调休): weekday hours apply
    worked = web.client.get(f"/api/v1/offices/{oid}/slots", params={"day": "2025-10-11"})
    assert worked.status_code == 200 and len(worked.json()["slots"]) == 13
    c, csrf = signed_in(web, "alice")
    r = c.post(
        "/api/v1/appointments",
        json={"office_id": oid, "day": "2025-10-01", "slot": "09:00", "matter": "visa_extension"},
        headers={"X-CSRF-Token": csrf},
    )
    assert problem(r, 422)["field"] == "day"


def test_booking_who_may_and_double_booking(web: Web) -> None:
    oid = office_id(web)
    want = {"office_id": oid, "day": "2025-11-21", "slot": "09:30", "matter": "visa_extension"}
    assert problem(web.client.post("/api/v1/appointments", json=want), 401)["code"] == "signin_required"
    alice, a_csrf = signed_in(web, "alice")
    assert problem(alice.post("/api/v1/appointments", json=want), 403)["code"] == "csrf"
    r = alice.post("/api/v1/appointments", json=want, headers={"X-CSRF-Token": a_csrf})
    assert r.status_code == 201, r.text
    booked = r.json()
    assert booked["person_id"] == person(web, 1) and booked["seat"] == 1 and booked["slot"] == "09:30"
    again = alice.post("/api/v1/appointments", json=want, headers={"X-CSRF-Token": a_csrf})
    assert problem(again, 409)["code"] == "double_booking"
    elsewhere = alice.post(
        "/api/v1/appointments",
        json={**want, "office_id": office_id(web, "BJ01")},
        headers={"X-CSRF-Token": a_csrf},
    )
    assert problem(elsewhere, 409)["code"] == "double_booking"  # one person, one appointment per time
    off_hours = alice.post(
        "/api/v1/appointments", json={**want, "slot": "12:30"}, headers={"X-CSRF-Token": a_csrf}
    )
    assert problem(off_hours, 422)["field"] == "slot"

    bob, b_csrf = signed_in(web, "bob")
    for_alice = bob.post(
        "/api/v1/appointments", json={**want, "person_id": person(web, 1)}, headers={"X-CSRF-Token": b_csrf}
    )
    assert problem(for_alice, 403)["code"] == "forbidden"
    carol, c_csrf = signed_in(web, "carol")
    mine = carol.post(
        "/api/v1/appointments", json={**want, "person_id": person(web, 3)}, headers={"X-CSRF-Token": c_csrf}
    )
    assert mine.status_code == 201 and mine.json()["seat"] == 2
    not_hers = carol.post(
        "/api/v1/appointments", json={**want, "person_id": person(web, 1)}, headers={"X-CSRF-Token": c_csrf}
    )
    assert problem(not_hers, 403)["code"] == "forbidden"
    off, o_csrf = signed_in(web, "sh01.officer")
    assert problem(off.post("/api/v1/appointments", json=want, headers={"X-CSRF-Token": o_csrf}), 403)
    assert problem(off.get("/api/v1/appointments"), 403)["code"] == "forbidden"

    assert [a["id"] for a in alice.get("/api/v1/appointments").json()] == [booked["id"]]
    assert [a["person_id"] for a in carol.get("/api/v1/appointments").json()] == [person(web, 3)]
    slots = web.client.get(f"/api/v1/offices/{oid}/slots", params={"day": "2025-11-21"}).json()["slots"]
    assert next(s for s in slots if s["slot"] == "09:30")["taken"] == 2

    # cancel: only one's own (or a mandated person's); bob may not cancel alice's
    assert problem(bob.delete(f"/api/v1/appointments/{booked['id']}", headers={"X-CSRF-Token": b_csrf}), 403)
    assert (
        alice.delete(f"/api/v1/appointments/{booked['id']}", headers={"X-CSRF-Token": a_csrf}).status_code
        == 204
    )
    assert alice.get("/api/v1/appointments").json() == []
    assert problem(
        alice.delete(f"/api/v1/appointments/{booked['id']}", headers={"X-CSRF-Token": a_csrf}), 404
    )


def test_a_full_slot_is_refused(web: Web) -> None:
    oid = office_id(web)

    async def shrink() -> None:
        async with platform(web).sessions() as s, s.begin():
            await s.execute(update(Office).where(Office.id == oid).values(slot_capacity=2))

    run(web, shrink)
    want = {"office_id": oid, "day": "2025-11-24", "slot": "10:00", "matter": "residence_permit"}
    for user, person_id, status in (("alice", None, 201), ("bob", None, 201), ("carol", person(web, 3), 409)):
        c, csrf = signed_in(web, user)
        r = c.post(
            "/api/v1/appointments", json={**want, "person_id": person_id}, headers={"X-CSRF-Token": csrf}
        )
        assert r.status_code == status, r.text
    assert r.json()["code"] == "slot_full" and r.json()["field"] == "slot"


def test_concurrent_bookings_take_exactly_the_capacity(web: Web) -> None:
    oid, capacity, n = office_id(web), 3, 10

    async def prepare() -> list[int]:
        async with platform(web).sessions() as s, s.begin():
            await s.execute(update(Office).where(Office.id == oid).values(slot_capacity=capacity))
            people = [
                pid for (pid,) in (await s.execute(select(Person.id).order_by(Person.id).offset(3).limit(n)))
            ]
            await s.execute(
                insert(Mandate),
                [
                    {
                        "agent_account_id": web.ids["accounts"]["carol"],
                        "person_id": pid,
                        "capacity": "relative",
                        "valid_from": dt.date(2025, 1, 1),
                        "valid_until": None,
                    }
                    for pid in people
                ],
            )
        return people

    people = run(web, prepare)
    first, csrf = signed_in(web, "carol")
    token = first.cookies.get("cnvisa_session")
    clients = []
    for _ in people:
        c = web.new_client()
        c.cookies.set("cnvisa_session", str(token))
        clients.append(c)

    def book(i: int) -> Any:
        body = {
            "office_id": oid,
            "day": "2025-11-25",
            "slot": "14:00",
            "matter": "stay_permit",
            "person_id": people[i],
        }
        return clients[i].post("/api/v1/appointments", json=body, headers={"X-CSRF-Token": csrf})

    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(book, range(n)))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] * capacity + [409] * (n - capacity), [r.text for r in results]
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"slot_full"}
    assert sorted(r.json()["seat"] for r in results if r.status_code == 201) == [1, 2, 3]

    async def seats() -> list[int]:
        async with platform(web).sessions() as s:
            q = select(Appointment.seat).where(
                Appointment.office_id == oid, Appointment.day == dt.date(2025, 11, 25)
            )
            return sorted((await s.execute(q)).scalars())

    assert run(web, seats) == [1, 2, 3]


def test_appointment_pages(web: Web) -> None:
    c, csrf = signed_in(web, "bob")
    oid = office_id(web)
    page = c.get(f"/appointments?office={oid}&day=2025-11-21&lang=zh_CN")
    assert page.status_code == 200 and "在线预约" in page.text and "2025年11月21日星期五" in page.text
    r = c.post(
        "/appointments",
        data={
            "csrf": csrf,
            "office": oid,
            "day": "2025-11-21",
            "slot": "15:00",
            "person": person(web, 2),
            "matter": "visa_extension",
        },
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/appointments?booked=")
    listed = c.get(r.headers["location"] + "&lang=en")
    assert "Your appointment is booked." in listed.text and "15:00" in listed.text
    twice = c.post(
        "/appointments",
        data={
            "csrf": csrf,
            "office": oid,
            "day": "2025-11-21",
            "slot": "15:00",
            "person": person(web, 2),
            "matter": "visa_extension",
        },
        params={"lang": "zh_CN"},
    )
    assert twice.status_code == 409 and "该申请人在该时段已有预约。" in twice.text
    saturday = c.get(f"/appointments?office={oid}&day=2025-11-22&lang=zh_CN")
    assert saturday.status_code == 422 and "周末和法定节假日不办理" in saturday.text
    appointment = c.get("/api/v1/appointments").json()[0]
    gone = c.post(f"/appointments/{appointment['id']}/cancel", data={"csrf": csrf})
    assert gone.status_code == 303 and c.get("/api/v1/appointments").json() == []
    assert web.new_client().get("/appointments").status_code == 303  # to the sign-in page
    off, _ = signed_in(web, "sh01.officer")
    assert off.get("/appointments").status_code == 403


# ------------------------------------------------------------------------------------------------ applying


def test_apply_online_then_progress_shows_submitted(web: Web) -> None:
    c, csrf = signed_in(web, "alice")
    r = apply_api(c, csrf, web, key="alice-ext-1")
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["state"] == "submitted" and r.headers["location"] == f"/api/v1/cases/{case['case_id']}"
    replay = apply_api(c, csrf, web, key="alice-ext-1")
    assert (
        replay.status_code == 200
        and replay.json()["case_id"] == case["case_id"]
        and replay.json()["replayed"]
    )

    mine = c.get("/api/v1/cases").json()
    assert case["case_id"] in [x["case_id"] for x in mine]
    assert {x["person_id"] for x in mine} == {person(web, 1)}
    got = c.get(f"/api/v1/cases/{case['case_id']}").json()
    assert got["state"] == "submitted" and got["state_label"]["zh"] == "已提交"
    assert got["next_step"]["by"] == "office" and got["withdrawable"] and not got["supplement_due"]
    assert sorted(f["material_code"] for f in got["files"]) == ["itinerary", "passport", "photo"]
    assert got["inputs"]["applicant"]["birth_date"]  # taken from the person's record (Art 19 ages)

    page = c.get(f"/my/cases/{case['case_id']}?lang=zh_CN")
    assert page.status_code == 200 and "已提交" in page.text and "签证延期" in page.text
    assert c.get("/my/cases?lang=zh_CN").text.count(case["number"]) == 1


async def mandate_for_an_adult(web: Web) -> int:
    """Give carol a mandate for a person aged 30 to 50, not one of the first three; return the person."""
    async with platform(web).sessions() as s, s.begin():
        pid = (
            (
                await s.execute(
                    select(Person.id)
                    .where(
                        Person.id > person(web, 3),
                        Person.birth_date.between(dt.date(1976, 1, 1), dt.date(1995, 1, 1)),
                    )
                    .order_by(Person.id)
                )
            )
            .scalars()
            .first()
        )
        assert pid is not None
        await s.execute(
            insert(Mandate).values(
                agent_account_id=web.ids["accounts"]["carol"],
                person_id=pid,
                capacity="relative",
                valid_from=dt.date(2025, 1, 1),
                valid_until=None,
            )
        )
    return int(pid)


def test_case_access_alice_bob_carol_officer(web: Web) -> None:
    alice, a_csrf = signed_in(web, "alice")
    alices = apply_api(alice, a_csrf, web, key="k-a").json()["case_id"]
    carol, c_csrf = signed_in(web, "carol")
    grounds = {**EXTENSION, "applicant": {"first_entry": False, "good_record": True}}  # Art 19 para 1(2)
    r = apply_api(carol, c_csrf, web, key="k-c", inputs=grounds, person_id=person(web, 3))
    assert r.status_code == 201, r.text
    carols = r.json()["case_id"]
    got = carol.get(f"/api/v1/cases/{carols}").json()
    assert got["submitted_by"] == "relative" and "art19_2" in got["proxy_grounds"]
    bob, b_csrf = signed_in(web, "bob")
    officer, _ = signed_in(web, "sh01.officer")

    assert alice.get(f"/api/v1/cases/{alices}").status_code == 200
    assert problem(bob.get(f"/api/v1/cases/{alices}"), 403)["code"] == "forbidden"
    assert problem(carol.get(f"/api/v1/cases/{alices}"), 403)["code"] == "forbidden"
    assert problem(officer.get(f"/api/v1/cases/{alices}"), 403)["code"] == "forbidden"
    assert problem(alice.get(f"/api/v1/cases/{carols}"), 403)["code"] == "forbidden"
    assert problem(web.client.get(f"/api/v1/cases/{alices}"), 401)
    assert problem(alice.get("/api/v1/cases/99999999"), 404)
    assert {x["person_id"] for x in carol.get("/api/v1/cases").json()} == {person(web, 3)}
    assert problem(officer.get("/api/v1/cases"), 403)
    assert bob.get(f"/my/cases/{alices}").status_code == 403
    assert carol.get(f"/my/cases/{carols}?lang=zh_CN").status_code == 200

    # applying for someone else needs a mandate; an agent needs an Art 19 ground
    assert (
        problem(apply_api(bob, b_csrf, web, key="k-b", person_id=person(web, 1)), 403)["code"] == "forbidden"
    )
    assert (
        problem(apply_api(carol, c_csrf, web, key="k-c2", person_id=person(web, 1)), 403)["code"]
        == "forbidden"
    )
    adult = run(web, lambda: mandate_for_an_adult(web))  # 16 to 59: Art 19 para 1(1) does not apply
    no_ground = apply_api(carol, c_csrf, web, key="k-c3", person_id=adult)
    assert problem(no_ground, 409)["code"] == "submitter_may_apply"
    young = {
        **EXTENSION,
        "applicant": {"birth_date": "2015-01-01"},
    }  # the record's birth date counts, not this
    assert problem(apply_api(carol, c_csrf, web, key="k-c4", inputs=young, person_id=adult), 409)
    assert problem(apply_api(officer, "", web, key="k-o"), 403)["code"] == "forbidden"

    # withdrawing: only one's own, at the version one saw
    version = alice.get(f"/api/v1/cases/{alices}").json()["version"]
    assert problem(
        bob.post(
            f"/api/v1/cases/{alices}/withdraw", json={"version": version}, headers={"X-CSRF-Token": b_csrf}
        ),
        403,
    )
    w = alice.post(
        f"/api/v1/cases/{alices}/withdraw", json={"version": version}, headers={"X-CSRF-Token": a_csrf}
    )
    assert w.status_code == 200 and w.json()["state"] == "withdrawn"
    stale = alice.post(
        f"/api/v1/cases/{alices}/withdraw",
        json={"version": version},
        headers={"X-CSRF-Token": a_csrf, "Idempotency-Key": "new"},
    )
    assert problem(stale, 409)["code"] == "conflict"


def test_a_mandate_counts_only_while_it_is_in_force(web: Web) -> None:
    """Whom an agent may act for is read with the sign-in, as of today (Regulations Art 19): a mandate that ended
    yesterday or starts tomorrow gives nothing; two in force give both people."""
    carol, c_csrf = signed_in(web, "carol")
    grounds = {**EXTENSION, "applicant": {"first_entry": False, "good_record": True}}  # Art 19 para 1(2)
    r = apply_api(carol, c_csrf, web, key="k-m1", inputs=grounds, person_id=person(web, 3))
    assert r.status_code == 201, r.text
    case = r.json()["case_id"]
    today = platform(web).today()
    adult = run(web, lambda: mandate_for_an_adult(web))
    assert person(web, 3) in {x["person_id"] for x in carol.get("/api/v1/cases").json()}

    async def set_mandates(until: dt.date | None, start_of_second: dt.date) -> None:
        async with platform(web).sessions() as s, s.begin():
            carol_id = web.ids["accounts"]["carol"]
            await s.execute(
                update(Mandate)
                .where(Mandate.agent_account_id == carol_id, Mandate.person_id == person(web, 3))
                .values(valid_until=until)
            )
            await s.execute(
                update(Mandate)
                .where(Mandate.agent_account_id == carol_id, Mandate.person_id == adult)
                .values(valid_from=start_of_second)
            )

    run(web, lambda: set_mandates(today - dt.timedelta(days=1), today + dt.timedelta(days=1)))
    assert problem(carol.get(f"/api/v1/cases/{case}"), 403)["code"] == "forbidden"
    assert not {person(web, 3), adult} & {x["person_id"] for x in carol.get("/api/v1/cases").json()}
    assert not {person(web, 3), adult} & set(carol.get("/api/v1/auth/me").json()["represents"])
    run(web, lambda: set_mandates(today, today))  # the last day and the first day are in force
    assert {person(web, 3), adult} <= set(carol.get("/api/v1/auth/me").json()["represents"])
    assert carol.get(f"/api/v1/cases/{case}").status_code == 200
    people = {d["person"]["id"] for d in carol.get("/api/v1/me/documents").json()["people"]}
    assert people >= {person(web, 3), adult}


def test_upload_rules(web: Web) -> None:
    c, csrf = signed_in(web, "alice")
    narrow = [("photo", ("me.jpg", jpeg(353, 472), "image/jpeg"))]
    p = problem(apply_api(c, csrf, web, key="u1", files=narrow), 422)
    assert p["field"] == "files.photo" and p["rule"] == "photo.width" and p["code"] == "photo_rejected"
    heavy = [("photo", ("me.jpg", jpeg(size=80 * 1024 + 1), "image/jpeg"))]
    assert problem(apply_api(c, csrf, web, key="u2", files=heavy), 422)["rule"] == "photo.size"
    gif = [("passport", ("passport.pdf", b"GIF89a" + b"\x00" * 100, "application/pdf"))]
    p = problem(apply_api(c, csrf, web, key="u3", files=gif), 415)
    assert p["field"] == "files.passport" and p["code"] == "unsupported_media_type"
    unknown = [("selfie", ("me.png", PNG, "image/png"))]
    assert problem(apply_api(c, csrf, web, key="u4", files=unknown), 422)["field"] == "files.selfie"
    missing_key = c.post(
        "/api/v1/cases",
        data={
            "application": json.dumps(
                {"office_id": office_id(web), "matter": "visa_extension", "inputs": EXTENSION}
            )
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert problem(missing_key, 422)["field"] == "Idempotency-Key"
    bad_json = c.post(
        "/api/v1/cases",
        data={"application": json.dumps({"office_id": office_id(web), "matter": "visa"})},
        headers={"X-CSRF-Token": csrf, "Idempotency-Key": "u5"},
    )
    assert problem(bad_json, 422)["field"] == "application.matter"
    bad_input = apply_api(c, csrf, web, key="u6", inputs={"visa": {"category": "L", "stay_days": 30}})
    assert problem(bad_input, 422)["field"] == "inputs.entry_date"
    reserved = apply_api(c, csrf, web, key="u7", inputs={**EXTENSION, "on": "2025-01-01"})
    assert problem(reserved, 422)["field"] == "application.inputs.on"

    small = dataclasses.replace(
        platform(web), settings=Settings(database_url=web.db_url, max_upload_bytes=1000)
    )
    web.client.app.state.platform = small  # type: ignore[attr-defined]
    big = [("passport", ("passport.pdf", PDF + b"0" * 2000, "application/pdf"))]
    p = problem(apply_api(c, csrf, web, key="u8", files=big), 413)
    assert p["field"] == "files.passport" and p["code"] == "file_too_large"


def test_apply_pages_from_question_to_progress(web: Web) -> None:
    c, csrf = signed_in(web, "alice")
    start = c.get("/apply?lang=zh_CN")
    assert start.status_code == 200 and "网上申请" in start.text
    answers = {
        "person": person(web, 1),
        "matter": "visa_extension",
        "office": office_id(web),
        "step": "check",
        "visa.category": "L",
        "visa.stay_days": "30",
        "entry_date": "2025-11-01",
        "requested.extension_days": "20",
    }
    form = c.get("/apply", params={**answers, "lang": "zh_CN"})
    assert form.status_code == 200 and "三、提交材料" in form.text and 'name="itinerary"' in form.text
    key = form.text.split('name="key" value="')[1].split('"')[0]
    post = {k: str(v) for k, v in answers.items() if k != "step"} | {"csrf": csrf, "key": key}
    bad = c.post(
        "/apply",
        data=post,
        files=[("photo", ("me.jpg", jpeg(353, 472), "image/jpeg"))],
        params={"lang": "zh_CN"},
    )
    assert bad.status_code == 422 and '<a href="#file-photo">照片宽度须为354至480像素。</a>' in bad.text
    ok = c.post(
        "/apply",
        data=post,
        files=[
            ("photo", ("me.jpg", jpeg(), "image/jpeg")),
            ("passport", ("p.pdf", PDF, "application/pdf")),
            ("itinerary", ("", b"", "application/octet-stream")),
        ],
    )
    assert ok.status_code == 303, ok.text
    progress = c.get(ok.headers["location"] + "&lang=en")
    assert "Your application has been submitted." in progress.text and "Submitted" in progress.text
    case_id = int(ok.headers["location"].split("/")[3].split("?")[0])
    files = c.get(f"/api/v1/cases/{case_id}").json()["files"]
    assert sorted(f["material_code"] for f in files) == ["passport", "photo"]  # the empty input was skipped
    again = c.post("/apply", data=post, files=[("photo", ("me.jpg", jpeg(), "image/jpeg"))])
    assert (
        again.status_code == 303 and again.headers["location"] == ok.headers["location"]
    )  # same form, same case

    carol, _c_csrf = signed_in(web, "carol")
    agent = carol.get("/apply", params={"matter": "visa_extension", "lang": "zh_CN"})
    assert (
        agent.status_code == 200 and "代为申请" in agent.text
    )  # carol acts for one person: straight to the form
    assert (
        carol.get("/apply", params={"matter": "visa_extension", "person": person(web, 1)}).status_code == 403
    )


def test_notice_supplement_receipt_and_withdraw(web: Web) -> None:
    c, csrf = signed_in(web, "alice")
    case_id = apply_api(c, csrf, web, key="n-1").json()["case_id"]
    svc = platform(web).cases
    version = c.get(f"/api/v1/cases/{case_id}").json()["version"]
    run(web, lambda: svc.issue_notice(officer(web), case_id, version, key="notice-1"))
    got = c.get(f"/api/v1/cases/{case_id}").json()
    assert got["state"] == "deficient" and got["supplement_due"] and got["next_step"]["by"] == "applicant"
    assert got["notices"][0]["items"] == ["application_form"]
    assert got["notices"][0]["labelled"][0]["label"]["zh"] == "填写完整的《外国人签证证件申请表》"
    assert got["notice_pdf"] == f"/cases/{case_id}/notice.pdf"
    page = c.get(f"/my/cases/{case_id}?lang=zh_CN")
    assert "待补正" in page.text and "填写完整的《外国人签证证件申请表》" in page.text
    assert f'href="/cases/{case_id}/notice.pdf"' in page.text and 'name="application_form"' in page.text

    bob, b_csrf = signed_in(web, "bob")
    sup = [("application_form", ("form.pdf", PDF, "application/pdf"))]
    denied = bob.post(
        f"/api/v1/cases/{case_id}/supplement",
        data={"version": got["version"]},
        files=sup,
        headers={"X-CSRF-Token": b_csrf},
    )
    assert problem(denied, 403)["code"] == "forbidden"
    r = c.post(
        f"/api/v1/cases/{case_id}/supplement",
        data={"version": got["version"]},
        files=sup,
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200 and r.json()["state"] == "submitted", r.text

    version = r.json()["version"]
    run(web, lambda: svc.accept(officer(web), case_id, version, key="accept-1"))
    got = c.get(f"/api/v1/cases/{case_id}").json()
    assert got["state"] == "accepted" and got["receipt_number"]
    assert got["receipt_valid_until"] == "2025-12-01" and got["receipt_working_days_left"] == 7
    page = c.get(f"/my/cases/{case_id}?lang=zh_CN")
    assert "剩余7个工作日" in page.text and got["receipt_number"] in page.text
    web.clock.advance(days=4)  # Monday 2025-11-24: 5 working days left (and a new session: 8 hours each)
    c, csrf = signed_in(web, "alice")
    bob, b_csrf = signed_in(web, "bob")
    assert c.get(f"/api/v1/cases/{case_id}").json()["receipt_working_days_left"] == 5

    page = c.get(f"/my/cases/{case_id}")
    key = page.text.split('name="key" value="')[1].split('"')[0]
    unticked = c.post(
        f"/my/cases/{case_id}/withdraw", data={"csrf": csrf, "key": key, "version": got["version"]}
    )
    assert unticked.status_code == 422
    done = c.post(
        f"/my/cases/{case_id}/withdraw",
        data={"csrf": csrf, "key": key, "version": got["version"], "confirm": "yes"},
    )
    assert done.status_code == 303 and c.get(f"/api/v1/cases/{case_id}").json()["state"] == "withdrawn"
    assert (
        bob.post(
            f"/my/cases/{case_id}/withdraw", data={"csrf": b_csrf, "key": "x", "version": 1, "confirm": "yes"}
        ).status_code
        == 403
    )


# ------------------------------------------------------------------------------------------------ documents


def test_my_documents(web: Web) -> None:
    alice, _ = signed_in(web, "alice")
    docs = alice.get("/api/v1/me/documents").json()
    assert docs["checks"] == "/my/checks" and [g["person"]["id"] for g in docs["people"]] == [person(web, 1)]
    numbers = {d["number"]: d for d in docs["people"][0]["documents"]}
    assert (
        numbers["J25DEMO0001"]["status"] == "valid" and numbers["J25DEMO0001"]["kind"] == "residence_permit"
    )
    bob, _ = signed_in(web, "bob")
    bobs = {d["number"] for g in bob.get("/api/v1/me/documents").json()["people"] for d in g["documents"]}
    assert "J25DEMO0002" in bobs and "J25DEMO0001" not in bobs
    carol, _ = signed_in(web, "carol")
    assert [g["person"]["id"] for g in carol.get("/api/v1/me/documents").json()["people"]] == [person(web, 3)]
    officer, _ = signed_in(web, "sh01.officer")
    assert problem(officer.get("/api/v1/me/documents"), 403)["code"] == "forbidden"
    assert problem(web.client.get("/api/v1/me/documents"), 401)

    zh = alice.get("/my/documents?lang=zh_CN")
    assert zh.status_code == 200 and "我的签证证件" in zh.text and "工作类居留证件" in zh.text
    assert 'href="/my/checks"' in zh.text and "J25DEMO0001" in zh.text and "有效" in zh.text
    assert officer.get("/my/documents").status_code == 403
    assert web.new_client().get("/my/documents").status_code == 303


# ------------------------------------------------------------------------------------------------ languages


def test_every_applicant_message_has_a_chinese_translation() -> None:
    """Every message of the applicant pages (templates, and the texts marked in Python) is in the zh_CN catalog."""
    from pathlib import Path

    from babel.messages.extract import extract_from_file
    from jinja2.ext import babel_extract

    from cnvisa.http.i18n import translations

    root = Path(__file__).parents[2] / "src" / "cnvisa"
    messages: set[str] = set()
    for py in (
        root / "law" / "questionnaire.py",
        root / "http" / "applicant.py",
        root / "api" / "applicant.py",
        root / "web" / "pages" / "applicant.py",
        root / "web" / "pages" / "applicant_view.py",
    ):
        messages |= {
            m for _, m, _, _ in extract_from_file("python", str(py), keywords={"_": None, "t": (2,)})
        }
    options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
    for html in sorted((root / "web" / "templates" / "applicant").glob("*.html")):
        messages |= {m for _, m, _, _ in extract_from_file(babel_extract, str(html), options=options)}
    zh = translations("zh_CN")
    untranslated = sorted(m for m in messages if isinstance(m, str) and zh.gettext(m) == m)
    assert len(messages) > 250 and untranslated == []


def test_page_forms_need_the_csrf_token(web: Web) -> None:
    c, _csrf = signed_in(web, "alice")
    r = c.post("/appointments", data={"office": office_id(web), "day": "2025-11-21", "slot": "09:00"})
    assert r.status_code == 403
    assert c.post("/apply", data={"matter": "visa_extension"}).status_code == 403


def test_the_apply_form_and_what_do_i_need_give_one_art19_answer_from_the_birth_date_on_record(
    web: Web,
) -> None:
    """Regulations Art 19 para 1(1): someone else may submit for an applicant under 16. The application form's
    check reads the birth date on record, as the submitted case does, so a six-year-old's form answers as "What
    do I need?" answers for that birth date: yes, Art 19 para 1(1)."""
    pid = run(web, lambda: mandate_for_an_adult(web))
    six = platform(web).today().replace(year=platform(web).today().year - 6, day=1)

    async def make_six() -> None:
        async with platform(web).sessions() as s, s.begin():
            await s.execute(update(Person).where(Person.id == pid).values(birth_date=six))

    run(web, make_six)
    carol, _csrf = signed_in(web, "carol")
    answers = {
        "visa.category": "L",
        "visa.stay_days": "30",
        "entry_date": "2025-11-01",
        "requested.extension_days": "20",
        "lang": "en",
    }
    under16 = (
        "The applicant is under 16, 60 or over, or has difficulty moving (Regulations Art 19 para 1(1))."
    )
    in_person = "No: the applicant applies in person (Regulations Art 19)."
    need = carol.get(
        "/what-do-i-need/visa_extension",
        params={**answers, "check": "1", "submitted_by": "relative", "applicant.birth_date": six.isoformat()},
    )
    assert need.status_code == 200 and under16 in need.text and in_person not in need.text
    form = carol.get(
        "/apply",
        params={
            **answers,
            "person": pid,
            "matter": "visa_extension",
            "office": office_id(web),
            "step": "check",
        },
    )
    assert form.status_code == 200 and under16 in form.text and in_person not in form.text
