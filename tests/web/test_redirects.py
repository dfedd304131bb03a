"""Redirects go only to this site, and never break on the text they carry (issue 13, defects 1 and 9; ASVS 4.0
V5.1.5): a ``next`` target is parsed, not pattern-matched; Location headers are percent-encoded."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select
from web_support import PASSWORDS, Web

from cnvisa.store.db import sync_url
from cnvisa.store.tables import WebSession as SessionRow

ORIGIN = "http://testserver"
# What browsers read as another site: backslashes are slashes, TAB/CR/LF inside a URL are dropped.
ELSEWHERE = [
    "/\\evil.example/phish",
    "/\t/evil.example/phish",
    "/\n/evil.example/phish",
    "\\\\evil.example",
    "//evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "evil.example",
    "\x00//evil.example",
    "//[",
]


def browser_target(location: str) -> str:
    """Where a browser goes: WHATWG URL parsing drops TAB/LF/CR and reads backslashes as slashes."""
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    return urljoin(ORIGIN + "/signin", cleaned)


def signin_form(client: TestClient, next_: str = "") -> tuple[str, str]:
    """The sign-in page (with ``next`` in its query); returns its CSRF token and the hidden ``next`` it kept."""
    form = client.get("/signin", params={"next": next_} if next_ else None)
    assert form.status_code == 200, form.text[:300]
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    kept = re.search(r'name="next" value="([^"]*)"', form.text)
    assert token and kept
    return token[1], kept[1]


def sign_in(client: TestClient, next_: str) -> Any:
    token, _ = signin_form(client)
    return client.post(
        "/signin", data={"username": "alice", "password": PASSWORDS["alice"], "csrf": token, "next": next_}
    )


@pytest.mark.parametrize("target", ELSEWHERE)
def test_safe_next_keeps_only_paths_of_this_site(target: str) -> None:
    from cnvisa.http.redirects import safe_next  # (here: the module is new, the page tests run without it)

    assert safe_next(target, "/home") == "/home"


def test_safe_next_keeps_a_path_and_its_query_encoded() -> None:
    from cnvisa.http.redirects import safe_next

    assert safe_next("/my/cases/7?x=1#a") == "/my/cases/7?x=1#a"
    assert safe_next("/中文") == "/%E4%B8%AD%E6%96%87"
    assert safe_next("/a b\r\nSet-Cookie: x=1") == "/a%20bSet-Cookie:%20x=1"


def test_signin_never_sends_the_browser_to_another_site(web: Web) -> None:
    for target in ELSEWHERE:
        client = web.new_client()
        _, kept = signin_form(client, target)
        assert kept == "", (target, kept)
        r = sign_in(client, target)
        assert r.status_code == 303, (target, r.status_code, r.text[:200])
        where = urlsplit(browser_target(r.headers["location"]))
        assert (where.scheme, where.netloc) == ("http", "testserver"), (target, r.headers["location"])
        assert r.headers["location"] == "/my/cases", target


def session_rows(db_url: str) -> int:
    engine = create_engine(sync_url(db_url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(SessionRow)).scalar_one())
    finally:
        engine.dispose()


def test_non_latin_text_and_line_breaks_in_next_are_encoded(web: Web) -> None:
    """Once 500 after the session row was written (``/中文``), and CR/LF dropped the connection."""
    for target, expected in [
        ("/中文", "/%E4%B8%AD%E6%96%87"),
        ("/my/cases?q=\r\nSet-Cookie: a=b", "/my/cases?q=Set-Cookie:%20a=b"),
    ]:
        before = session_rows(web.db_url)
        r = sign_in(web.new_client(), target)
        assert r.status_code == 303, r.text[:300]
        assert r.headers["location"] == expected
        assert "a=b" not in r.headers.get("set-cookie", "").replace("next=", "")
        assert session_rows(web.db_url) == before + 1  # one session, and the answer that goes with it


def test_non_latin_path_of_a_page_gives_a_page_not_500(web: Web) -> None:
    r = web.new_client().get("/my/cases/%E4%B8%AD")
    assert r.status_code == 303, r.text[:300]
    assert r.headers["location"] == "/signin?next=%2Fmy%2Fcases%2F%E4%B8%AD"
    client = web.new_client()
    assert sign_in(client, "").status_code == 303
    r = client.get("/my/cases/%E4%B8%AD")
    assert r.status_code in (404, 422) and "text/html" in r.headers["content-type"], r.status_code
    # and the sign-in page keeps the (encoded) target: signing in from it lands there
    client = web.new_client()
    token, kept = signin_form(client, "/my/cases/中")
    assert kept == "/my/cases/%E4%B8%AD"
    form = {"username": "alice", "password": PASSWORDS["alice"], "csrf": token, "next": kept}
    assert client.post("/signin", data=form).headers["location"] == "/my/cases/%E4%B8%AD"
