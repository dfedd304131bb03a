"""What building the app and choosing a route cost (issue 10's route index, ``cnvisa.http.route_index``), in
process, no sockets and no database:

    .venv/bin/python benchmarks/routing.py [--rounds 2000] [--src path/to/other/checkout/src]

- ``create_app``: CPU per app built (5 apps after a first one), and of it the route index's reading of the routers;
- routing: the app's top-level routes asked ``matches`` in order until the first full match, per request, for a
  few requests (the joint submission, an officer's acceptance, the queue page, a plain submission).

``--src`` measures another checkout's code (e.g. a ``git worktree`` of an older commit) for an A/B in the same
minutes: this machine's speed drifts.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REQUESTS = (
    ("POST", "/api/v1/joint-applications"),
    ("POST", "/api/v1/office/joint-applications/5/accept"),
    ("GET", "/office/queue"),
    ("POST", "/api/v1/cases"),
)


def _scope(method: str, path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "headers": [],
        "query_string": b"",
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=2000)
    p.add_argument("--src", type=Path, default=ROOT / "src", help="the platform's sources to measure (A/B)")
    args = p.parse_args()
    sys.path.insert(0, str(args.src.resolve()))
    db = Path(tempfile.mkdtemp()) / "routing.sqlite3"  # never opened: the app connects on its first request
    os.environ.setdefault("CNVISA_DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    from starlette.routing import Match

    import cnvisa.http.route_index as route_index
    from cnvisa.app import create_app

    print(f"sources             {args.src}")
    create_app()
    reading = [0.0]
    paths = route_index.paths

    def timed_paths(router: Any) -> Any:
        t = time.process_time()
        try:
            return paths(router)
        finally:
            reading[0] += time.process_time() - t

    route_index.paths = timed_paths  # type: ignore[assignment]
    t = time.process_time()
    for _ in range(5):
        app = create_app()
    built = (time.process_time() - t) / 5
    print(
        f"create_app          {built * 1000:.1f} ms CPU, of it the index's reading {reading[0] / 5 * 1000:.1f} ms"
    )
    for method, path in REQUESTS:
        scope = _scope(method, path)

        def choose(scope: dict[str, Any] = scope) -> None:
            for route in app.router.routes:
                if route.matches(dict(scope))[0] == Match.FULL:
                    return

        choose()  # the index's first reading, FastAPI's contexts of the router chosen
        t = time.perf_counter()
        for _ in range(args.rounds):
            choose()
        print(f"{method:5s}{path:46s}{(time.perf_counter() - t) / args.rounds * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
