"""`cnvisa db upgrade`, `db sweep`, `demo seed`, `audit verify` on SQLite and PostgreSQL; the schema the migrations make
(issue 3)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from case_helpers import VISA_EXTENSION, World, key
from sqlalchemy import func, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.law.acceptance import receipt_valid_until
from cnvisa.law.documents import check_mrz, check_social_credit_code
from cnvisa.store import (  # every model module: the comparison below sees all the tables, whatever ran first
    agency_tables,  # noqa: F401
    joint_tables,  # noqa: F401
    obligation_tables,  # noqa: F401
    passport_tables,  # noqa: F401
    port_visa_tables,  # noqa: F401
    post_change_tables,  # noqa: F401
    queue,
    register_tables,  # noqa: F401
)
from cnvisa.store.db import make_engine, sessionmaker
from cnvisa.store.tables import AuditEvent, Base, CalendarState, Case

ROOT = Path(__file__).parents[2]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cnvisa.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


async def test_seed_then_verify_then_tamper(engine: AsyncEngine, db_url: str) -> None:
    assert cli("db", "upgrade", "--database-url", db_url).returncode == 0  # already at head: a no-op
    seeded = cli("demo", "seed", "--cases", "300", "--seed", "5", "--database-url", db_url)
    assert seeded.returncode == 0, seeded.stderr
    async with sessionmaker(engine)() as s:
        states = {st for (st,) in await s.execute(select(Case.state).distinct())}
        assert len(states) == 12, states  # cases in every state
        assert (await s.execute(select(func.count()).select_from(Case))).scalar_one() == 300
    ok = cli("audit", "verify", "--database-url", db_url)
    assert ok.returncode == 0 and "audit chain ok" in ok.stdout
    async with sessionmaker(engine)() as s, s.begin():
        await s.execute(update(AuditEvent).where(AuditEvent.seq == 1).values(action="something_else"))
    broken = cli("audit", "verify", "--database-url", db_url)
    assert broken.returncode == 1 and "BROKEN at event 1" in broken.stdout, broken.stdout


def test_bad_database_url_is_one_line() -> None:
    r = cli("audit", "verify", "--database-url", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


async def test_the_migrations_make_exactly_the_schema_of_the_tables(engine: AsyncEngine) -> None:
    """Alembic migrations are the only way the schema is made: after `upgrade` nothing differs from the models
    (columns, types, indexes — the queue's partial index, document and case numbers — and constraints)."""
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(
                    sync,
                    opts={
                        "compare_type": True,
                        "include_name": queue.is_model_object,
                        "include_object": queue.model_objects(sync.dialect.name),
                    },
                ),
                Base.metadata,
            )
        )
        indexes = await conn.run_sync(lambda sync: {i["name"] for i in inspect(sync).get_indexes("cases")})
        holding_uniques = await conn.run_sync(
            lambda sync: [u["column_names"] for u in inspect(sync).get_unique_constraints("holdings")]
        )
        if engine.dialect.name == "sqlite":
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
            assert mode == "wal"
    assert diff == []
    assert {"ix_cases_queue", "ix_cases_office_state", "ix_cases_deadline_open"} <= indexes
    assert ["number"] in holding_uniques


