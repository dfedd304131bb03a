"""The price of the cluster (issue 14): requests a second through the cluster (HAProxy → three `cnvisa serve`,
Patroni with a synchronous standby and an asynchronous replica) against one app server on one PostgreSQL, on the
same two cores, measured side by side in one run (the runs alternate, so both see the same machine).

    make cluster                                                   # the cluster up (scripts/cluster.sh)
    .venv/bin/python benchmarks/cases.py queue --cases 1000000     # the single server's database (cnvisa_bench_queue)
    .venv/bin/python benchmarks/cluster_throughput.py --seed-cluster   # once: 1,000,000 cases into the cluster
    .venv/bin/python benchmarks/cluster_throughput.py [--seconds 15] [--repeat 3]
    .venv/bin/python benchmarks/cluster_throughput.py --db-path [--seconds 10] [--repeat 5]
    .venv/bin/python benchmarks/cluster_throughput.py --app-path [--seconds 10] [--repeat 5]
    make cluster-down

Measures, each with wrk from this machine: the progress inquiry (a lag-tolerant read: the cluster serves it from
a replica), the submission of an application (a write: on the cluster it waits for the synchronous standby), both
at once as two streams (``both``, as earlier runs measured it), and ``mix``: one submission in every ten requests
on every connection (``web.lua_mix``: the same work on both setups, which ``both`` is not). The single server
is `cnvisa serve --workers 2` (one worker per core, as `make run`); the cluster's three app servers run one worker
each, as scripts/cluster.sh starts them. After the rates, the CPU each part of each setup spent per request
(read from /proc around every run).

``--db-path``: where a submission's price lies. The same app server (``--workers 2``) against three databases in
turn: the single PostgreSQL; the cluster's leader directly (synchronous replication, no HAProxy); the cluster
through HAProxy's write port (as the cluster's app servers reach it). The cluster's own app servers idle.

``--app-path``: the app tier's part. Submissions, all on the single PostgreSQL, in turn: to one app server of two
workers directly; to it through an HAProxy frontend like the cluster's (the HTTP hop); through that frontend to
two servers of one worker each (as many processes as cores) and to three (the cluster's app tier, on these two
cores): two against three tells the third process on two cores from one worker per server.
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

import machine  # benchmarks/machine.py: this machine's speed, printed beside the figures
import web  # benchmarks/web.py: wrk, the Lua scripts, sign-in
from accommodation import processes  # every process's parent, CPU and command line

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


def cpu_by_group(single_app: int) -> dict[str, float]:
    """CPU seconds (user + system) so far of every live process on the machine, grouped by what it belongs to: a
    process counts for the first ancestor (itself included) that is one of the setups' parts. Read before and after
    each run, the difference per request says where each setup's CPU goes (the price's parts, not its total).
    wrk, the load, has ended by the second reading: its CPU is in no part."""
    procs = processes()
    data = f"{C['CLUSTER_DIR']}/data/"
    app_ports = C["APP_PORTS"].split()

    def part(pid: int) -> str:
        seen = 0
        while pid in procs and seen < 64:
            parent, _cpu, cmd = procs[pid]
            first = cmd.split(" ", 1)[0]
            if pid == single_app:
                return "single: app (2 workers)"  # (--db-path: the app server measured)
            if first.endswith("/postgres") and "/var/lib/postgresql/" in cmd:
                return "single: PostgreSQL"
            if first.endswith("/postgres") and data in cmd:
                return "cluster: PostgreSQL " + cmd.split(data, 1)[1].split()[0]
            if first.endswith("haproxy"):
                return "cluster: HAProxy"
            if first.endswith("etcd"):
                return "cluster: etcd"
            if "bin/patroni" in cmd:
                return "cluster: Patroni"
            if " serve " in cmd and any(f"--port {p}" in cmd for p in app_ports):
                return "cluster: app servers (3)"
            if cmd.startswith("bash -c while true") and " worker" in cmd:
                return "cluster: job workers"
            pid, seen = parent, seen + 1
        return "other"

    out: dict[str, float] = {}
    for pid, (_parent, cpu, _cmd) in procs.items():
        g = part(pid)
        out[g] = out.get(g, 0.0) + cpu
    return out


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
        # The standbys replay the vacuum's WAL before the runs: until the synchronous one has, every commit
        # waits for it, and the sign-ins that follow answered 503 (the database's bound) on 2026-12-06.
        lsn = await conn.fetchval("SELECT pg_current_wal_lsn()")
        for _ in range(600):
            behind = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_replication WHERE replay_lsn IS NULL OR replay_lsn < $1", lsn
            )
            if not behind:
                break
            await asyncio.sleep(0.2)
        return str(await conn.fetchval("SHOW autovacuum"))
    finally:
        await conn.close()


MEASURES = ("progress", "submission", "both", "mix")
"""``both``: two streams side by side, inquiries and submissions, their rates summed (kept for comparison with
earlier runs; it flatters the setup whose submissions wait longer, web.lua_mix says why); ``mix``: one submission
in every ten requests on every connection, the same work on both setups."""


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


async def leader_port() -> int:
    """The PostgreSQL port HAProxy's write port leads to (the Patroni leader's)."""
    conn = await asyncpg.connect(CLUSTER_PG)
    try:
        return int(await conn.fetchval("SELECT inet_server_port()"))
    finally:
        await conn.close()


def db_path(seconds: float, repeat: int) -> None:
    """``--db-path``: one app server's submissions against the single database, the leader directly, and the
    cluster through HAProxy, alternating; rates and CPU per submission by part."""
    asyncio.run(web.prepare())
    leader = asyncio.run(leader_port())
    cluster_url = CLUSTER_PG.replace("postgresql://", "postgresql+asyncpg://")
    targets = {
        "single PostgreSQL": web.URL,
        "leader, directly": cluster_url.replace(f":{C['HAPROXY_WRITE_PORT']}/", f":{leader}/"),
        "through HAProxy": cluster_url,
    }
    servers: dict[str, tuple[subprocess.Popen[bytes], str, str]] = {}
    try:
        for name, url in targets.items():
            port = web.free_port()
            proc = web.serve(
                [str(ROOT / ".venv/bin/cnvisa"), "serve", "--port", str(port), "--workers", "2"],
                {"CNVISA_DATABASE_URL": url, "PYTHONPATH": str(ROOT / "src")},
                f"http://127.0.0.1:{port}/readyz",
            )
            base = f"http://127.0.0.1:{port}"
            who = web.signin(base, "alice")
            servers[name] = (proc, base, web.lua_submit(who, web.ids(base, who)))
            web.wrk(base + "/api/v1/cases", 3, 16, servers[name][2])  # warm-up
        rates: dict[str, list[float]] = {}
        cpu: dict[str, list[dict[str, float]]] = {}
        for _ in range(repeat):
            for name, (proc, base, script) in servers.items():
                before = cpu_by_group(proc.pid)
                r = web.wrk(base + "/api/v1/cases", seconds, 16, script)
                after = cpu_by_group(proc.pid)
                n = r["rps"] * seconds
                rates.setdefault(name, []).append(r["rps"])
                cpu.setdefault(name, []).append(
                    {g: 1000 * (after[g] - before.get(g, 0.0)) / n for g in after}
                )
                print(f"{name:18s} {r['rps']:7.1f}/s p99 {r['p99_ms']:6.1f} ms errors {r['errors']:.0f}")
    finally:
        for proc, _b, _s in servers.values():
            proc.terminate()
            proc.wait(10)
    print("\nsubmissions/s (median; ÷ the single database's) and CPU per submission (ms, median) by part")
    first = statistics.median(rates["single PostgreSQL"])
    for name, per in cpu.items():
        med = {g: statistics.median(d.get(g, 0.0) for d in per) for g in {g for d in per for g in d}}
        shown = ", ".join(f"{g} {v:.2f}" for g, v in sorted(med.items(), key=lambda x: -x[1]) if v >= 0.005)
        rate = statistics.median(rates[name])
        print(f"{name:18s} {rate:7.1f}/s ({rate / first:4.0%}) total {sum(med.values()):.2f}: {shown}")


APP_PATH_HAPROXY = """global
    maxconn 2000
