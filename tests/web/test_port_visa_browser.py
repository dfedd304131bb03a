"""The port-visa pages (issue 11 §1, "Pages in Chinese and English for the inviter, the port authority") in Debian's
Chromium, their forms filled and sent as a person would, in Chinese at 390 px (a phone) and in English at 1280 px
(a desktop); every page shown also gets the checks of the accessibility crawl at both widths
(test_accessibility.Findings: axe-core WCAG 2.1 A and AA, 44 px tap targets, no sideways scrolling at 390 px, the
header's height, ≤ 30 KB, no script):

- Demo Employer's HR files two requests through the form (the person and passport, the purpose, the urgent need,
  the port, the arrival in Beijing time, the flight): one arriving tonight, one in three days; the form sent
  emptied first shows its errors (the summary focused); both are listed with their state;
- the Yinchuan desk sees them in its queue by arrival (tonight's first, the demo's tomorrow and day after next
  between them), approves tonight's preliminarily, refuses the other on a cited ground (the refuse form sent
  without a ground first: the error names the field);
- at the port (tonight's arrival is today, the server's clock at 09:00 Beijing time), the wrong passport is
  refused: the error summary names the passport number field, in the page's language, and the check is recorded;
  then the right passport: the visa number shows;
- the inviter sees the issued visa and the refusal in its list and on the request's page.

Every Playwright step waits at most ``TIMEOUT_MS`` (test_accessibility) and fails with what it waited for; the
server starts within ``SERVER_START_SECONDS`` (web_support); the whole test within its pytest timeout."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, sync_playwright
from test_accessibility import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    Findings,
    _context_page,
    send_emptied,
)
from web_support import TODAY, Web, served

from cnvisa.http.i18n import gettext

TONIGHT = f"{TODAY.isoformat()}T19:30"  # the server's clock starts at 09:00 Beijing time
LATER = f"{(TODAY + dt.timedelta(days=3)).isoformat()}T08:45"
PERSONS = {  # per language: (surname, given names, passport) of tonight's and of the later arrival
    "zh_CN": (("LARSEN", "ERIK", "NP7654321"), ("BERG", "INGRID", "NP1234567")),
    "en": (("DUBOIS", "CLAIRE", "FR0998877"), ("MARTIN", "LUC", "FR0112233")),
}


@pytest.fixture
def server(web: Web, db_url: str, tmp_path: Path) -> Iterator[str]:
    start = dt.datetime.combine(TODAY, dt.time(9, 0), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    env = {"CNVISA_SECRET": "port-visa-browser-secret", "CNVISA_CLOCK_START": start.isoformat()}
    with served(db_url, tmp_path / "server.log", **env) as base:
        yield base


class Steps:
    """One language's pages: loads, submissions and checks, each naming what failed."""

    def __init__(
        self, page: Page, base: str, lang: str, viewport: dict[str, int], who: str, findings: Findings
    ) -> None:
        self.page, self.base, self.lang, self.who, self.findings = page, base, lang, who, findings
        self.viewport = viewport
        page.set_viewport_size(viewport)

    def tr(self, message: str, **values: object) -> str:
        return gettext(self.lang, message, **values)

    def open(self, url: str, where: str) -> None:
        response = self.page.goto(f"{self.base}{url}{'&' if '?' in url else '?'}lang={self.lang}")
        assert response is not None and response.status == 200, (url, response and response.status)
        self.check(where)

    def check(self, where: str) -> None:
        self.page.wait_for_load_state("load")
        body = self.page.evaluate("() => document.documentElement.outerHTML").encode()
        self.findings.check(self.page, body, f"{self.who} {self.lang} {where}")
        self.page.set_viewport_size(self.viewport)  # the checks leave the phone's width

    def submit(self, button: str, expect: int = 200) -> None:
        """Clicks the button named ``button`` (translated) and waits for the page it leads to."""
        with self.page.expect_navigation() as nav:
            self.page.get_by_role("button", name=self.tr(button), exact=True).click()
        response = nav.value
        assert response is not None and response.status == expect, (
            f"{self.who} {self.lang}: {button!r} answered {response and response.status}, not {expect}",
            self.page.inner_text("main")[:600],
        )

    def main(self) -> str:
        return self.page.inner_text("main")

    def summary(self) -> str:
        """The error summary's text, which the page focuses."""
        focused = self.page.evaluate("() => document.activeElement && document.activeElement.id")
        assert focused == "error-summary", f"focus on {focused!r}, not on the error summary"
        return self.page.inner_text("#error-summary")


