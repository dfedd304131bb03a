"""Drills (issue 14): an app server killed during a burst of writes; a replica killed during a burst of reads.

Run by ``make cluster-test`` against a cluster started by ``scripts/cluster.sh up``; never part of ``make test``.

- ``app``: eight clients write (a verifier's API token, audited: POST /api/v1/verify/tokens) through the app
  frontend (HAProxy -> three ``cnvisa serve``); at ``--kill-at`` one app server's whole process group is killed
  with SIGKILL. Printed: answers by status, the slowest request against the client's timeout, every acknowledged
  write looked up in the database (none may be missing), ``cnvisa audit verify``; the server is started again.
- ``replica``: eight clients ask the progress inquiry (POST /api/v1/progress: reads that tolerate lag, on the
  replica through HAProxy's read port — ``cnvisa.store.replica``); at ``--kill-at`` the asynchronous replica's
  Patroni and PostgreSQL are killed with SIGKILL. Printed: answers by status (a 5xx or no answer is an error a
  user sees: there must be none), where the reads ran before and after (``cnvisa_db_tolerant_reads_total`` from
  each app server's /metrics), and the replica back after ``scripts/cluster.sh up``.

Each inquiry comes from its own address (X-Forwarded-For, trusted from HAProxy) so the per-address limit of the
public inquiry does not turn the drill into a rate-limit test; the numbers asked are well-formed and unknown
(404): the answer still needs the database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx
from drill_primary_kill import (
    APP,
    NODES,
    ROOT,
    Burst,
    C,
    Result,
    audit_verify,
    db_labels,
    leader,
    rest,
    sign_in,
    writer,
)

APP_PORTS = C["APP_PORTS"].split()


def replicas() -> list[str]:
    """Nodes answering Patroni's /replica (streaming replicas) and not /sync: the asynchronous ones first."""
    out = [n for n in NODES if rest(n, "/replica")[0] == 200]
    return sorted(out, key=lambda n: rest(n, "/sync")[0] == 200)


def tolerant_reads() -> dict[str, float]:
    """``cnvisa_db_tolerant_reads_total`` summed over the app servers, by target."""
    total: dict[str, float] = {"replica": 0.0, "primary": 0.0}
    for port in APP_PORTS:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                text = r.read().decode()
        except OSError:
            continue
        for target, value in re.findall(
            r'cnvisa_db_tolerant_reads_total\{target="(\w+)"\} ([0-9.e+]+)', text
        ):
            total[target] += float(value)
    return total


async def reader(client: httpx.AsyncClient, k: int, burst: Burst, t0: float) -> None:
    n = 0
    while not burst.stop:
        n += 1
        number = f"SH01-20251120-{random.randrange(16**8):08X}"
        who = f"10.{k}.{n // 250 % 250}.{n % 250 + 1}"
        s = time.monotonic()
        try:
            r = await client.post(
                f"{APP}/api/v1/progress",
                json={"number": number, "passport": "E12345678"},
                headers={"X-Forwarded-For": who},
            )
            burst.results.append(Result(number, s - t0, time.monotonic() - t0, r.status_code))
        except httpx.HTTPError as e:
            burst.results.append(Result(number, s - t0, time.monotonic() - t0, 0, type(e).__name__))


def summary(res: list[Result], timeout: float) -> tuple[dict[int, int], float]:
    by_status: dict[int, int] = {}
    for r in res:
        by_status[r.status] = by_status.get(r.status, 0) + 1
    slowest = max((r.end - r.start for r in res), default=0.0)
    print(
        f"  answers: {len(res)}; by status: "
        + ", ".join(f"{'no answer' if s == 0 else s}={c}" for s, c in sorted(by_status.items()))
    )
    print(f"  slowest request: {slowest:.2f} s (client timeout {timeout:.0f} s)")
    return by_status, slowest


def cluster_up() -> None:
    up = subprocess.run([str(ROOT / "scripts" / "cluster.sh"), "up"], capture_output=True, text=True)
    if up.returncode:
        print("  scripts/cluster.sh up failed:\n" + up.stdout[-2000:] + up.stderr[-2000:])


