"""The price of the cluster (issue 14): requests a second through the cluster (HAProxy → three `cnvisa serve`,
Patroni with a synchronous standby and an asynchronous replica) against one app server on one PostgreSQL, on the
same two cores, measured side by side in one run (the runs alternate, so both see the same machine).

    make cluster                                                   # the cluster up (scripts/cluster.sh)
    .venv/bin/python benchmarks/cases.py queue --cases 1000000     # the single server's database (cnvisa_bench_queue)
    .venv/bin/python benchmarks/cluster_throughput.py --seed-cluster   # once: 1,000,000 cases into the cluster
    .venv/bin/python benchmarks/cluster_throughput.py [--seconds 15] [--repeat 3]
    make cluster-down

Measures, each with wrk from this machine: the progress inquiry (a lag-tolerant read: the cluster serves it from
a replica), the submission of an application (a write: on the cluster it waits for the synchronous standby), and
both at once (the mix a national service sees). The single server is `cnvisa serve --workers 2` (one worker per
core, as `make run`); the cluster's three app servers run one worker each, as scripts/cluster.sh starts them.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import asyncpg

import web  # benchmarks/web.py: wrk, the Lua scripts, sign-in

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def conf() -> dict[str, str]:
    """scripts/cluster/cluster.conf as the cluster script reads it (environment overrides included)."""
    out = subprocess.run(
        ["bash", "-c", f"set -a && source {ROOT}/scripts/cluster/cluster.conf && env"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


C = conf()
CLUSTER_PG = (
    f"postgresql://{C['DB_USER']}:{C['DB_PASSWORD']}@127.0.0.1:{C['HAPROXY_WRITE_PORT']}/{C['DB_NAME']}"
)
CLUSTER_APP = f"http://127.0.0.1:{C['HAPROXY_APP_PORT']}"
SINGLE_PG = os.environ.get("CNVISA_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/cnvisa_bench_queue")


async def seed_cluster(cases: int) -> None:
    """The cluster's database emptied and migrated again (its demo data would collide with the bulk load), loaded
    as benchmarks/cases.py loads the single server's, then the sign-ins. The job workers reconnect by themselves."""
    from cnvisa.demo import seed_web
    from cnvisa.demo.bulk import seed
    from cnvisa.store.db import make_engine
    from cnvisa.store.migrate import upgrade

    url = CLUSTER_PG.replace("postgresql://", "postgresql+asyncpg://")
    t = time.perf_counter()
    conn = await asyncpg.connect(CLUSTER_PG)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    counts = await seed(engine, cases=cases, seed_value=1)
    await seed_web(engine, dt.date(2025, 11, 20))
    async with engine.connect() as conn:
        await conn.exec_driver_sql("ANALYZE")
    await engine.dispose()
    print(f"cluster seeded in {time.perf_counter() - t:.0f} s: {counts}")


