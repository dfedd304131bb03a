"""Weight and warm speed of the pages (issue 15): each page's size as sent (gzip, as browsers ask) and its median
wall time once warm, in-process (no sockets), on a fresh SQLite demo database (the web tests' data: 60 cases).

    .venv/bin/python benchmarks/pages.py [--requests 20] [--src path/to/other/checkout/src]

Targets: every page ≤ 30 KB compressed, warm median ≤ 100 ms. When the code under test does not compress, the
compressed size is that of the page gzipped here at level 6 (what it would weigh). ``--src`` measures another
checkout's code (e.g. main before a change) with the same script.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gzip
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2025, 11, 20)
FIVE_YEAR = (
    "/what-do-i-need/residence_permit_extension?check=1&on=2025-11-20&residence_permit.type=work"
    "&residence_permit.valid_until=2026-05-04&five_year.permits.0.valid_from=2024-05-04"
    "&five_year.permits.0.valid_until=2025-05-03&five_year.permits.1.valid_from=2025-05-04"
    "&five_year.permits.1.valid_until=2026-05-04&five_year.work_permit_valid_until=2027-12-31"
)
FIRST_CASE = "{first case of the queue}"
PAGES = {
    None: [
        "/",
        "/what-do-i-need",
        "/what-do-i-need/visa_extension?check=1&visa.category=L&visa.stay_days=30"
        "&entry_date=2025-11-01&requested.extension_days=20",
        FIVE_YEAR,
        "/progress",
        "/signin",
    ],
    "alice": [
        "/my/cases",
        "/my/documents",
        "/appointments",
        "/apply?matter=visa_extension&step=check"
        "&visa.category=L&visa.stay_days=30&entry_date=2025-11-01&requested.extension_days=20&office=1",
        "/apply?matter=visa_extension&step=check&entry_date=bad&visa.stay_days=x",
        "/stays",
        "/my/checks",
        "/my/post-changes",
    ],
    "sh01.officer": [
        "/office/queue",
        FIRST_CASE,
        "/office/search?q=Alice",
        "/office/appointments",
        "/office/accommodation",
        "/office/post-changes",
        "/office/reports",
    ],
    "employer.hr": ["/org/people", "/org/reports/new", "/org/post-changes/new", "/org/post-changes"],
    "hotel.desk": ["/hotel/stays", "/verify/tokens"],
    "bank.teller": ["/verify"],
    "admin": ["/admin"],
}
"""The main page of each kind of every role (the accessibility crawl, tests/web/test_accessibility.py, checks the
weight of every page; this times them)."""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--src", default=str(ROOT / "src"))
    args = ap.parse_args()
    sys.path.insert(0, args.src)
    from fastapi.testclient import TestClient

    from cnvisa.app import create_app
    from cnvisa.cases.clock import SHANGHAI, ManualClock
    from cnvisa.demo import DEMO, seed, seed_web
    from cnvisa.http.settings import Settings
    from cnvisa.store.db import make_engine
    from cnvisa.store.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/pages.sqlite3"
        upgrade(url)

        async def build() -> None:
            engine = make_engine(url)
            await seed(engine, cases=60, seed_value=3, today=TODAY)
            await seed_web(engine, TODAY)
            await engine.dispose()

        asyncio.run(build())
        clock = ManualClock(dt.datetime.combine(TODAY, dt.time(9, 0), tzinfo=SHANGHAI))
        app = create_app(Settings(database_url=url), clock=clock)
        print(
            f"code: {args.src}\n{'page':<70} {'lang':<6} {'status':>6} {'raw KB':>7} {'gzip KB':>8} {'median ms':>10}"
        )
        worst_kb = worst_ms = 0.0
        passwords = {d.username: d.password for d in DEMO}
        over: list[str] = []
        with TestClient(app, follow_redirects=False) as client:
            for user, paths in PAGES.items():
                c = TestClient(app, follow_redirects=False)
                c.portal = client.portal  # type: ignore[attr-defined]
                if user:
                    r = c.post("/api/v1/auth/signin", json={"username": user, "password": passwords[user]})
                    assert r.status_code == 200, r.text
                for path in paths:
                    if path == FIRST_CASE:
                        found = re.search(r'href="(/office/cases/\d+)"', c.get("/office/queue").text)
                        assert found, "no case in the officer's queue"
                        path = found.group(1)
                    for lang in ("zh_CN", "en"):
                        full = path + ("&" if "?" in path else "?") + f"lang={lang}"
                        for _ in range(3):  # warm: templates compiled, caches filled
                            c.get(full, headers={"Accept-Encoding": "gzip"})
                        times = []
                        for _ in range(args.requests):
                            t0 = time.perf_counter()
                            r = c.get(full, headers={"Accept-Encoding": "gzip"})
                            times.append((time.perf_counter() - t0) * 1000)
                        raw = len(r.content)
                        sent = (
                            int(r.headers["content-length"])
                            if r.headers.get("content-encoding") == "gzip"
                            else len(gzip.compress(r.content, 6))
                        )
                        median = statistics.median(times)
                        assert r.status_code < 500 and r.status_code not in (401, 403, 404), (
                            full,
                            r.status_code,
                        )
                        worst_kb, worst_ms = max(worst_kb, sent / 1024), max(worst_ms, median)
                        if sent > 30 * 1024 or median > 100:
                            over.append(f"{full} {lang}")
                        print(
                            f"{path[:70]:<70} {lang:<6} {r.status_code:>6} {raw / 1024:>7.1f} {sent / 1024:>8.1f} {median:>10.1f}"
                        )
        print(
            f"largest compressed page {worst_kb:.1f} KB (target ≤ 30); slowest warm median {worst_ms:.1f} ms (target ≤ 100)"
        )
        print(f"pages over a target: {over or 'none'}")


if __name__ == "__main__":
    main()
