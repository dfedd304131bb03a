"""Issue 14 (growth): a fresh PostgreSQL database at the migration head (audit events and stays partitioned by
month, migration 0028) seeded by COPY with ``--cases`` cases (10,000,000) and ``--events`` audit events
(30,000,000), spread over 24 Beijing months and the demo's eight offices; then the officer queue and the progress
inquiry measured on it.

    PYTHONPATH=src .venv/bin/python benchmarks/growth_seed.py seed --cases 10000000 --events 30000000
    PYTHONPATH=src .venv/bin/python benchmarks/growth_seed.py measure          # on the database seeded last
    PYTHONPATH=src .venv/bin/python benchmarks/growth_seed.py drop

The seed: ``cnvisa db upgrade`` on a new database ``cnvisa_bench_partition_<name>``, the reference rows (offices,
organisations, accounts) by ``cnvisa.demo.bulk.seed(cases=0)``, the months' partitions of the 24 months, then the
secondary indexes, unique keys and foreign keys of people, travel_documents, cases and audit_events dropped, the
rows loaded by COPY (psycopg, text format) in parallel streams, the sequences and the audit chains' heads set,
the indexes and keys made again and ANALYZE — and the schema checked to be what the migrations made (every
index and constraint definition of the model tables the same as before the load). The time is from the first
COPY to the end of ANALYZE.

The rows: a case's creation day rises with its id over 24 months (≈ 13,700 a day at 10 M); its office by weight
(Shanghai 30 %, Beijing 25 %, …); its state by age (older cases mostly collected, refused, withdrawn, lapsed;
the last 40 days in the demo's mix); accepted cases carry the receipt's real last day (``receipt_valid_until``)
as deadline. Two people for every three cases, one passport each. Audit events: ``--events`` / ``--cases`` per
case (3: submission, then acceptance or notice or an officer's read, then the decision or a read), in the case's
chain (``case_id % 16``) with rising positions and ``prev_seq``; ``hash``/``prev_hash`` are linked 64-hex
digests but not the platform's SHA-256 of the canonical form (computing it would add minutes of CPU and is not
what is measured: ``cnvisa audit verify`` on existing data is tests/cases/test_partitions.py's). MRZ lines have
the right shape and length, not valid check digits.

Measure: the officer queue as the platform reads it — ``CaseService.queue`` (one office, next 50 by deadline)
and ``queue_page`` (due and awaiting, 50 each, the read audited in the chain) as an officer of each office in
turn — and the progress inquiry ``cnvisa.cases.queries.progress.find`` on the platform's asyncpg pool
(``Reads.open``), 1,000+ random (case number, passport) pairs that exist and 200 that do not. Latencies are
per call, in-process (no HTTP).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import random
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg

from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.cases.service import Actor, CaseService
from cnvisa.cases.workflow import Role
from cnvisa.demo import seed as demo_seed
from cnvisa.demo.vocab import GIVEN, MATTERS, NATIONS, OFFICES, SURNAMES
from cnvisa.law import calendar as workdays
from cnvisa.law.acceptance import receipt_valid_until
from cnvisa.law.versions import law_version
from cnvisa.store import partitions
from cnvisa.store.db import make_engine, sessionmaker
from cnvisa.store.fast import Reads
from cnvisa.store.migrate import upgrade

PG_ADMIN = os.environ.get("CNVISA_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
TODAY = dt.date(2026, 12, 4)
SPAN_DAYS = 730
FIRST_DAY = TODAY - dt.timedelta(days=SPAN_DAYS - 1)
CHAINS = 16
OFFICE_WEIGHTS = [30, 25, 10, 10, 8, 7, 5, 5]
LOADED = ("people", "travel_documents", "cases", "audit_events")
GENESIS = "0" * 64
STATE_FILE = "/tmp/cnvisa_growth_seed_last.json"  # the database seeded last (measure, drop)


def _cum(weights: list[int]) -> list[int]:
    out, t = [], 0
    for w in weights:
        t += w
        out.append(t)
    return out


def _pick(cum: list[int], r: int) -> int:
    for i, c in enumerate(cum):
        if r < c:
            return i
    return len(cum) - 1


OFFICE_CUM = _cum(OFFICE_WEIGHTS)
MATTER_NAMES = [m for m, _ in MATTERS]
MATTER_CUM = _cum([w for _, w in MATTERS])
RECENT = [
    ("draft", 5),
    ("submitted", 10),
    ("deficient", 8),
    ("accepted", 25),
    ("under_verification", 5),
    ("refusal_proposed", 2),
    ("approved", 8),
    ("refused", 3),
    ("issued", 6),
    ("collected", 20),
    ("withdrawn", 4),
    ("lapsed", 4),
]
MIDDLE = [
    ("accepted", 10),
    ("under_verification", 5),
    ("refusal_proposed", 2),
    ("deficient", 3),
    ("approved", 5),
    ("issued", 10),
    ("collected", 50),
    ("refused", 5),
    ("withdrawn", 5),
    ("lapsed", 5),
]
OLD = [("collected", 80), ("refused", 6), ("withdrawn", 7), ("lapsed", 7)]
BANDS = {
    name: ([s for s, _ in band], _cum([w for _, w in band]))
    for name, band in (("r", RECENT), ("m", MIDDLE), ("o", OLD))
}
ORDER = [s for s, _ in RECENT]
ACCEPTED = {
    "accepted",
    "under_verification",
    "refusal_proposed",
    "approved",
    "refused",
    "issued",
    "collected",
}
DECIDED = {"approved", "refused", "issued", "collected"}
_RECEIPTS: dict[tuple[str, dt.date], dt.date | None] = {}


M64 = (1 << 64) - 1


def _mix(c: int, salt: int) -> int:
    """splitmix64's finaliser of (c, salt): independent draws per salt, the same in every process (64 bits)."""
    x = (c * 0x9E3779B97F4A7C15 + salt * 0x632BE59BD9B4E019) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def people_count(cases: int) -> int:
    return max(1, cases * 2 // 3)


def person_of(c: int, cases: int) -> int:
    return _mix(c, 1) % people_count(cases) + 1


def passport_of(p: int) -> str:
    return f"{'EGKP'[p % 4]}{(p * 2654435761) % 100_000_000:08d}"  # a bijection below 10^8: unique


PAD = 60
"""Day indices run from -PAD (entry dates before the first case) to SPAN_DAYS + 30."""
DAYS = [FIRST_DAY + dt.timedelta(days=i) for i in range(-PAD, SPAN_DAYS + 30)]
DAYSTR = [str(d) for d in DAYS]
DAY8 = [d.strftime("%Y%m%d") for d in DAYS]
DAY6 = [d.strftime("%y%m%d") for d in DAYS]
LAST = SPAN_DAYS - 1
OFFICE_LUT = [_pick(OFFICE_CUM, r) for r in range(100)]
MATTER_LUT = [MATTER_NAMES[_pick(MATTER_CUM, r)] for r in range(100)]
STATE_LUT = {band: [names[_pick(cum, r)] for r in range(cum[-1])] for band, (names, cum) in BANDS.items()}
CODES = [o[0] for o in OFFICES]
_TS: dict[tuple[int, int], str] = {}
_RECEIPTS: dict[tuple[str, int], str | None] = {}
_LAW: dict[int, str] = {}
N = "\\N"


def _ts(d: int, minutes: int) -> str:
    """Beijing 09:00 + ``minutes`` on day index ``d``, as UTC text for COPY (cached)."""
    key = (d, minutes)
    got = _TS.get(key)
    if got is None:
        day = DAYS[d + PAD]
        at = dt.datetime(day.year, day.month, day.day, 1, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)
        got = _TS[key] = at.strftime("%Y-%m-%d %H:%M:%S+00")
    return got


Facts = tuple[int, int, str, str, "int | None", "str | None", str]


def case_facts(c: int, cases: int) -> Facts:
    """(creation day index, office index, matter, state, acceptance day index, receipt's last day, number)."""
    d = (c - 1) * SPAN_DAYS // cases
    h = _mix(c, 0)
    office = OFFICE_LUT[(h & 0xFFFF) % 100]
    matter = MATTER_LUT[((h >> 16) & 0xFFFF) % 100]
    age = LAST - d
    lut = STATE_LUT["r" if age <= 40 else "m" if age <= 120 else "o"]
    state = lut[((h >> 32) & 0xFFFF) % len(lut)]
    acc = until = None
    if state in ACCEPTED:
        acc = min(LAST, d + (h >> 48) % 6)
        key = (matter, acc)
        if key not in _RECEIPTS:
            got = receipt_valid_until(matter, DAYS[acc + PAD])
            _RECEIPTS[key] = None if got is None else str(got)
        until = _RECEIPTS[key]
    return d, office, matter, state, acc, until, f"{CODES[office]}-{DAY8[d + PAD]}-{c:08d}"


def _law(acc: int) -> str:
    got = _LAW.get(acc)
    if got is None:
        got = _LAW[acc] = law_version(DAYS[acc + PAD])
    return got


# --- the COPY streams (each a process) ---------------------------------------------------------------------


def _copy(dsn: str, table: str, columns: list[str], rows: Iterator[str]) -> int:
    n, t0 = 0, time.perf_counter()
    with psycopg.connect(dsn) as conn:
        conn.execute("SET synchronous_commit = off")
        with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
            buf: list[str] = []
            for line in rows:
                buf.append(line)
                if len(buf) >= 5000:
                    cp.write("".join(buf))
                    n += len(buf)
                    buf = []
                    if n % 1_000_000 == 0:  # progress, to judge early whether the scale fits the window
                        print(f"    {table}: {n:,} rows, {n / (time.perf_counter() - t0):,.0f}/s", flush=True)
            if buf:
                cp.write("".join(buf))
                n += len(buf)
    return n


def _people(lo: int, hi: int) -> Iterator[str]:
    for p in range(lo, hi):
        birth = DAYSTR[(p * 7919) % (SPAN_DAYS + PAD)]  # a day index, made a birth date below
        yield (
            f"{p}\t{SURNAMES[p % len(SURNAMES)]}\t{GIVEN[(p // 7) % len(GIVEN)]}\t{1950 + p % 50}{birth[4:]}\t"
            f"{'MF'[p & 1]}\t{NATIONS[(p * 31) % len(NATIONS)]}\t2024-12-01 02:00:00+00\n"
        )


def _docs(lo: int, hi: int) -> Iterator[str]:
    for p in range(lo, hi):
        nat = NATIONS[(p * 31) % len(NATIONS)]
        number = passport_of(p)
        surname, given = SURNAMES[p % len(SURNAMES)].upper(), GIVEN[(p // 7) % len(GIVEN)].upper()
        line1 = f"P<{nat:<<3}{surname}<<{given}".replace(" ", "<").ljust(44, "<")[:44]
        line2 = f"{number}<0{nat:<<3}9001017M3001014<<<<<<<<<<<<<<00".ljust(44, "<")[:44]
        yield f"{p}\t{p}\t{number}\t{nat}\tpassport\t{2028 + p % 8}-06-30\t{line1}\\n{line2}\tt\n"


def _cases(lo: int, hi: int, cases: int, officers: dict[int, list[int]]) -> Iterator[str]:
    calendar_version = workdays.calendar_version()
    inputs = (
        '{{"matter":"{}","entry_date":"{}","requested":{{"extension_days":30}},'
        '"materials":["application_form","photo","passport"]}}'
    )
    for c in range(lo, hi):
        d, office, matter, state, acc, until, number = case_facts(c, cases)
        officer = officers[office][c % len(officers[office])]
        if acc is None:
            accepted_cols = f"{N}\t{N}\t{N}\t{N}\t{N}\t{N}\t{N}"
            issued = N
        else:
            kept = "t" if c % 10 < 3 else "f"
            receipt = f"R{CODES[office]}{DAY6[acc + PAD]}{c:08d}"
            u = N if until is None else until
            accepted_cols = (
                f"{_law(acc)}\t{calendar_version}\t{receipt}\t{DAYSTR[acc + PAD]}\t{u}\t{kept}\t{u}"
            )
            issued = _ts(acc, c % 180)
        decided = officer if state in DECIDED else N
        entry = DAYSTR[d + PAD - 10 - c % 20]
        yield (
            f"{c}\t{number}\t{person_of(c, cases)}\t{office + 1}\t{matter}\t{inputs.format(matter, entry)}\t"
            f"{state}\t{1 + ORDER.index(state)}\tself\t[]\t{accepted_cols}\t[]\t{decided}\t{_ts(d, c % 480)}\t"
            f"{_ts(min(LAST, d + c % 30), c % 480)}\t{issued}\n"
        )


CASE_COLUMNS = [
    "id", "number", "person_id", "office_id", "matter", "inputs", "state", "version", "submitted_by",
    "proxy_grounds", "law_version", "calendar_version", "receipt_number", "accepted_on", "receipt_valid_until",
    "passport_kept", "deadline", "refusal_grounds", "decided_by", "created_at", "updated_at", "receipt_issued_at",
]  # fmt: skip
AUDIT_COLUMNS = [
    "seq", "at", "actor_account_id", "role", "office_id", "case_id", "action", "state_before", "state_after",
    "detail", "chain", "chain_seq", "prev_seq", "prev_hash", "hash",
]  # fmt: skip


def _events_of(c: int, f: Facts, per_case: int, officer: int) -> list[tuple[int, int, str]]:
    """(day index, minutes, the event's columns from actor to state_after) of the case's events, oldest first."""
    d, _office, _matter, state, acc, _until, _number = f
    out = [(d, c % 240, f"{N}\tapplicant\t{{o}}\t{c}\tsubmit\tdraft\tsubmitted")]
    if acc is not None:
        out.append((acc, 240 + c % 240, f"{officer}\tofficer\t{{o}}\t{c}\taccept\tsubmitted\taccepted"))
        if state in DECIDED:
            after = "refused" if state == "refused" else "approved"
            out.append(
                (
                    min(LAST, acc + 3 + c % 12),
                    200 + c % 300,
                    f"{officer}\tofficer\t{{o}}\t{c}\tdecide\taccepted\t{after}",
                )
            )
    elif state == "deficient":
        out.append(
            (
                min(LAST, d + 1 + c % 5),
                100 + c % 300,
                f"{officer}\tofficer\t{{o}}\t{c}\tnotice\tsubmitted\tdeficient",
            )
        )
    while len(out) < per_case:  # officers' reads of the case
        k = len(out)
        out.append(
            (
                min(LAST, d + k + c % 9),
                300 + c % 200 + k,
                f"{officer}\tofficer\t{{o}}\t{c}\tread_case\t{N}\t{N}",
            )
        )
    out = out[:per_case]
    out.sort()
    return out


def _audit(
    chains: list[int], cases: int, per_case: int, officers: dict[int, list[int]], heads: dict[int, Any]
) -> Iterator[str]:
    blake = hashlib.blake2b
    for chain in chains:
        pos, last, prev = 0, 0, GENESIS
        for c in range(chain or CHAINS, cases + 1, CHAINS):
            f = case_facts(c, cases)
            office = f[1]
            officer = officers[office][c % len(officers[office])]
            code = CODES[office]
            seq = (c - 1) * per_case
            for d, minutes, cols in _events_of(c, f, per_case, officer):
                seq += 1
                pos += 1
                digest = blake(f"{prev}{seq}".encode(), digest_size=32).hexdigest()
                yield (
                    f"{seq}\t{_ts(d, minutes)}\t{cols.format(o=office + 1)}\t"
                    f'{{"request_id":"{digest[:16]}","office":"{code}"}}\t{chain}\t{pos}\t{last}\t{prev}\t{digest}\n'
                )
                last, prev = seq, digest
        heads[chain] = (pos, last, prev)


def _task(args: tuple[Any, ...]) -> tuple[str, int, float, Any]:
    kind, dsn, cases, per_case, officers, lo, hi, chains = args
    t = time.perf_counter()
    heads: dict[int, Any] = {}
    if kind == "people":
        n = _copy(
            dsn,
            "people",
            ["id", "surname", "given_names", "birth_date", "sex", "nationality", "created_at"],
            _people(lo, hi),
        )
    elif kind == "docs":
        n = _copy(
            dsn,
            "travel_documents",
            ["id", "person_id", "number", "issuing_state", "kind", "valid_until", "mrz", "current"],
            _docs(lo, hi),
        )
    elif kind == "cases":
        n = _copy(dsn, "cases", CASE_COLUMNS, _cases(lo, hi, cases, officers))
    else:
        n = _copy(dsn, "audit_events", AUDIT_COLUMNS, _audit(chains, cases, per_case, officers, heads))
    return f"{kind} {lo}-{hi} {chains or ''}".strip(), n, time.perf_counter() - t, heads


# --- the schema around the load ----------------------------------------------------------------------------


def _schema(conn: psycopg.Connection[Any]) -> list[tuple[str, ...]]:
    """Every index and constraint definition of the model tables (not of the partitions)."""
    idx = conn.execute(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2"
    ).fetchall()
    cons = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace AND conrelid <> 0 ORDER BY 1, 2"
    ).fetchall()
    return [tuple(r) for r in (*idx, *cons) if not partitions.is_partition(r[0])]


def _secondary(conn: psycopg.Connection[Any]) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(table, constraint, definition) of the loaded tables' unique keys and foreign keys, and (index,
    definition) of their other indexes; primary keys are kept through the load (ids rise: appended)."""
    cons = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('u', 'f') AND conparentid = 0 ORDER BY contype DESC",
        (list(LOADED),),
    ).fetchall()
    idx = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(%s) "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        (list(LOADED),),
    ).fetchall()
    return [tuple(r) for r in cons], [tuple(r) for r in idx]  # type: ignore[misc]


def _model_ddl(name: str, definition: str) -> str:
    """The index as the models (and so the migrations) write it: a partial index's predicate as read back from
    the catalog is written differently (``ARRAY[…]::text[]``), though it means the same."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex

    from cnvisa.store.tables import Base

    for table in Base.metadata.tables.values():
        for index in table.indexes:
            if index.name == name:
                return str(CreateIndex(index).compile(dialect=postgresql.dialect()))
    return definition


def _dsn(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def seed(name: str, cases: int, events: int, workers: int) -> dict[str, Any]:
    per_case = events // cases
    dsn = _dsn(name)
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = dsn.replace("postgresql://", "postgresql+asyncpg://")
    t0 = time.perf_counter()
    upgrade(url)

    async def reference() -> dict[int, list[int]]:
        engine = make_engine(url)
        try:
            await demo_seed(engine, cases=0, seed_value=1, today=TODAY)
            async with engine.connect() as conn:
                rows = (
                    await conn.exec_driver_sql(
                        "SELECT office_id, id FROM accounts WHERE role = 'officer' ORDER BY id"
                    )
                ).all()
        finally:
            await engine.dispose()
        out: dict[int, list[int]] = {}
        for office, account in rows:
            out.setdefault(int(office) - 1, []).append(int(account))
        return out

    officers = asyncio.run(reference())
    prepared = time.perf_counter() - t0
    with psycopg.connect(dsn, autocommit=True) as conn:
        # the one person of seed(cases=0) and its records, and its audit event: ids and chains from 1 are ours
        for table in ("presence", "movements", "holdings", "travel_documents", "people", "audit_events"):
            conn.execute(f"DELETE FROM {table}")
        for spec in partitions.TABLES:
            known = {
                r[0]: r[1]
                for r in conn.execute(
                    "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c "
                    "ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
                    (spec.table,),
                ).fetchall()
            }
            for month in partitions.months(FIRST_DAY, TODAY):
                pname = partitions.partition_name(spec.table, month)
                if pname in known:
                    continue
                lo, hi = (
                    partitions.bound(spec, month),
                    partitions.bound(spec, partitions.add_months(month, 1)),
                )
                conn.execute(
                    f"CREATE TABLE {pname} PARTITION OF {spec.table} FOR VALUES FROM ({lo}) TO ({hi})"
                )
        before = _schema(conn)
        cons, idx = _secondary(conn)
        for table, cname, _ in cons:
            conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {cname}")
        for iname, _ in idx:
            conn.execute(f"DROP INDEX {iname}")
    people = people_count(cases)
    tasks: list[tuple[Any, ...]] = []
    quarters = [list(range(k, CHAINS, 4)) for k in range(4)]
    for chains in quarters:
        tasks.append(("audit", dsn, cases, per_case, officers, 0, 0, chains))
    half = cases // 2 + 1
    tasks += [
        ("cases", dsn, cases, per_case, officers, 1, half, None),
        ("cases", dsn, cases, per_case, officers, half, cases + 1, None),
        ("people", dsn, cases, per_case, officers, 1, people + 1, None),
        ("docs", dsn, cases, per_case, officers, 1, people + 1, None),
    ]
    t1 = time.perf_counter()
    loads: list[Any] = []
    heads: dict[int, Any] = {}
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        for label, n, secs, h in pool.imap_unordered(_task, tasks):
            loads.append({"stream": label, "rows": n, "seconds": round(secs, 1)})
            heads.update(h)
            print(
                f"  {label}: {n:,} rows in {secs:.0f} s ({time.perf_counter() - t1:.0f} s since the first COPY)",
                flush=True,
            )
    loaded = time.perf_counter() - t1
    steps: dict[str, float] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        for chain, (pos, last, digest) in heads.items():
            conn.execute(
                "UPDATE audit_head SET seq = %s, last_seq = %s, hash = %s WHERE id = %s",
                (pos, last, digest, chain),
            )
        conn.execute("SELECT setval('audit_seq', %s)", (cases * per_case,))
        for table in ("people", "travel_documents", "cases"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        # two connections build at once (the audit log's on one, the rest on the other); foreign keys last
        ddl = [(i, _model_ddl(i, d), "audit" in i) for i, d in idx]
        ddl += [
            (c, f"ALTER TABLE {t} ADD CONSTRAINT {c} {d}", t == "audit_events")
            for t, c, d in cons
            if not d.startswith("FOREIGN")
        ]
        fks = [(c, f"ALTER TABLE {t} ADD CONSTRAINT {c} {d}") for t, c, d in cons if d.startswith("FOREIGN")]

        def build(items: list[tuple[str, str]]) -> dict[str, float]:
            done: dict[str, float] = {}
            with psycopg.connect(dsn, autocommit=True) as c:
                c.execute("SET maintenance_work_mem = '1GB'")
                for label, statement in items:
                    t = time.perf_counter()
                    c.execute(statement)
                    done[label] = round(time.perf_counter() - t, 1)
                    print(f"  {label}: {done[label]} s", flush=True)
            return done

        with ThreadPoolExecutor(2) as pool:
            for done in pool.map(
                build,
                [[(a, b) for a, b, audit in ddl if audit], [(a, b) for a, b, audit in ddl if not audit]],
            ):
                steps.update(done)
        steps.update(build(fks))
        t = time.perf_counter()
        conn.execute("ANALYZE")
        steps["analyze"] = round(time.perf_counter() - t, 1)
        after = _schema(conn)
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in LOADED}  # type: ignore[index]
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]  # type: ignore[index]
    total = time.perf_counter() - t1
    result = {
        "database": name,
        "cases": counts["cases"],
        "audit_events": counts["audit_events"],
        "people": counts["people"],
        "travel_documents": counts["travel_documents"],
        "prepare_seconds": round(prepared, 1),
        "copy_seconds": round(loaded, 1),
        "seed_seconds": round(total, 1),
        "indexes_keys_analyze": steps,
        "streams": loads,
        "database_size": size,
        "schema_as_migrated": before == after,
        "load_average": os.getloadavg(),
    }
    if before != after:
        result["schema_diff"] = sorted(set(before) ^ set(after))
    with open(STATE_FILE, "w") as f:
        json.dump({"name": name, "cases": cases}, f)
    return result


def _pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * q))] * 1000