def file_request(s: Steps, person: tuple[str, str, str], arrival: str) -> str:
    """The inviter files through the form; the request's number, from its page."""
    surname, given, passport = person
    s.open("/port-visas/new", "form")
    p = s.page
    p.get_by_label(s.tr("Surname, as in the passport"), exact=True).fill(surname)
    p.get_by_label(s.tr("Given names, as in the passport"), exact=True).fill(given)
    p.get_by_label(s.tr("Date of birth"), exact=True).fill("1975-02-11")
    p.get_by_label(s.tr("Sex"), exact=True).select_option("F" if surname in ("BERG", "DUBOIS") else "M")
    p.get_by_label(s.tr("Nationality (three-letter code)"), exact=True).fill("NOR")
    p.get_by_label(s.tr("Passport number"), exact=True).fill(passport)
    p.get_by_label(s.tr("Purpose of entry"), exact=True).select_option("exhibition")
    p.get_by_label(s.tr("There is an urgent need to enter, and no time to get a visa abroad")).check()
    p.get_by_label(s.tr("The urgent need"), exact=True).fill("stand for a trade fair moved forward")
    p.get_by_label(s.tr("Port of entry"), exact=True).select_option("yinchuan_hedong_airport")
    p.get_by_label(s.tr("Scheduled arrival (Beijing time)"), exact=True).fill(arrival)
    p.get_by_label(s.tr("Flight, voyage or train number"), exact=True).fill("CA1234")
    p.get_by_label(s.tr("Days of stay asked for"), exact=True).fill("20")
    s.submit("File the request")
    assert re.search(r"/port-visas/\d+\?filed=1$", p.url), p.url
    main = s.main()
    assert s.tr("The request was filed: the port decides before the arrival.") in main, main[:400]
    assert f"{surname} {given}" in main and passport in main
    assert s.tr("Submitted: waiting for the port's decision") in main
    s.check("request filed")
    number = re.search(r"PV-\d{8}-\w+", p.inner_text("h1"))
    assert number is not None, p.inner_text("h1")
    return number.group(0)


def desk_row(s: Steps, number: str) -> None:
    """Opens the request from the desk's queue."""
    s.open("/port-desk", "queue")
    with s.page.expect_navigation():
        s.page.get_by_role("link", name=number, exact=True).click()
    assert number in s.page.inner_text("h1")


