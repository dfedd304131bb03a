"""Drill (issue 14): the network between the app servers and the database stalls — connections stay open and
nothing comes back (a frozen switch or load balancer, a half-dead link), not a refused connection.

Run by ``make cluster-test`` against a cluster started by ``scripts/cluster.sh up``; never part of ``make test``.

How the stall is made: the app servers reach PostgreSQL only through HAProxy's write and read ports; the drill
stops that HAProxy process with SIGSTOP for ``--stall`` seconds, then SIGCONT. Its sockets stay open and the
kernel still completes new TCP handshakes into its listen backlog, but no byte is forwarded either way — what an
app sees of a stalled network. Patroni talks to PostgreSQL directly, so no failover muddles the picture. The
writers therefore send to the three ``cnvisa serve`` instances directly (round robin), not through HAProxy's app
frontend (the same process). No packet filter is needed (this machine has no iptables or netem).

The write is the one of the other drills: a verifier's API token (POST /api/v1/verify/tokens, audited, one
transaction), signed in once as the demo's bank teller; each carries a unique label; a 2xx is an acknowledgement.

Printed: writes by status; the slowest request against the bound (``CNVISA_REQUEST_TIMEOUT``, 20 s by default:
past it the platform answers 503 with Retry-After whatever the database does); the answers during the stall (503
with Retry-After, never a 500, never a hang); ``/readyz`` during the stall and how long it took; when writes
resumed after the SIGCONT; acknowledged writes missing from the database (must be 0); writes stored without a 2xx
(the answer was cut, the transaction committed whole); ``cnvisa audit verify`` (nothing half-written).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import httpx
from drill_primary_kill import Burst, C, audit_verify, db_labels, writer

APPS = [f"http://127.0.0.1:{p}" for p in C["APP_PORTS"].split()]
HAPROXY_PID = Path(C["CLUSTER_DIR"]) / "run" / "haproxy.pid"


async def sign_in(client: httpx.AsyncClient) -> str:
    r = await client.post(
        f"{APPS[0]}/api/v1/auth/signin", json={"username": "bank.teller", "password": "bank-demo-2025"}
    )
    r.raise_for_status()
    return str(r.json()["csrf"])


async def ready_probe(client: httpx.AsyncClient) -> tuple[int, float]:
    s = time.monotonic()
    try:
        r = await client.get(f"{APPS[1]}/readyz")
        return r.status_code, time.monotonic() - s
    except httpx.HTTPError:
        return 0, time.monotonic() - s


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=50.0, help="length of the burst")
    ap.add_argument("--stall-at", type=float, default=10.0, help="seconds into the burst")
    ap.add_argument("--stall", type=float, default=25.0, help="how long the network stays stalled")
    ap.add_argument("--clients", type=int, default=6, help="concurrent writers")
    ap.add_argument("--bound", type=float, default=float(os.environ.get("CNVISA_REQUEST_TIMEOUT", 20)))
    ap.add_argument(
        "--timeout", type=float, default=40.0, help="a client's wait for one answer (> the bound)"
    )
    a = ap.parse_args()
    if not HAPROXY_PID.exists():
        print("drill network-stall: FAIL: no HAProxy pid: is the cluster up? (scripts/cluster.sh status)")
        return 1
    haproxy = int(HAPROXY_PID.read_text())
    run = time.strftime("%H%M%S")
    print(
        f"drill network-stall: {a.clients} writers for {a.seconds:.0f} s to {len(APPS)} app servers directly; "
        f"HAProxy (pid {haproxy}, the app servers' only way to PostgreSQL) stopped at {a.stall_at:.0f} s "
        f"for {a.stall:.0f} s; bound {a.bound:.0f} s (CNVISA_REQUEST_TIMEOUT)"
    )
    limits = httpx.Limits(max_connections=a.clients + 2, max_keepalive_connections=a.clients + 2)
    async with httpx.AsyncClient(timeout=a.timeout, limits=limits) as client:
        csrf = await sign_in(client)
        burst = Burst()
        t0 = time.monotonic()
        tasks = [
            asyncio.create_task(
                writer(
                    client,
                    csrf,
                    f"stall-{run}",
                    k,
                    burst,
                    t0,
                    app=lambda n, k=k: APPS[(k + n) % len(APPS)],
                    pause=0.5,
                )
            )
            for k in range(a.clients)
        ]
        await asyncio.sleep(a.stall_at)
        t_stall = time.monotonic() - t0
        os.kill(haproxy, signal.SIGSTOP)
        try:
            print(f"  {t_stall:6.2f} s  SIGSTOP haproxy: the network to the database stalls")
            await asyncio.sleep(min(3.0, a.stall / 2))
            ready = await ready_probe(client)
            print(f"  {time.monotonic() - t0:6.2f} s  /readyz answered {ready[0]} in {ready[1]:.2f} s")
            await asyncio.sleep(max(0.0, t_stall + a.stall - (time.monotonic() - t0)))
        finally:
            os.kill(haproxy, signal.SIGCONT)
        t_resume = time.monotonic() - t0
        print(f"  {t_resume:6.2f} s  SIGCONT haproxy")
        await asyncio.sleep(max(0.0, a.seconds - t_resume))
        burst.stop = True
        await asyncio.gather(*tasks)
        ready_after = await ready_probe(client)

    res = burst.results
    by_status: dict[int, int] = {}
    for r in res:
        by_status[r.status] = by_status.get(r.status, 0) + 1
    print(
        f"  writes answered: {len(res)}; by status: "
        + ", ".join(f"{'no answer' if s == 0 else s}={c}" for s, c in sorted(by_status.items()))
    )
    during = [r for r in res if r.end > t_stall and r.start < t_resume]
    failed = [r for r in res if not 200 <= r.status < 300]
    bad = [r for r in failed if r.status != 503 or not r.retry_after]
    slowest = max(res, key=lambda r: r.end - r.start)
    print(
        f"  requests meeting the stall: {len(during)}; failed {len(failed)}, of which 503 with Retry-After "
        f"{len(failed) - len(bad)}; other answers: {sorted({(r.status, r.error) for r in bad})}"
    )
    print(
        f"  slowest request: {slowest.end - slowest.start:.2f} s (status {slowest.status or 'no answer'}; bound "
        f"{a.bound:.0f} s + 2 s)"
    )
    resumed = [r.end for r in res if 200 <= r.status < 300 and r.start >= t_resume]
    first_ok = min(resumed) - t_resume if resumed else None
    print(
        "  writes resumed "
        + (f"{first_ok:.2f} s after the SIGCONT" if first_ok is not None else "NEVER after the SIGCONT")
        + f"; /readyz after: {ready_after[0]}"
    )
    acked = {r.label for r in res if 200 <= r.status < 300}
    stored = db_labels(f"stall-{run}-")
    lost = acked - stored
    print(
        f"  acknowledged (2xx): {len(acked)}; stored: {len(stored)}; acknowledged but LOST: {len(lost)}; "
        f"stored without a 2xx (answer cut, transaction whole): {len(stored - acked)}"
    )
    v = audit_verify()
    out = (v.stdout.strip() or v.stderr.strip()).splitlines()
    print(f"  cnvisa audit verify: exit {v.returncode}: {out[-1] if out else ''}")
    ok = bool(
        not lost
        and not bad
        and slowest.end - slowest.start <= a.bound + 2
        and ready[0] == 503
        and ready[1] <= a.bound + 2
        and first_ok is not None
        and first_ok <= 30
        and v.returncode == 0
    )
    print(
        "PASS" if ok else "FAIL",
        "- 0 acknowledged writes lost" if not lost else f"- {len(lost)} LOST",
        f"- slowest {slowest.end - slowest.start:.2f} s",
        f"- resumed {first_ok:.2f} s after the stall ended" if first_ok is not None else "- never resumed",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
