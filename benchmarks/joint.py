"""Joint applications' speed (issue 10 "Shown by"): a joint submission — ``apply_joint`` with the one material
set, then ``joint_accept`` (one receipt, both clocks; the passport kept at the applicant's request, or with
``--returned`` read and returned with a collection appointment) — through the SERVICE LAYER on PostgreSQL (no HTTP:
``benchmarks/joint_http.py`` measures the same through the API; ``benchmarks/joint_profile.py`` counts the
statements and CPU of each command), and the officer queue and the work-permit desk's queue
(``work_permit_desk_queue``) at 1,000,000 cases with joint applications mixed in.

    .venv/bin/python benchmarks/joint.py submissions --seconds 20          # fresh database, dropped afterwards
    .venv/bin/python benchmarks/joint.py queue --cases 1000000              # builds a fresh 1M-case database
    .venv/bin/python benchmarks/joint.py queue --no-seed                    # reuses it
    .venv/bin/python benchmarks/joint.py drop                               # drops the queue database

Targets: ≥ 200 joint submissions/s with p99 ≤ 150 ms; each queue ≤ 10 ms at 1,000,000 cases.
PostgreSQL: postgresql://postgres@127.0.0.1:5432 (override with CNVISA_BENCH_PG_ADMIN). Figures go to
benchmarks/RESULTS.md.

The 1M-case database is ``cnvisa demo seed``'s (bulk inserts, as ``benchmarks/cases.py queue``); the joint
applications are then mixed in by bulk SQL too (benchmark data, not the demo — the demo plays its joint
applications through the commands, ``cnvisa.demo.joint_story``): every residence-permit case of the offices whose
jurisdiction has a service commitment (SH01 Shanghai, BJ01 Beijing — elsewhere a joint acceptance is refused,
``cnvisa.law.one_stop.receipt_covers``) becomes the residence branch of a joint application (≈ 50,000), its
parent's and work-permit branch's states following the case's (an accepted one's branch accepted, under review,
granted or refused in turn), the clocks as the acceptance pins them (statutory 20 working days ≈ 28 days; the
commitment's 7 or 5 working days ≈ 9 or 7 days). ``--no-seed --remix`` remakes only the joint applications.
With ``--all-joint`` every case of the two single windows becomes a residence-permit case first, so every row of
their queues is a joint application's branch (the worst case for the queue's two joins: with the plain mix the
first 50 by deadline there are often other matters' cases).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing
import os
import statistics
import time
import uuid
from typing import Any

import asyncpg
from sqlalchemy import event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases.actor import Actor
from cnvisa.cases.clock import ManualClock
from cnvisa.cases.joint.service import JointService
from cnvisa.cases.passport_check import on_record
from cnvisa.cases.queries.queue import QUEUE_DUE
from cnvisa.cases.records import FileIn
from cnvisa.cases.service import CaseService
from cnvisa.cases.workflow import Role
from cnvisa.demo import seed
from cnvisa.law import one_stop
from cnvisa.store.db import make_engine, sessionmaker
from cnvisa.store.fast import Reads
from cnvisa.store.joint_tables import JointApplication
from cnvisa.store.migrate import upgrade
from cnvisa.store.tables import Account, Office, Organisation

PG_ADMIN = os.environ.get("CNVISA_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PDF = b"%PDF-1.4\n% cnvisa benchmark\n" + b"0" * 2000
TODAY = dt.date(2025, 11, 20)
SUBMIT_DB = "cnvisa_bench_joint_submit"
QUEUE_DB = os.environ.get("CNVISA_BENCH_JOINT_QUEUE_DB", "cnvisa_bench_joint_queue")
"""The 1M-case database (a helper measuring beside others names its own: CNVISA_BENCH_JOINT_QUEUE_DB)."""
WP = {"category": "A", "position": "Chief engineer", "work_region": "310115", "contract_until": "2028-10-31"}
RP_INPUTS = {
    "applicant": {"birth_date": "1985-03-15", "nationality": "FRA"},
    "entry_date": "2025-11-10",
    "visa": {"category": "Z", "entries": "single", "stay_days": 30},
    "requested": {"permit_type": "work", "validity_days": 730},
}
CODES = [
    m.code for m in one_stop.joint_materials(category="A", validity_days=730) if m.satisfied_by == "upload"
]


async def passport_at_window(engine: AsyncEngine, person_id: int, returned: bool) -> dict[str, Any]:
    """How the window officer's acceptance treats the passport (``cnvisa.cases.passport_check``, issue 13):
    returned — the passport on record read at the window and a collection appointment booked; kept — kept with
    the applicant's request as the reason (no read, no appointment)."""
    if not returned:
        return {"passport_kept": True, "retention_reason": "applicant_request"}
    async with sessionmaker(engine)() as s:
        shown = await on_record(s, person_id)
    assert shown is not None, f"person {person_id} has no passport MRZ on record"
    return {"passport_kept": False, "passport": shown}


