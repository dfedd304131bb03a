"""What the operator watches (issue 14): a request id on every answer, in problem+json and in the audit events
the request writes; Prometheus metrics by route template, for the operator's network only; /healthz and
/readyz; JSON logs naming the request; several workers answering /metrics for all."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from test_office import apply, command
from web_support import ROOT, SERVER_START_SECONDS, Web, _free_port, _up

from cnvisa.app import create_app
from cnvisa.http.logs import uvicorn_config
from cnvisa.http.settings import Settings
from cnvisa.store.db import make_engine
from cnvisa.store.tables import AuditEvent

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        series, value = line.rsplit(" ", 1)
        found = dict(re.findall(r'(\w+)="([^"]*)"', series))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(value)
    return total


@SQLITE
def test_every_answer_names_its_request(web: Web) -> None:
    for path, status in (("/", 200), ("/api/v1/offices", 200), ("/static/style.css", 200), ("/nope", 404)):
        r = web.client.get(path)
        assert r.status_code == status
        assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"]), (path, r.headers)
    a, b = web.client.get("/"), web.client.get("/")
    assert a.headers["x-request-id"] != b.headers["x-request-id"]
    # a proxy's id is kept when it is a plain token; anything that could forge a log line is replaced
    assert web.client.get("/", headers={"X-Request-ID": "haproxy-7f3a.91"}).headers["x-request-id"] == (
        "haproxy-7f3a.91"
    )
    forged = web.client.get("/", headers={"X-Request-ID": 'x" level=error msg=forged'})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["x-request-id"])


@SQLITE
def test_problem_json_carries_the_request_id(web: Web) -> None:
    for r in (
        web.client.get("/api/v1/cases"),  # 401
        web.client.get("/api/v1/progress?number=x"),  # 422
        web.client.delete("/api/v1/offices"),  # 405
    ):
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["request_id"] == r.headers["x-request-id"], r.json()


def test_audit_events_name_the_request_that_wrote_them(web: Web) -> None:
    """A staff read (written in groups by another task) and a command, on both engines."""
    case_id = apply(web)
    csrf = web.signin("sh01.officer")
    read = web.client.get(f"/api/v1/office/cases/{case_id}")
    assert read.status_code == 200
    notice = command(web.client, csrf, case_id, "issue_notice", read.json()["case"]["version"])
    assert notice["status"] in (200, 409), notice

    async def details() -> list[dict[str, object]]:
        engine = make_engine(web.db_url)
        try:
            async with engine.connect() as c:
                rows = await c.execute(sa.select(AuditEvent.action, AuditEvent.detail))
                return [{"action": a, **(d or {})} for a, d in rows]
        finally:
            await engine.dispose()

    events = web.client.portal.call(details)  # type: ignore[attr-defined]
    ids = {e.get("request_id") for e in events}
    assert read.headers["x-request-id"] in ids, events[-5:]
    # events written outside a request (the seeding, the core called directly) name none
    assert any("request_id" not in e for e in events)


@SQLITE
def test_metrics_by_route_template_for_the_operator_only(web: Web, db_url: str) -> None:
    web.signin("alice")
    for _ in range(3):
        web.client.get("/my/cases/987654")  # a number in the path: never a label value
    web.client.get("/no/such/page/12345")
    r = web.client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert _metric(text, "cnvisa_http_responses_total", route="/my/cases/{case_id}", method="GET") >= 3
    assert _metric(text, "cnvisa_http_request_duration_seconds_count", route="/my/cases/{case_id}") >= 3
    assert _metric(text, "cnvisa_http_responses_total", route="unmatched", status="404") >= 1
    # no label carries a path's number (the values may: a timestamp's digits can spell anything)
    labels = [
        ln[ln.index("{") : ln.index("}")] for ln in text.splitlines() if "{" in ln and not ln.startswith("#")
    ]
    assert labels and not [ln for ln in labels if "987654" in ln or "12345" in ln]
    assert "cnvisa_db_pool_connections_in_use" in text and "cnvisa_audit_group_size" in text
    # another network: not found (the figures tell an outsider how busy each office is)
    outside = dataclasses.replace(Settings(database_url=db_url), metrics_allow="10.0.0.0/8")
    with TestClient(create_app(outside)) as c:
        assert c.get("/metrics").status_code == 404
        assert c.get("/healthz").status_code == 200


@SQLITE
def test_health_and_readiness(web: Web, db_url: str) -> None:
    assert web.client.get("/healthz").json() == {"status": "alive"}
    r = web.client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready", r.json()
    assert r.json()["checks"]["schema"]["database"] == r.json()["checks"]["schema"]["code"]

    async def behind() -> None:  # the database a revision the code does not know
        engine = make_engine(web.db_url)
        async with engine.begin() as c:
            await c.execute(sa.text("UPDATE alembic_version SET version_num = 'older'"))
        await engine.dispose()

    web.client.portal.call(behind)  # type: ignore[attr-defined]
    r = web.client.get("/readyz")
    assert r.status_code == 503 and r.headers["retry-after"], r.json()
    assert r.json()["checks"]["schema"] == {
        "ok": False,
        "database": ["older"],
        "code": r.json()["checks"]["schema"]["code"],
    }


def test_json_logs_name_the_request(tmp_path: Path, db_url: str, seeded: object) -> None:
    """``cnvisa serve --log-format json --workers 2``: every line a JSON object; the access line of a request
    names its X-Request-ID; /metrics counts what both workers answered."""
    log = tmp_path / "serve.log"
    port = _free_port()
    env = {**os.environ, "CNVISA_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT / "src")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cnvisa.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                "2",
                "--log-format",
                "json",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not _up(base + "/healthz"):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        ids = []
        for _ in range(20):
            with urllib.request.urlopen(base + "/api/v1/offices", timeout=10) as r:
                ids.append(r.headers["X-Request-ID"])
        # A worker counts an answer once it has been sent: the last one's count may land just after the client
        # read it, and the scrape may be answered by the other worker — so read again for up to 5 s.
        until = time.monotonic() + 5
        while True:
            with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
                text = r.read().decode()
            counted = _metric(text, "cnvisa_http_responses_total", route="/api/v1/offices", status="200")
            if counted >= 20 or time.monotonic() > until:
                break
            time.sleep(0.2)
        assert counted >= 20, text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    lines = [ln for ln in log.read_text().splitlines() if ln.startswith("{")]
    records = [json.loads(ln) for ln in lines]
    assert records and all({"time", "level", "logger", "message", "request_id"} <= set(r) for r in records)
    access = {r["request_id"]: r for r in records if r["logger"] == "uvicorn.access"}
    assert set(ids) <= set(access), (ids[:3], list(access)[:3])


def test_log_format_is_text_or_json() -> None:
    assert uvicorn_config("text")["formatters"]["default"]["()"].startswith("uvicorn")
    assert "request_id" in uvicorn_config("json")["filters"]
    with pytest.raises(ValueError, match="text or json"):
        uvicorn_config("yaml")


@pytest.mark.timeout(120)
@SQLITE
def test_a_server_error_page_gives_its_reference_in_the_page_language(web: Web, db_url: str) -> None:
    """A 503 page (the database locked past the wait) names the request id a person quotes to the help desk, in
    the page's language; a 404 page gives none (nothing to look up)."""
    from test_outage import page_signin, sqlite_write_lock

    settings = dataclasses.replace(Settings(database_url=db_url), lock_wait_seconds=1.0)
    with TestClient(create_app(settings), follow_redirects=False, headers={"Accept-Language": "zh-CN"}) as c:
        with sqlite_write_lock(db_url):
            busy = page_signin(c)
        assert busy.status_code == 503, busy.status_code
        assert "本次错误的参考编号" in busy.text and busy.headers["x-request-id"] in busy.text
        missing = c.get("/no/such/page")
        assert missing.status_code == 404 and missing.headers["x-request-id"] not in missing.text