def _summary(samples: list[float]) -> dict[str, float]:
    return {
        "n": len(samples),
        "p50_ms": round(statistics.median(samples) * 1000, 2),
        "p95_ms": round(_pct(samples, 0.95), 2),
        "p99_ms": round(_pct(samples, 0.99), 2),
        "max_ms": round(max(samples) * 1000, 2),
    }


async def measure(name: str, cases: int, inquiries: int, rounds: int) -> dict[str, Any]:
    url = _dsn(name).replace("postgresql://", "postgresql+asyncpg://")
    engine = make_engine(url)
    sessions = sessionmaker(engine)
    reads = await Reads.open(engine, sessions)
    clock = ManualClock(dt.datetime.combine(TODAY, dt.time(10, 0), tzinfo=SHANGHAI))
    service = CaseService(sessions, clock, reads=reads)
    from cnvisa.cases.queries import progress

    async with engine.connect() as conn:
        officers = {
            int(o): int(a)
            for o, a in (
                await conn.exec_driver_sql(
                    "SELECT office_id, min(id) FROM accounts WHERE role = 'officer' GROUP BY 1"
                )
            ).all()
        }
        plans = {}
        for label, sql in (
            (
                "queue_due",
                "SELECT c.id FROM cases c JOIN people p ON p.id = c.person_id WHERE c.office_id = 1 AND "
                "c.state IN ('submitted', 'accepted', 'under_verification', 'refusal_proposed', 'approved') "
                "AND c.deadline IS NOT NULL ORDER BY c.deadline, c.id LIMIT 50",
            ),
            (
                "progress",
                f"SELECT c.number FROM cases c WHERE c.number = '{case_facts(cases // 2, cases)[6]}' AND EXISTS "
                f"(SELECT 1 FROM travel_documents d WHERE d.person_id = c.person_id AND "
                f"d.number = '{passport_of(person_of(cases // 2, cases))}')",
            ),
        ):
            rows = (await conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")).all()
            plans[label] = [r[0] for r in rows]
        open_by_office = {
            int(o): int(n)
            for o, n in (
                await conn.exec_driver_sql(
                    "SELECT office_id, count(*) FROM cases WHERE state IN ('submitted', 'accepted', "
                    "'under_verification', 'refusal_proposed', 'approved') GROUP BY 1"
                )
            ).all()
        }
    out: dict[str, Any] = {"open_cases_by_office": open_by_office, "plans": plans}
    for _ in range(20):  # warm-up
        await service.queue(1, 50)
    plain, page = [], []
    short = 0
    for i in range(rounds):
        office = 1 + i % 8
        t = time.perf_counter()
        rows = await service.queue(office, 50)
        plain.append(time.perf_counter() - t)
        short += len(rows) < 50
        actor = Actor(officers[office], Role.OFFICER, office_id=office)
        t = time.perf_counter()
        got = await service.queue_page(office, 50, actor)
        page.append(time.perf_counter() - t)
        short += len(got["due"]) < 50
    out["queue"] = _summary(plain)
    out["queue_page_audited"] = _summary(page)
    out["queue_reads_short_of_50"] = short
    rng = random.Random(14)
    hits, misses = [], []
    for _ in range(50):  # warm-up
        c = rng.randint(1, cases)
        await progress.find(reads, case_facts(c, cases)[6], passport_of(person_of(c, cases)), TODAY)
    for _ in range(inquiries):
        c = rng.randint(1, cases)
        number, passport = case_facts(c, cases)[6], passport_of(person_of(c, cases))
        t = time.perf_counter()
        found = await progress.find(reads, number, passport, TODAY)
        hits.append(time.perf_counter() - t)
        assert found is not None and found["number"] == number
    for _ in range(200):
        c = rng.randint(1, cases)
        t = time.perf_counter()
        found = await progress.find(reads, case_facts(c, cases)[6], "X00000000", TODAY)
        misses.append(time.perf_counter() - t)
        assert found is None
    out["progress_found"] = _summary(hits)
    out["progress_not_found"] = _summary(misses)
    out["load_average"] = os.getloadavg()
    if reads.pool is not None:
        await reads.pool.close()
    await engine.dispose()
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="what", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--cases", type=int, default=10_000_000)
    s.add_argument("--events", type=int, default=30_000_000)
    s.add_argument("--name", default="cnvisa_bench_partition_growth")
    s.add_argument("--workers", type=int, default=3, help="COPY streams at once")
    s.add_argument("--no-measure", action="store_true")
    m = sub.add_parser("measure")
    m.add_argument("--inquiries", type=int, default=1000)
    m.add_argument("--rounds", type=int, default=300)
    sub.add_parser("drop")
    args = p.parse_args()
    if args.what == "drop":
        with open(STATE_FILE) as f:
            name = json.load(f)["name"]
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(f"dropped {name}")
        return
    if args.what == "seed":
        assert args.name.startswith("cnvisa_bench_partition_")
        print(
            json.dumps(seed(args.name, args.cases, args.events, args.workers), indent=1, default=str),
            flush=True,
        )
        if args.no_measure:
            return
    with open(STATE_FILE) as f:
        state = json.load(f)
    inquiries = getattr(args, "inquiries", 1000)
    rounds = getattr(args, "rounds", 300)
    print(
        json.dumps(
            asyncio.run(measure(state["name"], state["cases"], inquiries, rounds)), indent=1, default=str
        )
    )


if __name__ == "__main__":
    main()
