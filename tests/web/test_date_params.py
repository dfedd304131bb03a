"""A date is the text YYYY-MM-DD wherever a request gives one (query or body): a bare number is refused naming the
field — Pydantic alone reads it as a Unix time (``day=0`` was 1 January 1970: found by schemathesis' negative
checks on /api/v1/office/accommodation)."""

from __future__ import annotations

import datetime as dt

import pytest
from web_support import TODAY, Web


@pytest.mark.parametrize("day", ["0", "20251120", "1.5e9", "2025-02-30", "2025-1-5"])
def test_a_number_or_a_malformed_date_in_a_query_is_refused(web: Web, day: str) -> None:
    slots = web.client.get(f"/api/v1/offices/1/slots?day={day}")
    assert slots.status_code == 422 and "day" in slots.json()["field"], slots.text
    assert slots.json()["code"] != "not_bookable", "read as a date: it must be refused as one"
    web.signin("sh01.officer")
    area = web.client.get(f"/api/v1/office/accommodation?day={day}")
    assert area.status_code == 422 and "day" in area.json()["field"], area.text


def test_a_date_in_a_query_still_answers(web: Web) -> None:
    ok = web.client.get(f"/api/v1/offices/1/slots?day={TODAY + dt.timedelta(days=1)}")
    assert ok.status_code == 200, ok.text
    web.signin("sh01.officer")
    area = web.client.get(f"/api/v1/office/accommodation?day={TODAY.isoformat()}")
    assert area.status_code == 200 and area.json()["day"] == TODAY.isoformat()


@pytest.mark.parametrize("value", [0, 1764000000, 20251120.0])
def test_a_number_in_a_body_is_not_a_date(web: Web, value: float) -> None:
    csrf = web.signin("employer.hr")
    people = web.client.get("/api/v1/org/people").json()
    r = web.client.post(
        "/api/v1/org/reports",
        json={"person_id": people[0]["person_id"], "event": "employment_ended", "occurred_on": value},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 422 and "occurred_on" in r.json()["field"], r.text