async def _dump(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            out = {}
            for table in Base.metadata.sorted_tables:
                if table.name in (
                    "audit_events",
                    "audit_head",
                ):  # chain numbers of list events are drawn at random
                    continue
                rows = (await conn.execute(select(table).order_by(*table.primary_key.columns))).all()
                out[table.name] = [tuple(r) for r in rows]
            return out
    finally:
        await engine.dispose()


def test_demo_seed_is_deterministic_and_keeps_the_records_rules(tmp_path: Path) -> None:
    """`cnvisa demo seed --cases N --seed S`: the same seed gives the same data; another seed other data; and the
    data obeys the rules the registry enforces (GB 32100-2015 codes, ICAO 9303 MRZ, receipts by the calendar)."""
    urls = [f"sqlite+aiosqlite:///{tmp_path / f'{n}.sqlite3'}" for n in ("a", "b", "c")]
    for url, seed in zip(urls, ("7", "7", "8"), strict=True):
        assert cli("db", "upgrade", "--database-url", url).returncode == 0
        r = cli("demo", "seed", "--cases", "120", "--seed", seed, "--database-url", url)
        assert r.returncode == 0, r.stderr
    a, b, c = (asyncio.run(_dump(u)) for u in urls)
    assert len(a["cases"]) == 120 and a == b
    assert a["cases"] != c["cases"] and a["people"] != c["people"]

    cols = {t.name: [col.name for col in t.columns] for t in Base.metadata.sorted_tables}
    for row in a["organisations"]:
        org = dict(zip(cols["organisations"], row, strict=True))
        assert check_social_credit_code(str(org["uscc"])).valid, org
    people = {r[0]: dict(zip(cols["people"], r, strict=True)) for r in a["people"]}
    for row in a["travel_documents"]:
        doc = dict(zip(cols["travel_documents"], row, strict=True))
        line1, line2 = str(doc["mrz"]).split("\n")
        mrz = check_mrz(line1, line2)
        assert mrz.valid, (doc, mrz.errors)
        person = people[doc["person_id"]]
        assert mrz.fields["document_number"].replace("<", "") == doc["number"]
        assert mrz.fields["birth_date"] == str(person["birth_date"])
        assert mrz.fields["expiry_date"] == str(doc["valid_until"])
    for row in a["cases"]:
        case = dict(zip(cols["cases"], row, strict=True))
        if case["accepted_on"] is not None:
            assert case["receipt_number"] and case["receipt_issued_at"] and case["law_version"]
            assert case["receipt_valid_until"] == receipt_valid_until(
                str(case["matter"]), case["accepted_on"]
            )
    ok = cli("audit", "verify", "--database-url", urls[0])
    assert ok.returncode == 0, ok.stdout


async def test_db_upgrade_recomputes_deadlines_when_the_holiday_data_changed(
    engine: AsyncEngine, db_url: str
) -> None:
    """A release with new holiday data: `cnvisa db upgrade` finds the calendar version changed, recomputes every
    open deadline, writes each change to the audit log; run again, it has nothing to do."""
    assert cli("demo", "seed", "--cases", "200", "--seed", "3", "--database-url", db_url).returncode == 0
    sessions = sessionmaker(engine)
    async with sessions() as s, s.begin():
        assert (await s.get(CalendarState, 1)) is not None  # the demo's deadlines are the current calendar's
        await s.execute(update(CalendarState).values(version="2020-2025+000000000000"))
        # as if computed under the older calendar: one working day earlier than the current data gives
        victim = (
            await s.execute(
                select(Case).where(Case.state == "accepted", Case.receipt_valid_until.is_not(None)).limit(1)
            )
        ).scalar_one()
        right = victim.receipt_valid_until
        assert right is not None
        victim.receipt_valid_until = victim.deadline = right - dt.timedelta(days=1)
        number = victim.number
    r = cli("db", "upgrade", "--database-url", db_url)
    assert r.returncode == 0 and "1 changed" in r.stdout, (r.stdout, r.stderr)
    async with sessions() as s:
        stored = (await s.execute(select(Case).where(Case.number == number))).scalar_one()
        events = (
            await s.execute(select(AuditEvent).where(AuditEvent.action == "recompute_deadline"))
        ).scalars()
        events = list(events)
    assert stored.deadline == stored.receipt_valid_until == right
    assert [(e.case_id, e.detail["to"]) for e in events] == [(stored.id, right.isoformat())]
    again = cli("db", "upgrade", "--database-url", db_url)
    assert again.returncode == 0 and "0 changed" in again.stdout
    assert cli("audit", "verify", "--database-url", db_url).returncode == 0


async def test_db_sweep_lapses_unanswered_notices(world: World, db_url: str) -> None:
    """`cnvisa db sweep` (daily, from cron): a one-time notice unanswered past its reply date lapses the case."""
    c = await world.submitted(files=VISA_EXTENSION.materials[:-1])
    n = await world.svc.issue_notice(world.officer, c["case_id"], c["version"], key=key())
    respond_by = dt.date.fromisoformat(n["notice"]["respond_by"])
    env = {"CNVISA_CLOCK_START": f"{respond_by.isoformat()}T16:00+08:00"}
    on_time = cli("db", "sweep", "--database-url", db_url, env=env)
    assert on_time.returncode == 0 and "lapsed: 0" in on_time.stdout, on_time.stderr
    env = {"CNVISA_CLOCK_START": f"{respond_by + dt.timedelta(days=1)}T09:00+08:00"}
    late = cli("db", "sweep", "--database-url", db_url, env=env)
    assert late.returncode == 0 and "lapsed: 1" in late.stdout and c["number"] in late.stdout, late.stderr
    assert (await world.case(c["case_id"])).state == "lapsed"
    assert (await world.actions(c["case_id"]))[-1] == "lapse"
    bad = cli("db", "sweep", "--database-url", db_url, env={"CNVISA_CLOCK_START": "soon"})
    assert bad.returncode == 2 and "CNVISA_CLOCK_START" in bad.stderr


async def test_db_escalations_counts_each_office_on_the_platform_day(world: World, db_url: str) -> None:
    """`cnvisa db escalations`: per office, open cases overdue and near their deadline (office rule, --near or
    CNVISA_ESCALATION_WORKING_DAYS), on the platform's Beijing day (23:59 is still the deadline day)."""
    import json

    c = await world.accepted()
    deadline = dt.date.fromisoformat(c["receipt_valid_until"])
    sh01 = (await world.case(c["case_id"])).office_id

    def offices(out: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
        assert out.returncode == 0, out.stderr
        return {o["office"]: o for o in json.loads(out.stdout)["offices"]}

    async def code() -> str:
        from cnvisa.store.tables import Office

        async with world.sessions() as s:
            return str((await s.execute(select(Office.code).where(Office.id == sh01))).scalar_one())

    mine = await code()
    on_the_day = {"CNVISA_CLOCK_START": f"{deadline.isoformat()}T23:59+08:00"}
    got = offices(cli("db", "escalations", "--database-url", db_url, env=on_the_day))
    assert got[mine] == {"office": mine, "overdue": 0, "near": 1}
    assert sum(o["near"] for o in got.values()) == 1
    next_day = {"CNVISA_CLOCK_START": f"{(deadline + dt.timedelta(days=1)).isoformat()}T00:30+08:00"}
    assert offices(cli("db", "escalations", "--database-url", db_url, env=next_day))[mine]["overdue"] == 1
    week_before = {"CNVISA_CLOCK_START": f"{(deadline - dt.timedelta(days=7)).isoformat()}T09:00+08:00"}
    assert offices(cli("db", "escalations", "--database-url", db_url, env=week_before))[mine]["near"] == 0
    wide = cli("db", "escalations", "--near", "10", "--database-url", db_url, env=week_before)
    assert offices(wide)[mine]["near"] == 1
    bad = cli("db", "escalations", "--database-url", db_url, env={"CNVISA_ESCALATION_WORKING_DAYS": "-1"})
    assert bad.returncode == 2 and "CNVISA_ESCALATION_WORKING_DAYS" in bad.stderr
