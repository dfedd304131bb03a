"""Every page of every demo role, in Chinese and English, on a phone (390 × 844) and a desktop (1280 × 900), in
Debian's Chromium driven by Playwright (issue 15, "Shown by"):

- axe-core (bundled by the axe-playwright-python package) finds no violation of the WCAG 2.1 A and AA rules
  (tags wcag2a, wcag2aa, wcag21a, wcag21aa) — among them colour contrast, 1.4.3;
- nothing scrolls sideways at 390 px (reflow, WCAG 1.4.10): ``scrollWidth <= clientWidth`` of the document;
  a table marked ``stack`` shows its rows as blocks there and fits its box (nothing to pan inside it either);
- every tap target measures at least 44 × 44 CSS px (getBoundingClientRect; WCAG 2.5.5, the issue's figure).
  A tap target is every ``a[href]``, ``button``, ``input`` (not hidden), ``select``, ``textarea``, ``summary``,
  and the ``label`` of a radio button or check box (the label is what a thumb taps; the box inside it is not
  measured). A link inside running text is exempt (WCAG 2.5.8's inline exception: its size is set by the line
  height of the text around it): a link whose nearest block holds letters or digits outside any target — but
  never a link of the header or of a ``nav``;
- the header takes at most two rows of targets at 390 px (the applicant's took 4-5 lines before the heading);
- every page weighs at most 30 KB gzip-compressed (Python's gzip of the HTML the server sent);
- no page needs JavaScript: the only script a page may load is the error summary's enhancement
  (``/static/error-summary.js``; test_error_focus.py shows the summary focused without it).

The pages are the app's own: from the home page, every same-site link a page shows to the role (GET only), and
every GET form a page shows, sent with its first choice in each list (so the questions, their answers and their
error messages are reached), one page of each kind: the app's route (/what-do-i-need/{matter}, /office/cases/
{case_id}) and the names of its query parameters — an axe run takes about a second. Each role is visited as its
first demo account. Every page route of the app (``ROUTERS``, GET) must be among the pages checked, but for the
few named in ``NOT_PAGES`` (a new page no role reaches fails the test). Every POST form whose empty submission
only shows errors (``ERROR_PATHS``) is sent once per role and language with its fields emptied: the error page
answers 4xx with the error summary focused, and gets the same checks. Then the apply flow with real answers
(its upload form is reached only so), whose phone screenshots are kept in
``tests/web/e2e_artifacts/phone/<lang>/`` (gitignored).

A page another role's crawl has checked in the same language, identical but for the header (the role's links)
and its CSRF tokens, is not checked again once this role's header has been: every check would see the same page.

One test per language (pytest-xdist runs them side by side), each with its own server over the seeded database,
one browser, one context per role; both widths are checked on one load of each page (the viewport is resized).
The crawl's duration is printed.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import re
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Browser, Error, Page, sync_playwright
from test_applicant import signed_in
from test_office import ALL, apply, command, version
from web_support import PASSWORDS, TODAY, Web, served, site_links

from cnvisa.demo import DEMO
from cnvisa.demo.joint_story import DESK
from cnvisa.http.i18n import gettext
from cnvisa.store.register_tables import AccommodationRegistration
from cnvisa.store.tables import Holding, Movement, Person
from cnvisa.web.pages import ROUTERS

ARTIFACTS = Path(__file__).parent / "e2e_artifacts" / "phone"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
TIMEOUT_MS = 20_000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MIN_TARGET = 44  # CSS px, WCAG 2.5.5
MAX_GZIP = 30 * 1024
MAX_HEADER = (
    2 * MIN_TARGET + 24
)  # px at 390: two rows of targets, the padding and the border (issue 15, item 6)
MAX_PAGES = 60  # per role and language
LANGS = ("zh_CN", "en")

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG21_AA}, "resultTypes": ["violations"]}
_AXE_RUN = "options => axe.run(document, options)"
_OVERFLOW = """() => {
  const doc = document.documentElement, limit = doc.clientWidth;
  // the deepest elements sticking out on the right: what widens the page
  const wide = [...document.body.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > limit + 0.5
      && ![...e.children].some(c => c.getBoundingClientRect().right > limit + 0.5));
  return {scroll: doc.scrollWidth, client: limit,
          wide: wide.slice(0, 4).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                + ' ' + (e.textContent || '').trim().slice(0, 40))};
}"""
_STACKED = """() => [...document.querySelectorAll('table.stack')]
  .filter(t => t.scrollWidth > t.parentElement.clientWidth + 0.5
               || getComputedStyle(t.querySelector('tbody tr') || t).display !== 'block')
  .map(t => (t.closest('section, main').querySelector('h1, h2, h3') || {}).textContent || 'a table')"""
_TAPS = """min => {
  const isTarget = 'a[href], button, input:not([type=hidden]), select, textarea, summary, label';
  const tapped = e => e.matches(isTarget) && !(e.tagName === 'LABEL' && !e.control);
  function inRunningText(a) {
    if (a.closest('header, nav')) return false;
    let block = a.parentElement;
    while (block && getComputedStyle(block).display.startsWith('inline')) block = block.parentElement;
    const walk = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    for (let t = walk.nextNode(); t; t = walk.nextNode()) {
      let inside = false;
      for (let p = t.parentElement; p && p !== block; p = p.parentElement) if (tapped(p)) { inside = true; break; }
      if (!inside && /[\\p{L}\\p{N}]/u.test(t.data)) return true;
    }
    return false;
  }
  const small = [];
  for (const e of document.querySelectorAll(isTarget)) {
    if (e.tagName === 'LABEL') {  // only the label of a radio button or check box is a target of its own
      if (!e.control || !['radio', 'checkbox'].includes(e.control.type)) continue;
    } else if (e.tagName === 'INPUT' && ['radio', 'checkbox'].includes(e.type) && e.labels.length) {
      continue;  // its label is the target
    }
    if (!e.checkVisibility()) continue;  // not shown (e.g. inside a closed <details>)
    if (e.tagName === 'A' && inRunningText(e)) continue;
    const r = e.getBoundingClientRect();
    if (r.width < min - 0.5 || r.height < min - 0.5) {
      small.push(`${e.tagName.toLowerCase()} "${(e.textContent || e.value || e.name || '').trim().slice(0, 30)}"`
                 + ` ${Math.round(r.width)}×${Math.round(r.height)}`);
    }
  }
  return small;
}"""
_GET_FORMS = """() => [...document.querySelectorAll('form')].filter(f => f.method === 'get').map(f => {
  const data = new FormData(f);
  for (const s of f.querySelectorAll('select[name]')) {
    const first = [...s.options].find(o => o.value && !o.disabled);
    if (!s.value && first) data.set(s.name, first.value);  // the first choice of each list
  }
  const url = new URL(f.action);
  return url.pathname + '?' + new URLSearchParams(data).toString();
})"""


_POST_FORMS = """() => [...document.querySelectorAll('form')].filter(f => f.method === 'post')
  .map(f => new URL(f.action).pathname)"""
_SEND_EMPTIED = """action => {
  const form = [...document.querySelectorAll('form')]
    .find(f => f.method === 'post' && new URL(f.action).pathname === action);
  for (const e of form.elements) {
    if (['hidden', 'submit', 'button'].includes(e.type) || e.tagName === 'BUTTON') continue;
    if (['checkbox', 'radio'].includes(e.type)) e.checked = false;
    else if (e.tagName === 'SELECT') e.selectedIndex = -1;
    else e.value = '';
  }
  form.noValidate = true;  // the server's own checks, not the browser's
  form.requestSubmit();
}"""
ERROR_PATHS = frozenset(
    {
        "/signin",
        "/progress",
        "/appointments",
        "/my/cases/{case_id}/withdraw",
        "/my/cases/{case_id}/supplement",
        "/stays",
        "/hotel/stays",
        "/office/accommodation/search",
        "/police/search",
        "/police/stays",
        "/admin/desks/police",
        "/admin/desks/port-visa",
        "/port-visas",
        "/org/reports",
        "/org/post-changes",
        "/verify",
        "/verify/tokens",
        "/my/notifications",
    }
)
"""The POST forms whose emptied submission changes nothing and shows errors (an officer's commands are left
out: several need no field, so an emptied one would run — the port desk's approval shares its route with the
refusal, whose emptied form test_port_visa_browser.py sends)."""
NOT_PAGES = {
    "/favicon.ico": "an icon",
    "/office": "a redirect to /office/queue",
    "/office/cases/{case_id}/files/{file_id}": "a kept file, downloaded",
    "/port-visas/{request_id}/materials/{file_id}": "a port-visa material, downloaded",
    "/cases/{case_id}/receipt.pdf": "a PDF (test_pdf.py)",
    "/cases/{case_id}/notice.pdf": "a PDF (test_pdf.py)",
    "/cases/{case_id}/decision.pdf": "a PDF (test_pdf.py)",
}
"""The GET routes that are no web page, with the reason."""
PAGE_ROUTES = {
    r.path  # type: ignore[attr-defined]
    for router in ROUTERS
    for r in router.routes
    if "GET" in getattr(r, "methods", ())
} - set(NOT_PAGES)


ONE_PER_ROLE = [*list({d.role: d.username for d in reversed(DEMO)}.values())[::-1], DESK[0][0]]
"""The first demo account of each role, and the work-permit desk the joint story makes (issue 10 §1)."""


class Findings:
    """What the checks found, by kind, each with its page, role, language and width."""

    def __init__(self) -> None:
        self.by_kind: dict[str, list[str]] = defaultdict(list)
        self.pages = 0
        self.seconds: dict[str, float] = defaultdict(float)
        self.routes: set[str] = set()
        """The app's routes of the pages checked (GET) and of the error paths sent (``POST /…``)."""
        self.checked: set[tuple[str, str, bytes]] = set()
        """(language, page kind, digest of the page but for its header) of the pages checked."""
        self.headers: set[str] = set()
        """``"<who> <lang>"`` whose header has been checked (on a page of theirs, at both widths)."""
        self.same = 0

    def add(self, kind: str, where: str, what: object) -> None:
        self.by_kind[kind].append(f"{where}: {what}")

    def check(self, page: Page, body: bytes, where: str) -> None:
        """The checks of one loaded page, at both widths."""
        self.pages += 1
        size = len(gzip.compress(body))
        if size > MAX_GZIP:
            self.add("weight", where, f"{size} bytes gzip-compressed")
        for script in re.findall(rb"<script\b[^>]*>", body):
            if not re.search(rb'src="/static/error-summary\.js[?"]', script):
                self.add("script", where, script.decode(errors="replace"))
        page.evaluate(AXE_SCRIPT)
        for name, viewport in (("390", PHONE), ("1280", DESKTOP)):
            page.set_viewport_size(viewport)
            at = f"{where} @{name}px"
            t0 = time.monotonic()
            t0 = time.monotonic()
            result = page.evaluate(_AXE_RUN, AXE_OPTIONS)
            self.seconds["axe"] += time.monotonic() - t0
            for v in result["violations"]:
                targets = [" ".join(n["target"]) for n in v["nodes"][:3]]
                self.add("axe:" + v["id"], at, f"{len(v['nodes'])} nodes, e.g. {targets}")
            for small in page.evaluate(_TAPS, MIN_TARGET):
                self.add("tap target", at, small)
            if viewport is PHONE:
                o = page.evaluate(_OVERFLOW)
                if o["scroll"] > o["client"]:
                    self.add("overflow", at, f"{o['scroll']} px wide, widened by {o['wide']}")
                for table in page.evaluate(_STACKED):  # a .stack table shows rows as blocks, nothing to pan
                    self.add(
                        "stacked table", at, f"under {table.strip()!r}: wider than its box or not stacked"
                    )
                header = page.evaluate(
                    "() => document.querySelector('header').getBoundingClientRect().height"
                )
                if header > MAX_HEADER:
                    self.add("header", at, f"{header:.0f} px high before the page's own content")
        page.set_viewport_size(PHONE)

    def summary(self) -> str:
        counts = {kind: len(found) for kind, found in sorted(self.by_kind.items())}
        lines = [f"{self.pages} page loads checked; findings by kind: {counts}"]
        for kind, found in sorted(self.by_kind.items()):
            lines.append(f"--- {kind} ({len(found)})")
            lines.extend(found[:25])
        return "\n".join(lines)


