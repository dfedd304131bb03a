"""Appointment hoarding (issue 13, defect 11): one person holds at most ``appointments_per_person`` open (upcoming)
appointments — an office rule (configurable), not law; the refusal names the rule in English and Chinese."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from web_support import Web

from cnvisa.http.settings import Settings

PROBLEM = "application/problem+json"
DAYS = (
    "2025-11-21",
    "2025-11-24",
    "2025-11-25",
    "2025-11-26",
)  # working days of the window (today 2025-11-20)


def _office(web: Web) -> int:
    return int(web.ids["offices"]["SH01"])


def _book(c: Any, csrf: str, web: Web, day: str, slot: str = "09:00") -> Any:
    body = {"office_id": _office(web), "day": day, "slot": slot, "matter": "visa_extension"}
    return c.post("/api/v1/appointments", json=body, headers={"X-CSRF-Token": csrf})


def test_a_person_holds_at_most_the_office_rules_number_of_upcoming_appointments(web: Web) -> None:
    limit = 2  # the default office rule (CNVISA_APPOINTMENTS_PER_PERSON; checked at the end)
    alice = web.new_client()
    csrf = web.signin("alice", alice)
    booked = [_book(alice, csrf, web, day) for day in DAYS[:limit]]
    assert [r.status_code for r in booked] == [201] * limit, [r.text for r in booked]
    third = _book(alice, csrf, web, DAYS[limit])
    assert third.status_code == 409 and third.headers["content-type"].startswith(PROBLEM)
    p = third.json()
    assert p["code"] == "appointment_limit" and p["rule"] == "appointment.per_person"
    assert "office rule" in p["detail"] and f"at most {limit}" in p["detail"]
    same_day = _book(alice, csrf, web, DAYS[0], "10:00")  # another slot of a booked day counts as well
    assert same_day.status_code == 409 and same_day.json()["code"] == "appointment_limit"
    # another person is not affected; a cancelled appointment frees its place
    bob = web.new_client()
    assert _book(bob, web.signin("bob", bob), web, DAYS[2]).status_code == 201
    gone = alice.delete(f"/api/v1/appointments/{booked[0].json()['id']}", headers={"X-CSRF-Token": csrf})
    assert gone.status_code == 204
    assert _book(alice, csrf, web, DAYS[3]).status_code == 201
    # the page says it in the reader's language, naming the office rule
    for lang, text in (("en", "Office rule"), ("zh_CN", "本机关规定")):
        page = alice.post(
            "/appointments",
            data={
                "csrf": csrf,
                "office": _office(web),
                "day": DAYS[2],
                "slot": "11:00",
                "matter": "visa_extension",
            },
            params={"lang": lang},
        )
        assert page.status_code == 409 and text in page.text, page.text[-2000:]
    assert Settings().appointments_per_person == limit


def test_the_limit_is_configurable_and_holds_under_concurrent_bookings(web: Web) -> None:
    app = web.client.app
    platform = app.state.platform  # type: ignore[attr-defined]
    settings = dataclasses.replace(platform.settings, appointments_per_person=3)
    app.state.platform = dataclasses.replace(platform, settings=settings)  # type: ignore[attr-defined]
    try:
        alice = web.new_client()
        csrf = web.signin("alice", alice)
        token = alice.cookies.get("cnvisa_session")
        clients = []
        for _ in range(8):
            c = web.new_client()
            c.cookies.set("cnvisa_session", str(token))
            clients.append(c)
        slots = [(DAYS[i % 4], f"{9 + i // 4:02d}:30") for i in range(8)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda i: _book(clients[i], csrf, web, *slots[i]), range(8)))
    finally:
        app.state.platform = platform  # type: ignore[attr-defined]
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] * 3 + [409] * 5, [r.text for r in results]
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"appointment_limit"}
    assert len(alice.get("/api/v1/appointments").json()) == 3
