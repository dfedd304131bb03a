"""Issue 15 item 3: on a page showing errors, focus is on the error summary once the page has loaded — with
JavaScript and without it (issue 15: "no JavaScript required").

Without a script the summary takes focus by HTML alone: it is the first thing in ``main``, focusable by
program only (``tabindex="-1"``) and ``autofocus``, so that a screen reader reads it first and the next Tab
goes to its first link. ``/static/error-summary.js`` (GOV.UK's progressive enhancement) also focuses it, and
makes a link in it move focus to the field it names, not only the view. Measured in Debian's Chromium driven by
Playwright, at 390 px, in both languages, on a GET form (What do I need?) and a POST form (sign-in)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from web_support import served

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
FOCUSED = "() => document.activeElement && document.activeElement.id"


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[str]:
    with served(db_url, tmp_path / "server.log", CNVISA_SECRET="focus-test-secret") as base:
        yield base


def _need_with_errors(page: Page, base: str, lang: str) -> None:
    r = page.goto(f"{base}/what-do-i-need/visa_extension?check=1&on=2025-02-30&visa.stay_days=-3&lang={lang}")
    assert r is not None and r.status == 422


def _signin_refused(page: Page, base: str, lang: str) -> None:
    page.goto(f"{base}/signin?lang={lang}")
    page.fill("#username", "nobody")
    page.fill("#password", "wrong password")
    with page.expect_navigation() as nav:
        page.locator("main form button[type=submit]").click()
    assert nav.value is not None and nav.value.status in (401, 422)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # markup and focus do not depend on the engine
@pytest.mark.parametrize("script", [False, True], ids=["without-javascript", "with-javascript"])
def test_focus_is_on_the_error_summary(server: str, script: bool) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=script)
            page = context.new_page()
            for lang in ("zh_CN", "en"):
                for reach in (_need_with_errors, _signin_refused):
                    reach(page, server, lang)
                    page.wait_for_load_state("load")
                    assert page.evaluate(FOCUSED) == "error-summary", (reach.__name__, lang)
                    title = page.title()
                    assert title.startswith("错误：" if lang == "zh_CN" else "Error: "), title
                    page.keyboard.press("Tab")  # the next stop is the summary's first link
                    first = page.evaluate("() => document.activeElement.closest('#error-summary') !== null")
                    assert first, (reach.__name__, lang)
        finally:
            browser.close()