@pytest.fixture
def deficient_case(web: Web) -> int:
    """Alice's application with materials missing and its one-time notice issued: her case page then shows the
    supplement and withdrawal forms, and the notice has its public check page (the QR code's address)."""
    officer, csrf = signed_in(web, "sh01.officer")
    case_id = apply(web, materials=ALL[:4])
    assert command(officer, csrf, case_id, "issue_notice", version(officer, case_id))["state"] == "deficient"
    return case_id


def add_overstayer(web: Web) -> int:
    """Someone in illegal residence today in SH01's area (the demo has none on its first day), so that the
    officer's overstay list links to the penalty page (issue 12)."""

    async def go() -> int:
        async with web.client.app.state.platform.sessions() as s, s.begin():  # type: ignore[attr-defined]
            p = Person(
                surname="OVERSTAY",
                given_names="DEMO",
                birth_date=dt.date(1980, 2, 2),
                nationality="FRA",
                created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
            )
            s.add(p)
            await s.flush()
            visa = Holding(
                person_id=p.id,
                kind="visa",
                number="VV-A11Y-0001",
                category="M",
                entries="1",
                valid_from=TODAY - dt.timedelta(days=100),
                valid_until=TODAY + dt.timedelta(days=200),
                stay_days=30,
                extended_days=0,
                status="valid",
            )
            s.add(visa)
            await s.flush()
            entered = TODAY - dt.timedelta(days=40)
            s.add(Movement(person_id=p.id, direction="entry", on=entered, port="PVG", holding_id=visa.id))
            s.add(
                AccommodationRegistration(
                    person_id=p.id,
                    address="Room 1, 1 Century Avenue",
                    division_code="310115",
                    registered_from=entered,
                    registered_until=None,
                    registered_by="hotel",
                    recorded_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                )
            )
            return p.id

    return web.client.portal.call(go)  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def server(deficient_case: int, web: Web, db_url: str, tmp_path: Path) -> Iterator[str]:
    add_overstayer(web)
    start = dt.datetime.combine(TODAY, dt.time(9, 0), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    env = {"CNVISA_SECRET": "a11y-test-secret", "CNVISA_CLOCK_START": start.isoformat()}
    with served(db_url, tmp_path / "server.log", **env) as base:
        yield base


def _load(page: Page, base: str, url: str) -> tuple[bytes, bool] | None:
    """The page's HTML and whether it is one (None: a download, e.g. a kept file)."""
    try:
        response = page.goto(base + url)
    except Error as exc:
        if "Download is starting" in str(exc):
            return None
        raise
    assert response is not None, url
    assert response.status < 500 and response.status != 404, f"{url} answered {response.status}"
    html = response.headers.get("content-type", "").startswith("text/html")
    return (response.body() if html else b""), html


_HEADER = re.compile(rb'<header class="top">.*?</header>', re.S)
_CSRF = re.compile(rb'(name="csrf" value=")[^"]*')


def but_header(body: bytes) -> bytes:
    """The page's digest without its header (the role's links) and its CSRF tokens."""
    return hashlib.sha256(_CSRF.sub(rb"\1", _HEADER.sub(b"", body, count=1))).digest()


def page_kind(url: str) -> str:
    """The app's route of an address and the names of its query parameters."""
    parts = urlsplit(url)
    route = next(
        (r.path for router in ROUTERS for r in router.routes if r.path_regex.match(parts.path)),  # type: ignore[attr-defined]
        parts.path,
    )
    keys = {k for k, _ in parse_qsl(parts.query, keep_blank_values=True)} - {"lang"}
    return route + "?" + "&".join(sorted(keys))


def crawl(page: Page, base: str, lang: str, who: str, findings: Findings, also: tuple[str, ...] = ()) -> int:
    """Every page reachable from the home page (and ``also``) by links and GET forms, one of each kind; checks
    each."""
    kinds: set[str] = set()
    todo = deque([f"/?lang={lang}", *(f"{u}?lang={lang}" for u in also)])
    visited = 0
    while todo and visited < MAX_PAGES:
        url = todo.popleft()
        if page_kind(url) in kinds or url.endswith(".pdf"):
            continue  # a PDF is no web page (its fonts and texts are tested in test_pdf.py)
        kinds.add(page_kind(url))
        loaded = _load(page, base, url)
        if loaded is None or not loaded[1]:
            continue
        visited += 1
        findings.routes.add(page_kind(url).split("?")[0])
        same = (lang, page_kind(url), but_header(loaded[0]))
        if same in findings.checked and f"{who} {lang}" in findings.headers:
            findings.same += 1  # checked as another role; this role's header too
        else:
            findings.check(page, loaded[0], f"{who} {lang} {url}")
            findings.checked.add(same)
            findings.headers.add(f"{who} {lang}")
        hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
        todo.extend(site_links(hrefs))
        todo.extend(page.evaluate(_GET_FORMS))
        for action in page.evaluate(_POST_FORMS):
            route = page_kind(action).split("?")[0]
            if route in ERROR_PATHS and "POST " + route not in kinds:
                kinds.add("POST " + route)
                if page.url != base + url:  # an error path sent before has left the page
                    page.goto(base + url)
                send_emptied(page, action, f"{who} {lang} POST {action} (emptied, from {url})", findings)
                findings.routes.add("POST " + route)
    return visited


def send_emptied(page: Page, action: str, where: str, findings: Findings) -> None:
    """A POST form sent with its fields emptied: the answer is an error page (4xx) whose error summary is
    focused once loaded; the page gets every check."""
    with page.expect_navigation() as nav:
        page.evaluate(_SEND_EMPTIED, action)
    response = nav.value
    page.wait_for_load_state("load")
    if not 400 <= response.status < 500:
        findings.add("error path", where, f"answered {response.status}, not an error page")
        return
    focused = page.evaluate("() => document.activeElement && document.activeElement.id")
    if focused != "error-summary":
        findings.add("error path", where, f"focus on {focused!r}, not on the error summary")
    findings.check(page, response.body(), where)


def apply_flow(page: Page, base: str, lang: str, findings: Findings) -> None:
    """Alice applies for a visa extension with her answers filled in: the start, the questions, the checklist
    and the upload form, an answer refused, a file refused (an emptied upload form is no error: the materials
    may be handed in later); a full-page phone screenshot of each step."""
    shots = ARTIFACTS / lang
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()

    def tr(message: str) -> str:
        return gettext(lang, message)

    def field(message: str) -> Any:
        return page.get_by_label(re.compile("^" + re.escape(tr(message))))

    def step(n: int, name: str) -> None:
        page.wait_for_load_state("load")
        body = page.evaluate("() => document.documentElement.outerHTML").encode()
        findings.check(page, body, f"alice {lang} apply step {n} {name}")
        page.screenshot(path=str(shots / f"{n:02d}-{name}.png"), full_page=True)

    page.goto(f"{base}/apply?lang={lang}")
    step(1, "apply-start")
    field("Matter").select_option("visa_extension")
    page.get_by_role("button", name=tr("Continue"), exact=True).click()
    page.wait_for_url(re.compile(r"matter=visa_extension"))
    step(2, "apply-questions")
    field("Office").select_option(index=1)
    field("Category of the visa held").select_option("L")
    field("Entries of the visa").select_option("single")
    field("Duration of stay stated on the visa (days)").fill("30")
    field("Date of this entry into China").fill((TODAY - dt.timedelta(days=10)).isoformat())
    field("Extension requested (days)").fill("30")
    page.get_by_role("button", name=tr("Check and continue"), exact=True).click()
    page.wait_for_url(re.compile(r"step=check"))
    step(3, "apply-checklist-and-uploads")
    field("Extension requested (days)").fill("9999")
    page.get_by_role("button", name=tr("Check and continue"), exact=True).click()
    page.wait_for_url(re.compile(r"step=check"))
    step(4, "apply-error")
    page.go_back()  # the checklist and the upload form again; a file that is no PDF is sent as the passport
    page.wait_for_url(re.compile(r"step=check"))
    page.locator("form[method=post] input[type=file]").first.set_input_files(
        {"name": "passport.pdf", "mimeType": "application/pdf", "buffer": b"not a PDF"}
    )
    with page.expect_navigation() as nav:
        page.get_by_role("button", name=tr("Submit the application"), exact=True).click()
    if not 400 <= nav.value.status < 500:  # 415: not a file of an accepted type
        findings.add("error path", f"alice {lang} POST /apply", f"answered {nav.value.status}, not 4xx")
    focused = page.evaluate("() => document.activeElement && document.activeElement.id")
    if focused != "error-summary":
        findings.add("error path", f"alice {lang} POST /apply", f"focus on {focused!r}, not on the summary")
    findings.routes.add("POST /apply")
    step(5, "apply-upload-error")


def _check_page(browser: Browser, base: str, case_id: int) -> str:
    """The path of the public check of the case's one-time notice, as the server (its secret) makes it."""
    context = browser.new_context()
    r = context.request.post(
        f"{base}/api/v1/auth/signin", data={"username": "sh01.officer", "password": PASSWORDS["sh01.officer"]}
    )
    assert r.ok, r.text()
    case = context.request.get(f"{base}/api/v1/office/cases/{case_id}").json()
    context.close()
    return urlsplit(case["documents"]["notices"][0]["check_url"]).path


def _context_page(browser: Browser, base: str, username: str | None) -> Page:
    context = browser.new_context(viewport=PHONE, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    if username is not None:
        r = context.request.post(
            f"{base}/api/v1/auth/signin", data={"username": username, "password": PASSWORDS[username]}
        )
        assert r.ok, r.text()
    return context.new_page()


# The markup of a page does not depend on the engine (test_every_page.py crawls every role's pages on both, and
# the storage tests run on both): the accessibility crawl, ≈ 200 page loads with two axe runs each, runs on one.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.timeout(1800)  # minutes on a loaded two-core machine
def test_every_page_on_a_phone_and_a_desktop(server: str, deficient_case: int, lang: str) -> None:
    findings = Findings()
    started = time.monotonic()
    reached: dict[str, int] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            check = _check_page(browser, server, deficient_case)  # reached from the QR code, not a link
            for username in [None, *ONE_PER_ROLE]:
                who = username or "public"
                page = _context_page(browser, server, username)
                also = (check,) if username is None else ()
                reached[f"{who} {lang}"] = crawl(page, server, lang, who, findings, also)
                if username == "alice":
                    apply_flow(page, server, lang, findings)
                page.context.close()
        finally:
            browser.close()
    took = time.monotonic() - started
    print(f"accessibility crawl: {findings.pages} page loads in {took:.0f} s; pages per role: {reached}")
    print(
        f"of which axe: {findings.seconds['axe']:.0f} s; {findings.same} pages as another role's, not again"
    )
    print(findings.summary())
    assert all(n > 1 for n in reached.values()), reached
    unreached = sorted(PAGE_ROUTES - findings.routes)
    posted = {r.removeprefix("POST ") for r in findings.routes if r.startswith("POST ")}
    print(f"pages no role reached: {unreached}; error paths not sent: {sorted(ERROR_PATHS - posted)}")
    assert not findings.by_kind, findings.summary()
    assert not unreached, f"pages no role reached: {unreached}"
    assert posted == ERROR_PATHS | {"/apply"}, f"error paths not sent: {sorted(ERROR_PATHS - posted)}"
