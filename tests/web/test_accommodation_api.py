"""Accommodation registration over the API (Law Art 39; issue 11 §3), both engines: the demo hotel's front desk
reports guests (idempotent per stay), a foreigner registers a private stay, the police of the area see and search
them; bad facts answer problem+json naming the field."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, select
from web_support import Web

from cnvisa.cases.actor import Actor
from cnvisa.cases.workflow import Role
from cnvisa.store.register_tables import AccommodationRegistration
from cnvisa.store.tables import Organisation, TravelDocument
from password_hashing import CHEAP_HASHER

V = "/api/v1"


def _mrz(web: Web, person_id: int) -> list[str]:
    engine = create_engine(web.db_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg"))
    with engine.connect() as c:
        text = c.execute(select(TravelDocument.mrz).where(TravelDocument.person_id == person_id)).scalar_one()
    engine.dispose()
    return text.split("\n")


def _stay(web: Web, person: int, **kw: Any) -> dict[str, Any]:
    return {
        "mrz": _mrz(web, web.ids["people"][person]),
        "address": "Room 1208, Demo Riverside Hotel, 88 Riverside Road",
        "division_code": "310115",
        "moved_in_at": "2025-11-20T08:30:00+08:00",
        **kw,
    }


def test_a_hotel_reports_its_guests_and_the_police_see_them(web: Web) -> None:
    csrf = web.signin("hotel.desk")
    h = {"X-CSRF-Token": csrf}
    body = {"stays": [{**_stay(web, 0), "stay_ref": "R-1208"}, {**_stay(web, 1), "stay_ref": "R-1209"}]}
    r = web.client.post(f"{V}/accommodation/hotel-stays", json=body, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["counts"] == {"registered": 2}
    assert r.json()["results"][0]["registration"]["person_id"] == web.ids["people"][0]
    again = web.client.post(f"{V}/accommodation/hotel-stays", json=body, headers=h)
    assert again.json()["counts"] == {"replayed": 2}
    bad = {"stays": [{**_stay(web, 0), "stay_ref": "R-1210", "division_code": "990000"}]}
    refused = web.client.post(f"{V}/accommodation/hotel-stays", json=bad, headers=h).json()["results"][0]
    assert refused["outcome"] == "rejected" and refused["field"] == "division_code"

    web.client.cookies.clear()
    web.signin("sh01.officer")
    area = web.client.get(f"{V}/office/accommodation", params={"day": "2025-11-20"})
    assert area.status_code == 200 and len(area.json()["registrations"]) == 2 and area.json()["late"] == 0
    found = web.client.post(
        f"{V}/office/accommodation/search",
        json={"passport": "nope1"},
        headers={"X-CSRF-Token": web.signin("sh01.officer")},
    )
    assert found.status_code == 200 and found.json()["registrations"] == []


def test_a_private_stay_late_and_a_bad_mrz_named(web: Web) -> None:
    csrf = web.signin("alice")
    h = {"X-CSRF-Token": csrf}
    body = {**_stay(web, 0), "person_id": web.ids["people"][0], "moved_in_at": "2025-11-19T07:00:00+08:00"}
    r = web.client.post(
        f"{V}/accommodation/stays", json=body, headers=h
    )  # the clock: 2025-11-20 09:00 Beijing
    assert r.status_code == 201, r.text
    a = r.json()["assessment"]
    assert a["on_time"] is False and a["minutes_late"] == 120 and a["sanction"]["max_fine_cny"] == 2000
    assert (
        web.client.post(f"{V}/accommodation/stays", json=body, headers=h).status_code == 200
    )  # the same stay
    broken = {
        **body,
        "mrz": [body["mrz"][0], body["mrz"][1][:-1] + ("1" if body["mrz"][1][-1] != "1" else "2")],
    }
    bad = web.client.post(f"{V}/accommodation/stays", json=broken, headers=h)
    assert bad.status_code == 422 and bad.json()["field"] == "mrz"
    naive = web.client.post(
        f"{V}/accommodation/stays", json={**body, "moved_in_at": "2025-11-19T07:00:00"}, headers=h
    )
    assert naive.status_code == 422 and "moved_in_at" in naive.json()["field"]
    rid = r.json()["registration"]["id"]
    out = web.client.post(
        f"{V}/accommodation/stays/{rid}/move-out",
        json={"moved_out_at": "2025-11-20T08:00:00+08:00"},
        headers=h,
    )
    assert out.status_code == 200 and out.json()["registration"]["registered_until"] == "2025-11-20"


def test_a_host_registers_a_guest_by_the_mrz_and_closes_the_stay(web: Web) -> None:
    """No ``person_id``: the person the MRZ names, registered by the signed-in host (Law Art 39 para 2)."""
    h = {"X-CSRF-Token": web.signin("alice")}
    body = {**_stay(web, 1), "address": "Flat 8, 12 Lane 3", "division_code": "310104"}
    r = web.client.post(f"{V}/accommodation/stays", json=body, headers=h)
    assert r.status_code == 201, r.text
    reg = r.json()["registration"]
    assert (reg["registered_by"], reg["person_id"]) == ("host", web.ids["people"][1])
    assert web.client.post(f"{V}/accommodation/stays", json=body, headers=h).status_code == 200  # sent again
    out = web.client.post(
        f"{V}/accommodation/stays/{reg['id']}/move-out",
        json={"moved_out_at": "2025-11-20T08:45:00+08:00"},
        headers=h,
    )
    assert out.status_code == 200 and out.json()["registration"]["moved_out_at"] is not None


def test_a_hotel_system_reports_with_a_bearer_token(web: Web) -> None:
    """The front desk creates a token once (from its session); the hotel's system then reports without a session
    or CSRF token; revoked, the token reports nothing."""
    csrf = web.signin("hotel.desk")
    made = web.client.post(
        f"{V}/verify/tokens", json={"label": "property system"}, headers={"X-CSRF-Token": csrf}
    )
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    system = web.new_client()
    body = {"stays": [{**_stay(web, 0), "stay_ref": "PMS-1"}]}
    r = system.post(f"{V}/accommodation/hotel-stays", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["counts"] == {"registered": 1}, r.text
    gone = web.client.delete(f"{V}/verify/tokens/{made.json()['id']}", headers={"X-CSRF-Token": csrf})
    assert gone.status_code == 204
    again = system.post(
        f"{V}/accommodation/hotel-stays", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert again.status_code == 401


HARBOUR = ("harbour.desk", "harbour-inn-2025")


def _second_hotel(web: Web) -> None:
    """Another hotel in the same district (Harbour Inn) with its front desk's sign-in."""
    platform = web.client.app.state.platform  # type: ignore[attr-defined]

    async def make() -> None:
        async with platform.sessions() as s, s.begin():
            org = Organisation(uscc="91310115MA1HARB0R", name="Harbour Inn", kind="hotel", region="310115")
            s.add(org)
            await s.flush()
            org_id = org.id
        await platform.registry.create_account(
            Actor(0, Role.SYSTEM),
            username=HARBOUR[0],
            display_name="Front desk of Harbour Inn",
            role=Role.HOTEL_STAFF,
            organisation_id=org_id,
            password_hash=CHEAP_HASHER.hash(HARBOUR[1]),
        )

    web.client.portal.call(make)  # type: ignore[attr-defined]


