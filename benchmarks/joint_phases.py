"""Where a joint submission's CPU goes, phase by phase (issue 10): the same request as ``joint_http.py --wrk``
(``POST /api/v1/joint-applications``, multipart, the application JSON and the twelve files) sent ``--requests``
times, one at a time, straight to the ASGI application in this process (no sockets, no HTTP parser; on uvloop,
the loop uvicorn runs the platform on), on a fresh PostgreSQL database (dropped afterwards).

    .venv/bin/python benchmarks/joint_phases.py [--requests 400] [--by-package] [--src path/to/other/src]

Prints the process's CPU per request (``time.process_time``: all threads) and, per phase, the CPU of the thread
that ran it (``time.thread_time``), measured by wrapping the platform's own functions for the run:

- ``form``: Starlette's multipart parse (python-multipart);
- ``read_files``: ``cnvisa.http.applicant.read_files`` — of it ``inspect_all``, the decode checks of the files;
- ``submit_joint``: ``cnvisa.http.joint.submit_joint`` — of it ``facts`` (the hot read of the applicant's facts and
  the office's papers) and ``apply_joint`` (the command), of that ``assess`` (the law engine), ``insert_joint``
  (the new rows' statement, including the transaction's BEGIN) and ``audit`` (the audit group and the
  idempotency record);
- what is left is the framework around the endpoint: middleware, routing, dependencies (the session), the
  response.

Phases nest (a parent's figure includes its children's). ``--by-package`` also runs a cProfile of the same loop and
prints its own time grouped by package — cProfile's overhead weighs on Python code far more than on C, so read
those shares as a ranking, not as milliseconds. Figures drift with the machine: compare phases of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import functools
import json
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_early = argparse.ArgumentParser(add_help=False)
_early.add_argument("--src", type=Path, default=ROOT / "src")
SRC = _early.parse_known_args()[0].src
"""The platform's sources measured (``--src``: another checkout's, e.g. a ``git worktree``, for an A/B)."""
sys.path[:0] = [str(SRC.resolve()), str(ROOT / "benchmarks")]

import joint_http as J  # noqa: E402
from joint import _url, drop_pg  # noqa: E402

PHASES: collections.Counter[str] = collections.Counter()


def _timed(name: str, fn: Any) -> Any:
    if asyncio.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def wrapped_async(*a: Any, **k: Any) -> Any:
            t = time.thread_time()
            try:
                return await fn(*a, **k)
            finally:
                PHASES[name] += time.thread_time() - t

        return wrapped_async

    @functools.wraps(fn)
    def wrapped(*a: Any, **k: Any) -> Any:
        t = time.thread_time()
        try:
            return fn(*a, **k)
        finally:
            PHASES[name] += time.thread_time() - t

    return wrapped


def instrument() -> None:
    """Wrap the phases' functions where their callers look them up (module attributes, imported names)."""
    import starlette.requests

    import cnvisa.api.joint as api_joint
    import cnvisa.cases.audit as audit
    import cnvisa.cases.joint.commands as commands
    import cnvisa.cases.queries.applications as applications
    import cnvisa.cases.runner as runner
    import cnvisa.http.applicant as applicant

    starlette.requests.Request._get_form = _timed("form", starlette.requests.Request._get_form)
    api_joint.read_files = _timed("read_files", api_joint.read_files)
    applicant._inspect_all = _timed("  inspect_all", applicant._inspect_all)
    api_joint.submit_joint = _timed("submit_joint", api_joint.submit_joint)
    applications.application_facts_and_papers = _timed("  facts", applications.application_facts_and_papers)
    commands.JointCommands.apply_joint = _timed("  apply_joint", commands.JointCommands.apply_joint)
    runner.Runner._assess = _timed("    assess", runner.Runner._assess)
    commands.insert_joint = _timed("    insert_joint", commands.insert_joint)
    audit.append_many = _timed("    audit", audit.append_many)