def _url(name: str) -> str:
    """The database ``name`` on PG_ADMIN's server (a TCP address, or a socket directory as ``?host=``)."""
    from sqlalchemy.engine import make_url

    url = make_url(PG_ADMIN).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False)


async def fresh_pg(name: str) -> str:
    conn = await asyncpg.connect(PG_ADMIN)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return _url(name)


async def drop_pg(name: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


# -- submissions ---------------------------------------------------------------------------------------------


async def _load(
    url: str, first: int, workers: int, ids: dict[str, int], start_at: float, seconds: float, returned: bool
) -> list[float]:
    """One process: ``workers`` concurrent employers' HR, each submitting a joint application and the window's
    officer accepting it, in a loop; the latency is the two commands together."""
    engine = make_engine(url)
    passports = {
        1 + w: await passport_at_window(engine, 1 + w, returned) for w in range(first, first + workers)
    }
    service = JointService(sessionmaker(engine), ManualClock(TODAY))
    officer = Actor(ids["officer"], Role.OFFICER, office_id=ids["office"])
    files = [FileIn(code, f"{code}.pdf", PDF) for code in CODES]
    latencies: list[float] = []
    await asyncio.sleep(max(0.0, start_at - time.time()))
    deadline = time.perf_counter() + seconds

    async def worker(w: int) -> None:
        person = 1 + w
        hr = Actor(ids["hr"], Role.ORG_STAFF, organisation_id=ids["employer"], represents=frozenset({person}))
        i = 0
        while time.perf_counter() < deadline:
            i += 1
            t = time.perf_counter()
            j = await service.apply_joint(
                hr,
                key=f"j-{w}-{i}-{uuid.uuid4().hex[:8]}",
                person_id=person,
                office_id=ids["office"],
                employer_organisation_id=ids["employer"],
                work_permit=WP,
                inputs=RP_INPUTS,
                files=files,
            )
            await service.joint_accept(
                officer,
                j["joint_id"],
                j["version"],
                key=f"a-{w}-{i}-{uuid.uuid4().hex[:8]}",
                **passports[person],
            )
            latencies.append(time.perf_counter() - t)

    await asyncio.gather(*(worker(first + w) for w in range(workers)))
    await engine.dispose()
    return latencies


def _process(args: tuple[str, int, int, dict[str, int], float, float, bool]) -> list[float]:
    return asyncio.run(_load(*args))


async def submissions(
    seconds: float, workers: int, processes: int, keep: bool, returned: bool = False
) -> dict[str, float]:
    url = await fresh_pg(SUBMIT_DB)
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    total = workers * processes
    await seed(engine, cases=0, seed_value=1, population=total + 10, today=TODAY)
    async with engine.begin() as conn:
        office = (await conn.execute(select(Office.id).where(Office.code == "SH01"))).scalar_one()
        employer = (await conn.execute(select(Organisation.id).order_by(Organisation.id))).scalars().first()
        assert employer is not None
        accounts = [
            {"username": "bench-hr", "role": "org_staff", "organisation_id": employer, "office_id": None},
            {"username": "bench-officer", "role": "officer", "organisation_id": None, "office_id": office},
        ]
        rows = [
            (
                await conn.execute(insert(Account).values(display_name=a["username"], active=True, **a))
            ).inserted_primary_key[0]
            for a in accounts
        ]
    await engine.dispose()
    ids = {"office": office, "employer": employer, "hr": rows[0], "officer": rows[1]}
    start_at = time.time() + 2.0  # every process starts its clock together
    jobs = [(url, p * workers, workers, ids, start_at, seconds, returned) for p in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = await asyncio.to_thread(pool.map, _process, jobs)
    if not keep:
        await drop_pg(SUBMIT_DB)
    latencies = sorted(x for r in results for x in r)
    return {
        "processes": processes,
        "workers_per_process": workers,
        "joint_submissions_per_s": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "joint_submissions": len(latencies),
    }


# -- queues at 1M --------------------------------------------------------------------------------------------

MIX = """
INSERT INTO joint_applications (id, number, person_id, employer_organisation_id, window_office_id, case_id, state,
    version, work_permit, submitter_account_id, accepted_on, jurisdiction, commitment_working_days, commitment_due,
    commitment_source, law_version, calendar_version, created_at, updated_at)
SELECT c.id, 'J' || c.number, c.person_id, :employer, c.office_id, c.id,
    CASE WHEN c.state IN ('accepted', 'under_verification', 'refusal_proposed', 'approved') THEN 'accepted'
         WHEN c.state = 'refused' THEN 'partial'
         WHEN c.state = 'draft' THEN 'submitted'
         ELSE c.state END,
    1, CAST(:wp AS JSON), NULL, c.accepted_on,
    CASE WHEN o.region = '310000' THEN 'shanghai' WHEN o.region = '110000' THEN 'beijing' END,
    CASE WHEN o.region = '310000' THEN 7 WHEN o.region = '110000' THEN 5 END,
    CASE WHEN c.accepted_on IS NOT NULL AND o.region = '310000' THEN c.accepted_on + 9
         WHEN c.accepted_on IS NOT NULL AND o.region = '110000' THEN c.accepted_on + 7 END,
    NULL, c.law_version, c.calendar_version, c.created_at, c.created_at
FROM cases c JOIN offices o ON o.id = c.office_id
WHERE c.matter = 'residence_permit' AND o.region IN ('310000', '110000')
"""
ALL_JOINT = """
UPDATE cases c SET matter = 'residence_permit' FROM offices o
WHERE o.id = c.office_id AND o.region IN ('310000', '110000') AND c.matter <> 'residence_permit'
"""
UNMIX = ("DELETE FROM work_permit_branches", "DELETE FROM joint_applications")
BEFORE_0017 = """
SELECT j.id, j.number, j.person_id, j.work_permit, j.commitment_due, j.jurisdiction, b.reference, b.state,
    b.version, b.statutory_due, b.extended,
    CASE WHEN (j.commitment_due IS NOT NULL AND j.commitment_due < b.statutory_due) THEN j.commitment_due
         ELSE b.statutory_due END AS due
FROM joint_applications j JOIN work_permit_branches b ON b.joint_id = j.id
WHERE j.window_office_id = $1 AND b.state IN ('accepted', 'under_review')
ORDER BY CASE WHEN (j.commitment_due IS NOT NULL AND j.commitment_due < b.statutory_due) THEN j.commitment_due
         ELSE b.statutory_due END, j.id
LIMIT 50
"""
"""The desk's query before migration 0017 (``work_permit_desk_queue`` at 56c520f~1), timed beside it."""
BRANCHES = """
INSERT INTO work_permit_branches (joint_id, state, reference, statutory_due, extended, grounds, version, updated_at)
SELECT j.id,
    CASE WHEN j.state = 'accepted' THEN (ARRAY['accepted', 'under_review', 'granted', 'refused'])[1 + (j.id / 2) % 4]
         WHEN j.state IN ('issued', 'collected', 'partial') THEN 'granted'
         WHEN j.state IN ('withdrawn', 'lapsed') THEN 'withdrawn'
         ELSE 'submitted' END,
    CASE WHEN j.accepted_on IS NOT NULL THEN 'WP' || j.id END,
    CASE WHEN j.accepted_on IS NOT NULL THEN j.accepted_on + 28 END,
    false, CAST('[]' AS JSON), 1, j.updated_at
FROM joint_applications j
"""


async def build(cases: int) -> tuple[str, dict[str, float]]:
    url = await fresh_pg(QUEUE_DB)
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    t = time.perf_counter()
    await seed(engine, cases=cases, seed_value=1)
    seeded = time.perf_counter() - t
    async with engine.begin() as conn:
        offices = (await conn.execute(select(Office.id))).scalars().all()
        await conn.execute(
            insert(Account),
            [
                {
                    "username": f"bench-wp-{o}",
                    "display_name": "WP",
                    "role": "work_permit_officer",
                    "office_id": o,
                }
                for o in offices
            ],
        )
    mixed = await mix(engine)
    await engine.dispose()
    return url, {"seed_seconds": seeded, "joint_mix_seconds": mixed}


async def mix(engine: AsyncEngine, all_joint: bool = False) -> float:
    """(Re)make the joint applications of the 1M-case database (the seeded cases stay); returns the seconds."""
    t = time.perf_counter()
    async with engine.begin() as conn:
        for sql in UNMIX:
            await conn.exec_driver_sql(sql)
        if all_joint:
            await conn.exec_driver_sql(ALL_JOINT)
        employer = (await conn.execute(select(Organisation.id).order_by(Organisation.id))).scalars().first()
        await conn.execute(text(MIX), {"employer": employer, "wp": json.dumps(WP)})
        await conn.execute(text(BRANCHES))
    async with engine.begin() as conn:  # committed: a rolled-back ANALYZE keeps no statistics
        await conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - t


async def _counts(engine: AsyncEngine) -> dict[str, float]:
    async with engine.connect() as conn:
        out = {}
        for name, sql in (
            ("cases", "SELECT count(*) FROM cases"),
            ("joint_applications", "SELECT count(*) FROM joint_applications"),
            (
                "open_wp_branches",
                "SELECT count(*) FROM work_permit_branches WHERE state IN ('accepted', 'under_review')",
            ),
        ):
            out[name] = float((await conn.exec_driver_sql(sql)).scalar_one())
        return out


def _stats(samples: list[float], name: str) -> dict[str, float]:
    samples = sorted(samples)
    return {
        f"{name}_median_ms": statistics.median(samples) * 1000,
        f"{name}_p95_ms": samples[int(len(samples) * 0.95)] * 1000,
        f"{name}_p99_ms": samples[int(len(samples) * 0.99)] * 1000,
        f"{name}_max_ms": samples[-1] * 1000,
    }


async def queue(
    cases: int, seed_cases: bool, remix: bool, rounds: int, all_joint: bool = False
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    url = _url(QUEUE_DB)
    if seed_cases:
        url, built = await build(cases)
        result.update(built)
    engine = make_engine(url)
    if remix and not seed_cases:
        result["joint_mix_seconds"] = await mix(engine, all_joint)
    result.update(await _counts(engine))
    # as the platform builds them (cnvisa.app): the hot-read pool, on which staff reads' audit groups commit
    sessions = sessionmaker(engine)
    platform_reads = await Reads.open(engine, sessions)
    cases_svc = CaseService(sessions, ManualClock(TODAY), platform_reads)
    joint = JointService(sessions, ManualClock(TODAY), platform_reads)
    async with engine.connect() as conn:
        desks = {
            o: a
            for a, o in await conn.execute(
                select(Account.id, Account.office_id).where(Account.role == "work_permit_officer")
            )
        }
        officers = {
            o: a
            for a, o in await conn.execute(
                select(Account.id, Account.office_id)
                .where(Account.role == "officer")
                .order_by(Account.id.desc())
            )
        }
    offices = sorted(desks)[:8]
    async with engine.connect() as conn:
        windows = sorted(
            (await conn.execute(select(JointApplication.window_office_id).distinct())).scalars()
        )  # the single windows with joint applications (offices with a service commitment)
    # the desk queue's SQL as the service sends it, for EXPLAIN
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "work_permit_branches" in statement and not captured:
            captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    for i in range(20):  # warm both
        await cases_svc.queue(offices[i % len(offices)], 50)
        await joint.work_permit_desk_queue(
            Actor(desks[windows[0]], Role.WORK_PERMIT_OFFICER, office_id=windows[0])
        )
    event.remove(engine.sync_engine, "before_cursor_execute", capture)
    officer_samples, audited_samples, desk_samples, rows = [], [], [], []
    for i in range(rounds):
        office = offices[i % len(offices)]
        t = time.perf_counter()
        got = await cases_svc.queue(office, 50)
        officer_samples.append(time.perf_counter() - t)
        assert len(got) == 50
        officer = Actor(officers[office], Role.OFFICER, office_id=office)
        t = time.perf_counter()
        await cases_svc.queue(office, 50, actor=officer)  # as the desk's: the read audited
        audited_samples.append(time.perf_counter() - t)
        window = windows[i % len(windows)]
        actor = Actor(desks[window], Role.WORK_PERMIT_OFFICER, office_id=window)
        t = time.perf_counter()
        got = await joint.work_permit_desk_queue(actor)
        desk_samples.append(time.perf_counter() - t)
        rows.append(len(got))
    result.update(_stats(officer_samples, "officer_queue"))
    result.update(_stats(audited_samples, "officer_queue_audited"))
    result.update(_stats(desk_samples, "desk_queue"))
    result["desk_rows_min"] = float(min(rows))
    await platform_reads.close()
    result.update(await _window_queues(engine, windows, officers, rounds))
    if captured:  # the desk's query alone (no session, no read audit): one prepared statement, timed
        statement, parameters = captured[0]
        raw = await asyncpg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + QUEUE_DB)
        prepared, before = await raw.prepare(statement), await raw.prepare(BEFORE_0017)
        alone: list[float] = []
        old: list[float] = []
        for i in range(rounds):
            window = windows[i % len(windows)]
            t = time.perf_counter()
            await prepared.fetch(window, *list(parameters)[1:])
            alone.append(time.perf_counter() - t)
            t = time.perf_counter()
            await before.fetch(window)
            old.append(time.perf_counter() - t)
        result.update(_stats(alone, "desk_query_alone"))
        result.update(_stats(old, "desk_query_before_0017"))
        plan = await raw.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *parameters)
        await raw.close()
        result["desk_plan"] = "\n".join(r[0] for r in plan)
    await engine.dispose()
    return result


async def _window_queues(
    engine: AsyncEngine, windows: list[int], officers: dict[int, int], rounds: int
) -> dict[str, Any]:
    """The officer queue at the single windows (SH01, BJ01), where the rows are joint applications' residence
    branches carrying the service commitment's due and the branch waiting (issue 10 §1, two left joins in the
    queue's statement): the API's ``queue`` (ORM session) and the page's ``queue_page`` as the platform runs it
    (hot reads on the asyncpg pool, the read audited), and the page's SQL alone with its plan."""
    sessions = sessionmaker(engine)
    reads = await Reads.open(engine, sessions)
    svc = CaseService(sessions, ManualClock(TODAY), reads)
    out: dict[str, Any] = {}
    api, page, joint_rows = [], [], []
    for i in range(20 + rounds):
        office = windows[i % len(windows)]
        officer = Actor(officers[office], Role.OFFICER, office_id=office)
        t = time.perf_counter()
        got = await svc.queue(office, 50)
        api_s = time.perf_counter() - t
        t = time.perf_counter()
        view = await svc.queue_page(office, 50, officer)
        page_s = time.perf_counter() - t
        if i >= 20:  # after the warm-up
            api.append(api_s)
            page.append(page_s)
            joint_rows.append(sum(1 for r in [*got, *view["due"]] if r["joint"] is not None))
    await reads.close()
    out.update(_stats(api, "window_queue_api"))
    out.update(_stats(page, "window_queue_page_audited"))
    out["window_joint_rows_min"] = float(min(joint_rows))
    out["window_joint_rows_median"] = float(statistics.median(joint_rows))
    raw = await asyncpg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + QUEUE_DB)
    prepared = await raw.prepare(QUEUE_DUE.sql)
    alone: list[float] = []
    for i in range(rounds):
        args = QUEUE_DUE.args({"office_id": windows[i % len(windows)], "limit": 50})
        t = time.perf_counter()
        await prepared.fetch(*args)
        alone.append(time.perf_counter() - t)
    out.update(_stats(alone, "window_queue_sql_alone"))
    args = QUEUE_DUE.args({"office_id": windows[0], "limit": 50})
    plan = await raw.fetch("EXPLAIN (ANALYZE, BUFFERS) " + QUEUE_DUE.sql, *args)
    await raw.close()
    out["queue_plan"] = "\n".join(r[0] for r in plan)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="what", required=True)
    s = sub.add_parser("submissions")
    s.add_argument("--seconds", type=float, default=20)
    s.add_argument("--workers", type=int, default=16, help="concurrent submitters per process")
    s.add_argument("--processes", type=int, default=2, help="service processes (the platform runs 2 workers)")
    s.add_argument("--keep", action="store_true", help="keep the database (default: dropped)")
    s.add_argument(
        "--returned",
        action="store_true",
        help="the passport read at the window and returned with a collection appointment (default: kept, "
        "the applicant's request)",
    )
    q = sub.add_parser("queue")
    q.add_argument("--cases", type=int, default=1_000_000)
    q.add_argument("--no-seed", action="store_true", help="reuse the database of the previous run")
    q.add_argument("--remix", action="store_true", help="with --no-seed: remake the joint applications")
    q.add_argument(
        "--all-joint",
        action="store_true",
        help="with --remix: every case of the single windows a joint branch",
    )
    q.add_argument("--rounds", type=int, default=300)
    sub.add_parser("drop")
    args = p.parse_args()
    if args.what == "submissions":
        result: dict[str, Any] = asyncio.run(
            submissions(args.seconds, args.workers, args.processes, args.keep, args.returned)
        )
    elif args.what == "queue":
        result = asyncio.run(queue(args.cases, not args.no_seed, args.remix, args.rounds, args.all_joint))
    else:
        asyncio.run(drop_pg(QUEUE_DB))
        return
    plans = [result.pop(k, None) for k in ("desk_plan", "queue_plan")]
    for k, v in result.items():
        print(f"{k:32s} {v:,.2f}")
    for plan in plans:
        if plan:
            print(plan)


if __name__ == "__main__":
    main()