defaults
    mode http
    timeout connect 3s
    timeout client 60s
    timeout server 60s
    option forwardfor
frontend to_one
    bind 127.0.0.1:{one_port}
    default_backend one
backend one
    server a 127.0.0.1:{two_workers}
frontend to_two
    bind 127.0.0.1:{two_port}
    default_backend two
backend two
    balance roundrobin
{two}
frontend to_three
    bind 127.0.0.1:{three_port}
    default_backend three
backend three
    balance roundrobin
{three}
"""
"""The HAProxy of ``--app-path``: the cluster's app frontend (deploy/haproxy/haproxy.cfg.tmpl) without its
health checks, before one server of two workers, before two servers of one (as many processes as cores) and
before three (the cluster's)."""


def _wait_up(url: str, seconds: float = 20) -> None:
    import requests

    end = time.monotonic() + seconds
    while True:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > end:
            raise SystemExit(f"not up within {seconds:.0f} s: {url}")
        time.sleep(0.1)


def app_path(seconds: float, repeat: int) -> None:
    """``--app-path``: submissions on the single database through the three app tiers, alternating; rates and the
    app servers' and HAProxy's CPU per submission."""
    import tempfile

    asyncio.run(web.prepare())

    def serve(workers: int) -> tuple[subprocess.Popen[bytes], int]:
        port = web.free_port()
        proc = web.serve(
            [
                *(str(ROOT / ".venv/bin/cnvisa"), "serve", "--port", str(port), "--workers", str(workers)),
                *("--forwarded-allow-ips", "127.0.0.1"),
            ],
            {"CNVISA_DATABASE_URL": web.URL, "PYTHONPATH": str(ROOT / "src")},
            f"http://127.0.0.1:{port}/readyz",
        )
        return proc, port

    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            two, two_port = serve(2)
            ones = [serve(1) for _ in range(3)]
            procs += [two, *(p for p, _ in ones)]
            one_port, two_port_, three_port = web.free_port(), web.free_port(), web.free_port()
            cfg = Path(tmp) / "haproxy.cfg"
            cfg.write_text(
                APP_PATH_HAPROXY.format(
                    one_port=one_port,
                    two_port=two_port_,
                    three_port=three_port,
                    two_workers=two_port,
                    two="\n".join(
                        f"    server a{i} 127.0.0.1:{port}" for i, (_, port) in enumerate(ones[:2])
                    ),
                    three="\n".join(f"    server a{i} 127.0.0.1:{port}" for i, (_, port) in enumerate(ones)),
                )
            )
            hap = subprocess.Popen(["haproxy", "-f", str(cfg)])
            procs.append(hap)
            for port in (one_port, two_port_, three_port):
                _wait_up(f"http://127.0.0.1:{port}/readyz")
            tiers = {
                "one server (2 workers), directly": (two_port, [two.pid]),
                "one server (2 workers), through HAProxy": (one_port, [two.pid, hap.pid]),
                "two servers (1 worker each), through HAProxy": (
                    two_port_,
                    [p.pid for p, _ in ones[:2]] + [hap.pid],
                ),
                "three servers (1 worker each), through HAProxy": (
                    three_port,
                    [p.pid for p, _ in ones] + [hap.pid],
                ),
            }
            scripts = {}
            for name, (port, _pids) in tiers.items():
                base = f"http://127.0.0.1:{port}"
                who = web.signin(base, "alice")
                scripts[name] = web.lua_submit(who, web.ids(base, who))
                web.wrk(base + "/api/v1/cases", 3, 16, scripts[name])  # warm-up
            out: dict[str, list[tuple[float, float, float, float]]] = {}
            app = "single: app (2 workers)"  # cpu_by_group's name for the tree of the pid it is given
            for _ in range(repeat):
                for name, (port, pids) in tiers.items():
                    before = {pid: cpu_by_group(pid) for pid in pids}
                    r = web.wrk(f"http://127.0.0.1:{port}/api/v1/cases", seconds, 16, scripts[name])
                    after = {pid: cpu_by_group(pid) for pid in pids}
                    n = r["rps"] * seconds
                    spent = {pid: after[pid][app] - before[pid].get(app, 0.0) for pid in pids}
                    servers = sum(v for pid, v in spent.items() if pid != hap.pid)
                    pg = after[pids[0]]["single: PostgreSQL"] - before[pids[0]]["single: PostgreSQL"]
                    row = (r["rps"], 1000 * servers / n, 1000 * spent.get(hap.pid, 0.0) / n, 1000 * pg / n)
                    out.setdefault(name, []).append(row)
                    print(f"{name:48s} {r['rps']:7.1f}/s p99 {r['p99_ms']:6.1f} ms errors {r['errors']:.0f}")
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)
    first = statistics.median(x[0] for x in out["one server (2 workers), directly"])
    print("\nmedians: submissions/s (÷ directly); CPU per submission (ms): app servers, HAProxy, PostgreSQL")
    for name, rows in out.items():
        rate, servers, hap_ms, pg = (statistics.median(x[i] for x in rows) for i in range(4))
        print(f"{name:48s} {rate:7.1f}/s ({rate / first:4.0%})  {servers:.2f}  {hap_ms:.2f}  {pg:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--repeat", type=int, default=3, help="alternating runs per measure; figures are medians")
    ap.add_argument("--seed-cluster", action="store_true", help="load 1,000,000 cases into the cluster first")
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--db-path", action="store_true", help="one app server against three database paths")
    ap.add_argument("--app-path", action="store_true", help="the app tier's part, on the single database")
    args = ap.parse_args()
    print(f"machine: {machine.line()}")
    if args.app_path:
        app_path(args.seconds, args.repeat)
        return
    if args.db_path:
        db_path(args.seconds, args.repeat)
        return
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
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    cpu: dict[tuple[str, str], list[dict[str, float]]] = {}  # ms of CPU per request, by part
    load: list[float] = []
    try:  # the single server is stopped whatever fails, the sign-ins included
        for name, (base, pairs) in setups.items():
            who = web.signin(base, "alice")
            mine = web.ids(base, who)
            scripts[name] = {
                "progress": web.lua_pairs(pairs, "/api/v1/progress"),
                "submit": web.lua_submit(who, mine),
                "mix": web.lua_mix(pairs, who, mine),
            }
        for name, (base, _) in setups.items():  # warm-up: every worker's caches and connections
            web.wrk(base, 3, 32, scripts[name]["progress"])
            web.wrk(base + "/api/v1/cases", 3, 8, scripts[name]["submit"])
        for _ in range(args.repeat):
            for measure in MEASURES:
                for name, (base, _) in setups.items():
                    s = scripts[name]
                    before, t0 = cpu_by_group(app.pid), time.perf_counter()
                    if measure == "progress":
                        r = web.wrk(base, args.seconds, 32, s["progress"])
                    elif measure == "submission":
                        r = web.wrk(base + "/api/v1/cases", args.seconds, 16, s["submit"])
                    elif measure == "mix":
                        r = web.wrk(base, args.seconds, 32, s["mix"])
                    else:
                        r = both(base, args.seconds, s["progress"], s["submit"])
                    if r["errors"]:
                        print(
                            f"WARNING: {r['errors']:.0f} answers were not 2xx/3xx: these figures count errors"
                        )
                    after, elapsed = cpu_by_group(app.pid), time.perf_counter() - t0
                    requests = r["rps"] * args.seconds
                    cpu.setdefault((measure, name), []).append(
                        {g: 1000 * (after[g] - before.get(g, 0.0)) / requests for g in after}
                    )
                    r["cpu_cores"] = sum(after[g] - before.get(g, 0.0) for g in after) / elapsed
                    runs.setdefault((measure, name), []).append(r)
                    load.append(os.getloadavg()[0])
                    split = (
                        f" ({r['progress_rps']:.1f} inquiries + {r['submission_rps']:.1f} submissions)"
                        if measure == "both"
                        else ""
                    )
                    print(
                        f"{measure:10s} {name:7s} {r['rps']:8.1f}/s p99 {r['p99_ms']:7.1f} ms errors {r['errors']:.0f}"
                        f" cores busy {r['cpu_cores']:.2f}{split}"
                    )
    finally:
        app.terminate()
        app.wait(10)
    print(
        f"\nload average (1 min) during the runs: {min(load):.1f}–{max(load):.1f}; machine: {machine.line()}"
    )
    print("measure     single/s  cluster/s  cluster÷single (median of per-round ratios; rounds)")
    for measure in MEASURES:
        a, b = runs[(measure, "single")], runs[(measure, "cluster")]
        ratios = [y["rps"] / x["rps"] for x, y in zip(a, b, strict=True)]
        print(
            f"{measure:10s} {statistics.median(r['rps'] for r in a):9.1f} {statistics.median(r['rps'] for r in b):10.1f}"
            f"  {statistics.median(ratios):6.0%}  ("
            + ", ".join(f"{r:.0%}" for r in ratios)
            + f"); p99 single {statistics.median(r['p99_ms'] for r in a):.1f} ms, cluster "
            f"{statistics.median(r['p99_ms'] for r in b):.1f} ms; errors {sum(r['errors'] for r in a + b):.0f}"
        )
    print("\nCPU per request (ms, median of the runs), by part; 'other' is whatever else ran on the machine")
    for measure in MEASURES:
        for name in ("single", "cluster"):
            per = cpu[(measure, name)]
            parts = sorted({g for d in per for g in d})
            med = {g: statistics.median(d.get(g, 0.0) for d in per) for g in parts}
            shown = ", ".join(
                f"{g} {v:.2f}" for g, v in sorted(med.items(), key=lambda x: -x[1]) if v >= 0.005
            )
            print(f"{measure:10s} {name:7s} total {sum(med.values()):.2f}: {shown}")


if __name__ == "__main__":
    main()
