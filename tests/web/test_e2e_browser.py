"""End to end in a real browser (issue 4, "Shown by"): Debian's Chromium, driven by Playwright, against a real
server (uvicorn in a subprocess over the test's SQLite or PostgreSQL database, with the demo data).

A new applicant (alice) finds out what a visa extension needs (/what-do-i-need: the checklist with its
citations), books an appointment on the next working day with a free slot, and applies online with the
itinerary (Guide VI(II)5) missing. The officer (sh01.officer, another browser context) opens the case from the
queue and issues the one-time notice (Regulations Art 13 para 2); the applicant sees it and supplements the
itinerary; the officer accepts (the receipt PDF downloads), approves and issues the visa; the applicant sees
the state and the new visa under /my/documents. Once in English and once in Chinese (``?lang=zh_CN`` at the
start of each browser context, then remembered by the cookie).

The server's clock starts on the demo data's day (2025-11-20; ``CNVISA_CLOCK_START``) and runs at the real pace,
so the story is the same whatever day the tests run on: the English run at 16:30 Beijing time, the Chinese run at
07:30 — when the UTC date is still the day before — and every date each page shows is checked (issue 8: an
instant's date is its Beijing date). Screenshots of every step are
kept in ``tests/web/e2e_artifacts/<lang>/`` (gitignored). Never ``playwright install``: the browser is Debian's
``/usr/bin/chromium``.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from pypdf import PdfWriter
from web_support import PASSWORDS, TODAY, served

from cnvisa.http.i18n import gettext
from cnvisa.law.materials import CATALOGUE

ARTIFACTS = Path(__file__).parent / "e2e_artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000
CJK = re.compile(r"[\u4e00-\u9fff]")
DOCUMENT_NUMBER = re.compile(r"\bV\d{11}\b")  # cnvisa.cases.records.document_number of a visa
BEIJING = dt.timezone(dt.timedelta(hours=8))
CLOCK_START = {
    "en": dt.datetime.combine(TODAY, dt.time(16, 30), tzinfo=BEIJING),
    "zh_CN": dt.datetime.combine(TODAY, dt.time(7, 30), tzinfo=BEIJING),
}
"""Where each run's server clock starts (CNVISA_CLOCK_START): the demo data's day, in the afternoon (Beijing and
UTC on the same date) and before 08:00 (UTC still on the day before)."""

MISSING = "itinerary"
"""Left out of the application and supplied after the notice: a Guide VI(II)5 material of an L visa."""


# ------------------------------------------------------------------------------------------------ the server


@pytest.fixture
def server(seeded: dict[str, Any], db_url: str, tmp_path: Path, lang: str) -> Iterator[str]:
    """The platform served by uvicorn (``cnvisa serve``) over the test's database; its clock starts at the
    run's CLOCK_START and runs at the real pace."""
    # the demo data's day, whatever the date the tests run on (and whichever holiday notices exist then)
    env = {"CNVISA_SECRET": "e2e-test-secret", "CNVISA_CLOCK_START": CLOCK_START[lang].isoformat()}
    with served(db_url, tmp_path / "server.log", **env) as base:
        yield base


# ------------------------------------------------------------------------------------------------ materials


def photo_jpeg(width: int = 360, height: int = 480) -> bytes:
    """A photo meeting the photo rules (JPEG, 354-480 × 472-640 px, 3:4, 20-80 KB): a face-like oval on a
    light background with some noise, the JPEG quality chosen so that the file is within the size range."""
    rng = random.Random(4)
    img = Image.new("RGB", (width, height), (236, 238, 242))
    px = img.load()
    assert px is not None
    cx, cy, rx, ry = width / 2, height * 0.45, width * 0.28, height * 0.3
    for y in range(height):
        for x in range(width):
            inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1
            base = (205, 170, 150) if inside else (236, 238, 242)
            n = rng.randint(-18, 18)
            px[x, y] = tuple(max(0, min(255, c + n)) for c in base)
    for quality in range(95, 10, -5):
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=quality)
        data = buf.getvalue()
        if 20 * 1024 <= len(data) <= 80 * 1024:
            return data
    raise AssertionError("no JPEG quality gives a photo of 20-80 KB")


