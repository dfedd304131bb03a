"""The administrator's page: accounts, offices and their capacity, mandates, API tokens, and the audit
verification — for the administrator alone, each read and verification itself audited."""

from __future__ import annotations

import re

from sqlalchemy import create_engine, select, update
from test_applicant import signed_in
from test_auth import page_signin
from web_support import PASSWORDS, Web

from cnvisa.store.tables import AuditEvent


def _sync(web: Web):  # type: ignore[no-untyped-def]
    return create_engine(web.db_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg"))


def test_the_administrator_signs_in_to_the_administration(web: Web) -> None:
    r = page_signin(web.new_client(), "admin", PASSWORDS["admin"])
    assert r.status_code == 303 and r.headers["location"] == "/admin"
    c, _csrf = signed_in(web, "admin")
    en = c.get("/admin?lang=en")
    assert en.status_code == 200, en.text
    for heading in ("Accounts", "Offices and their capacity", "Mandates", "API tokens", "Audit verification"):
        assert f">{heading}</h2>" in en.text
    assert (
        "<code>alice</code>" in en.text and "<code>SH01</code>" in en.text and "<code>carol</code>" in en.text
    )
    assert "argon2" not in en.text  # never a password hash
    zh = c.get("/admin?lang=zh_CN")
    assert zh.status_code == 200 and "<h1>系统管理</h1>" in zh.text and "受理机关及其预约容量" in zh.text
    engine = _sync(web)
    with engine.connect() as conn:
        reads = conn.execute(select(AuditEvent.detail).where(AuditEvent.action == "admin_overview")).all()
    engine.dispose()
    assert len(reads) == 2 and reads[0][0]["accounts"] >= 10


def test_only_the_administrator(web: Web) -> None:
    for username in ("alice", "sh01.officer", "sh01.supervisor", "bank.teller", "employer.hr"):
        c, csrf = signed_in(web, username)
        assert c.get("/admin").status_code == 403, username
        assert c.post("/admin/audit/verify", data={"csrf": csrf}).status_code == 403, username
    anonymous = web.new_client()
    r = anonymous.get("/admin")
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")


def test_the_audit_verification_names_the_first_altered_event(web: Web) -> None:
    c, csrf = signed_in(web, "admin")
    assert c.post("/admin/audit/verify", data={}).status_code == 403  # no CSRF token
    ok = c.post("/admin/audit/verify?lang=en", data={"csrf": csrf})
    assert ok.status_code == 200 and "The audit log is intact" in ok.text
    engine = _sync(web)
    with engine.begin() as conn:
        seq = conn.execute(select(AuditEvent.seq).order_by(AuditEvent.seq).limit(1)).scalar_one()
        conn.execute(update(AuditEvent).where(AuditEvent.seq == seq).values(detail={"tampered": True}))
    bad = c.post("/admin/audit/verify?lang=en", data={"csrf": csrf})
    assert bad.status_code == 200 and f"event {seq} is the first that does not match" in bad.text
    with engine.connect() as conn:
        runs = conn.execute(
            select(AuditEvent.detail).where(AuditEvent.action == "audit_verify").order_by(AuditEvent.seq)
        ).all()
    engine.dispose()
    assert [r[0]["ok"] for r in runs] == [True, False] and runs[1][0]["first_bad_seq"] == seq
    assert re.search(r'role="alert"', bad.text)
