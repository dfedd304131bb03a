"""``cnvisa agency poll --once`` against the stub served on a real socket, on SQLite and PostgreSQL: the first
round sends the submission the acceptance left in the outbox, the next applies the authority's grant; a wrong
configuration is one line, exit 2."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from case_helpers import World
from joint_helpers import GRANT, joint_world

from cnvisa.cases.agencies.stub import WorkPermitAuthorityStub
from cnvisa.cases.joint.external import WorkPermitRouting
from cnvisa.cases.joint.service import JointService

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.timeout(180)


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cnvisa.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, **env},
    )


@pytest.fixture
def served() -> Iterator[tuple[WorkPermitAuthorityStub, str]]:
    """The stub on a free port of 127.0.0.1, in a thread of its own."""
    stub = WorkPermitAuthorityStub()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(stub.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield stub, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


async def test_poll_once_sends_the_outbox_then_applies_the_decision(
    world: World, db_url: str, served: tuple[WorkPermitAuthorityStub, str]
) -> None:
    stub, url = served
    jw = await joint_world(world)
    jw.svc = JointService(world.sessions, world.clock, routing=WorkPermitRouting(frozenset({"shanghai"})))
    j = await jw.accepted()
    ref = j["work_permit_branch"]["reference"]
    assert j["work_permit_submission"]["outcome"] == "pending"
    env = {"CNVISA_WORK_PERMIT_URL": url, "CNVISA_WORK_PERMIT_ATTEMPTS": "1"}
    first = cli("agency", "poll", "--once", "--database-url", db_url, env=env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"sent": {"delivered": 1}, "received": {}, "refused": []}
    assert stub.effects == [("submission", ref)]
    stub.decide(ref, "granted", {**GRANT})
    second = cli("agency", "poll", "--once", "--database-url", db_url, env=env)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == {"sent": {}, "received": {"applied": 1}, "refused": []}
    b = await jw.branch(j["joint_id"])
    assert (b.state, b.decided_via) == ("granted", "external")


def test_a_bad_configuration_is_one_line() -> None:
    r = cli("agency", "poll", "--once", env={"CNVISA_WORK_PERMIT_ATTEMPTS": "0"})
    assert r.returncode == 2 and r.stderr.startswith("error: CNVISA_WORK_PERMIT_*")
    assert len(r.stderr.strip().splitlines()) == 1
