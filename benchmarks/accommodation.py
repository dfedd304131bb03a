"""The accommodation register's speed (issue 11 §3 "Shown by"), on PostgreSQL:

- **hotels**: registrations through the API — ``POST /api/v1/accommodation/hotel-stays`` with a hotel's bearer
  token, batches of 100 new guests (each a passport not yet on record, so each writes a person, a passport and a
  stay), several hotel systems sending at once, against ``uvicorn`` with 2 workers. Target ≥ 2,000 guests/s with
  p99 ≤ 200 ms a batch.
- **police**: a police station's day view (``AccommodationService.area_day``: one page of 50 of the registrations of
  its area begun on a day, late ones first, with the day's counts — registered, on time, late, possibly missing)
  at 10,000,000 stored registrations, as a police station's desk (``police_officer``, area 310115) — all, late
  only, possibly missing — and as a county's, a prefecture's and a province's exit-entry office. Target ≤ 50 ms.

    .venv/bin/python benchmarks/accommodation.py hotels [--seconds 20] [--senders 4]   # fresh database, dropped
    .venv/bin/python benchmarks/accommodation.py cpu [--batches 60] [--src other/src] [--profile out.prof]
    .venv/bin/python benchmarks/accommodation.py police build [--registrations 10000000]  # fresh database (minutes)
    .venv/bin/python benchmarks/accommodation.py police run [--rounds 200]
    .venv/bin/python benchmarks/accommodation.py police drop

``cpu``: what one batch of 100 new guests costs, one batch at a time in-process (the ASGI application called
directly, no sockets, no load generator, so two versions compare on a busy machine): the platform's CPU (this
process, all threads), the database's CPU (this database's backends, from /proc), the statements sent (an engine
event listener) and the wall time, each per batch. ``--src`` measures another checkout's code with the same script,
``--profile`` writes a cProfile of the platform's side.

The police data (bulk SQL with generate_series, benchmark data, not the demo): 1,000,000 people each with one
passport; 10,000,000 registrations over 1,000 days (≈ 10,000 a day nationally) across 200 counties in 10
provinces (≈ 50 a county a day, ≈ 1,000 a province a day), 3 % late. The offices timed: a county's, a
prefecture's and a province's police. PostgreSQL: postgresql://postgres@127.0.0.1:5432 (``CNVISA_BENCH_PG_ADMIN``).
Figures go to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
# --src (the cpu measure): another checkout's code, imported instead of this one's
_SRC = next((sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a == "--src"), str(ROOT / "src"))
sys.path.insert(0, str(Path(_SRC).resolve()))

from cnvisa.cases.accommodation import AccommodationService  # noqa: E402
from cnvisa.cases.actor import Actor  # noqa: E402
from cnvisa.cases.clock import ManualClock  # noqa: E402
from cnvisa.cases.workflow import Role  # noqa: E402
from cnvisa.demo.vocab import mrz  # noqa: E402
from cnvisa.store.db import make_engine, sessionmaker  # noqa: E402
from cnvisa.store.migrate import upgrade  # noqa: E402

PG_ADMIN = os.environ.get("CNVISA_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
HOTEL_DB = "cnvisa_bench_acc_hotels"
POLICE_DB = "cnvisa_bench_acc_police"
BATCH = 100
DAYS = 1000
FIRST_DAY = dt.date(2023, 6, 1)


def _url(name: str, driver: str = "postgresql+asyncpg") -> str:
    return f"{PG_ADMIN.rsplit('/', 1)[0].replace('postgresql', driver, 1)}/{name}"


async def _fresh(name: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await asyncio.to_thread(upgrade, _url(name))


async def _drop(name: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


# ------------------------------------------------------------------------------------------------------ hotels
def processes() -> dict[int, tuple[int, float, str]]:
    """Every live process from /proc: its parent's pid, its CPU seconds so far (user + system), its command line."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float, str]] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        stats[int(pid)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick, cmd)
    return stats


