"""A police station's desk over the API and the pages (Law Art 39 para 2; issue 11 §3), both engines: the Lujiazui
desk (Pudong, 310115) sees its area's stays paged with counts, not Yangpu's; the Siping Road desk (Yangpu, 310110)
not Pudong's; a hotel only its guests; the public nothing; registration at the desk from the MRZ, a stay outside
the area refused naming the field; the pages in Chinese and English with their error summaries; the administrator
assigns a desk on the page and through the CLI, each audited."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import create_engine, func, select
from test_accommodation_api import _mrz
from test_authorisation_matrix import GUEST_MRZ
from typer.testing import CliRunner
from web_support import Web

from cnvisa.cli import app as cli
from cnvisa.store.tables import AuditEvent

V = "/api/v1"


def _stay(web: Web, person: int, division: str, ref: str | None = None, at: str = "08:30") -> dict[str, Any]:
    out: dict[str, Any] = {
        "mrz": _mrz(web, web.ids["people"][person]),
        "address": f"Room {person}, 88 Riverside Road ({division})",
        "division_code": division,
        "moved_in_at": f"2025-11-20T{at}:00+08:00",
    }
    return out | ({"stay_ref": ref} if ref else {})


def _audited(web: Web, action: str) -> int:
    engine = create_engine(web.db_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg"))
    with engine.connect() as c:
        n = c.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        ).scalar_one()
    engine.dispose()
    return int(n)


def _hotel_guests(web: Web) -> None:
    """Demo Riverside Hotel (Pudong) reports three guests; alice registers a flat in Yangpu."""
    h = {"X-CSRF-Token": web.signin("hotel.desk")}
    body = {"stays": [_stay(web, i, "310115", f"R-{i}", at=f"{i + 3:02d}:00") for i in (2, 3, 5)]}
    reported = web.client.post(f"{V}/accommodation/hotel-stays", json=body, headers=h)
    assert reported.json().get("counts") == {"registered": 3}, reported.text
    web.client.cookies.clear()
    h = {"X-CSRF-Token": web.signin("alice")}
    mine = {**_stay(web, 0, "310110"), "person_id": web.ids["people"][0]}
    assert web.client.post(f"{V}/accommodation/stays", json=mine, headers=h).status_code == 201
    web.client.cookies.clear()


def test_each_desk_sees_its_area_only_paged_with_counts(web: Web) -> None:
    _hotel_guests(web)
    web.signin("police.pudong")
    day = web.client.get(f"{V}/police/registrations", params={"day": "2025-11-20", "per_page": 2})
    assert day.status_code == 200, day.text
    view = day.json()
    assert view["station"]["code"] == "SH-PD-LJZ" and view["area"] == "310115"
    assert view["counts"] == {"registered": 3, "on_time": 3, "late": 0, "missing": 0}
    assert (view["page"], view["pages"], view["total"], len(view["registrations"])) == (1, 2, 3, 2)
    second = web.client.get(
        f"{V}/police/registrations", params={"day": "2025-11-20", "per_page": 2, "page": 2}
    )
    names = {r["passport"] for r in view["registrations"] + second.json()["registrations"]}
    assert len(names) == 3 and "21FR04417" not in names  # alice's Yangpu flat is not Pudong's
    bad = web.client.get(f"{V}/police/registrations", params={"per_page": 500})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    csrf = web.signin("police.pudong")
    found = web.client.post(
        f"{V}/police/registrations/search", json={"passport": "21fr04417"}, headers={"X-CSRF-Token": csrf}
    )
    assert found.status_code == 200 and found.json()["registrations"] == []  # not in the area
    web.client.cookies.clear()

    web.signin("police.yangpu")
    yangpu = web.client.get(f"{V}/police/registrations", params={"day": "2025-11-20"}).json()
    assert [r["passport"] for r in yangpu["registrations"]] == ["21FR04417"]
    web.client.cookies.clear()

    web.signin("hotel.desk")  # a hotel: its guests on its page, no police view
    assert web.client.get(f"{V}/police/registrations").status_code == 403
    assert web.client.get("/police").status_code == 403
    guests = web.client.get("/hotel/stays?lang=en")
    assert guests.status_code == 200 and "21FR04417" not in guests.text
    web.client.cookies.clear()
    assert web.client.get(f"{V}/police/registrations").status_code == 401  # the public: nothing
    assert web.client.get("/police").status_code == 303
    assert _audited(web, "accommodation_area_day") == 3 and _audited(web, "accommodation_search") == 1


def test_the_desk_registers_a_stay_from_the_mrz_in_its_area(web: Web) -> None:
    csrf = web.signin("police.pudong")
    h = {"X-CSRF-Token": csrf}
    body = {
        "mrz": list(GUEST_MRZ),
        "address": "Flat 12, 88 Lane 300, Pudong",
        "division_code": "310115",
        "moved_in_at": "2025-11-19T07:00:00+08:00",  # 26 hours ago: late (Art 39 para 2)
        "host_name": "Wang Jianguo",
    }
    r = web.client.post(f"{V}/police/stays", json=body, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["registration"]["registered_by"] == "police"
    assert r.json()["assessment"]["on_time"] is False
    assert r.json()["assessment"]["sanction"]["citation"]["article"] == "76"
    assert web.client.post(f"{V}/police/stays", json=body, headers=h).status_code == 200  # the same stay
    outside = web.client.post(f"{V}/police/stays", json={**body, "division_code": "310110"}, headers=h)
    assert outside.status_code == 422 and outside.json()["field"] == "division_code"
    late = web.client.get(f"{V}/police/registrations", params={"day": "2025-11-19", "show": "late"}).json()
    assert late["counts"]["late"] == 1 and late["registrations"][0]["passport"] == "PT1234567"

    page = web.client.get("/police?day=2025-11-19&show=late&lang=en")
    assert page.status_code == 200 and "PT1234567" in page.text and "Registered late" in page.text
    assert "Art 76 para 1(6)" in page.text and "nothing is imposed" in page.text
    zh = web.client.get("/police?day=2025-11-19&lang=zh_CN")
    assert zh.status_code == 200 and "陆家嘴派出所" in zh.text and "逾期登记" in zh.text

    form = {
        "csrf": csrf,
        "mrz1": GUEST_MRZ[0],
        "mrz2": GUEST_MRZ[1][:-1] + "0",  # the final check digit misread
        "address": "Flat 12",
        "division_code": "310110",
        "moved_in_at": "2025-11-20T08:00",
    }
    bad = web.client.post("/police/stays?lang=zh_CN", data=form)
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text and "<title>错误" in bad.text
    assert 'href="#mrz1"' in bad.text
    ok = web.client.post("/police/stays", data={**form, "mrz2": GUEST_MRZ[1], "division_code": "310115"})
    assert ok.status_code == 303 and ok.headers["location"].startswith("/police?day=2025-11-20&registered=")
    outside_page = web.client.post("/police/stays?lang=en", data={**form, "mrz2": GUEST_MRZ[1]})
    assert outside_page.status_code == 422 and "in your station&#39;s area" in outside_page.text
    searched = web.client.post("/police/search?lang=en", data={"csrf": csrf, "passport": "PT1234567"})
    assert searched.status_code == 200 and searched.text.count('class="card"') >= 3
    short = web.client.post("/police/search?lang=en", data={"csrf": csrf, "passport": "x"})
    assert short.status_code == 422 and 'href="#passport"' in short.text


def test_the_administrator_assigns_desks_on_the_page_and_the_cli(web: Web) -> None:
    csrf = web.signin("admin")
    page = web.client.get("/admin/desks?lang=en")
    assert page.status_code == 200 and "SH-PD-LJZ" in page.text and "demo data" in page.text
    moved = web.client.post(
        "/admin/desks/police", data={"csrf": csrf, "username": "police.pudong", "station": "SH-YP-SPL"}
    )
    assert moved.status_code == 303 and moved.headers["location"] == "/admin/desks?assigned=police"
    bad = web.client.post(
        "/admin/desks/port-visa?lang=zh_CN", data={"csrf": csrf, "username": "pv.guiyang", "port": "x"}
    )
    assert bad.status_code == 422 and 'href="#port"' in bad.text and "<title>错误" in bad.text
    api = web.client.get(f"{V}/admin/desks").json()
    assert {
        "username": "police.pudong",
        "name": "Officer Chen Jing, Lujiazui police station",
        "station": "SH-YP-SPL",
    } in api["police"]
    web.client.cookies.clear()
    web.signin("police.pudong")  # now Siping Road's area
    assert web.client.get(f"{V}/police/registrations").json()["area"] == "310110"
    assert _audited(web, "police_desk_assigned") == 1 and _audited(web, "desks_viewed") == 3

    url = ["--database-url", web.db_url]
    runner = CliRunner()
    listed = runner.invoke(cli, ["desks", "list", *url])
    assert listed.exit_code == 0 and re.search(r"police\tpolice\.pudong\tSH-YP-SPL", listed.output)
    back = runner.invoke(
        cli, ["desks", "assign-police", "police.pudong", "SH-PD-LJZ", "--note", "back", *url]
    )
    assert back.exit_code == 0 and "area 310115" in back.output
    wrong = runner.invoke(cli, ["desks", "assign-port", "police.pudong", "yinchuan_hedong_airport", *url])
    assert wrong.exit_code == 2 and "username" in wrong.output
    assert _audited(web, "police_desk_assigned") == 2
