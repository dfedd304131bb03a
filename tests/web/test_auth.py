"""Sign-in, sessions, CSRF, lockout, languages (issue 4, Accounts and roles)."""

from __future__ import annotations

from web_support import PASSWORDS, Web


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


def test_signin_page_redirects_by_role(web: Web) -> None:
    r = web.client.post("/signin", data={"username": "sh01.officer", "password": PASSWORDS["sh01.officer"]})
    assert r.status_code == 303 and r.headers["location"] == "/office/queue"
    bad = web.new_client().post("/signin", data={"username": "sh01.officer", "password": "wrong"})
    assert bad.status_code == 401 and 'role="alert"' in bad.text
