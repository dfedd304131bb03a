"""What the request id and the metrics (``cnvisa.http.observe.Observe``, issue 14) add to each request, measured
in-process around a trivial ASGI app so that nothing else moves the figure:

    .venv/bin/python benchmarks/observe_overhead.py [--requests 200000]

Prints the process CPU time per request without and with the middleware, alternating rounds (the machine's speed
drifts), and the difference. Compare it with the platform's per-request CPU (benchmarks/request_cpu.py)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from cnvisa.http.observe import Observe


class _Route:
    path = "/api/v1/cases/{case_id}"

    def __init__(self) -> None:
        import re

        self.path_regex = re.compile(r"^/cases/(?P<case_id>[^/]+)$")


ROUTE = _Route()


async def trivial(scope: Any, receive: Any, send: Any) -> None:
    scope["route"] = ROUTE
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def run(app: Any, n: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: Any) -> None:
        return None

    started = time.process_time()
    for i in range(n):
        scope = {"type": "http", "method": "GET", "path": f"/api/v1/cases/{i}", "headers": []}
        await app(scope, receive, send)
    return (time.process_time() - started) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    bare, wrapped = [], []
    for _ in range(a.rounds):
        bare.append(asyncio.run(run(trivial, a.requests // a.rounds)))
        wrapped.append(asyncio.run(run(Observe(trivial), a.requests // a.rounds)))
    b, w = statistics.median(bare), statistics.median(wrapped)
    print(
        f"trivial app: {b:.2f} µs CPU/request; with Observe: {w:.2f} µs; added: {w - b:.2f} µs (median of {a.rounds})"
    )


if __name__ == "__main__":
    main()