FLOWS = [pytest.param("zh_CN", PHONE, id="zh_CN-390"), pytest.param("en", DESKTOP, id="en-1280")]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the markup does not depend on the engine
@pytest.mark.parametrize(("lang", "viewport"), FLOWS)
@pytest.mark.timeout(600)
def test_a_port_visa_filed_decided_and_issued_in_chromium(
    server: str, web: Web, lang: str, viewport: dict[str, int]
) -> None:
    findings = Findings()
    started = time.monotonic()
    tonight, later = PERSONS[lang]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            # 1. the inviting organisation's staff file two requests, and list them
            hr = _context_page(browser, server, "employer.hr")
            s = Steps(hr, server, lang, viewport, "employer.hr", findings)
            s.open("/port-visas/new", "form")
            send_emptied(hr, "/port-visas", f"employer.hr {lang} POST /port-visas (emptied)", findings)
            assert s.tr("There is a problem") in s.summary()
            hr.set_viewport_size(viewport)  # send_emptied's checks leave the phone's width
            first = file_request(s, tonight, TONIGHT)
            second = file_request(s, later, LATER)
            s.open("/port-visas", "list")
            for number in (first, second):
                row = hr.get_by_role("row").filter(has_text=number)
                assert row.count() == 1, number
                assert s.tr("Submitted: waiting for the port's decision") in row.inner_text()

            # 2. the Yinchuan desk: the queue by arrival; one approved, the other refused on a cited ground
            desk = _context_page(browser, server, "pv.yinchuan")
            d = Steps(desk, server, lang, viewport, "pv.yinchuan", findings)
            d.open("/port-desk", "queue")
            queue = desk.locator("table tbody").inner_text()
            order = [queue.find(n) for n in (first, second)]
            assert -1 not in order and order[0] < order[1], queue
            demo = re.findall(r"PV-\d{8}-\w+", queue)
            assert demo[0] == first and demo[-1] == second, demo  # tonight first, in three days last
            assert demo == sorted(demo, key=lambda n: n[3:11]), demo  # by arrival date
            desk_row(d, first)
            d.submit("Approve before arrival")
            assert d.tr("Preliminarily approved: present the passport at the port") in d.main()
            d.check("approved")

            desk_row(d, second)
            send_emptied(
                desk,
                urlsplit(desk.url).path + "/refuse",
                f"pv.yinchuan {lang} POST refuse (emptied)",
                findings,
            )
            assert d.tr("Choose at least one refusal ground.") in d.summary()
            desk.set_viewport_size(viewport)
            grounds = desk.locator("fieldset#grounds input[type=checkbox]")
            assert grounds.count() >= 1
            ground = grounds.first.get_attribute("value")
            grounds.first.check()
            d.submit("Refuse the port visa")
            main = d.main()
            assert d.tr("Refused") in main, main[:800]
            # the ground's code and its article (Law Art 21), cited in English in either language (marked so)
            cited = desk.locator("main p", has_text=f"{ground}").locator("span.cite[lang=en]").inner_text()
            assert "Exit and Entry Administration Law" in cited and "21" in cited, cited
            withheld = "The reasons are not given, as the law allows (Exit and Entry Administration Law Art 21 para 2)."
            assert d.tr(withheld) in main, main[:800]
            d.check("refused")

            # 3. at the port, tonight: the wrong passport refused naming the field, then the right one
            desk_row(d, first)
            desk.get_by_label(d.tr("Number of the passport presented"), exact=True).fill("XX0000000")
            desk.get_by_label(d.tr("The face matches the passport photo"), exact=True).check()
            d.submit("Issue the port visa", expect=422)
            summary = d.summary()
            link = desk.locator("#error-summary a")
            assert link.get_attribute("href") == "#passport_number", link.get_attribute("href")
            assert (
                d.tr("The passport presented is not the one the request names: the visa is not issued.")
                in summary
            ), summary
            field = desk.locator("#passport_number")
            assert field.get_attribute("aria-invalid") == "true"
            assert d.tr("Preliminarily approved: present the passport at the port") in d.main()
            d.check("issue refused: passport mismatch")
            field.fill(tonight[2])
            desk.get_by_label(d.tr("The face matches the passport photo"), exact=True).check()
            d.submit("Issue the port visa")
            main = d.main()
            assert d.tr("Issued at the port") in main and d.tr("The visa issued") in main, main[:800]
            visa = desk.locator("dt", has_text=d.tr("Visa number")).locator("xpath=following-sibling::dd[1]")
            visa_number = visa.inner_text().strip()
            assert re.fullmatch(r"[A-Z0-9-]{6,}", visa_number), visa_number
            checks = desk.get_by_role("heading", name=d.tr("Checks at the port"))
            assert checks.count() == 1
            # the refused presentation is listed naming the field by its label, not its internal key
            assert f"{d.tr('did not match')} ({d.tr('Passport number')})" in main, main
            assert d.tr("passport and face matched") in main
            d.check("issued")
            desk.context.close()

            # 4. the inviter follows both: the visa issued, the refusal
            s.open("/port-visas", "list after")
            rows = {n: hr.get_by_role("row").filter(has_text=n).inner_text() for n in (first, second)}
            assert s.tr("Issued at the port") in rows[first], rows
            assert s.tr("Refused") in rows[second], rows
            with hr.expect_navigation():
                hr.get_by_role("link", name=first, exact=True).click()
            assert visa_number in s.main() and s.tr("Issued at the port") in s.main()
            assert s.tr("Withdraw the request") not in s.main()
            s.check("request issued")
            hr.context.close()
        finally:
            browser.close()
    took = time.monotonic() - started
    print(f"port-visa browser flow ({lang}): {findings.pages} page loads checked in {took:.0f} s")
    print(findings.summary())
    assert findings.pages >= 14 and not findings.by_kind, findings.summary()
