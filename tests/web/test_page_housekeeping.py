"""Issue 15 items 4, 6 and 7: switching language keeps the user's work; error pages keep who is signed in;
compressed pages, cached static files and page titles with the service's name."""

from __future__ import annotations

import html as htmllib
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from test_applicant import office_id, person, signed_in
from web_support import Web


def _lang_link(text: str, lang: str) -> dict[str, str]:
    """The query of the language link to ``lang`` on a page."""
    m = re.search(r'<a href="([^"]*)" lang="' + ("zh-CN" if lang == "zh_CN" else "en") + '"', text)
    assert m, "no language link"
    url = urlsplit(htmllib.unescape(m.group(1)))
    return {"path": url.path, **dict(parse_qsl(url.query))}


# ------------------------------------------------------------------------------------------------ item 4


def test_the_language_link_keeps_the_answers_of_what_do_i_need(web: Web) -> None:
    q = {"check": "1", "visa.category": "L", "visa.stay_days": "30", "entry_date": "2025-11-01"}
    r = web.new_client().get("/what-do-i-need/visa_extension", params={**q, "lang": "en"})
    assert r.status_code == 200
    link = _lang_link(r.text, "zh_CN")
    assert link == {"path": "/what-do-i-need/visa_extension", **q, "lang": "zh_CN"}
    again = web.new_client().get(link["path"], params={k: v for k, v in link.items() if k != "path"})
    assert 'value="30"' in again.text and '<html lang="zh-CN">' in again.text


def test_the_language_link_keeps_search_results(web: Web) -> None:
    c, _csrf = signed_in(web, "sh01.officer")
    r = c.get("/office/search", params={"q": "Alice", "lang": "zh_CN"})
    assert _lang_link(r.text, "en") == {"path": "/office/search", "q": "Alice", "lang": "en"}


def test_a_refused_application_keeps_its_answers_in_the_language_link_but_no_secret(web: Web) -> None:
    c, csrf = signed_in(web, "alice")
    answers = {
        "person": str(person(web, 1)),
        "matter": "visa_extension",
        "office": str(office_id(web)),
        "visa.category": "L",
        "visa.stay_days": "30",
        "entry_date": "2025-11-01",
        "requested.extension_days": "20",
    }
    form = c.get("/apply", params={**answers, "step": "check"})
    key = form.text.split('name="key" value="')[1].split('"')[0]
    bad = c.post(
        "/apply",
        data={**answers, "entry_date": "not a date", "csrf": csrf, "key": key},
        params={"lang": "en"},
    )
    assert bad.status_code == 422
    link = _lang_link(bad.text, "zh_CN")
    assert link["path"] == "/apply" and link["visa.stay_days"] == "30" and link["entry_date"] == "not a date"
    assert link["key"] == key and "csrf" not in link  # the files kept under the form's key stay with it
    again = c.get("/apply", params={k: v for k, v in link.items() if k != "path"})
    assert 'value="not a date"' in again.text and "<title>错误：" in again.text


def test_the_language_link_never_carries_a_passport_number(web: Web) -> None:
    r = web.new_client().get("/progress", params={"number": "X", "passport": "E12345678"})
    link = _lang_link(r.text, "zh_CN")
    assert "passport" not in link and link["number"] == "X"


# ------------------------------------------------------------------------------------------------ item 6


def test_error_pages_show_the_signed_in_header(web: Web) -> None:
    c, _csrf = signed_in(web, "alice")
    for url, status in (("/office/queue", 403), ("/my/cases/999999", 404), ("/no/such/page", 404)):
        r = c.get(url, params={"lang": "en"})
        assert r.status_code == status, (url, r.status_code)
        header = r.text.split("</header>")[0]
        assert 'href="/my/cases"' in header and "Sign out" in header, url
        assert 'href="/signin"' not in header
        assert re.search(r'name="csrf" value="[^"]+"', header)  # the sign-out form works from the error page
    anonymous = web.new_client().get("/no/such/page")
    assert 'href="/signin"' in anonymous.text.split("</header>")[0]


# ------------------------------------------------------------------------------------------------ item 7


def test_pages_are_compressed(web: Web) -> None:
    c = web.new_client()
    r = c.get("/what-do-i-need", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers.get("content-encoding") == "gzip"
    plain = c.get("/what-do-i-need", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == r.text


def test_static_files_are_cached(web: Web) -> None:
    from cnvisa.web.templating import STATIC_VERSION  # the fingerprint the templates put in static addresses

    c = web.new_client()
    page = c.get("/")
    assert f'href="/static/style.css?v={STATIC_VERSION}"' in page.text
    r = c.get(f"/static/style.css?v={STATIC_VERSION}")
    assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=31536000, immutable"
    bare = c.get("/static/style.css")
    assert bare.headers["cache-control"] == "public, max-age=3600" and bare.headers.get("etag")
    assert c.get("/static/style.css", headers={"If-None-Match": bare.headers["etag"]}).status_code == 304


def _title(r: Any) -> str:
    m = re.search(r"<title>(.*?)</title>", r.text, re.S)
    assert m
    return m.group(1)


def test_titles_carry_the_service_name(web: Web) -> None:
    c = web.new_client()
    assert _title(c.get("/signin", params={"lang": "en"})) == "Sign in — China Visa Service Platform"
    assert _title(c.get("/", params={"lang": "en"})) == "China Visa Service Platform"
    assert _title(c.get("/progress", params={"lang": "zh_CN"})).endswith(" — 中国签证证件服务平台")
    assert _title(c.get("/no/such/page", params={"lang": "en"})).endswith(" — China Visa Service Platform")
