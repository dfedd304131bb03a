"""Request bodies are limited by route class while they are read (issue 13, defect 5; ASVS 4.0 V12.1.1): JSON
1 MiB, the pages' url-encoded forms 64 KiB, uploads the largest file plus 1 MiB (cnvisa.http.limits). A
Content-Length over the limit is refused before reading; a chunked body is cut off just past the limit, so a
300 MiB stream costs the server about the limit, not 300 MiB. 413 is problem+json on /api, a page elsewhere."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from web_support import TODAY, Web, served

from cnvisa.app import create_app
from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.http.settings import Settings

MiB = 1024 * 1024
SQLITE = pytest.mark.parametrize(
    "db_url", ["sqlite"], indirect=True
)  # the limits do not depend on the engine


def is_problem_413(r: Any) -> bool:
    return bool(
        r.status_code == 413
        and r.headers["content-type"].startswith("application/problem+json")
        and r.json()["status"] == 413
    )


@SQLITE
def test_json_over_the_limit_is_413_problem(web: Web) -> None:
    big = json.dumps({"matter": "x" * (2 * MiB)})
    r = web.client.post("/api/v1/assess", content=big, headers={"content-type": "application/json"})
    assert is_problem_413(r), (r.status_code, r.text[:300])
    small = web.client.post("/api/v1/assess", json={"matter": "x"})
    assert small.status_code != 413


@SQLITE
def test_a_chunked_json_body_is_cut_off_too(web: Web) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"matter": "'
        for _ in range(40):  # 2.5 MiB, no Content-Length (httpx sends it chunked)
            yield b"x" * (64 * 1024)
        yield b'"}'

    r = web.client.post("/api/v1/assess", content=chunks(), headers={"content-type": "application/json"})
    assert is_problem_413(r), (r.status_code, r.text[:300])


@SQLITE
def test_a_page_form_over_the_limit_is_413_page(web: Web) -> None:
    r = web.client.post("/signin", data={"username": "a", "password": "b" * (100 * 1024)})
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html"), r.status_code


@SQLITE
def test_uploads_are_limited_by_the_upload_setting(seeded: dict[str, Any], db_url: str) -> None:
    clock = ManualClock(dt.datetime.combine(TODAY, dt.time(9, 0), tzinfo=SHANGHAI))
    settings = dataclasses.replace(Settings(database_url=db_url), max_upload_bytes=100 * 1024)
    with TestClient(create_app(settings, clock=clock)) as client:
        files = {"passport": ("p.pdf", b"%PDF-1.4\n" + b"0" * (2 * MiB), "application/pdf")}
        r = client.post("/api/v1/cases", files=files, data={"application": "{}"})
        assert is_problem_413(r), (r.status_code, r.text[:300])
        # within the whole-request limit (file limit + 1 MiB) the request reaches its route (here: 401)
        files = {"passport": ("p.pdf", b"%PDF-1.4\n" + b"0" * (512 * 1024), "application/pdf")}
        assert client.post("/api/v1/cases", files=files, data={"application": "{}"}).status_code != 413


@SQLITE
def test_a_300_mib_stream_is_refused_after_about_the_limit(web: Web) -> None:
    """Straight to the application (ASGI), counting what it pulls from the client: the stream is cut off at the
    first chunk past the limit."""
    app, chunk, total = web.client.app, 64 * 1024, 300 * MiB
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += chunk
        return {"type": "http.request", "body": b"x" * chunk, "more_body": pulled < total}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/assess",
        "raw_path": b"/api/v1/assess",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"transfer-encoding", b"chunked"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "app": app,
    }
    web.client.portal.call(app, scope, receive, send)  # type: ignore[attr-defined]
    assert sent[0]["status"] == 413
    assert pulled <= MiB + chunk, f"read {pulled} bytes of a 300 MiB body"


@pytest.mark.timeout(180)
@SQLITE
def test_a_served_platform_refuses_big_bodies_on_the_wire(
    seeded: dict[str, Any], db_url: str, tmp_path: Path
) -> None:
    """The real server (uvicorn): a declared 300 MiB body is refused before it is sent, a chunked one after
    about the limit — the client is answered while it is still sending."""
    with served(db_url, tmp_path / "server.log") as base:
        where = urlsplit(base)
        host, port = where.hostname or "127.0.0.1", where.port or 80
        head = f"POST /api/v1/assess HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        with socket.create_connection((host, port), timeout=30) as s:
            s.sendall(f"{head}Content-Length: {300 * MiB}\r\n\r\n".encode() + b"{")
            assert b" 413 " in s.recv(4096).split(b"\r\n", 1)[0]
        with socket.create_connection((host, port), timeout=30) as s:
            s.sendall(f"{head}Transfer-Encoding: chunked\r\n\r\n".encode())
            chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"  # 64 KiB chunks
            sent, started = 0, time.monotonic()
            try:
                while sent < 300 * MiB and time.monotonic() - started < 60:
                    if select.select([s], [], [], 0)[0]:
                        break  # the answer has come
                    s.sendall(chunk)
                    sent += len(chunk)
            except OSError:  # the server stopped reading (timeout) or closed
                pass
            answer = s.recv(4096)
            assert b" 413 " in answer.split(b"\r\n", 1)[0], answer[:200]
            assert sent < 32 * MiB, f"sent {sent} bytes before the answer"