def _cpu_seconds(name: str = "", root: int | None = None) -> float:
    """CPU time (user + system) from /proc of the processes whose command line holds ``name``, or of ``root`` and
    its descendants (uvicorn's workers are spawned: their command lines do not name the application)."""
    stats = processes()
    if root is None:
        return sum(cpu for _parent, cpu, cmd in stats.values() if name in cmd)
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, (parent, _c, _m) in stats.items() if parent in tree} - tree
        tree, grew = tree | more, bool(more)
    return sum(stats[pid][1] for pid in tree if pid in stats)


def _pg_cpu() -> float:
    """PostgreSQL's CPU for this database: its backends, and the WAL writer, checkpointer and background writer."""
    aux = ("walwriter", "checkpointer", "background writer")
    return _cpu_seconds(HOTEL_DB) + sum(_cpu_seconds(f"postgres: 15/main: {a}") for a in aux)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(db_url: str, src: Path, env: dict[str, str] | None = None, log: Any = None) -> tuple[Any, str]:
    """``uvicorn`` with 2 workers on a free port serving ``src`` on ``db_url`` (its output to ``log``, else
    nowhere): the process and its base URL."""
    port = _free_port()
    env = {**os.environ, **(env or {}), "CNVISA_DATABASE_URL": db_url, "PYTHONPATH": str(Path(src).resolve())}
    args = [sys.executable, "-m", "uvicorn", "cnvisa.app:create_app", "--factory", "--workers", "2"]
    args += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    out = log if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=out)
    return proc, f"http://127.0.0.1:{port}"


