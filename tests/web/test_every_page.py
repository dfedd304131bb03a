"""Every page a demo role can reach by following links answers, in both languages: no 404, no 5xx, no blank
page (issue 8: "every page listed in the README visited as each demo role"). The crawl starts at the home
page and follows every same-site link a page shows to that role (GET only: nothing is changed)."""

from __future__ import annotations

import re
from collections import deque

from fastapi.testclient import TestClient
from web_support import Web, page_shape, site_links

from cnvisa.demo import DEMO
from cnvisa.demo.joint_story import DESK, FOREIGNERS

_LINK = re.compile(r"""<(?:a|link)\b[^>]*\bhref\s*=\s*["']([^"']+)["']""", re.I)
_MAIN_TEXT = re.compile(r"<main\b[^>]*>(.*?)</main>", re.S | re.I)
_TAGS = re.compile(r"<[^>]+>")
MAX_PAGES = 150  # per role and language


def _crawl(client: TestClient, start: str, shapes: set[str]) -> dict[str, int]:
    """Visit from ``start``; a kind of page already in ``shapes`` is not visited again."""
    seen: dict[str, int] = {}
    todo = deque([start])
    while todo and len(seen) < MAX_PAGES:
        url = todo.popleft()
        if url in seen or page_shape(url) in shapes:
            continue
        shapes.add(page_shape(url))
        r = client.get(url)
        seen[url] = r.status_code
        assert r.status_code != 404 and r.status_code < 500, f"{url} answered {r.status_code}"
        kind = r.headers.get("content-type", "")
        if r.status_code == 200 and kind.startswith("text/html"):
            main = _MAIN_TEXT.search(r.text)
            assert main is not None, f"{url}: no <main>"
            assert _TAGS.sub("", main.group(1)).strip(), f"{url}: a blank page"
            todo.extend(link for link in site_links(_LINK.findall(r.text)) if link not in seen)
        elif r.status_code == 200 and kind.startswith("application/pdf"):
            assert r.content.startswith(b"%PDF"), url
    return seen


def test_every_linked_page_answers_for_every_demo_role(web: Web) -> None:
    """One seeded platform, every role in turn, in both languages. A PDF is rendered once per role (the
    documents' two languages are tested in test_pdf.py): rendering is most of a crawl's time."""
    # and the joint story's sign-ins: the work-permit desk, a foreigner
    for username in [None, *(d.username for d in DEMO), DESK[0][0], FOREIGNERS[0][0]]:
        who = username or "the public"
        client = web.new_client()
        if username is not None:
            web.signin(username, client)
        pdfs: set[str] = set()
        for lang in ("zh_CN", "en"):
            shapes = set(pdfs)
            seen = _crawl(client, f"/?lang={lang}", shapes)
            pdfs |= {s for s in shapes if s.endswith(".pdf")}
            assert len(seen) > 1, f"{who} reaches no page from the home page ({lang})"
            refused = {url: code for url, code in seen.items() if code in (401, 403)}
            assert not refused, f"pages shown to {who} but refused to them ({lang}): {refused}"
