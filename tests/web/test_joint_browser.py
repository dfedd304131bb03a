"""The joint application's progress page and the work-permit desk's queue in Chromium (issue 10 §1, "Shown by":
pages for each actor tested in Chromium), in Chinese and English, at 390 px and 1280 px: axe-core's WCAG 2.1 AA
rules, tap targets, no sideways scrolling on a phone (``test_accessibility.Findings``, as the accessibility crawl
checks every page) — and what the pages must show: both branches, both clocks and the branch waited for; the
desk's branches with their two dues. Debian's /usr/bin/chromium; screenshots in ``e2e_artifacts/joint/``."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright
from test_accessibility import CHROMIUM, CHROMIUM_ARGS, DESKTOP, LANGS, PHONE, TIMEOUT_MS, Findings, _load
from web_support import PASSWORDS, TODAY, served

from cnvisa.demo.joint_story import DESK, FOREIGNERS
from cnvisa.http.i18n import gettext

ARTIFACTS = Path(__file__).parent / "e2e_artifacts" / "joint"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.timeout(900)
def test_progress_page_and_desk_queue_in_chromium(
    seeded: dict[str, Any], db_url: str, tmp_path: Path
) -> None:
    accepted = seeded["joint"]["accepted"][0]
    granted_waiting = seeded["joint"]["approved_waiting"][0]
    deficient = seeded["joint"]["deficient"][0]
    visits = [
        (
            "employer.hr",
            f"/joint-applications/{accepted}",
            ("Both clocks", "Service commitment", "Waiting for this branch"),
        ),
        ("employer.hr", f"/joint-applications/{granted_waiting}", ("Both granted: to be issued together",)),
        ("employer.hr", "/joint-applications", ("Work and residence permits together",)),
        # the foreigner herself: the one notice for both branches, and its supplement form
        (
            FOREIGNERS[0][0],
            f"/joint-applications/{deficient}",
            ("The one-time notice: hand in", "Hand in the materials"),
        ),
        (DESK[0][0], "/work-permit-desk", ("Work-permit desk", "Service commitment", "Statutory deadline")),
        (DESK[0][0], f"/work-permit-desk/{accepted}", ("Take under review", "Both clocks")),
    ]
    start = dt.datetime.combine(TODAY, dt.time(9, 0), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    env = {"CNVISA_SECRET": "joint-browser-secret", "CNVISA_CLOCK_START": start.isoformat()}
    findings = Findings()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with served(db_url, tmp_path / "server.log", **env) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for who in dict.fromkeys(w for w, _u, _t in visits):
                context = browser.new_context(viewport=PHONE, locale="en-US")
                context.set_default_timeout(TIMEOUT_MS)
                r = context.request.post(
                    f"{base}/api/v1/auth/signin", data={"username": who, "password": PASSWORDS[who]}
                )
                assert r.ok, r.text()
                page = context.new_page()
                for _w, url, texts in (v for v in visits if v[0] == who):
                    for lang in LANGS:
                        loaded = _load(page, base, f"{url}?lang={lang}")
                        assert loaded is not None and loaded[1], url
                        body = loaded[0].decode()
                        for text in texts:
                            assert gettext(lang, text) in body, (url, lang, text)
                        if lang == "zh_CN":
                            assert CJK.search(page.inner_text("main")), url
                        findings.check(page, loaded[0], f"{who} {url} {lang}")
                        name = re.sub(r"[^a-z0-9]+", "-", url.strip("/")) + f"-{lang}"
                        for width, viewport in (("390", PHONE), ("1280", DESKTOP)):
                            page.set_viewport_size(viewport)
                            page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
                        page.set_viewport_size(PHONE)
                context.close()
        finally:
            browser.close()
    assert findings.pages == 2 * len(visits)
    assert not findings.by_kind, findings.summary()