def titled_pdf(title: str) -> bytes:
    """A one-page PDF that parses (uploads are decoded, cnvisa.cases.uploads), titled by its material."""
    w = PdfWriter()
    w.add_blank_page(595, 842)
    w.add_metadata({"/Title": title})
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """The materials as files to choose in the browser: small PDFs and the photo."""
    out = {}
    for code in ("passport", "application_form", MISSING):
        path = tmp_path / f"{code}.pdf"
        path.write_bytes(titled_pdf(code))
        out[code] = path
    out["photo"] = tmp_path / "photo.jpg"
    out["photo"].write_bytes(photo_jpeg())
    return out


# ------------------------------------------------------------------------------------------------ the browser


class Steps:
    """One browser context's pages in one language, with numbered screenshots shared by both actors."""

    counter = 0

    def __init__(self, context: BrowserContext, base: str, lang: str, shots: Path, who: str) -> None:
        self.page: Page = context.new_page()
        self.base = base
        self.lang = lang
        self.shots = shots
        self.who = who

    def tr(self, message: str, **values: Any) -> str:
        """The page's text for a message, from the platform's own catalogs."""
        return gettext(self.lang, message, **values)

    def material(self, code: str) -> str:
        """A material's label (cnvisa.law.materials) in the page's language."""
        m = CATALOGUE[code]
        return m.zh if self.lang == "zh_CN" else m.en

    def field(self, message: str) -> Any:
        """The form control whose label begins with the (translated) question."""
        return self.page.get_by_label(re.compile("^" + re.escape(self.tr(message))))

    def button(self, message: str) -> Any:
        return self.page.get_by_role("button", name=self.tr(message), exact=True)

    def goto(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        self.page.wait_for_load_state("load")

    def submit(self, message: str, url: str | re.Pattern[str]) -> None:
        """Press a form's button and wait for the page it leads to."""
        self.button(message).click()
        self.page.wait_for_url(url)
        self.page.wait_for_load_state("load")

    def shown(self, step: str) -> None:
        """Check the page is in the run's language and its dates, then keep a screenshot of it."""
        self.check_lang(step)
        self.check_dates(step, self.page.locator("main").inner_text())
        Steps.counter += 1
        self.page.screenshot(
            path=str(self.shots / f"{Steps.counter:02d}-{self.who}-{step}.png"), full_page=True
        )

    def keep(self, name: str, content: bytes) -> None:
        """Keep a downloaded file beside the screenshots."""
        Steps.counter += 1
        (self.shots / f"{Steps.counter:02d}-{self.who}-{name}").write_bytes(content)

    def check_dates(self, step: str, text: str) -> None:
        """Every date shown is a Beijing date: the day before today (the UTC date before 08:00) is shown
        nowhere, and what happened today says so (issued, accepted, decided, applied)."""
        today = beijing_today()
        shown = dates_in(text)
        assert today - dt.timedelta(days=1) not in shown, (
            f"{step}: yesterday's date on the page:\n{text[:1500]}"
        )
        for label in ("Issued on", "Accepted on", "Decided on", "Assessed as of"):
            for found in re.finditer(re.escape(self.tr(label)) + r"\s*[:：]?\s*(.{6,40})", text):
                first = dates_in(found.group(1))
                assert first and min(first) == today, f"{step}: {label} {found.group(1)!r}, not {today}"

    def check_lang(self, step: str) -> None:
        """The page is in the run's language: its lang attribute, and Chinese text in its main part."""
        html_lang = self.page.locator("html").get_attribute("lang")
        main = self.page.locator("main").inner_text()
        if self.lang == "zh_CN":
            assert html_lang == "zh-CN", (step, html_lang)
            assert CJK.search(main), f"{step}: no Chinese text in the page's main part:\n{main[:500]}"
        else:
            assert html_lang == "en", (step, html_lang)

    def sign_in(self, username: str, landing: str) -> None:
        self.goto("/signin")
        self.field("User name").fill(username)
        self.field("Password").fill(PASSWORDS[username])
        self.submit("Sign in", re.compile(re.escape(landing)))

    def sign_in_by_keyboard(self, username: str, landing: str) -> None:
        """Only the keyboard: the first Tab reaches the skip link, Tab on to the form, type, Enter submits."""
        self.goto("/signin")
        keyboard, focused = self.page.keyboard, self.page.locator(":focus")
        keyboard.press("Tab")
        expect(focused).to_have_text(self.tr("Skip to content"))
        for _ in range(20):
            if focused.get_attribute("id") == "username":
                break
            keyboard.press("Tab")
        else:
            pytest.fail("the user name field cannot be reached with Tab")
        keyboard.type(username)
        keyboard.press("Tab")
        expect(focused).to_have_attribute("id", "password")
        keyboard.type(PASSWORDS[username])
        keyboard.press("Enter")
        self.page.wait_for_url(re.compile(re.escape(landing)))
        self.page.wait_for_load_state("load")


_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DATES = re.compile(
    r"(?P<iso>\d{4}-\d{2}-\d{2})"
    r"|(?P<zy>\d{4})年(?P<zm>\d{1,2})月(?P<zd>\d{1,2})日"
    r"|(?P<mon>[A-Z][a-z]{2,8})\.? (?P<day>\d{1,2}), (?P<year>\d{4})"
)


def dates_in(text: str) -> set[dt.date]:
    """The dates a text shows: ISO, Chinese (2025年11月20日) and English (Nov 20, 2025 / November 20, 2025)."""
    out = set()
    for m in _DATES.finditer(text):
        if m["iso"]:
            out.add(dt.date.fromisoformat(m["iso"]))
        elif m["zy"]:
            out.add(dt.date(int(m["zy"]), int(m["zm"]), int(m["zd"])))
        else:
            month = next((i for i, name in enumerate(_MONTHS, 1) if name.startswith(m["mon"][:3])), None)
            if month is not None:
                out.add(dt.date(int(m["year"]), month, int(m["day"])))
    return out


def _context(browser: Browser, base: str, lang: str) -> BrowserContext:
    """A fresh browser (its own cookies); the language is chosen with ?lang= on the first page and then
    remembered by the platform's cookie (Accept-Language stays English in both runs)."""
    context = browser.new_context(
        locale="en-US", accept_downloads=True, viewport={"width": 1200, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{base}/?lang={lang}")
    page.close()
    return context


def beijing_today() -> dt.date:
    """The server's today: both runs' clocks start on the demo data's day."""
    return TODAY


# ------------------------------------------------------------------------------------------------ the test


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_applicant_and_officer_in_a_browser(
    server: str, seeded: dict[str, Any], files: dict[str, Path], lang: str
) -> None:
    shots = ARTIFACTS / lang
    shots.mkdir(parents=True, exist_ok=True)
    for old in (*shots.glob("*.png"), *shots.glob("*.pdf")):
        old.unlink()
    Steps.counter = 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            me = Steps(_context(browser, server, lang), server, lang, shots, "applicant")
            officer = Steps(_context(browser, server, lang), server, lang, shots, "officer")
            try:
                scenario(me, officer, files, str(seeded["offices"]["SH01"]))
            except BaseException:
                for steps in (me, officer):  # what each browser showed when the test failed
                    steps.page.screenshot(path=str(shots / f"failed-{steps.who}.png"), full_page=True)
                raise
        finally:
            browser.close()


def scenario(me: Steps, officer: Steps, files: dict[str, Path], office_id: str) -> None:
    """Issue 4's story, step by step (see the module's docstring)."""
    server, lang = me.base, me.lang
    today = beijing_today()
    entry = today - dt.timedelta(days=10)
    tr, page = me.tr, me.page
    if lang == "zh_CN":  # the catalogs translate what the test looks for
        assert CJK.search(tr("Visa extension")) and CJK.search(tr("One-time notice"))

    # 1. What do I need? (public, before signing in)
    me.goto("/what-do-i-need")
    expect(page.get_by_role("heading", level=1)).to_have_text(tr("What do I need?"))
    me.shown("what-do-i-need")
    page.get_by_role("link", name=tr("Visa extension")).first.click()
    page.wait_for_url(re.compile(r"/what-do-i-need/visa_extension$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(tr("Visa extension"))
    me.field("Category of the visa held").select_option("L")
    me.field("Entries of the visa").select_option("single")
    me.field("Duration of stay stated on the visa (days)").fill("30")
    me.field("Date of this entry into China").fill(entry.isoformat())
    me.field("Extension requested (days)").fill("30")
    me.shown("visa-extension-questions")
    me.submit("Show what I need", re.compile(r"check=1"))
    result = page.locator("section.assessment")
    expect(result.get_by_role("heading", name=tr("Checklist"))).to_be_visible()
    for code in ("passport", "application_form", "photo", MISSING):
        expect(result.get_by_role("rowheader", name=me.material(code))).to_be_visible()
    itinerary_row = result.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=me.material(MISSING))
    )
    guide = "Guide VI(II)5" if lang == "en" else "《外国人签证延期、换发、补发指南》VI(II)5"
    expect(itinerary_row).to_contain_text(guide)  # every item cites its provision
    expect(result).to_contain_text(
        "Regulations Art 12" if lang == "en" else "《外国人入境出境管理条例》第12条"
    )
    expect(result.locator(".error")).to_have_count(0)  # nothing blocks an extension
    me.shown("checklist-with-citations")

    # 2. Sign in and book an appointment: the next working day with a free slot
    me.sign_in("alice", "/my/cases")
    me.goto("/appointments")
    me.field("1. Office").select_option(office_id)
    me.submit("Show days", re.compile(r"office=" + office_id))
    days = [v for v in me.field("2. Day").locator("option").evaluate_all("os => os.map(o => o.value)") if v]
    assert days, "no bookable day at SH01"
    assert dt.date.fromisoformat(days[0]) > today
    free = page.locator("input[type=radio][name=slot]:not([disabled])")
    for day in days:
        me.field("2. Day").select_option(day)
        me.submit("Show times", re.compile(r"day=" + day))
        if free.count():
            break
    else:
        pytest.fail("no free slot in the booking window")
    me.shown("appointment-times")
    slot = free.first.get_attribute("value")
    free.first.check()
    me.field("Matter").select_option("visa_extension")
    me.submit("Book", re.compile(r"/appointments\?booked=\d+"))
    expect(page.get_by_role("status")).to_have_text(tr("Your appointment is booked."))
    booked = page.locator("tr.highlight")
    expect(booked).to_contain_text(str(slot))
    expect(booked).to_contain_text(tr("Visa extension"))
    me.shown("appointment-booked")

    # 3. Apply online, the itinerary missing
    me.goto("/apply")
    me.field("Matter").select_option("visa_extension")
    me.submit("Continue", re.compile(r"matter=visa_extension"))
    me.field("Office").select_option(office_id)
    me.field("Category of the visa held").select_option("L")
    me.field("Entries of the visa").select_option("single")
    me.field("Duration of stay stated on the visa (days)").fill("30")
    me.field("Date of this entry into China").fill(entry.isoformat())
    me.field("Extension requested (days)").fill("30")
    me.submit("Check and continue", re.compile(r"step=check"))
    expect(page.locator("#form-error")).to_have_count(0)
    for code in ("passport", "application_form", "photo"):
        page.get_by_label(me.material(code), exact=True).set_input_files(files[code])
    expect(page.get_by_label(me.material(MISSING), exact=True)).to_be_visible()
    me.shown("apply-materials")
    me.submit("Submit the application", re.compile(r"/my/cases/\d+\?submitted=1"))
    expect(page.get_by_role("status")).to_have_text(tr("Your application has been submitted."))
    expect(page.locator(".badge")).to_have_text(tr("Submitted"))
    case_path = re.sub(r"\?.*$", "", page.url.removeprefix(server))
    number = page.locator("h1 small").inner_text().strip()
    assert number, "the case number is shown"
    me.shown("application-submitted")

    # 4. The officer opens the case from the queue and issues the one-time notice
    officer.sign_in_by_keyboard("sh01.officer", "/office/queue")
    op = officer.page
    expect(op.get_by_role("heading", level=1)).to_have_text(officer.tr("Queue"))
    op.get_by_role("link", name=number, exact=True).click()
    op.wait_for_url(re.compile(r"/office/cases/\d+$"))
    expect(op.get_by_role("heading", level=1)).to_contain_text(number)
    missing = (
        op.locator("section[aria-labelledby=checklist-h]")
        .get_by_role("row")
        .filter(has_text=me.material(MISSING))
    )
    expect(missing).to_contain_text(officer.tr("missing"))
    officer.shown("case-from-queue")
    officer.submit("Issue one-time notice", re.compile(r"done=issue_notice"))
    expect(op.get_by_role("status")).to_contain_text(officer.tr("Issue one-time notice"))
    officer.shown("notice-issued")

    # 5. The applicant sees the notice and supplements the itinerary
    me.goto(case_path)
    expect(page.locator(".badge")).to_have_text(tr("Awaiting your supplement"))
    notice = page.locator("section[aria-labelledby=notice-heading]")
    expect(notice.get_by_role("heading", name=tr("One-time notice"))).to_be_visible()
    expect(notice.get_by_role("listitem")).to_have_text([me.material(MISSING)])
    me.shown("notice-seen")
    page.get_by_label(me.material(MISSING), exact=True).set_input_files(files[MISSING])
    me.submit("Hand in the supplement", re.compile(r"supplemented=1"))
    expect(page.get_by_role("status")).to_have_text(tr("Your supplement has been handed in."))
    expect(page.locator(".badge")).to_have_text(tr("Submitted"))
    me.shown("supplemented")

    # 6. The officer accepts (the receipt PDF downloads), approves and issues
    officer.goto(op.url.split("?")[0].removeprefix(server))
    expect(missing).to_contain_text(officer.tr("provided"))
    officer.submit("Accept and issue receipt", re.compile(r"done=accept"))
    officer.shown("accepted")
    case_page = op.url
    receipt_no = op.locator("section[aria-labelledby=receipt-h] td").first.inner_text().strip()
    # Chromium shows an inline PDF in its viewer: the link opens it, and the bytes are fetched again with the
    # same browser context's cookies (a viewer's page is not the file)
    with op.expect_response(re.compile(r"/cases/\d+/receipt\.pdf$")) as opened:
        op.get_by_role("link", name=officer.tr("Receipt (PDF)"), exact=True).click()
    receipt = opened.value
    assert receipt.ok and receipt.headers["content-type"] == "application/pdf", receipt.headers
    assert f'filename="{receipt_no}.pdf"' in receipt.headers["content-disposition"]
    download = op.context.request.get(receipt.url)
    assert download.ok and download.body().startswith(b"%PDF"), download.body()[:40]
    officer.keep("receipt.pdf", download.body())
    text = subprocess.run(["pdftotext", "-", "-"], input=download.body(), capture_output=True, check=True)
    officer.check_dates("receipt.pdf", text.stdout.decode())
    officer.goto(case_page.removeprefix(server))
    officer.submit("Approve", re.compile(r"done=approve"))
    officer.submit("Issue document", re.compile(r"done=issue"))
    decision = op.locator("section[aria-labelledby=decision-h]")
    expect(decision).to_contain_text(officer.tr("Approved"))
    found = DOCUMENT_NUMBER.search(decision.inner_text())
    assert found, decision.inner_text()
    document = found.group()
    officer.shown("issued")

    # 7. The applicant sees the result and the new visa
    me.goto(case_path)
    expect(page.locator(".badge")).to_have_text(tr("Ready for collection"))
    expect(page.locator("main")).to_contain_text(tr("Acceptance receipt"))
    me.shown("result")
    me.goto("/my/documents")
    row = page.get_by_role("row").filter(has_text=document)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(tr("Visa"))
    expect(row).to_contain_text("L")
    expect(row).to_contain_text(tr("Valid"))
    me.shown("my-documents")