async def drill_app(a: argparse.Namespace) -> bool:
    run = time.strftime("%H%M%S")
    victim = random.randrange(len(APP_PORTS))
    pidfile = Path(C["CLUSTER_DIR"]) / "run" / f"app{victim + 1}.pid"
    print(
        f"drill app-kill: {a.clients} writers for {a.seconds:.0f} s through {APP}; SIGKILL app{victim + 1} at {a.kill_at:.0f} s"
    )
    limits = httpx.Limits(max_connections=a.clients, max_keepalive_connections=a.clients)
    async with httpx.AsyncClient(timeout=a.timeout, limits=limits) as client:
        csrf = await sign_in(client)
        burst = Burst()
        t0 = time.monotonic()
        tasks = [
            asyncio.create_task(writer(client, csrf, f"appdrill-{run}", k, burst, t0))
            for k in range(a.clients)
        ]
        await asyncio.sleep(a.kill_at)
        group = int(pidfile.read_text())
        os.killpg(group, signal.SIGKILL)
        print(
            f"  {time.monotonic() - t0:6.2f} s  SIGKILL process group {group} (app{victim + 1}, :{APP_PORTS[victim]})"
        )
        await asyncio.sleep(max(0.0, a.seconds - a.kill_at))
        burst.stop = True
        await asyncio.gather(*tasks)
    by_status, slowest = summary(burst.results, a.timeout)
    acked = {r.label for r in burst.results if 200 <= r.status < 300}
    stored = db_labels(f"appdrill-{run}-")
    lost = acked - stored
    print(
        f"  acknowledged (2xx): {len(acked)}; stored: {len(stored)}; acknowledged but LOST: {len(lost)}; "
        f"stored without a 2xx (answer cut with its server): {len(stored - acked)}"
    )
    errors = sum(c for s, c in by_status.items() if s == 0 or s >= 500)
    v = audit_verify()
    print(f"  cnvisa audit verify: exit {v.returncode}: {(v.stdout or v.stderr).strip().splitlines()[-1:]}")
    print(f"  answers that were errors (5xx or none): {errors}")
    cluster_up()
    ok = not lost and v.returncode == 0 and slowest < a.timeout
    print(
        "PASS" if ok else "FAIL",
        "- 0 acknowledged writes lost" if not lost else f"- {len(lost)} LOST",
        f"- {errors} errors",
    )
    return ok


async def drill_replica(a: argparse.Namespace) -> bool:
    reps = replicas()
    if not reps:
        print("drill replica-kill: FAIL: no replica streaming")
        return False
    victim = reps[0]
    print(
        f"drill replica-kill: leader {leader()}, replicas {reps}; {a.clients} readers for {a.seconds:.0f} s "
        f"through {APP}; SIGKILL {victim} (Patroni and PostgreSQL) at {a.kill_at:.0f} s"
    )
    before = tolerant_reads()
    limits = httpx.Limits(max_connections=a.clients, max_keepalive_connections=a.clients)
    async with httpx.AsyncClient(timeout=a.timeout, limits=limits) as client:
        burst = Burst()
        t0 = time.monotonic()
        tasks = [asyncio.create_task(reader(client, k, burst, t0)) for k in range(a.clients)]
        await asyncio.sleep(a.kill_at)
        at_kill = tolerant_reads()
        data = Path(C["CLUSTER_DIR"]) / "data" / victim
        postmaster = int((data / "postmaster.pid").read_text().split()[0])
        patroni = int((Path(C["CLUSTER_DIR"]) / "run" / f"patroni-{victim}.pid").read_text())
        os.kill(patroni, signal.SIGKILL)
        os.kill(postmaster, signal.SIGKILL)
        print(f"  {time.monotonic() - t0:6.2f} s  SIGKILL {victim}: patroni {patroni}, postgres {postmaster}")
        await asyncio.sleep(max(0.0, a.seconds - a.kill_at))
        burst.stop = True
        await asyncio.gather(*tasks)
    after = tolerant_reads()
    by_status, _slowest = summary(burst.results, a.timeout)
    errors = sum(c for s, c in by_status.items() if s == 0 or s >= 500)
    print(
        "  tolerant reads (all app servers): before the kill "
        f"replica {at_kill['replica'] - before['replica']:.0f} / primary {at_kill['primary'] - before['primary']:.0f}; "
        f"after it replica {after['replica'] - at_kill['replica']:.0f} / primary {after['primary'] - at_kill['primary']:.0f}"
    )
    print(f"  answers that were errors a user sees (5xx or none): {errors}")
    cluster_up()
    t = time.monotonic()
    back = False
    while time.monotonic() - t < 90:
        code, d = rest(victim, "/patroni")
        if code == 200 and d.get("role") == "replica" and d.get("state") in ("running", "streaming"):
            back = True
            break
        await asyncio.sleep(1)
    state = "back as a replica" if back else "NOT back"
    print(f"  {victim} {state} {time.monotonic() - t:.1f} s after its Patroni was started again")
    ok = errors == 0 and back and by_status.get(404, 0) > 0
    print("PASS" if ok else "FAIL", f"- {errors} errors a user saw")
    return ok


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("which", choices=["app", "replica", "both"], nargs="?", default="both")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--kill-at", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=20.0)
    a = ap.parse_args()
    ok = True
    if a.which in ("app", "both"):
        ok = await drill_app(a) and ok
    if a.which in ("replica", "both"):
        ok = await drill_replica(a) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