def test_a_hotel_sees_and_closes_only_its_own_guests(web: Web) -> None:
    """Law Art 39 para 1; issue 11 §3: hotel B's page lists only its own guests, B cannot move out A's guest, and
    A's stay reference sent by B (the same guest and facts, with a check-out) is B's own stay, A's left open."""
    csrf_a = web.signin("hotel.desk")
    a_stay = {**_stay(web, 0), "stay_ref": "R-1208"}
    r = web.client.post(
        f"{V}/accommodation/hotel-stays", json={"stays": [a_stay]}, headers={"X-CSRF-Token": csrf_a}
    )
    assert r.status_code == 200 and r.json()["counts"] == {"registered": 1}, r.text
    a_id = r.json()["results"][0]["registration"]["id"]
    a_passport = _mrz(web, web.ids["people"][0])[1][:9].rstrip("<")

    _second_hotel(web)
    b = web.new_client()
    signed = b.post(f"{V}/auth/signin", json={"username": HARBOUR[0], "password": HARBOUR[1]})
    assert signed.status_code == 200, signed.text
    h = {"X-CSRF-Token": signed.json()["csrf"]}
    copy = {**a_stay, "moved_out_at": "2025-11-20T08:50:00+08:00"}
    own = {**_stay(web, 1), "address": "Room 3, Harbour Inn, 12 Harbour Lane", "stay_ref": "H-3"}
    out = b.post(f"{V}/accommodation/hotel-stays", json={"stays": [copy, own]}, headers=h)
    assert out.status_code == 200, out.text
    results = out.json()["results"]
    assert [x["outcome"] for x in results] == ["registered", "registered"], results
    assert results[0]["registration"]["id"] != a_id and results[0]["registration"]["stay_ref"] == "R-1208"

    gone = b.post(
        f"{V}/accommodation/stays/{a_id}/move-out",
        json={"moved_out_at": "2025-11-20T08:50:00+08:00"},
        headers=h,
    )
    assert gone.status_code == 404, gone.text
    engine = create_engine(web.db_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg"))
    with engine.connect() as c:
        left = c.execute(
            select(AccommodationRegistration.moved_out_at).where(AccommodationRegistration.id == a_id)
        ).scalar_one()
    engine.dispose()
    assert left is None

    page = b.get("/hotel/stays")
    assert page.status_code == 200
    b_ids = [x["registration"]["id"] for x in results]
    assert all(f'id="stay-{i}"' in page.text for i in b_ids)  # B's own two guests
    assert f'id="stay-{a_id}"' not in page.text
    mine = web.client.get("/hotel/stays")
    assert f'id="stay-{a_id}"' in mine.text and "Harbour Lane" not in mine.text
    assert a_passport in mine.text
