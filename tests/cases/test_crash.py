"""Crash: SIGKILL a process that is submitting applications; every acknowledged submission is stored and
`cnvisa audit verify` passes (durability of commit, one transaction per command with its audit event)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from case_helpers import World
from sqlalchemy import select

from cnvisa.store.tables import AuditEvent, Case

WORKER = Path(__file__).with_name("crash_worker.py")
SRC = Path(__file__).resolve().parents[2] / "src"
RUN_SECONDS = 2.0


async def test_sigkill_loses_no_acknowledged_submission(world: World, db_url: str) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        db_url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    acknowledged: list[str] = []
    try:
        first = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
        if first != b"ready\n":
            raise AssertionError(f"worker did not start: {first!r} {await proc.stderr.read()!r}")
        loop = asyncio.get_running_loop()
        stop = loop.time() + RUN_SECONDS
        while (left := stop - loop.time()) > 0:
            try:
                line = await asyncio.wait_for(proc.stdout.readline(), timeout=left)
            except TimeoutError:
                break
            if not line:
                raise AssertionError(f"worker died: {await proc.stderr.read()!r}")
            if line.endswith(b"\n"):  # a partly written line is no acknowledgement
                acknowledged.append(line.decode().strip())
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # Lines the worker wrote before the kill but the loop above had not read yet (a busy machine lags) are
    # acknowledgements too: drain the pipe; only a partly written last line is not one.
    rest = await proc.stdout.read()
    acknowledged.extend(line.decode().strip() for line in rest.split(b"\n")[:-1] if line)
    assert len(acknowledged) >= 5, f"too few submissions in {RUN_SECONDS} s: {len(acknowledged)}"

    async with world.sessions() as s:
        cases = {c.number: c for c in (await s.execute(select(Case))).scalars()}
        events = (
            await s.execute(select(AuditEvent.case_id, AuditEvent.action).order_by(AuditEvent.seq))
        ).all()
    missing = [n for n in acknowledged if n not in cases]
    assert not missing, f"acknowledged but not stored: {missing}"
    assert all(cases[n].state == "submitted" for n in acknowledged)
    # nothing half-written: every stored case is a draft with its create event, or submitted with both
    by_case: dict[int, list[str]] = {}
    for case_id, action in events:
        by_case.setdefault(case_id, []).append(action)
    for c in cases.values():
        assert c.state in ("draft", "submitted")
        assert by_case[c.id] == (["create"] if c.state == "draft" else ["create", "submit"])
    assert len(cases) - len(acknowledged) <= 1  # at most the one in flight when killed
    v = await world.verify()
    assert v.ok and v.events == len(events), v
    # and as an operator checks it after the crash
    cli = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cnvisa.cli",
        "audit",
        "verify",
        "--database-url",
        db_url,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    out, _ = await cli.communicate()
    assert cli.returncode == 0 and f"audit chain ok: {len(events)} events" in out.decode(), out
