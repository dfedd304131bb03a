"""The authorisation matrix (issue 4): every role × every resource, read and write, allowed or refused as
designed — no cross-office, cross-applicant or cross-organisation leak. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from test_office import apply
from web_support import PASSWORDS, Web

ROLES = [
    "anonymous",
    "alice",
    "bob",
    "carol",
    "sh01.officer",
    "sh01.supervisor",
    "bj01.officer",
    "employer.hr",
    "university.office",
    "bank.teller",
    "admin",
]
ALLOWED = 200


def _client(web: Web, who: str) -> tuple[object, str | None]:
    c = web.new_client()
    if who == "anonymous":
        return c, None
    r = c.post("/api/v1/auth/signin", json={"username": who, "password": PASSWORDS[who]})
    assert r.status_code == 200, (who, r.text)
    return c, str(r.json()["csrf"])


def _reads(case_id: int) -> dict[str, set[str]]:
    """resource → the roles allowed to read it (everyone else is refused)."""
    applicant_side = {"alice"}  # alice's own case; carol's mandate is for person 3, bob has none
    office = {"sh01.officer", "sh01.supervisor"}
    return {
        "/api/v1/cases": {"alice", "bob", "carol"},
        f"/api/v1/cases/{case_id}": applicant_side,
        "/api/v1/me/documents": {"alice", "bob", "carol"},
        "/api/v1/me/checks": {"alice", "bob", "carol"},
        "/api/v1/office/queue": office | {"bj01.officer"},
        f"/api/v1/office/cases/{case_id}": office,
        "/api/v1/office/reports": office | {"bj01.officer"},
        "/api/v1/org/people": {"employer.hr", "university.office"},
        "/api/v1/org/reports": {"employer.hr", "university.office"},
        f"/cases/{case_id}/receipt.pdf": set(),  # not accepted yet: no receipt for anyone
        f"/cases/{case_id}/notice.pdf": set(),  # no notice yet
    }


@pytest.mark.parametrize("who", ROLES)
def test_reads(web: Web, who: str) -> None:
    case_id = apply(web)  # alice's application, in office SH01
    client, _ = _client(web, who)
    for path, allowed in _reads(case_id).items():
        r = client.get(path)  # type: ignore[attr-defined]
        if who in allowed:
            assert r.status_code == ALLOWED, (who, path, r.status_code, r.text[:200])
        else:
            refused = (
                (401, 403, 404, 409) if path.startswith("/api/") else (303, 403, 404, 409)
            )  # 303: to sign-in
            assert r.status_code in refused, (who, path, r.status_code, r.text[:200])
            if path.startswith("/api/"):
                assert r.headers["content-type"].startswith("application/problem+json"), (who, path)


def test_no_leak_in_lists(web: Web) -> None:
    """Lists show only what the reader may see: bj01's queue has no SH01 case; employer staff see no students."""
    case_id = apply(web)
    bj, _ = _client(web, "bj01.officer")
    queue = bj.get("/api/v1/office/queue").json()  # type: ignore[attr-defined]
    rows = queue if isinstance(queue, list) else queue.get("cases", queue.get("items", []))
    assert all(row.get("case_id") != case_id for row in rows)
    hr, _ = _client(web, "employer.hr")
    people = hr.get("/api/v1/org/people").json()  # type: ignore[attr-defined]
    people = people if isinstance(people, list) else people.get("people", [])
    assert people and all(p.get("relation") != "student" for p in people)


@pytest.mark.parametrize("who", ROLES)
def test_writes(web: Web, who: str) -> None:
    """Deciding a case is for its office's staff; an identity check is for verifiers; nothing else writes."""
    case_id = apply(web)
    client, csrf = _client(web, who)
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    version = 1  # a case applied for in one command starts at version 1
    accept = client.post(  # type: ignore[attr-defined]
        f"/api/v1/office/cases/{case_id}/accept",
        json={"version": version, "idempotency_key": uuid.uuid4().hex, "passport_kept": False},
        headers=headers,
    )
    if who in ("sh01.officer", "sh01.supervisor"):
        assert accept.status_code in (200, 409), (
            who,
            accept.text[:200],
        )  # 409: a guard of the law, not access
    else:
        assert accept.status_code in (401, 403, 404), (who, accept.status_code)
    check = client.post(  # type: ignore[attr-defined]
        "/api/v1/verify",
        json={
            "document_number": "J25DEMO0001",
            "name": "X Y",
            "birth_date": "1990-01-01",
            "purpose": "account",
        },
        headers=headers,
    )
    if who == "bank.teller":
        assert check.status_code == 200 and set(check.json()) == {"match", "covered"}
    else:
        assert check.status_code in (401, 403), (who, check.status_code)
