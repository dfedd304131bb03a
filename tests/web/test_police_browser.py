"""The police station's pages in Debian's Chromium (issue 11 §3, "Shown by"), in Chinese and English, on a phone
(390 px) and a desktop (1280 px), with the checks of the accessibility crawl (test_accessibility.Findings: axe-core
WCAG 2.1 A and AA, 44 px tap targets, no sideways scrolling at 390 px, the header's height, ≤ 30 KB, no script):

- the Lujiazui desk's day view with more registrations than a page (the pagination links followed), the late ones
  and the possibly missing ones, a search by passport, the form registering a stay at the desk and its error
  page (the summary focused), a stay registered from it;
- the administrator's desks page and its error page.

The day's data is made through the API before the browser opens: the demo hotel (Pudong) reports 55 guests, one
of them 30 hours late; a stay that ended two days ago with nothing after it (possibly missing)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from test_accessibility import CHROMIUM, CHROMIUM_ARGS, LANGS, Findings, _context_page, send_emptied
from test_authorisation_matrix import _td3
from web_support import TODAY, Web, served

from cnvisa.http.i18n import gettext

V = "/api/v1"
GUESTS = 55


def _guest(i: int) -> list[str]:
    return list(
        _td3("GAST", f"G{chr(65 + i % 26)}{chr(65 + i // 26)}", f"GT{i:07d}", "AUT", "800101", "F", "330101")
    )


@pytest.fixture
def stays(web: Web) -> None:
    h = {"X-CSRF-Token": web.signin("hotel.desk")}
    report = [
        {
            "mrz": _guest(i),
            "address": f"Demo Riverside Hotel, room {800 + i}",
            "division_code": "310115",
            "moved_in_at": f"2025-11-20T0{i % 9}:{i % 60:02d}:00+08:00",
            "stay_ref": f"B-{i}",
        }
        for i in range(GUESTS)
    ]
    assert (
        web.client.post(f"{V}/accommodation/hotel-stays", json={"stays": report}, headers=h).status_code
        == 200
    )
    web.client.cookies.clear()
    h = {"X-CSRF-Token": web.signin("police.pudong")}
    late = {
        "mrz": _guest(90),
        "address": "Flat 3, 18 Lane 200, Pudong",
        "division_code": "310115",
        "moved_in_at": "2025-11-19T03:00:00+08:00",
        "host_name": "Zhou Min",
    }
    assert web.client.post(f"{V}/police/stays", json=late, headers=h).status_code == 201
    gone = {**late, "mrz": _guest(91), "moved_in_at": "2025-11-16T10:00:00+08:00"}
    gone["moved_out_at"] = "2025-11-18T10:00:00+08:00"
    assert web.client.post(f"{V}/police/stays", json=gone, headers=h).status_code == 201
    web.client.cookies.clear()


@pytest.fixture
def server(stays: None, db_url: str, tmp_path: Path) -> Iterator[str]:
    start = dt.datetime.combine(TODAY, dt.time(9, 0), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    env = {"CNVISA_SECRET": "police-browser-secret", "CNVISA_CLOCK_START": start.isoformat()}
    with served(db_url, tmp_path / "server.log", **env) as base:
        yield base


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the markup does not depend on the engine
@pytest.mark.timeout(900)
def test_the_police_station_pages_in_chromium(server: str) -> None:
    findings = Findings()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = _context_page(browser, server, "police.pudong")
            for lang in LANGS:

                def tr(message: str, lang: str = lang, **values: object) -> str:
                    return gettext(lang, message, **values)

                def check(url: str, where: str, lang: str = lang) -> None:
                    response = page.goto(server + url)
                    assert response is not None and response.status == 200, (
                        url,
                        response and response.status,
                    )
                    findings.check(page, response.body(), f"police.pudong {lang} {where}")

                check(f"/police?day=2025-11-20&lang={lang}", "day view")
                assert tr("Page %(page)s of %(pages)s", page=1, pages=2) in page.inner_text("nav.pagination")
                page.get_by_role("link", name=tr("Next page")).click()
                page.wait_for_url(re.compile(r"page=2"))
                # the 55 guests, and the stay registered at the desk in the language before
                assert page.locator("article.card").count() == GUESTS - 50 + LANGS.index(lang)
                findings.check(page, page.content().encode(), f"police.pudong {lang} day view, page 2")
                check(f"/police?day=2025-11-19&show=late&lang={lang}", "late")
                assert "GT0000090" in page.inner_text("main")
                check(f"/police?day=2025-11-18&show=missing&lang={lang}", "possibly missing")
                assert "GT0000091" in page.inner_text("main")
                page.get_by_label(tr("Passport number")).fill("GT0000007")
                with page.expect_navigation():
                    page.get_by_role("button", name=tr("Search"), exact=True).click()
                found = page.get_by_role("heading", name=tr("Registrations of this passport in your area"))
                assert found.count() == 1  # below the day's list, which shows the guest too
                assert page.locator("article.card").filter(has_text="GT0000007").count() == 2
                findings.check(page, page.content().encode(), f"police.pudong {lang} search")
                check(f"/police/stays/new?lang={lang}", "register form")
                send_emptied(
                    page, "/police/stays", f"police.pudong {lang} POST /police/stays (emptied)", findings
                )
                check(f"/police/stays/new?lang={lang}", "register form")
                line1, line2 = _guest(60 + len(lang))
                page.get_by_label(tr("Passport MRZ, line 1")).fill(line1)
                page.get_by_label(tr("Passport MRZ, line 2")).fill(line2)
                page.get_by_label(tr("Address where the foreigner stays")).fill("Flat 9, 1 Lane 2, Pudong")
                page.get_by_label(tr("Moved in (Beijing time)")).fill("2025-11-20T08:00")
                with page.expect_navigation():
                    page.get_by_role("button", name=tr("Register the stay"), exact=True).click()
                assert "registered=" in page.url and tr("The stay is registered.") in page.inner_text("main")
            page.context.close()

            admin = _context_page(browser, server, "admin")
            for lang in LANGS:
                response = admin.goto(f"{server}/admin/desks?lang={lang}")
                assert response is not None and response.status == 200
                findings.check(admin, response.body(), f"admin {lang} desks")
                send_emptied(admin, "/admin/desks/police", f"admin {lang} POST /admin/desks/police", findings)
            admin.context.close()
        finally:
            browser.close()
    print(findings.summary())
    assert findings.pages >= 20 and not findings.by_kind, findings.summary()
