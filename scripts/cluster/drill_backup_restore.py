"""Drill (issue 14): a base backup, continuous WAL archiving, and a restore to a chosen point in time.

Run by ``make cluster-test`` against a cluster started by ``scripts/cluster.sh up``; never part of ``make test``.
PostgreSQL's own tools, as its manual describes them (continuous archiving and point-in-time recovery): the
Patroni template archives each finished WAL segment of the primary (``archive_command``, ``archive_timeout``);
this drill

1. takes a base backup of the leader with ``pg_basebackup`` (as the replication user, WAL streamed with it);
2. writes audited API tokens labelled ``before`` through the app frontend, notes the primary's clock (the target),
   then writes tokens labelled ``after``, and has the segment switched and archived;
3. restores the base backup into a fresh directory with ``restore_command`` and ``recovery_target_time`` = the
   target, starts it on a free port (archiving off: it must not write into the cluster's archive) and waits for
   it to promote;
4. checks there: every ``before`` token present, no ``after`` token, ``cnvisa audit verify`` passes; prints the
   time the restore took, and removes the instance.

The recovery point of this drill is exact (a chosen instant). What a loss of every node would cost is bounded by
``archive_timeout`` (60 s), the age of the last archived segment — printed too.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from drill_primary_kill import APP, C, leader, sign_in

CLUSTER = Path(C["CLUSTER_DIR"])
PG_BIN = Path(C["PG_BIN"])
PG_USER = C.get("PG_OS_USER", "postgres")
PG_PORT = dict(zip(C["PG_NODES"].split(), C["PG_PORTS"].split(), strict=True))


def as_pg(
    *cmd: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", PG_USER, "--", *cmd], capture_output=True, text=True, check=check, env=env
    )


def psql(port: str, sql: str, *, host: str = "127.0.0.1", user: str = "postgres", password: str = "") -> str:
    env = os.environ | {"PGPASSWORD": password or C["PG_SUPERUSER_PASSWORD"], "PGCONNECT_TIMEOUT": "5"}
    out = subprocess.run(
        ["psql", "-X", "-tA", "-h", host, "-p", port, "-U", user, "-d", C["DB_NAME"], "-c", sql],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return out.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def write_tokens(prefix: str, n: int) -> set[str]:
    async with httpx.AsyncClient(timeout=20) as client:
        csrf = await sign_in(client)
        done = set()
        for i in range(n):
            label = f"{prefix}-{i}"
            r = await client.post(
                f"{APP}/api/v1/verify/tokens", json={"label": label}, headers={"X-CSRF-Token": csrf}
            )
            if 200 <= r.status_code < 300:
                done.add(label)
        return done


def main() -> int:
    node = leader()
    if node is None:
        print("drill backup-restore: FAIL: no leader")
        return 1
    run = time.strftime("%H%M%S")
    base = CLUSTER / "backup" / f"base-{run}"
    restored = CLUSTER / "backup" / f"restore-{run}"
    archive = CLUSTER / "archive"
    print(f"drill backup-restore: base backup of the leader {node}, WAL archive {archive}")

    t = time.monotonic()
    env = os.environ | {"PGPASSWORD": C["PG_REPLICATION_PASSWORD"]}
    as_pg(
        str(PG_BIN / "pg_basebackup"),
        *("-h", "127.0.0.1", "-p", PG_PORT[node], "-U", "replicator", "-D", str(base)),
        *("-X", "stream", "-c", "fast", "--no-password"),
        env=env,
    )
    size = sum(f.stat().st_size for f in base.rglob("*") if f.is_file())
    print(f"  base backup: {size / 2**20:.0f} MiB in {time.monotonic() - t:.1f} s")

    before = asyncio.run(write_tokens(f"pitr-{run}-before", 200))
    time.sleep(1.0)
    target = psql(PG_PORT[node], "select now()::text")  # the primary's clock, not this process's
    time.sleep(1.0)
    after = asyncio.run(write_tokens(f"pitr-{run}-after", 200))
    wal = psql(PG_PORT[node], "select pg_walfile_name(pg_switch_wal())")
    t = time.monotonic()
    while not (archive / wal).exists() and time.monotonic() - t < 60:
        time.sleep(0.2)
    print(
        f"  written through the app: {len(before)} tokens before the target {target}, {len(after)} after; "
        f"segment {wal} archived: {(archive / wal).exists()}"
    )
    last = psql(
        PG_PORT[node],
        "select coalesce(extract(epoch from now() - last_archived_time)::int, -1) from pg_stat_archiver",
    )
    print(f"  the archive's newest segment is {last} s old (archive_timeout 60 s bounds this)")

    port = free_port()
    t = time.monotonic()
    as_pg("cp", "-a", str(base), str(restored))
    for f in ("standby.signal", "postmaster.pid"):
        (restored / f).unlink(missing_ok=True)
    (restored / "recovery.signal").touch()
    # A base backup of a node Patroni once started as a replica carries Patroni's recovery block in its
    # postgresql.conf (recovery_target = '' …): PostgreSQL 15 refuses it beside our recovery_target_time
    # ("multiple recovery targets specified"). The restored copy is not Patroni's: drop those lines.
    conf = restored / "postgresql.conf"
    if conf.exists():
        lines = conf.read_text().splitlines(keepends=True)
        conf.write_text("".join(x for x in lines if not x.lstrip().startswith("recovery_target")))
    shutil.chown(restored / "recovery.signal", PG_USER, PG_USER)
    sock = CLUSTER / "run" / f"restore-{run}"
    sock.mkdir(exist_ok=True)
    shutil.chown(sock, PG_USER, PG_USER)
    opts = " ".join(
        [
            f"-c port={port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={sock}",
            "-c archive_mode=off",  # a restored copy never writes into the cluster's archive
            f"-c restore_command='cp {archive}/%f %p'",
            f"-c recovery_target_time='{target}'",
            "-c recovery_target_action=promote",
            "-c hot_standby=on",
            f"-c hba_file={restored}/pg_hba.conf",
            f"-c ident_file={restored}/pg_ident.conf",
        ]
    )
    start = as_pg(
        str(PG_BIN / "pg_ctl"),
        "-D",
        str(restored),
        "-o",
        opts,
        "-l",
        str(restored / "restore.log"),
        "-w",
        "-t",
        "300",
        "start",
        check=False,
    )
    ok = start.returncode == 0
    promoted = False
    while ok and time.monotonic() - t < 300:
        try:
            promoted = psql(str(port), "select not pg_is_in_recovery()") == "t"
        except subprocess.CalledProcessError:
            promoted = False
        if promoted:
            break
        time.sleep(0.3)
    took = time.monotonic() - t
    if not promoted:
        print(
            "  FAIL: the restored instance did not come up:\n"
            + (restored / "restore.log").read_text()[-3000:]
        )
        as_pg(str(PG_BIN / "pg_ctl"), "-D", str(restored), "-m", "immediate", "stop", check=False)
        return 1
    print(f"  restored to {target} on :{port}, promoted, in {took:.1f} s")

    labels = set(psql(str(port), f"select label from api_tokens where label like 'pitr-{run}-%'").split())
    kept, lost, leaked = before & labels, before - labels, after & labels
    print(
        f"  before the target: {len(kept)} of {len(before)} restored; after it: {len(leaked)} of {len(after)} (must be 0)"
    )
    url = f"postgresql+asyncpg://postgres:{C['PG_SUPERUSER_PASSWORD']}@127.0.0.1:{port}/{C['DB_NAME']}"
    env = os.environ | {"CNVISA_SECRET": C["CNVISA_SECRET_VALUE"]}
    if C.get("APP_SRC"):
        env["PYTHONPATH"] = C["APP_SRC"]
    v = subprocess.run(
        [C["CNVISA_BIN"], "audit", "verify", "--database-url", url], capture_output=True, text=True, env=env
    )
    print(
        f"  cnvisa audit verify on the restored instance: exit {v.returncode}: {(v.stdout or v.stderr).strip().splitlines()[-1:]}"
    )

    as_pg(str(PG_BIN / "pg_ctl"), "-D", str(restored), "-m", "fast", "-w", "stop", check=False)
    shutil.rmtree(restored, ignore_errors=True)
    shutil.rmtree(base, ignore_errors=True)
    shutil.rmtree(sock, ignore_errors=True)
    good = not lost and not leaked and v.returncode == 0
    print(
        "PASS" if good else "FAIL",
        f"- point-in-time restore in {took:.1f} s, {len(lost)} lost, {len(leaked)} past the target",
    )
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
