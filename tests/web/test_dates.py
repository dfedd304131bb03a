"""A date is a date (ASVS 4.0 V5.1.3; issue 13, hardening: the document's bounds enforced): every date the API
takes, in the address or the body, is ``YYYY-MM-DD`` as its document says — never a number read as seconds since
1970 (pydantic's lax mode read ``day=0`` as 1970-01-01, and schemathesis' conformance run found the officers'
accommodation list answering 200 to it)."""

from __future__ import annotations

from typing import Any

import pytest
from web_support import Web

V = "/api/v1"
NOT_DATES = ["0", "86400", "2.225073858507e-311"]
MRZ = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]


def _send(web: Web, who: str | None, method: str, path: str, **kw: Any) -> Any:
    headers = {"X-CSRF-Token": web.signin(who)} if who else {}
    return web.client.request(method, path, headers=headers, **kw)


def _refused(r: Any, field: str) -> None:
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in r.json()["field"], r.json()


@pytest.mark.parametrize("value", NOT_DATES)
def test_a_number_is_not_a_date_in_the_address(web: Web, value: str) -> None:
    sh01 = web.ids["offices"]["SH01"]
    _refused(_send(web, None, "GET", f"{V}/offices/{sh01}/slots", params={"day": value}), "day")
    _refused(_send(web, "sh01.officer", "GET", f"{V}/office/accommodation", params={"day": value}), "day")


@pytest.mark.parametrize("value", [0, 86400, "86400"])
def test_a_number_is_not_a_date_in_the_body(web: Web, value: Any) -> None:
    sh01 = web.ids["offices"]["SH01"]
    booking = {"office_id": sh01, "day": value, "slot": "09:30", "matter": "visa_extension"}
    _refused(_send(web, "alice", "POST", f"{V}/appointments", json=booking), "day")
    check = {"document_number": "J25DEMO0001", "name": "X Y", "birth_date": value, "purpose": "account"}
    _refused(_send(web, "bank.teller", "POST", f"{V}/verify", json=check), "birth_date")
    report = {"person_id": web.ids["people"][0], "event": "resigned", "occurred_on": value}
    _refused(_send(web, "employer.hr", "POST", f"{V}/org/reports", json=report), "occurred_on")


def test_dates_as_the_document_says_are_still_taken(web: Web) -> None:
    sh01 = web.ids["offices"]["SH01"]
    assert (
        _send(web, None, "GET", f"{V}/offices/{sh01}/slots", params={"day": "2025-11-21"}).status_code == 200
    )
    r = _send(web, "sh01.officer", "GET", f"{V}/office/accommodation", params={"day": "2025-11-20"})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("value", [1763600000, "1763600000", 1.7636e9])
def test_a_number_is_not_an_instant(web: Web, value: Any) -> None:
    """The same for instants: 1763600000 is not 2025-11-20T00:53Z to a client that meant something else."""
    stay = {
        "person_id": web.ids["people"][0],
        "mrz": MRZ,
        "address": "Flat 3, 5 Lane 100",
        "division_code": "310104",
        "moved_in_at": value,
    }
    _refused(_send(web, "alice", "POST", f"{V}/accommodation/stays", json=stay), "moved_in_at")
    out = {"moved_out_at": value}
    _refused(_send(web, "alice", "POST", f"{V}/accommodation/stays/1/move-out", json=out), "moved_out_at")
    interview = {"version": 1, "method": "interview", "scheduled_for": value}
    path = f"{V}/office/cases/1/request_verification"
    _refused(_send(web, "sh01.officer", "POST", path, json=interview), "scheduled_for")


@pytest.mark.parametrize("value", [1763600000, "86400"])
def test_a_number_is_neither_the_arrival_nor_a_date_of_a_port_visa_request(web: Web, value: Any) -> None:
    """The port-visa request (issue 11 §1, added since): its arrival instant and its dates."""
    from test_port_visa_http import body

    path = f"{V}/port-visa/requests"
    for field in ("arrival_at", "birth_date", "passport_valid_until"):
        headers = {"X-CSRF-Token": web.signin("employer.hr"), "Idempotency-Key": f"k-{field}-{value}"}
        r = web.client.post(path, json=body(**{field: value}), headers=headers)
        _refused(r, field)
