"""CPU time the platform spends on one request (issue 4), measured in-process: a figure that does not move with the
load generator, the other core or a noisy host as wrk's latencies do, so two versions of the code can be compared
on any machine.

    .venv/bin/python benchmarks/request_cpu.py [--requests 300] [--src path/to/other/checkout/src]

Needs the 1M-case database of `benchmarks/cases.py queue --cases 1000000` with the demo sign-ins (run
`benchmarks/web.py` once). Requests go one at a time straight to the ASGI application (no sockets, no HTTP parser):
the officer's queue page (`GET /office/queue`), a submission (`POST /api/v1/cases`, multipart, as in web.py) and a
progress inquiry (`POST /api/v1/progress` with the numbers in a JSON body — issue 13: no passport number in URLs —
and the deprecated `GET` with a query string, for comparison with older checkouts; `--only progress` measures
these alone, writing nothing). For each: the process's CPU time per request (all threads, so the database driver and the
audit writer count) and the wall time. `--src` measures another checkout's code (e.g. a `git worktree` of an older
commit) with the same script.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from web import BOUNDARY, submission_body  # noqa: E402

PG = os.environ.get("CNVISA_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/cnvisa_bench_queue")


async def measure(requests: int, only: str | None = None) -> dict[str, dict[str, float]]:
    import asyncpg
    import httpx

    from cnvisa.app import create_app
    from cnvisa.demo import DEMO

    conn = await asyncpg.connect(PG)
    try:
        pair = await conn.fetchrow(
            "SELECT c.number, t.number AS passport FROM cases c JOIN travel_documents t ON t.person_id = c.person_id "
            "ORDER BY c.id LIMIT 1 OFFSET LEAST(400000, (SELECT count(*) FROM cases) / 2)"
        )
    finally:
        await conn.close()
    app = create_app()
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")

        async def signin(username: str) -> tuple[bytes, bytes]:
            password = next(d.password for d in DEMO if d.username == username)
            client.cookies.clear()
            r = await client.post("/api/v1/auth/signin", json={"username": username, "password": password})
            r.raise_for_status()
            cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
            return cookie.encode(), r.json()["csrf"].encode()

        async def call(
            method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]], body: bytes
        ) -> None:
            scope: dict[str, Any] = {
                "type": "http",
                "http_version": "1.1",
                "method": method,
                "path": path,
                "raw_path": path.encode(),
                "query_string": query,
                "headers": [(b"host", b"bench"), *headers],
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
                return {"type": "http.request", "body": body, "more_body": False}

            status: list[int] = []

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    status.append(message["status"])

            await app(scope, receive, send)
            if status[0] >= 300:
                raise SystemExit(f"{method} {path} answered {status[0]}")

        officer, _ = await signin("sh01.officer")
        alice, csrf = await signin("alice")
        me = (await client.get("/api/v1/auth/me")).json()
        offices = (await client.get("/api/v1/offices")).json()
        office = next(
            o for o in (offices if isinstance(offices, list) else offices["offices"]) if o["code"] == "SH01"
        )
        boundary = BOUNDARY
        body = submission_body(me["person_id"], office["id"]).encode()
        stamp = time.time_ns()

        async def queue(i: int) -> None:
            await call("GET", "/office/queue", b"", [(b"cookie", officer)], b"")

        async def submission(i: int) -> None:
            headers = [
                (b"cookie", alice),
                (b"x-csrf-token", csrf),
                (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
                (b"idempotency-key", f"cpu-{stamp}-{i}".encode()),
            ]
            await call("POST", "/api/v1/cases", b"", headers, body)

        async def progress_get(i: int) -> None:
            query = f"number={pair['number']}&passport={pair['passport']}".encode()
            await call("GET", "/api/v1/progress", query, [], b"")

        progress_body = json.dumps({"number": pair["number"], "passport": pair["passport"]}).encode()

        async def progress(i: int) -> None:
            await call(
                "POST", "/api/v1/progress", b"", [(b"content-type", b"application/json")], progress_body
            )

        results: dict[str, dict[str, float]] = {}
        measures = [
            ("queue page", queue),
            ("submission", submission),
            ("progress", progress),
            ("progress GET", progress_get),
        ]
        for name, one in measures:
            if only and not name.startswith(only):
                continue
            for i in range(20):  # warm-up: statement caches, templates
                await one(-i - 1)
            cpu, wall = time.process_time(), time.perf_counter()
            for i in range(requests):
                await one(i)
            results[name] = {
                "cpu_ms": (time.process_time() - cpu) / requests * 1000,
                "wall_ms": (time.perf_counter() - wall) / requests * 1000,
            }
        await client.aclose()
    return results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--src", type=Path, default=ROOT / "src", help="the checkout's src/ to measure")
    ap.add_argument(
        "--only",
        help='the measures whose names start so ("progress": both inquiries; "progress GET": the old one)',
    )
    args = ap.parse_args()
    sys.path.insert(0, str(args.src.resolve()))
    os.environ["CNVISA_DATABASE_URL"] = PG.replace("postgresql://", "postgresql+asyncpg://")
    for name, r in asyncio.run(measure(args.requests, args.only)).items():
        print(f"{name:<13} cpu {r['cpu_ms']:6.2f} ms/request   wall {r['wall_ms']:6.2f} ms/request")


if __name__ == "__main__":
    main()
