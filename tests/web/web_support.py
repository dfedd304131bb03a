"""What the web tests share: the ``Web`` handle, the demo passwords and the fixed date (fixtures are in
conftest.py; a module of its own so that tests import it by a name no other folder uses)."""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest
from fastapi.testclient import TestClient

from cnvisa.cases.clock import ManualClock
from cnvisa.demo import DEMO
from cnvisa.demo.joint_story import DESK, FOREIGNERS

ROOT = Path(__file__).parents[2]
TODAY = dt.date(2025, 11, 20)
PASSWORDS = {d.username: d.password for d in DEMO} | {u: pw for u, pw, *_ in (*DESK, *FOREIGNERS)}
"""The demo's sign-ins, and those the joint story makes: the work-permit desk's, a foreigner's
(cnvisa.demo.joint_story.DESK, FOREIGNERS)."""


@dataclass
class Web:
    client: TestClient
    clock: ManualClock
    ids: dict[str, Any]
    db_url: str

    def signin(self, username: str, client: TestClient | None = None) -> str:
        """Sign in (cookie session) and return the CSRF token."""
        c = client or self.client
        r = c.post("/api/v1/auth/signin", json={"username": username, "password": PASSWORDS[username]})
        assert r.status_code == 200, r.text
        return str(r.json()["csrf"])

    def new_client(self) -> TestClient:
        """Another browser: its own cookies, the same application (and the same event loop: the database pool
        belongs to it)."""
        other = TestClient(self.client.app, follow_redirects=False)
        other.portal = self.client.portal  # type: ignore[attr-defined]
        return other


_NUMBER = re.compile(r"\d+")


def page_shape(url: str) -> str:
    """One page of each kind is enough: /office/cases/17 and /office/cases/18 are the same page."""
    return _NUMBER.sub("N", url)


def site_links(hrefs: list[str]) -> list[str]:
    """The same-site addresses among a page's hrefs (without their fragments)."""
    out = []
    for raw in hrefs:
        href = urldefrag(unescape(raw))[0]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not href.startswith("/"):
            continue  # another site, mailto:, or a relative reference the pages do not use
        out.append(href)
    return out


SERVER_START_SECONDS = 60
"""How long a served platform may take to answer its first request: a start under load (two test workers, a
busy machine) takes seconds, not minutes; past this the test fails and shows the server's log."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _start(db_url: str, log: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    environ = {
        **os.environ,
        "CNVISA_DATABASE_URL": db_url,
        "PYTHONPATH": str(ROOT / "src"),
        "CNVISA_PUBLIC_URL": f"http://127.0.0.1:{port}",
        **env,
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "cnvisa.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _started(proc: subprocess.Popen[bytes], log: Path, base: str) -> bool:
    """True once THIS server listens on ``base`` and answers; False when it could not bind the port (another
    test's server took it between ``_free_port`` and the bind — then the address answers, but not for us)."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        text = log.read_text(errors="replace")
        if proc.poll() is not None:
            if "address already in use" in text:
                return False
            pytest.fail(f"the server stopped before it answered:\n{text[-3000:]}")
        if f"running on {base}" in text and _up(base + "/api/openapi.json"):
            return True
        if time.monotonic() > deadline:
            pytest.fail(f"the server did not start within {SERVER_START_SECONDS} s:\n{text[-3000:]}")
        time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextmanager
def served(db_url: str, log: Path, **env: str) -> Iterator[str]:
    """The platform served by ``cnvisa serve`` (uvicorn in a subprocess) over ``db_url``, on a free port of
    127.0.0.1; yields its base address. The server's output goes to ``log`` (a pipe nobody reads would fill up
    and block it); its tail is printed when the server is stopped, so a failed test shows it. A port another
    process took before the server bound it is given up for another (three tries)."""
    for _ in range(3):
        port = _free_port()
        proc = _start(db_url, log, port, env)
        base = f"http://127.0.0.1:{port}"
        try:
            if _started(proc, log, base):
                break
        except BaseException:
            _stop(proc)
            print(f"--- server log (tail) ---\n{log.read_text(errors='replace')[-4000:]}")
            raise
        _stop(proc)
    else:
        pytest.fail("three free ports were each taken before the server could bind them")
    try:
        yield base
    finally:
        _stop(proc)
        print(f"--- server log (tail) ---\n{log.read_text(errors='replace')[-4000:]}")
