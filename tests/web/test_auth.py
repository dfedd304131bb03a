"""Sign-in, sessions, CSRF, lockout, languages (issue 4, Accounts and roles)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from fastapi.testclient import TestClient
from web_support import PASSWORDS, Web

from cnvisa.http import security
from cnvisa.http.i18n import gettext
from cnvisa.http.settings import Settings
from cnvisa.web.templating import TEMPLATES


def test_signin_cookie_is_httponly_samesite_and_me_works(web: Web) -> None:
    r = web.client.post("/api/v1/auth/signin", json={"username": "alice", "password": PASSWORDS["alice"]})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    me = web.client.get("/api/v1/auth/me").json()
    assert me["username"] == "alice" and me["role"] == "applicant" and me["person_id"] is not None


def test_wrong_password_is_a_problem_and_lockout_follows(web: Web) -> None:
    for _ in range(5):
        r = web.client.post("/api/v1/auth/signin", json={"username": "bob", "password": "nope"})
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    r = web.client.post("/api/v1/auth/signin", json={"username": "bob", "password": PASSWORDS["bob"]})
    assert r.status_code == 429 and r.json()["code"] == "locked_out"
    web.clock.advance(minutes=16)  # the lockout window has passed
    assert (
        web.client.post(
            "/api/v1/auth/signin", json={"username": "bob", "password": PASSWORDS["bob"]}
        ).status_code
        == 200
    )


def test_signout_needs_csrf(web: Web) -> None:
    csrf = web.signin("alice")
    assert web.client.post("/api/v1/auth/signout").status_code == 403
    # a non-ASCII token in a form is simply wrong (403), never a server error
    assert web.client.post("/api/v1/auth/signout", data={"csrf": "令牌"}).status_code == 403
    assert web.client.post("/api/v1/auth/signout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert web.client.get("/api/v1/auth/me").status_code == 401


def test_pages_in_both_languages_and_the_choice_is_remembered(web: Web) -> None:
    zh = web.client.get("/?lang=zh_CN")
    assert zh.status_code == 200 and 'lang="zh-CN"' in zh.text and "lang=zh_CN" in zh.headers["set-cookie"]
    assert 'lang="zh-CN"' in web.client.get("/").text  # remembered by cookie
    assert 'lang="en"' in web.client.get("/?lang=en").text


def page_signin(client: TestClient, username: str, password: str) -> Any:
    """Sign in through the page: the form's CSRF token (and its cookie) come from GET /signin."""
    form = client.get("/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert form.status_code == 200 and token, form.text[:300]
    return client.post("/signin", data={"username": username, "password": password, "csrf": token[1]})


def test_signin_page_redirects_by_role(web: Web) -> None:
    r = page_signin(web.client, "sh01.officer", PASSWORDS["sh01.officer"])
    assert r.status_code == 303 and r.headers["location"] == "/office/queue"
    bad = page_signin(web.new_client(), "sh01.officer", "wrong")
    assert bad.status_code == 401 and 'role="alert"' in bad.text


def test_the_signin_form_has_its_own_csrf_token(web: Web) -> None:
    """No session yet: the token is double-submitted (cookie and form); without it, or with another's, the
    form is refused and no session is opened (login CSRF)."""
    body = {"username": "alice", "password": PASSWORDS["alice"]}
    bare = web.new_client().post("/signin", data=body)
    assert bare.status_code == 403 and 'role="alert"' in bare.text
    assert security.COOKIE not in bare.headers.get("set-cookie", "")
    mine, theirs = web.new_client(), web.new_client()
    mine.get("/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', theirs.get("/signin").text)
    assert token
    forged = mine.post("/signin", data={**body, "csrf": token[1]})
    assert forged.status_code == 403 and security.COOKIE not in forged.headers.get("set-cookie", "")
    assert page_signin(mine, "alice", PASSWORDS["alice"]).status_code == 303


def test_every_post_form_carries_the_csrf_token() -> None:
    """Every form that changes something (method post) in every template sends the CSRF token."""
    forms = 0
    for tpl in sorted(TEMPLATES.rglob("*.html")):
        for form in re.findall(r"<form\b[^>]*>.*?</form>", tpl.read_text(encoding="utf-8"), flags=re.S):
            if 'method="post"' in form:
                forms += 1
                assert 'name="csrf"' in form or "{{ hidden() }}" in form, (tpl.name, form[:120])
    assert forms >= 20


def test_session_cookie_is_secure_over_https_only(web: Web) -> None:
    body = {"username": "alice", "password": PASSWORDS["alice"]}
    plain = web.new_client().post("/api/v1/auth/signin", json=body)
    assert plain.status_code == 200 and "secure" not in plain.headers["set-cookie"].lower()
    tls = TestClient(web.client.app, base_url="https://testserver", follow_redirects=False)
    tls.portal = web.client.portal  # type: ignore[attr-defined]
    r = tls.post("/api/v1/auth/signin", json=body)
    cookie = r.headers["set-cookie"].lower()
    assert r.status_code == 200 and "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" in tls.get("/?lang=zh_CN").headers["set-cookie"].lower()  # the language cookie too


def test_signin_attempts_are_rate_limited_per_address(web: Web) -> None:
    """Guessing across many user names from one address is slowed down (the lockout is per user name)."""
    platform = web.client.app.state.platform  # type: ignore[attr-defined]
    web.client.app.state.platform = dataclasses.replace(  # type: ignore[attr-defined]
        platform, settings=dataclasses.replace(platform.settings, signin_per_minute_per_ip=3)
    )
    for name in ("nobody1", "nobody2", "nobody3"):
        assert (
            web.client.post("/api/v1/auth/signin", json={"username": name, "password": "x"}).status_code
            == 401
        )
    r = web.client.post("/api/v1/auth/signin", json={"username": "alice", "password": PASSWORDS["alice"]})
    assert r.status_code == 429 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
    page = page_signin(web.client, "alice", PASSWORDS["alice"])
    assert page.status_code == 429 and 'role="alert"' in page.text
    web.clock.advance(seconds=61)
    r = web.client.post("/api/v1/auth/signin", json={"username": "alice", "password": PASSWORDS["alice"]})
    assert r.status_code == 200
    assert Settings().signin_per_minute_per_ip == 30  # the default


def test_error_pages_speak_the_readers_language(web: Web) -> None:
    web.signin("sh01.officer")
    zh = web.client.get("/my/cases?lang=zh_CN")
    title = gettext("zh_CN", "Forbidden")
    service = gettext("zh_CN", "China Visa Service Platform")
    assert (
        zh.status_code == 403
        and f"<title>{title} — {service}</title>" in zh.text
        and f"<h1>{title}</h1>" in zh.text
    )
    assert gettext("zh_CN", "Your account may not see or do this.") in zh.text
    assert "role officer may not do this" in zh.text  # the technical detail follows, marked as English
    en = web.client.get("/my/cases?lang=en")
    assert en.status_code == 403 and "Your account may not see or do this." in en.text
    missing = web.client.get("/office/cases/999999999?lang=zh_CN")
    assert missing.status_code == 404
    assert gettext("zh_CN", "This page or record does not exist, or it is not yours to see.") in missing.text
    unknown = web.client.get("/no/such/page?lang=zh_CN")
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("text/html")
    assert f"<h1>{gettext('zh_CN', 'Not Found')}</h1>" in unknown.text
    api = web.client.get("/api/v1/no/such/thing")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/problem+json")
