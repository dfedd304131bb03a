"""Bearer tokens that expire, can be revoked (page, API, command line), record their last use and stay dead when
their account is switched back on (issue 13, defect 3); the public lookups limited per address, counted in the
database across workers (defect 10). Both engines."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner
from web_support import PASSWORDS, Web

from cnvisa.app import create_app
from cnvisa.cli import app as cli
from cnvisa.http import security
from cnvisa.http.settings import Settings
from cnvisa.store.tables import Account, AuditEvent, Case, TravelDocument


def _sync(web: Web) -> Any:
    return create_engine(web.db_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg"))


def _audited(web: Web, action: str) -> list[dict[str, Any]]:
    engine = _sync(web)
    with engine.connect() as conn:
        rows = conn.execute(select(AuditEvent.detail).where(AuditEvent.action == action)).scalars().all()
    engine.dispose()
    return list(rows)


def _sql(web: Web, statement: str, **params: Any) -> None:
    engine = _sync(web)
    with engine.begin() as conn:
        conn.execute(text(statement), params)
    engine.dispose()


def _new_token(web: Web, label: str = "core banking") -> tuple[str, dict[str, Any], str]:
    csrf = web.signin("bank.teller")
    r = web.client.post("/api/v1/verify/tokens", json={"label": label}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    body = r.json()
    return body["token"], body, csrf


def _bearer(web: Web, token: str) -> int:
    anonymous = web.new_client()
    return anonymous.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


def _cli(web: Web, *args: str) -> Any:
    # the platform's clock, as ``cnvisa serve`` would share it
    env = {"CNVISA_CLOCK_START": web.clock.now().isoformat()}
    return CliRunner().invoke(cli, [*args, "--database-url", web.db_url], env=env)


# --- defect 3: bearer tokens ----------------------------------------------------------------------------------


def test_a_token_expires_after_the_configured_days(web: Web) -> None:
    token, body, _ = _new_token(web)
    created = web.clock.now()
    assert dt.datetime.fromisoformat(body["expires_at"]) == created + dt.timedelta(days=90)
    assert Settings().api_token_days == 90
    assert _bearer(web, token) == 200
    web.clock.advance(days=90, seconds=-1)
    assert _bearer(web, token) == 200
    web.clock.advance(seconds=1)
    r = web.new_client().get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json()["code"] == "bad_token"


def test_a_token_is_revoked_through_the_api_and_audited(web: Web) -> None:
    token, body, csrf = _new_token(web)
    listed = web.client.get("/api/v1/verify/tokens").json()
    assert [(t["id"], t["state"]) for t in listed] == [(body["id"], "active")] and "token" not in listed[0]
    assert web.client.delete(f"/api/v1/verify/tokens/{body['id']}").status_code == 403  # no CSRF token
    r = web.client.delete(f"/api/v1/verify/tokens/{body['id']}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    assert _bearer(web, token) == 401
    assert web.client.get("/api/v1/verify/tokens").json()[0]["state"] == "revoked"
    assert [d["token_id"] for d in _audited(web, "revoke_api_token")] == [body["id"]]
    assert [d["token_id"] for d in _audited(web, "issue_api_token")] == [body["id"]]
    # someone else's token, or none: not found, and nothing revoked
    alice_token = web.client.portal.call(_issue_for, web, "alice")  # type: ignore[attr-defined]
    r = web.client.delete(f"/api/v1/verify/tokens/{alice_token}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert (
        web.client.delete("/api/v1/verify/tokens/999999", headers={"X-CSRF-Token": csrf}).status_code == 404
    )
    assert len(_audited(web, "revoke_api_token")) == 1


async def _issue_for(web: Web, username: str) -> int:
    platform = web.client.app.state.platform  # type: ignore[attr-defined]
    async with platform.sessions() as s, s.begin():
        account_id = (await s.execute(select(Account.id).where(Account.username == username))).scalar_one()
        _token, row = await security.issue_api_token(s, account_id, "other", platform.now(), 90)
    return int(row.id)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_token_is_revoked_from_the_verifiers_page(web: Web, lang: str) -> None:
    csrf = web.signin("bank.teller")
    page = web.client.get(f"/verify?lang={lang}")
    assert 'href="/verify/tokens"' in page.text
    r = web.client.post(f"/verify/tokens?lang={lang}", data={"label": "branch kiosk", "csrf": csrf})
    assert r.status_code == 200 and 'id="new-token"' in r.text
    token = r.text.split('id="new-token" readonly size="60" value="')[1].split('"')[0]
    assert _bearer(web, token) == 200
    listed = web.client.get("/api/v1/verify/tokens").json()
    page = web.client.get(f"/verify/tokens?lang={lang}")
    assert "branch kiosk" in page.text and f'action="/verify/tokens/{listed[0]["id"]}/revoke"' in page.text
    assert ("吊销" if lang == "zh_CN" else "Revoke") in page.text
    r = web.client.post(f"/verify/tokens/{listed[0]['id']}/revoke?lang={lang}", data={"csrf": csrf})
    assert r.status_code == 200 and ("已吊销" if lang == "zh_CN" else "is revoked") in r.text
    assert _bearer(web, token) == 401
    assert f'action="/verify/tokens/{listed[0]["id"]}/revoke"' not in r.text


def test_last_use_is_recorded_at_most_once_a_minute(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    token, _body, _ = _new_token(web)
    writes = []
    real = security.touch_api_token

    async def counting(*args: Any) -> None:
        writes.append(args)
        await real(*args)

    monkeypatch.setattr(security, "touch_api_token", counting)
    t0 = web.clock.now()
    for _ in range(5):
        assert _bearer(web, token) == 200
    assert len(writes) == 1
    last = web.client.get("/api/v1/verify/tokens").json()[0]["last_used_at"]
    assert dt.datetime.fromisoformat(last) == t0
    web.clock.advance(seconds=59)
    assert _bearer(web, token) == 200 and len(writes) == 1
    web.clock.advance(seconds=1)
    assert _bearer(web, token) == 200 and len(writes) == 2
    last = web.client.get("/api/v1/verify/tokens").json()[0]["last_used_at"]
    assert dt.datetime.fromisoformat(last) == t0 + dt.timedelta(seconds=60)


def test_reactivating_an_account_does_not_revive_its_tokens_or_sessions(web: Web) -> None:
    token, _body, _ = _new_token(web)
    session = web.client.cookies.get(security.COOKIE)
    r = _cli(web, "accounts", "deactivate", "bank.teller")
    assert r.exit_code == 0, r.output
    assert _bearer(web, token) == 401 and web.client.get("/api/v1/auth/me").status_code == 401
    r = _cli(web, "accounts", "activate", "bank.teller")
    assert r.exit_code == 0, r.output
    assert _bearer(web, token) == 401
    old_session = web.new_client()
    old_session.cookies.set(security.COOKIE, session or "")
    assert old_session.get("/api/v1/auth/me").status_code == 401
    assert {d["username"] for d in _audited(web, "deactivate_account")} == {"bank.teller"}
    assert len(_audited(web, "activate_account")) == 1
    web.signin("bank.teller")  # new sign-ins work


def test_switched_off_in_the_database_then_back_on_the_token_stays_dead(web: Web) -> None:
    """Switched off behind the platform's back (no revocation ran): switching back on still kills the tokens
    issued before."""
    token, _body, _ = _new_token(web)
    _sql(web, "UPDATE accounts SET active = :f WHERE username = 'bank.teller'", f=False)
    assert _bearer(web, token) == 401
    web.clock.advance(seconds=1)
    assert _cli(web, "accounts", "activate", "bank.teller").exit_code == 0
    assert _bearer(web, token) == 401


def test_tokens_are_listed_and_revoked_from_the_command_line(web: Web) -> None:
    token, body, _ = _new_token(web, "teller desk")
    r = _cli(web, "tokens", "list", "--user", "bank.teller")
    assert r.exit_code == 0 and f"{body['id']}\tbank.teller\tteller desk\tactive" in r.output
    assert token not in r.output
    assert _cli(web, "tokens", "list", "--user", "nobody").exit_code == 2
    assert _cli(web, "tokens", "revoke", "999999").exit_code == 2
    r = _cli(web, "tokens", "revoke", str(body["id"]))
    assert r.exit_code == 0, r.output
    assert _bearer(web, token) == 401
    assert [d["token_id"] for d in _audited(web, "revoke_api_token")] == [body["id"]]


# --- defect 10: the public lookups are limited per address ----------------------------------------------------


def _limit(web: Web, n: int) -> None:
    platform = web.client.app.state.platform  # type: ignore[attr-defined]
    web.client.app.state.platform = dataclasses.replace(  # type: ignore[attr-defined]
        platform, settings=dataclasses.replace(platform.settings, public_lookups_per_minute_per_ip=n)
    )


def _a_case(web: Web) -> tuple[str, str]:
    engine = _sync(web)
    with engine.connect() as conn:
        row = conn.execute(
            select(Case.number, TravelDocument.number)
            .join(TravelDocument, TravelDocument.person_id == Case.person_id)
            .where(Case.state == "accepted")
            .limit(1)
        ).one()
    engine.dispose()
    return row[0], row[1]


def test_wrong_guesses_of_the_progress_inquiry_are_limited_per_address(web: Web) -> None:
    assert Settings().public_lookups_per_minute_per_ip == 30
    number, passport = _a_case(web)
    answers = [
        web.client.get("/api/v1/progress", params={"number": number, "passport": f"G{i:07d}"}).status_code
        for i in range(40)
    ]
    assert answers == [404] * 30 + [429] * 10
    r = web.client.get("/api/v1/progress", params={"number": number, "passport": passport})
    assert r.status_code == 429 and r.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(r.headers["retry-after"]) <= 61 and r.json()["code"] == "rate_limited"
    page = web.client.get("/progress", params={"number": number, "passport": passport, "lang": "zh_CN"})
    assert page.status_code == 429 and "text/html" in page.headers["content-type"]
    assert "请稍候" in page.text or "稍后" in page.text, page.text[:2000]
    assert int(page.headers["retry-after"]) >= 1
    web.clock.advance(seconds=61)
    assert (
        web.client.get("/api/v1/progress", params={"number": number, "passport": passport}).status_code == 200
    )


def test_the_post_inquiry_pages_and_clients_make_now_is_limited_alike(web: Web) -> None:
    """The POST inquiry (the numbers in the body: the page's form and the API) shares the address's count with
    the deprecated GET, and is refused alike past it (closing review of issue 13 §10)."""
    number, passport = _a_case(web)
    _limit(web, 6)
    api = [
        web.client.post("/api/v1/progress", json={"number": number, "passport": f"G{i:07d}"}).status_code
        for i in range(4)
    ]
    old = web.client.get("/api/v1/progress", params={"number": number, "passport": "G9999999"}).status_code
    page = web.client.post("/progress", data={"number": number, "passport": "G8888888", "lang": "en"})
    assert api == [404] * 4 and old == 404 and page.status_code in (200, 404)
    over = web.client.post("/api/v1/progress", json={"number": number, "passport": passport})
    assert over.status_code == 429 and over.headers["content-type"].startswith("application/problem+json")
    assert int(over.headers["retry-after"]) >= 1 and over.json()["code"] == "rate_limited"
    form = web.client.post("/progress?lang=en", data={"number": number, "passport": passport})
    assert form.status_code == 429 and "text/html" in form.headers["content-type"]
    web.clock.advance(seconds=61)
    assert (
        web.client.post("/api/v1/progress", json={"number": number, "passport": passport}).status_code == 200
    )


def test_the_count_is_shared_by_every_worker(web: Web) -> None:
    """Two applications over one database (two workers): one address's lookups are counted together."""
    number, _passport = _a_case(web)
    _limit(web, 4)
    other = create_app(
        dataclasses.replace(web.client.app.state.platform.settings),  # type: ignore[attr-defined]
        clock=web.clock,
    )
    with TestClient(other) as second:
        statuses = []
        for i in range(6):
            c = web.client if i % 2 else second
            statuses.append(c.get("/api/v1/progress", params={"number": number, "passport": f"G{i:07d}"}))
    assert [r.status_code for r in statuses] == [404] * 4 + [429] * 2


def test_the_document_check_is_limited_per_address(web: Web) -> None:
    _limit(web, 3)
    for i in range(3):
        assert web.client.get(f"/api/v1/public/check/receipt/WRONG{i:04d}").status_code == 404
    r = web.client.get("/api/v1/public/check/receipt/WRONG9999")
    assert r.status_code == 429 and r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["retry-after"]) >= 1
    page = web.client.get("/check/receipt/WRONG9999?lang=en")
    assert page.status_code == 429 and "Too many attempts" in page.text and page.headers["retry-after"]
    # another address is not held back
    other = TestClient(web.client.app, client=("192.0.2.77", 5000))
    other.portal = web.client.portal  # type: ignore[attr-defined]
    assert other.get("/api/v1/public/check/receipt/WRONG0001").status_code == 404
    assert PASSWORDS  # the sign-ins are not limited by the lookups
    web.signin("alice")
