"""Accommodation registration pages (Law Art 39; issue 11 §3), both engines: a foreigner registers a private stay
with the passport on record; a hotel's front desk registers a guest from the MRZ; the police see their area and
search by passport; every error path shows the summary, messages in the page's language and aria-invalid."""

from __future__ import annotations

import re

from test_accommodation_api import _mrz
from web_support import Web


def test_a_foreigner_registers_a_stay_on_the_page(web: Web) -> None:
    csrf = web.signin("alice")
    form = {
        "csrf": csrf,
        "person_id": str(web.ids["people"][0]),
        "address": "Flat 3, 5 Lane 100, Xuhui",
        "division_code": "310104",
        "moved_in_at": "2025-11-20T07:59",  # Beijing time, an hour before the clock
    }
    r = web.client.post("/stays", data=form)
    assert r.status_code == 303, r.text[:500]
    page = web.client.get(r.headers["location"].split("#")[0] + "&lang=en")
    assert "Your stay is registered" in page.text and "Flat 3, 5 Lane 100, Xuhui" in page.text
    assert "Registered on time" in page.text

    bad = web.client.post("/stays?lang=zh_CN", data={**form, "address": "", "division_code": "990000"})
    assert bad.status_code == 422
    assert bad.text.count('aria-invalid="true"') >= 1 and "<title>错误" in bad.text
    assert "请填写" in bad.text and "Give the" not in bad.text  # the page's language, not the rule's English


def test_a_host_registers_a_guest_from_the_passport_on_the_page(web: Web) -> None:
    """Law Art 39 para 2: the host (留宿人) registers the foreigner staying with them, from the guest's MRZ; a
    missing MRZ is named on the MRZ field in the page's language; the host's list then names the guest."""
    csrf = web.signin("alice")
    zh = web.client.get("/stays?lang=zh_CN")
    assert "在我处住宿的外国人（我是留宿人）" in zh.text and 'id="mrz1"' in zh.text
    mrz = _mrz(web, web.ids["people"][1])
    form = {
        "csrf": csrf,
        "person_id": "guest",
        "address": "Flat 8, 12 Lane 3, Xuhui",
        "division_code": "310104",
        "moved_in_at": "2025-11-20T07:59",
    }
    missing = web.client.post("/stays?lang=zh_CN", data=form)
    assert missing.status_code == 422 and "<title>错误" in missing.text
    assert re.search(r'id="mrz1"[^>]*aria-invalid="true"', missing.text)
    assert 'href="#mrz1"' in missing.text and "Copy both lines" not in missing.text
    r = web.client.post("/stays", data={**form, "mrz1": mrz[0].lower(), "mrz2": mrz[1]})
    assert r.status_code == 303, r.text[:500]
    page = web.client.get(r.headers["location"].split("#")[0] + "&lang=en")
    assert "Your stay is registered" in page.text and "Flat 8, 12 Lane 3, Xuhui" in page.text
    assert "the host or agent" in page.text and "Foreigner" in page.text


def test_a_hotel_registers_a_guest_and_the_police_see_the_area(web: Web) -> None:
    csrf = web.signin("hotel.desk")
    l1, l2 = _mrz(web, web.ids["people"][1])
    form = {
        "csrf": csrf,
        "stay_ref": "ROOM-1208",
        "mrz1": l1,
        "mrz2": l2,
        "address": "Room 1208, Demo Riverside Hotel",
        "division_code": "310115",
        "moved_in_at": "2025-11-20T08:30",
    }
    r = web.client.post("/hotel/stays", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/hotel/stays?outcome=registered"
    listed = web.client.get("/hotel/stays?lang=en")
    assert "The guest is registered." not in listed.text  # the outcome comes with the redirect only
    assert "ROOM-1208" in listed.text
    again = web.client.post("/hotel/stays", data=form)
    assert again.headers["location"] == "/hotel/stays?outcome=replayed"
    broken = web.client.post(
        "/hotel/stays?lang=en",
        data={**form, "stay_ref": "ROOM-1209", "mrz2": l2[:-1] + ("0" if l2[-1] != "0" else "1")},
    )
    assert broken.status_code == 422 and re.search(r'id="mrz1"[^>]*aria-invalid="true"', broken.text)
    assert "check digits must match" in broken.text

    web.client.cookies.clear()
    officer = web.signin("sh01.officer")
    area = web.client.get("/office/accommodation?day=2025-11-20&lang=en")
    assert area.status_code == 200 and "Room 1208, Demo Riverside Hotel" in area.text
    found = web.client.post("/office/accommodation/search?lang=en", data={"csrf": officer, "passport": "X"})
    assert found.status_code == 422 and 'aria-invalid="true"' in found.text
    number = l2[:9].rstrip("<")
    hit = web.client.post("/office/accommodation/search?lang=en", data={"csrf": officer, "passport": number})
    assert (
        hit.status_code == 200 and hit.text.count("Room 1208, Demo Riverside Hotel") == 2
    )  # the day and the hit
    web.client.cookies.clear()
    web.signin("bj01.officer")
    assert (
        "Room 1208" not in web.client.get("/office/accommodation?day=2025-11-20").text
    )  # not Beijing's area