async def pairs_of(dsn: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        n = await conn.fetchval("SELECT count(*) FROM cases")
        rows = await conn.fetch(
            "SELECT c.number, t.number AS passport FROM cases c JOIN travel_documents t ON t.person_id = c.person_id "
            "ORDER BY c.id LIMIT 2000 OFFSET $1",
            max(0, n // 2 - 1000),
        )
    finally:
        await conn.close()
    if n < 1_000_000:
        print(f"note: {dsn.rsplit('@', 1)[1]} holds {n:,} cases (the target speaks of 1,000,000)")
    return [(r["number"], r["passport"]) for r in rows]


async def vacuumed(dsn: str) -> str:
    """VACUUM ANALYZE before the runs, and the server's autovacuum setting: this machine's test server runs with
    autovacuum off (its CI configuration), the cluster's nodes with PostgreSQL's default (on). Without this the
    single server's churned tables (the public lookups' request_counts: 88,000 dead rows after a few runs) slowed
    its inquiries by half, and the cluster looked better than it is."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("VACUUM ANALYZE")
        return str(await conn.fetchval("SHOW autovacuum"))
    finally:
        await conn.close()


def both(base: str, seconds: float, progress: str, submit: str) -> dict[str, float]:
    """Inquiries (24 connections) and submissions (8) at once; the figure is the sum of the two rates."""
    out: dict[str, dict[str, float]] = {}

    def run(name: str, url: str, conns: int, script: str) -> None:
        out[name] = web.wrk(url, seconds, conns, script)

    threads = [
        threading.Thread(target=run, args=("p", base, 24, progress)),
        threading.Thread(target=run, args=("s", base + "/api/v1/cases", 8, submit)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "rps": out["p"]["rps"] + out["s"]["rps"],
        "progress_rps": out["p"]["rps"],
        "submission_rps": out["s"]["rps"],
        "p99_ms": max(out["p"]["p99_ms"], out["s"]["p99_ms"]),
        "errors": out["p"]["errors"] + out["s"]["errors"],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--repeat", type=int, default=3, help="alternating runs per measure; figures are medians")
    ap.add_argument("--seed-cluster", action="store_true", help="load 1,000,000 cases into the cluster first")
    ap.add_argument("--cases", type=int, default=1_000_000)
    args = ap.parse_args()
    if args.seed_cluster:
        asyncio.run(seed_cluster(args.cases))
    single_pairs = asyncio.run(web.prepare())  # migrates and adds the demo sign-ins when missing
    cluster_pairs = asyncio.run(pairs_of(CLUSTER_PG))
    for name, dsn in (("single", SINGLE_PG), ("cluster", CLUSTER_PG)):
        print(f"{name}: VACUUM ANALYZE done; autovacuum {asyncio.run(vacuumed(dsn))}")
    port = web.free_port()
    app = web.serve(
        [
            str(ROOT / ".venv/bin/cnvisa"),
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--forwarded-allow-ips",
            "127.0.0.1",
        ],
        {"CNVISA_DATABASE_URL": web.URL, "PYTHONPATH": str(ROOT / "src")},
        f"http://127.0.0.1:{port}/readyz",
    )
    single = f"http://127.0.0.1:{port}"
    setups = {"single": (single, single_pairs), "cluster": (CLUSTER_APP, cluster_pairs)}
    scripts: dict[str, dict[str, str]] = {}
    for name, (base, pairs) in setups.items():
        who = web.signin(base, "alice")
        scripts[name] = {
            "progress": web.lua_pairs(pairs, "/api/v1/progress"),
            "submit": web.lua_submit(who, web.ids(base, who)),
        }
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    load: list[float] = []
    try:
        for name, (base, _) in setups.items():  # warm-up: every worker's caches and connections
            web.wrk(base, 3, 32, scripts[name]["progress"])
            web.wrk(base + "/api/v1/cases", 3, 8, scripts[name]["submit"])
        for _ in range(args.repeat):
            for measure in ("progress", "submission", "both"):
                for name, (base, _) in setups.items():
                    s = scripts[name]
                    if measure == "progress":
                        r = web.wrk(base, args.seconds, 32, s["progress"])
                    elif measure == "submission":
                        r = web.wrk(base + "/api/v1/cases", args.seconds, 16, s["submit"])
                    else:
                        r = both(base, args.seconds, s["progress"], s["submit"])
                    if r["errors"]:
                        print(
                            f"WARNING: {r['errors']:.0f} answers were not 2xx/3xx: these figures count errors"
                        )
                    runs.setdefault((measure, name), []).append(r)
                    load.append(os.getloadavg()[0])
                    print(
                        f"{measure:10s} {name:7s} {r['rps']:8.1f}/s p99 {r['p99_ms']:7.1f} ms errors {r['errors']:.0f}"
                    )
    finally:
        app.terminate()
        app.wait(10)
    print(f"\nload average (1 min) during the runs: {min(load):.1f}–{max(load):.1f}")
    print("measure     single/s  cluster/s  cluster÷single (median of per-round ratios; rounds)")
    for measure in ("progress", "submission", "both"):
        a, b = runs[(measure, "single")], runs[(measure, "cluster")]
        ratios = [y["rps"] / x["rps"] for x, y in zip(a, b, strict=True)]
        print(
            f"{measure:10s} {statistics.median(r['rps'] for r in a):9.1f} {statistics.median(r['rps'] for r in b):10.1f}"
            f"  {statistics.median(ratios):6.0%}  ("
            + ", ".join(f"{r:.0%}" for r in ratios)
            + f"); p99 single {statistics.median(r['p99_ms'] for r in a):.1f} ms, cluster "
            f"{statistics.median(r['p99_ms'] for r in b):.1f} ms; errors {sum(r['errors'] for r in a + b):.0f}"
        )


if __name__ == "__main__":
    main()