async def wait_ready(c: httpx.AsyncClient) -> None:
    """Until the server answers /healthz (30 s at most)."""
    for _ in range(300):
        try:
            if (await c.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not start")


def _letters(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 26)
        out += chr(65 + r)
        if not n:
            return out


def _bodies(count: int, sender: int) -> list[bytes]:
    """``count`` batches of BATCH new guests, each with its own passport and the hotel's stay reference."""
    import json

    now = dt.datetime.now(dt.UTC)
    out = []
    for b in range(count):
        stays = []
        for g in range(BATCH):
            n = sender * 1_000_000 + b * BATCH + g
            number = f"{n:09d}"  # nine characters: the TD3 document number's field
            stays.append(
                {
                    "mrz": mrz(
                        "GUEST",
                        _letters(n),
                        "DEU",
                        number,
                        dt.date(1980, 1, 1) + dt.timedelta(days=n % 9000),
                        "F",
                        dt.date(2034, 1, 1),
                    ).split("\n"),
                    "address": f"Room {g + 100}, Demo Riverside Hotel",
                    "division_code": "310115",
                    "moved_in_at": (now - dt.timedelta(minutes=30)).isoformat(),
                    "stay_ref": f"S{n}",
                }
            )
        out.append(json.dumps({"stays": stays}).encode())
    return out


async def _sender(
    base: str, token: str, bodies: list[bytes], until: float, lat: list[float], counts: dict[str, int]
) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        for body in bodies:
            if time.perf_counter() >= until:
                return
            t = time.perf_counter()
            r = await c.post("/api/v1/accommodation/hotel-stays", content=body, headers=headers)
            lat.append(time.perf_counter() - t)
            if r.status_code != 200:
                raise SystemExit(f"batch refused: {r.status_code} {r.text[:300]}")
            out = r.json()
            if out["counts"].get("registered") != BATCH:  # each guest is new: anything else is a fault
                bad = next(x for x in out["results"] if x["outcome"] != "registered")
                raise SystemExit(f"a guest not registered: {bad}")
            for k, v in out["counts"].items():
                counts[k] = counts.get(k, 0) + v
    raise SystemExit("ran out of prepared batches: raise the estimate in hotels()")


async def hotels(seconds: float, senders: int) -> None:
    from cnvisa.demo import DEMO

    await _fresh(HOTEL_DB)
    setup = [
        str(ROOT / ".venv/bin/cnvisa"),
        "demo",
        "setup",
        "--cases",
        "0",
        "--database-url",
        _url(HOTEL_DB),
    ]
    subprocess.run(setup, check=True, stdout=subprocess.DEVNULL)
    proc, base = serve(_url(HOTEL_DB), Path(_SRC))
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as c:
            await wait_ready(c)
            password = next(d.password for d in DEMO if d.username == "hotel.desk")
            r = await c.post("/api/v1/auth/signin", json={"username": "hotel.desk", "password": password})
            r.raise_for_status()
            r = await c.post(
                "/api/v1/verify/tokens", json={"label": "bench"}, headers={"X-CSRF-Token": r.json()["csrf"]}
            )
            r.raise_for_status()
            token = r.json()["token"]
        per_sender = int(seconds * 8000 / BATCH / senders) + 20  # room for 8,000 guests/s
        bodies = [_bodies(per_sender, s) for s in range(senders)]
        # warm-up: a few batches each, not counted
        warm = [_bodies(3, 900 + s) for s in range(senders)]
        await asyncio.gather(
            *(_sender_some(base, token, w) for w in warm),
        )
        lat: list[float] = []
        counts: dict[str, int] = {}
        cpu_app, cpu_pg, cpu_gen = _cpu_seconds(root=proc.pid), _pg_cpu(), time.process_time()
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(
            *(_sender(base, token, b, until, lat, counts) for b in bodies), return_exceptions=False
        )
        elapsed = time.perf_counter() - started
    except SystemExit as exc:
        if "ran out" not in str(exc):
            raise
        elapsed = time.perf_counter() - started
    finally:
        if "started" in locals():  # the servers' CPU, read before they stop
            cpu_app = _cpu_seconds(root=proc.pid) - cpu_app
            cpu_pg = _pg_cpu() - cpu_pg
            cpu_gen = time.process_time() - cpu_gen
        proc.terminate()
        proc.wait(10)
        await _drop(HOTEL_DB)
    guests = sum(counts.values())
    print(
        f"{_SRC}: senders {senders}, batches of {BATCH}, {seconds:.0f} s: {len(lat)} batches, outcomes {counts}"
    )
    print(
        f"guests/s {guests / elapsed:.0f}; a batch p50 {statistics.median(lat) * 1000:.1f} ms, "
        f"p99 {_pct(lat, 99) * 1000:.1f} ms, max {max(lat) * 1000:.1f} ms"
    )
    print(
        f"CPU per guest: the platform {cpu_app / guests * 1000:.3f} ms, PostgreSQL {cpu_pg / guests * 1000:.3f} ms "
        f"(a core gives {guests / max(cpu_app + cpu_pg, 1e-9):.0f} guests/s), the load generator "
        f"{cpu_gen / guests * 1000:.3f} ms ("
        "PostgreSQL: the database's backends, WAL writer, checkpointer and background writer)"
    )


async def _sender_some(base: str, token: str, bodies: list[bytes]) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        for body in bodies:
            r = await c.post("/api/v1/accommodation/hotel-stays", content=body, headers=headers)
            if r.status_code != 200:
                raise SystemExit(f"warm-up batch refused: {r.status_code} {r.text[:400]}")


# --------------------------------------------------------------------------------------------------------- cpu
async def cpu(batches: int, profile: str | None, concurrent: int = 1) -> None:
    """Batches straight to the ASGI application (``concurrent`` at once): CPU, statements and wall time per
    batch."""
    import cProfile
    import json

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from cnvisa.app import create_app
    from cnvisa.demo import DEMO

    await _fresh(HOTEL_DB)
    setup = [
        str(ROOT / ".venv/bin/cnvisa"),
        "demo",
        "setup",
        "--cases",
        "0",
        "--database-url",
        _url(HOTEL_DB),
    ]
    subprocess.run(setup, check=True, stdout=subprocess.DEVNULL)
    os.environ["CNVISA_DATABASE_URL"] = _url(HOTEL_DB)
    statements = [0]
    by_kind: dict[str, list[float]] = {}  # the statement's first words: count, seconds

    def count(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        statements[0] += 1
        _conn.info["cnvisa_bench_t"] = time.perf_counter()

    def timed(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        words = sql.split()
        kind = " ".join(words[:3] if words[0] == "INSERT" else words[:1])
        if words[0] == "SELECT" and "FROM" in words:
            kind += " … FROM " + words[words.index("FROM") + 1]
        seen = by_kind.setdefault(kind, [0, 0.0])
        seen[0] += 1
        seen[1] += time.perf_counter() - _conn.info.pop("cnvisa_bench_t", time.perf_counter())

    event.listen(Engine, "before_cursor_execute", count)
    event.listen(Engine, "after_cursor_execute", timed)
    admin = await asyncpg.connect(PG_ADMIN)
    app = create_app()
    try:
        async with app.router.lifespan_context(app):
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
            password = next(d.password for d in DEMO if d.username == "hotel.desk")
            r = await client.post(
                "/api/v1/auth/signin", json={"username": "hotel.desk", "password": password}
            )
            r.raise_for_status()
            r = await client.post(
                "/api/v1/verify/tokens", json={"label": "bench"}, headers={"X-CSRF-Token": r.json()["csrf"]}
            )
            r.raise_for_status()
            token = r.json()["token"].encode()
            await client.aclose()

            async def call(body: bytes) -> None:
                given = False

                async def receive() -> dict[str, Any]:
                    nonlocal given
                    if given:
                        await asyncio.sleep(3600)
                    given = True
                    return {"type": "http.request", "body": body, "more_body": False}

                out: list[bytes] = []
                status: list[int] = []

                async def send(message: dict[str, Any]) -> None:
                    if message["type"] == "http.response.start":
                        status.append(message["status"])
                    elif message["type"] == "http.response.body":
                        out.append(message.get("body", b""))

                path = "/api/v1/accommodation/hotel-stays"
                scope: dict[str, Any] = {
                    "type": "http",
                    "http_version": "1.1",
                    "method": "POST",
                    "path": path,
                    "raw_path": path.encode(),
                    "query_string": b"",
                    "headers": [
                        (b"host", b"bench"),
                        (b"authorization", b"Bearer " + token),
                        (b"content-type", b"application/json"),
                    ],
                    "scheme": "http",
                    "server": ("bench", 80),
                    "client": ("127.0.0.1", 1),
                    "root_path": "",
                    "app": app,
                }
                await app(scope, receive, send)
                answer = json.loads(b"".join(out))
                if status[0] != 200 or answer["counts"].get("registered") != BATCH:
                    raise SystemExit(f"batch refused: {status[0]} {str(answer)[:300]}")

            for body in _bodies(5, 900):  # warm-up: statement caches, the pool
                await call(body)
            bodies = [_bodies(batches // concurrent, k) for k in range(concurrent)]
            batches = sum(map(len, bodies))

            async def send_all(mine: list[bytes]) -> None:
                for body in mine:
                    await call(body)

            xacts = "SELECT xact_commit FROM pg_stat_database WHERE datname = $1"
            wal = "SELECT pg_current_wal_lsn()"
            by_kind.clear()
            before = statements[0], await admin.fetchval(xacts, HOTEL_DB), _cpu_seconds(HOTEL_DB)
            aux0, wal0 = _pg_cpu() - before[2], await admin.fetchval(wal)
            prof = cProfile.Profile() if profile else None
            cpu0, wall = time.process_time(), time.perf_counter()
            if prof:
                prof.enable()
            await asyncio.gather(*map(send_all, bodies))
            if prof:
                prof.disable()
                prof.dump_stats(profile)
            cpu_app, wall = time.process_time() - cpu0, time.perf_counter() - wall
            cpu_pg = _cpu_seconds(HOTEL_DB) - before[2]
            aux = _pg_cpu() - cpu_pg - before[2] - aux0
            wal_bytes = await admin.fetchval(wal) - wal0  # asyncpg reads an LSN as an integer
            sent = statements[0] - before[0]
            xact = await admin.fetchval(xacts, HOTEL_DB) - before[1]
            bench = await asyncpg.connect(_url(HOTEL_DB, "postgresql"))
            try:
                scans = await bench.fetch(
                    "SELECT relname, seq_scan, seq_tup_read, idx_scan FROM pg_stat_user_tables WHERE relname IN "
                    "('people', 'travel_documents', 'accommodation_registrations') ORDER BY relname"
                )
            finally:
                await bench.close()
    finally:
        await admin.close()
        await _drop(HOTEL_DB)
    n = batches
    print(
        f"{n} batches of {BATCH} new guests, {concurrent} at a time ({_SRC}): per batch the platform's CPU "
        f"{cpu_app / n * 1000:.1f} ms, the database's backends' CPU {cpu_pg / n * 1000:.1f} ms (+ WAL writer, "
        f"checkpointer, background writer: {aux / n * 1000:.1f} ms, shared with any other database), WAL "
        f"{float(wal_bytes) / n / 1024:.0f} KiB (the cluster's); wall {wall / n * 1000:.1f} ms; SQLAlchemy "
        f"statements {sent / n:.1f}, transactions {xact / n:.1f}"
    )
    for r in scans:
        print(
            f"  {r['relname']}: sequential scans {r['seq_scan']} ({r['seq_tup_read']} rows read), index scans "
            f"{r['idx_scan']}"
        )
    for kind, (times, seconds) in sorted(by_kind.items(), key=lambda kv: -kv[1][1]):
        print(f"  {kind:<40} {times / n:4.1f} a batch, {seconds / times * 1000:6.2f} ms each (wall)")


# ------------------------------------------------------------------------------------------------------ police
async def police_build(registrations: int) -> None:
    await _fresh(POLICE_DB)
    conn = await asyncpg.connect(_url(POLICE_DB, "postgresql"))
    started = time.perf_counter()
    people = max(1, registrations // 10)
    try:
        await conn.execute(
            """INSERT INTO offices (code, name_zh, name_en, level, region, opening_hours, slot_minutes,
                                    slot_capacity)
               VALUES ('P31', '上海', 'Shanghai', 'provincial', '310000', '{}', 30, 4),
                      ('F3101', '上海市辖区', 'Shanghai districts', 'prefecture', '310100', '{}', 30, 4),
                      ('C310115', '浦东', 'Pudong', 'county', '310115', '{}', 30, 4)"""
        )
        await conn.execute(
            """INSERT INTO people (id, surname, given_names, birth_date, sex, nationality, created_at)
               SELECT g, 'P' || g, 'X', DATE '1980-01-01', 'F', 'DEU', now() FROM generate_series(1, $1) g""",
            people,
        )
        await conn.execute(
            """INSERT INTO travel_documents (id, person_id, number, issuing_state, kind, valid_until, current)
               SELECT g, g, 'E' || lpad(g::text, 8, '0'), 'DEU', 'passport', DATE '2034-01-01', true
               FROM generate_series(1, $1) g""",
            people,
        )
        # 200 counties: 10 provinces x 2 prefectures x 10 counties, spread evenly over the days; Pudong (310115) one
        await conn.execute(
            """INSERT INTO accommodation_registrations
                 (person_id, travel_document_id, address, division_code, registered_from, registered_until,
                  registered_by, recorded_at, moved_in_at, moved_out_at, due_at, on_time)
               SELECT p, p, 'Room ' || (g % 500), d,
                      $2::date + day, $2::date + day + 1 + (g % 5),
                      CASE WHEN g % 3 = 0 THEN 'self' ELSE 'hotel' END,
                      ($2::date + day)::timestamptz + interval '3 hours',
                      ($2::date + day)::timestamptz + interval '1 hour',
                      ($2::date + day + 1 + (g % 5))::timestamptz + interval '2 hours',
                      ($2::date + day)::timestamptz + interval '25 hours',
                      g % 33 <> 0
               FROM (SELECT g, 1 + (g % $3) AS p, g % $4 AS day,
                            (ARRAY['31','11','44','32','33','51','42','37','35','21'])[1 + (g / $4) % 10]
                              || '0' || (1 + (g / ($4 * 100)) % 2)::text
                              || (10 + (g / ($4 * 10)) % 10)::text AS d
                     FROM generate_series(1, $1) g) s""",
            registrations,
            FIRST_DAY,
            people,
            DAYS,
        )
        await conn.execute("SELECT setval('people_id_seq', $1)", people)
        await conn.execute("SELECT setval('travel_documents_id_seq', $1)", people)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    print(
        f"built {registrations:,} registrations of {people:,} people in {time.perf_counter() - started:.0f} s"
    )


async def police_run(rounds: int) -> None:
    engine = make_engine(_url(POLICE_DB))
    sessions = sessionmaker(engine)
    service = AccommodationService(sessions, ManualClock(dt.datetime(2026, 3, 1, 2, tzinfo=dt.UTC)))
    conn = await asyncpg.connect(_url(POLICE_DB, "postgresql"))
    try:
        total = await conn.fetchval("SELECT count(*) FROM accommodation_registrations")
        offices = {r["code"]: r["id"] for r in await conn.fetch("SELECT id, code FROM offices")}
        account = await conn.fetchval(
            """INSERT INTO accounts (username, display_name, password_hash, role, office_id, active)
               VALUES ('bench.police', 'Bench police', NULL, 'officer', $1, true)
               ON CONFLICT (username) DO UPDATE SET role = 'officer' RETURNING id""",
            offices["C310115"],
        )
        station = await conn.fetchval(
            """INSERT INTO police_stations (code, name_zh, name_en, office_id, division_code, source)
               VALUES ('B-PD', '浦东（基准）', 'Pudong (benchmark)', $1, '310115', 'benchmark data')
               ON CONFLICT (code) DO UPDATE SET division_code = '310115' RETURNING id""",
            offices["P31"],
        )
        desk = await conn.fetchval(
            """INSERT INTO accounts (username, display_name, password_hash, role, active)
               VALUES ('bench.station', 'Bench station', NULL, 'police_officer', true)
               ON CONFLICT (username) DO UPDATE SET role = 'police_officer' RETURNING id"""
        )
        await conn.execute(
            """INSERT INTO police_desks (account_id, station_id, assigned_at) VALUES ($1, $2, now())
               ON CONFLICT (account_id) DO UPDATE SET station_id = $2""",
            desk,
            station,
        )
    finally:
        await conn.close()
    print(f"{total:,} registrations stored")
    station_desk = Actor(account_id=desk, role=Role.POLICE_OFFICER)
    readers = [(f"station 310115, {show}", station_desk, show) for show in ("all", "late", "missing")] + [
        (code, Actor(account_id=account, role=Role.OFFICER, office_id=offices[code]), "all")
        for code in ("C310115", "F3101", "P31")
    ]
    try:
        for name, actor, show in readers:
            times: list[float] = []
            rows: list[int] = []
            totals: list[int] = []
            for i in range(rounds + 10):
                day = FIRST_DAY + dt.timedelta(days=(i * 37) % DAYS)
                t = time.perf_counter()
                out = await service.area_day(actor, day, show=show)  # type: ignore[arg-type]
                if i >= 10:  # the first ten warm the pool and the caches
                    times.append(time.perf_counter() - t)
                    rows.append(len(out["registrations"]))
                    totals.append(out["total"])
            print(
                f"{name}: {statistics.median(totals):.0f} a day in all, {statistics.median(rows):.0f} shown "
                f"(a page); p50 {statistics.median(times) * 1000:.1f} ms, p99 {_pct(times, 99) * 1000:.1f} ms"
            )
    finally:
        await engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    h = sub.add_parser("hotels")
    h.add_argument("--seconds", type=float, default=20)
    h.add_argument("--senders", type=int, default=4)
    h.add_argument("--src", help="another checkout's src/ for the server (read before the imports)")
    c = sub.add_parser("cpu")
    c.add_argument("--batches", type=int, default=60)
    c.add_argument("--concurrent", type=int, default=1, help="batches sent at once")
    c.add_argument("--src", help="another checkout's src/ (read before the imports)")
    c.add_argument("--profile", help="write a cProfile of the batches to this file")
    p = sub.add_parser("police")
    p.add_argument("step", choices=["build", "run", "drop"])
    p.add_argument("--registrations", type=int, default=10_000_000)
    p.add_argument("--rounds", type=int, default=200)
    a = ap.parse_args()
    if a.what == "hotels":
        asyncio.run(hotels(a.seconds, a.senders))
    elif a.what == "cpu":
        asyncio.run(cpu(a.batches, a.profile, a.concurrent))
    elif a.step == "build":
        asyncio.run(police_build(a.registrations))
    elif a.step == "run":
        asyncio.run(police_run(a.rounds))
    else:
        asyncio.run(_drop(POLICE_DB))


if __name__ == "__main__":
    main()
