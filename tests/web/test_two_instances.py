"""Several app servers, one database (issue 14): sessions, rate limits, idempotency keys and the audit chain live in
the database, so two instances of the platform behave as one — shown here with two applications on the same
database (both engines), as the cluster runs three behind HAProxy."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from test_office import apply, version
from test_tokens_and_lookups import _a_case
from web_support import Web

from cnvisa.app import create_app
from cnvisa.http.settings import Settings
from cnvisa.store.db import make_engine


@contextmanager
def second_instance(web: Web) -> Iterator[TestClient]:
    """Another platform process on the same database, with the same clock; its own pools and memory."""
    app = create_app(Settings(database_url=web.db_url), clock=web.clock)
    with TestClient(app, follow_redirects=False) as other:
        yield other


def _cookies_to(other: TestClient, web: Web) -> None:
    for name, value in web.client.cookies.items():
        other.cookies.set(name, value)


def test_a_session_opened_on_one_instance_works_on_the_other_and_ends_on_both(web: Web) -> None:
    csrf = web.signin("alice")
    with second_instance(web) as b:
        _cookies_to(b, web)
        assert b.get("/api/v1/cases").status_code == 200  # signed in on A, served by B
        assert b.post("/api/v1/auth/signout", headers={"X-CSRF-Token": csrf}).status_code in (200, 204)
        assert web.client.get("/api/v1/cases").status_code == 401  # signed out on B: A knows it too


def test_the_per_address_limit_counts_requests_on_every_instance(web: Web) -> None:
    number, _ = _a_case(web)
    with second_instance(web) as b:
        answers = []
        for i in range(36):
            client = web.client if i % 2 == 0 else b
            r = client.post("/api/v1/progress", json={"number": number, "passport": f"G{i:07d}"})
            answers.append(r.status_code)
        assert answers == [404] * 30 + [429] * 6, answers  # 30 a minute from one address, whichever serves


def test_an_idempotency_key_used_on_one_instance_replays_on_the_other(web: Web) -> None:
    case_id = apply(web)
    csrf = web.signin("sh01.officer")
    v = version(web.client, case_id)
    url = f"/api/v1/office/cases/{case_id}/accept"
    body = {"version": v, "passport_kept": True, "retention_reason": "applicant_request"}
    headers = {"X-CSRF-Token": csrf, "Idempotency-Key": uuid.uuid4().hex}
    first = web.client.post(url, json=body, headers=headers)
    assert first.status_code == 200, first.text
    with second_instance(web) as b:
        _cookies_to(b, web)
        again = b.post(url, json=body, headers=headers)
        assert again.status_code == 200 and again.json() == {**first.json(), "replayed": True}
        other = b.post(url, json={"version": v, "passport_kept": False}, headers=headers)
        assert other.status_code == 422 and other.json()["field"] == "idempotency_key"


def test_the_audit_chain_holds_with_writes_and_reads_from_both_instances(web: Web) -> None:
    from cnvisa.cases import audit

    cases = [apply(web) for _ in range(3)]
    web.signin("sh01.officer")
    with second_instance(web) as b:
        _cookies_to(b, web)
        for i, case_id in enumerate(cases):  # staff reads (audited in groups) alternately on A and B
            for client in (web.client, b) if i % 2 else (b, web.client):
                assert client.get(f"/api/v1/office/cases/{case_id}").status_code == 200

    async def verify() -> audit.VerifyResult:
        engine = make_engine(web.db_url)
        try:
            async with engine.connect() as c:
                from sqlalchemy.ext.asyncio import AsyncSession

                async with AsyncSession(bind=c) as s:
                    return await audit.verify(s)
        finally:
            await engine.dispose()

    result = web.client.portal.call(verify)  # type: ignore[attr-defined]
    assert result.ok, result