async def run(requests: int, by_package: bool) -> None:
    ids = await J.prepare(8, 8)
    os.environ["CNVISA_DATABASE_URL"] = _url(J.DB)
    os.environ.update(J.CLOCK)
    import httpx

    from cnvisa.app import create_app

    app = create_app()
    files = [(c, f"{c}.jpg" if c == "photo" else f"{c}.pdf", J.photo() if c == "photo" else J.pdf(c),
              "image/jpeg" if c == "photo" else "application/pdf") for c in J.CODES]  # fmt: skip
    try:
        async with app.router.lifespan_context(app):
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
            r = await client.post(f"{J.V}/auth/signin", json={"username": "bench.hr", "password": J.PASSWORD})
            r.raise_for_status()
            cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items()).encode()
            csrf = r.json()["csrf"].encode()
            bodies = []
            for w in range(8):
                application = {"person_id": 1 + w, "office_id": ids["office"], "work_permit": J.WP,
                               "employer_organisation_id": ids["employer"], "inputs": J.RP_INPUTS}  # fmt: skip
                parts = [("application", None, json.dumps(application).encode(), None), *files]
                bodies.append(J.multipart(parts))
            stamp = time.time_ns()
            path = f"{J.V}/joint-applications"

            async def call(i: int) -> None:
                scope = {
                    "type": "http",
                    "http_version": "1.1",
                    "method": "POST",
                    "path": path,
                    "raw_path": path.encode(),
                    "query_string": b"",
                    "headers": [
                        (b"host", b"bench"),
                        (b"cookie", cookie),
                        (b"x-csrf-token", csrf),
                        (b"content-type", f"multipart/form-data; boundary={J.BOUNDARY}".encode()),
                        (b"idempotency-key", f"phases-{stamp}-{i}".encode()),
                    ],
                    "scheme": "http",
                    "server": ("bench", 80),
                    "client": ("127.0.0.1", 1),
                    "root_path": "",
                    "app": app,
                }
                given = False

                async def receive() -> dict[str, Any]:
                    nonlocal given
                    if given:
                        await asyncio.sleep(3600)
                    given = True
                    return {"type": "http.request", "body": bodies[i % 8], "more_body": False}

                status: list[int] = []

                async def send(message: dict[str, Any]) -> None:
                    if message["type"] == "http.response.start":
                        status.append(message["status"])

                await app(scope, receive, send)
                if status[0] != 201:
                    raise SystemExit(f"the submission answered {status[0]}")

            for i in range(40):  # warm: statements prepared, caches filled
                await call(i)
            PHASES.clear()
            cpu, wall = time.process_time(), time.perf_counter()
            for i in range(40, 40 + requests):
                await call(i)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(f"sources             {SRC}")
            print(f"requests            {requests}")
            print(f"cpu per request     {cpu / requests * 1000:.2f} ms (process, all threads)")
            print(f"wall per request    {wall / requests * 1000:.2f} ms")
            for name, seconds in PHASES.items():
                print(f"{name:20s}{seconds / requests * 1000:.2f} ms")
            if by_package:
                profile = cProfile.Profile()
                profile.enable()
                for i in range(40 + requests, 40 + 2 * requests):
                    await call(i)
                profile.disable()
                _by_package(pstats.Stats(profile), requests)
                profile.dump_stats(os.environ.get("PHASES_PROFILE", os.devnull))
    finally:
        await drop_pg(J.DB)


def _by_package(stats: pstats.Stats, requests: int) -> None:
    own: collections.Counter[str] = collections.Counter()
    for (filename, _, name), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "site-packages/" in filename:
            key = filename.split("site-packages/")[1].split("/")[0]
        elif "/src/cnvisa/" in filename:
            key = "cnvisa." + filename.split("/src/cnvisa/")[1].split("/")[0].removesuffix(".py")
        elif filename == "~":
            key = "waiting (epoll)" if "poll" in name else "C built-ins"
        else:
            key = "stdlib " + filename.rsplit("/", 1)[-1]
        own[key] += tottime
    total = sum(own.values())
    print("cProfile, own time by package (a ranking: the profiler slows Python code more than C)")
    for key, seconds in own.most_common(20):
        print(f"  {100 * seconds / total:5.1f}%  {seconds / requests * 1000:6.2f} ms  {key}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--requests", type=int, default=400)
    p.add_argument("--by-package", action="store_true", help="also a cProfile, own time grouped by package")
    p.add_argument("--src", type=Path, default=ROOT / "src", help="the platform's sources to measure (A/B)")
    args = p.parse_args()
    instrument()
    import uvloop

    uvloop.run(run(args.requests, args.by_package))


if __name__ == "__main__":
    main()
