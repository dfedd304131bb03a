"""schemathesis against /api/openapi.json (issue 4): no generated request gets a 5xx.

A real server (uvicorn in a subprocess, on 127.0.0.1) serves the demo data from the test's database (SQLite
or PostgreSQL); requests are sent signed out, and signed in as an applicant and as an officer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from web_support import PASSWORDS, TODAY, served


@pytest.fixture
def server(seeded: dict[str, Any], db_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log_path = tmp_path / "server.log"
    # the demo data's day
    with served(db_url, log_path, CNVISA_CLOCK_START=f"{TODAY.isoformat()}T09:00:00+08:00") as base:
        yield base, log_path


def _log_tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def test_no_server_errors(server: tuple[str, Path]) -> None:
    base, log_path = server
    schema = schemathesis.openapi.from_url(base + "/api/openapi.json")
    sessions: list[requests.Session] = []
    for who in (None, "alice", "sh01.officer"):
        session = requests.Session()
        if who:
            r = session.post(base + "/api/v1/auth/signin", json={"username": who, "password": PASSWORDS[who]})
            assert r.status_code == 200, r.text
            session.headers["X-CSRF-Token"] = r.json()["csrf"]
        sessions.append(session)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 3

    for operation in operations:
        # No shrinking: a failing request is reported as generated, with the command to repeat it and the
        # server's log (shrinking against a live server can take many minutes and change its state meanwhile).
        @given(case=operation.as_strategy())
        @settings(
            max_examples=10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            phases=[Phase.explicit, Phase.generate],
        )
        def check(case: Any) -> None:
            for session in sessions:
                try:
                    response = case.call(base_url=base, session=session, timeout=30)
                except requests.Timeout:
                    pytest.fail(
                        f"no answer in 30 s: {case.as_curl_command()}\n--- server log ---\n{_log_tail(log_path)}"
                    )
                assert response.status_code < 500, (
                    f"{case.method} {case.path}: {response.status_code} {response.text[:300]}\n"
                    f"{case.as_curl_command()}\n--- server log ---\n{_log_tail(log_path)}"
                )
                if response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
                    assert response.headers["content-type"].startswith("application/problem+json"), case.path

        check()
