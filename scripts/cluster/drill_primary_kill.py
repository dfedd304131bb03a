"""Drill (issue 14): the primary killed during a burst of writes through HAProxy.

Run by ``make cluster-test`` against a cluster started by ``scripts/cluster.sh up``; never part of ``make test``.

The write: a verifier's API token (POST /api/v1/verify/tokens, audited), signed in once as the demo's bank teller,
sent through the app frontend (HAProxy -> three cnvisa serve -> HAProxy write port -> the Patroni leader).
Each request carries a unique label; a 2xx answer is an acknowledgement. At ``--kill-at`` seconds the leader is
killed with SIGKILL:

- ``--mode node`` (default): Patroni and its PostgreSQL on the leader, as when the machine dies; the leader key
  expires (ttl) and Patroni promotes the synchronous standby. Afterwards ``scripts/cluster.sh up`` starts the dead
  node's Patroni again and the drill waits for it to rejoin as a replica.
- ``--mode postgres``: the leader's postmaster only; Patroni, still holding the leader key, restarts it in place.

Printed: writes answered by status, the outage (kill -> first 2xx after it), the new leader and when Patroni
reported it, the slowest request, acknowledged writes missing from the database after the failover (must be 0),
``cnvisa audit verify`` on the new primary, and whether the old primary rejoined as a replica.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def conf() -> dict[str, str]:
    """The cluster's one config file, evaluated by bash (so environment overrides apply)."""
    out = subprocess.run(
        ["bash", "-c", f'source "{HERE}/cluster.conf"; set -o posix; set'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    env = {}
    for line in out.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            env[k] = v.strip("'")
    return env


C = conf()
NODES = C["PG_NODES"].split()
REST = dict(zip(NODES, C["PATRONI_PORTS"].split(), strict=True))
APP = f"http://127.0.0.1:{C['HAPROXY_APP_PORT']}"
WRITE_URL = f"postgresql+asyncpg://{C['DB_USER']}:{C['DB_PASSWORD']}@127.0.0.1:{C['HAPROXY_WRITE_PORT']}/{C['DB_NAME']}"


def rest(node: str, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{REST[node]}{path}", timeout=1) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"{}")
        except ValueError:
            return e.code, {}
    except Exception:
        return 0, {}


def leader() -> str | None:
    for n in NODES:
        if rest(n, "/primary")[0] == 200:
            return n
    return None


def sync_standby() -> str | None:
    for n in NODES:
        if rest(n, "/sync")[0] == 200:
            return n
    return None


@dataclass
class Result:
    label: str
    start: float
    end: float
    status: int  # 0: no answer (timeout, connection error)
    error: str = ""
    retry_after: str | None = None


@dataclass
class Burst:
    results: list[Result] = field(default_factory=list)
    stop: bool = False


async def sign_in(client: httpx.AsyncClient) -> str:
    r = await client.post(
        f"{APP}/api/v1/auth/signin", json={"username": "bank.teller", "password": "bank-demo-2025"}
    )
    r.raise_for_status()
    return str(r.json()["csrf"])


async def writer(
    client: httpx.AsyncClient,
    csrf: str,
    label: str,
    k: int,
    burst: Burst,
    t0: float,
    *,
    app: Callable[[int], str] = lambda n: APP,
    pause: float = 0.2,
) -> None:
    """One client of a drill's burst: audited API tokens labelled ``{label}-{k}-{n}``, sent to ``app(n)`` until
    the burst stops; each answer recorded (a 2xx is an acknowledgement), a pause of ``pause`` after an error."""
    n = 0
    while not burst.stop:
        n += 1
        name = f"{label}-{k}-{n}"
        s = time.monotonic()
        try:
            r = await client.post(
                f"{app(n)}/api/v1/verify/tokens", json={"label": name}, headers={"X-CSRF-Token": csrf}
            )
            burst.results.append(
                Result(
                    name,
                    s - t0,
                    time.monotonic() - t0,
                    r.status_code,
                    retry_after=r.headers.get("Retry-After"),
                )
            )
            if r.status_code >= 500:
                await asyncio.sleep(pause)
        except httpx.HTTPError as e:
            burst.results.append(Result(name, s - t0, time.monotonic() - t0, 0, type(e).__name__))
            await asyncio.sleep(pause)


def audit_verify() -> subprocess.CompletedProcess[str]:
    """``cnvisa audit verify`` through the write port, with the cluster's secret and code."""
    env = os.environ | {"CNVISA_SECRET": C["CNVISA_SECRET_VALUE"]}
    if C.get("APP_SRC"):
        env["PYTHONPATH"] = C["APP_SRC"]
    return subprocess.run(
        [C["CNVISA_BIN"], "audit", "verify", "--database-url", WRITE_URL],
        capture_output=True,
        text=True,
        env=env,
    )


def kill_leader(mode: str) -> tuple[str, str]:
    node = leader()
    if node is None:
        sys.exit("no leader: is the cluster up? (scripts/cluster.sh status)")
    data = Path(C["CLUSTER_DIR"]) / "data" / node
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    killed = [f"postgres {postmaster}"]
    if mode == "node":
        patroni = int((Path(C["CLUSTER_DIR"]) / "run" / f"patroni-{node}.pid").read_text())
        os.kill(patroni, signal.SIGKILL)
        killed.insert(0, f"patroni {patroni}")
    os.kill(postmaster, signal.SIGKILL)
    return node, ", ".join(killed)


async def watch_leader(t0: float, seen: dict[str, float], burst: Burst) -> None:
    while not burst.stop:
        n = await asyncio.to_thread(leader)
        if n and n not in seen:
            seen[n] = time.monotonic() - t0
        await asyncio.sleep(0.25)


def db_labels(prefix: str) -> set[str]:
    psql = [
        "psql",
        "-X",
        "-tA",
        "-h",
        "127.0.0.1",
        "-p",
        C["HAPROXY_WRITE_PORT"],
        "-U",
        C["DB_USER"],
        "-d",
        C["DB_NAME"],
        "-c",
        f"select label from api_tokens where label like '{prefix}%'",
    ]
    out = subprocess.run(
        psql, capture_output=True, text=True, check=True, env=os.environ | {"PGPASSWORD": C["DB_PASSWORD"]}
    )
    return set(out.stdout.split())


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=40.0, help="length of the burst")
    ap.add_argument("--kill-at", type=float, default=10.0, help="seconds into the burst")
    ap.add_argument("--clients", type=int, default=8, help="concurrent writers")
    ap.add_argument("--timeout", type=float, default=20.0, help="a client's wait for one answer")
    ap.add_argument("--mode", choices=["node", "postgres"], default="node")
    a = ap.parse_args()

    run = time.strftime("%H%M%S")
    before = leader()
    sync = sync_standby()
    print(
        f"drill primary-kill ({a.mode}): leader {before}, synchronous standby {sync}; "
        f"{a.clients} writers for {a.seconds:.0f} s through {APP}, SIGKILL at {a.kill_at:.0f} s"
    )
    if before is None or sync is None:
        print("FAIL: the cluster has no leader or no synchronous standby")
        return 1

    limits = httpx.Limits(max_connections=a.clients, max_keepalive_connections=a.clients)
    async with httpx.AsyncClient(timeout=a.timeout, limits=limits) as client:
        csrf = await sign_in(client)
        burst = Burst()
        t0 = time.monotonic()
        seen: dict[str, float] = {before: 0.0}
        tasks = [
            asyncio.create_task(writer(client, csrf, f"drill-{run}", k, burst, t0)) for k in range(a.clients)
        ]
        tasks.append(asyncio.create_task(watch_leader(t0, seen, burst)))
        await asyncio.sleep(a.kill_at)
        killed_node, what = kill_leader(a.mode)
        t_kill = time.monotonic() - t0
        print(f"  {t_kill:6.2f} s  SIGKILL {killed_node}: {what}")
        await asyncio.sleep(max(0.0, a.seconds - t_kill))
        burst.stop = True
        await asyncio.gather(*tasks)

    res = burst.results
    by_status: dict[int, int] = {}
    for r in res:
        by_status[r.status] = by_status.get(r.status, 0) + 1
    acked = {r.label for r in res if 200 <= r.status < 300}
    after_kill_ok = [r.end for r in res if 200 <= r.status < 300 and r.start >= t_kill]
    first_ok = min(after_kill_ok) if after_kill_ok else None
    failed = [r for r in res if not 200 <= r.status < 300]
    slowest = max(res, key=lambda r: r.end - r.start)
    new_leader = leader()
    promoted_at = {n: t for n, t in seen.items() if n != before}

    print(
        f"  writes answered: {len(res)}; by status: "
        + ", ".join(f"{'no answer' if s == 0 else s}={c}" for s, c in sorted(by_status.items()))
    )
    if failed:
        print(
            f"  failed writes between {min(r.start for r in failed):.2f} s and {max(r.end for r in failed):.2f} s;"
            f" with Retry-After: {sum(1 for r in failed if r.retry_after)} of {len(failed)}"
        )
    print(
        f"  slowest request: {slowest.end - slowest.start:.2f} s (status {slowest.status or 'no answer'}; "
        f"client timeout {a.timeout:.0f} s)"
    )
    for n, t in promoted_at.items():
        print(f"  new leader {n} reported by Patroni at {t:.2f} s: {t - t_kill:.2f} s after the kill")
    if first_ok is None:
        print("  FAIL: no write succeeded after the kill")
        outage = None
    else:
        outage = first_ok - t_kill
        print(f"  writes resumed: first 2xx after the kill at {first_ok:.2f} s -> outage {outage:.2f} s")
    print(f"  leader now: {new_leader}")

    stored = db_labels(f"drill-{run}-")
    lost = acked - stored
    unacked_stored = stored - acked
    print(
        f"  acknowledged (2xx): {len(acked)}; stored: {len(stored)}; acknowledged but LOST: {len(lost)}"
        f"; stored without a 2xx (answer lost in the failover): {len(unacked_stored)}"
    )
    if lost:
        print("    lost: " + ", ".join(sorted(lost)[:20]))

    t = time.monotonic()
    v = audit_verify()
    print(
        f"  cnvisa audit verify on {new_leader}: exit {v.returncode} in {time.monotonic() - t:.1f} s: "
        f"{(v.stdout.strip() or v.stderr.strip()).splitlines()[-1] if (v.stdout or v.stderr).strip() else ''}"
    )

    rejoined = False
    t = time.monotonic()
    if a.mode == "node":
        up = subprocess.run([str(ROOT / "scripts" / "cluster.sh"), "up"], capture_output=True, text=True)
        if up.returncode:
            print("  restarting the dead node failed:\n" + up.stdout[-2000:] + up.stderr[-2000:])
    if new_leader == killed_node:  # --mode postgres: Patroni restarted its PostgreSQL in place, no failover
        print(f"  no failover: Patroni restarted {killed_node}'s PostgreSQL in place and kept the leader key")
        rejoined = True
    while not rejoined and time.monotonic() - t < 90:
        code, d = rest(killed_node, "/patroni")
        if code == 200 and d.get("role") == "replica" and d.get("state") in ("running", "streaming"):
            rejoined = True
            break
        await asyncio.sleep(1)
    if new_leader != killed_node:
        print(
            f"  old primary {killed_node} "
            + (
                f"rejoined as a replica, streaming, {time.monotonic() - t:.1f} s after its Patroni was started again"
                if rejoined
                else "did NOT rejoin as a replica within 90 s"
            )
        )
    print(f"  synchronous standby now: {sync_standby()}")

    ok = bool(not lost and outage is not None and outage <= 30 and v.returncode == 0 and rejoined)
    print(
        "PASS" if ok else "FAIL",
        "- 0 acknowledged writes lost" if not lost else f"- {len(lost)} LOST",
        f"- outage {outage:.2f} s (bound 30 s)" if outage is not None else "- writes never resumed",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
