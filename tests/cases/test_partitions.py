"""Monthly partitions (issue 14, migration 0028, cnvisa.store.partitions): on PostgreSQL the migration keeps the
rows of a database that has them (the audit chains still verify, downgrade gives the plain tables back), a row
lands in its Beijing month's partition (or the DEFAULT one), the worker's job creates the months ahead once, and
months are dropped only by the operator and never inside the minimum retention. SQLite: plain tables."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases import audit
from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.store import migrate, partitions
from cnvisa.store.db import make_engine, sessionmaker
from cnvisa.worker.jobs import ensure_partitions
from cnvisa.worker.registry import JobContext, by_name

UTC = dt.UTC


def _admin() -> str:
    url = make_url(os.environ.get("CNVISA_TEST_PG_URL") or "postgresql://postgres@127.0.0.1:5432/postgres")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def fresh_pg(db_templates: Any) -> Iterator[str]:
    """An empty PostgreSQL database of this test (not from the template: the test migrates it step by step)."""
    name = f"cnvisa_test_partition_{secrets.token_hex(4)}"
    with psycopg.connect(_admin(), autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(_admin()).set(drivername="postgresql+asyncpg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        # dropped with the other tests' databases, in the background (a DROP waits for a checkpoint: 60-80 s
        # here on a loaded machine)
        db_templates.drop(url.render_as_string(hide_password=False))


async def _events(url: str, instants: list[dt.datetime]) -> None:
    eng = make_engine(url)
    try:
        async with sessionmaker(eng)() as s, s.begin():
            for i, at in enumerate(instants):
                await audit.append(
                    s,
                    at=at,
                    actor_account_id=None,
                    role="system",
                    office_id=None,
                    case_id=i % 3 + 1,
                    action="t",
                )
    finally:
        await eng.dispose()


async def _sql(url: str, *statements: str) -> list[list[Any]]:
    eng = make_engine(url)
    try:
        async with eng.begin() as conn:
            return [[tuple(r) for r in (await conn.execute(text(q))).all()] for q in statements]
    finally:
        await eng.dispose()


async def _exec(url: str, *statements: str) -> None:
    eng = make_engine(url)
    try:
        async with eng.begin() as conn:
            for q in statements:
                await conn.execute(text(q))
    finally:
        await eng.dispose()


async def _verify(url: str) -> audit.VerifyResult:
    eng = make_engine(url)
    try:
        async with sessionmaker(eng)() as s:
            return await audit.verify(s)
    finally:
        await eng.dispose()


_STAYS = (
    "INSERT INTO organisations (id, kind, name, uscc) VALUES (1, 'hotel', 'Hotel', '91110000100000000X')",
    "INSERT INTO people (id, surname, given_names, birth_date, sex, nationality, created_at) "
    "VALUES (1, 'A', 'B', '1990-01-01', 'F', 'GBR', now())",
    "INSERT INTO accommodation_registrations (person_id, address, division_code, registered_from, registered_by, "
    "recorded_at, organisation_id, stay_ref) VALUES "
    "(1, 'x', '110101', '2026-10-31', 'hotel', '2026-10-31 12:00+00', 1, 'r1'), "
    "(1, 'x', '110101', '2026-11-01', 'hotel', '2026-11-01 12:00+00', 1, 'r2')",
)


def test_the_migration_keeps_the_rows_and_the_chains_verify_and_downgrade_gives_plain_tables(
    fresh_pg: str,
) -> None:
    url = fresh_pg
    migrate.upgrade(url, "0027")
    # 15:30 UTC on 31 Oct is 23:30 Beijing (October); 16:30 UTC is 00:30 on 1 Nov Beijing (November)
    october, november = (
        dt.datetime(2026, 10, 31, 15, 30, tzinfo=UTC),
        dt.datetime(2026, 10, 31, 16, 30, tzinfo=UTC),
    )
    asyncio.run(_events(url, [october, november, november]))
    asyncio.run(_exec(url, *_STAYS))
    before = asyncio.run(
        _sql(
            url,
            "SELECT * FROM audit_events ORDER BY seq",
            "SELECT * FROM accommodation_registrations ORDER BY id",
        )
    )
    assert asyncio.run(_verify(url)).ok

    migrate.upgrade(url)
    after = asyncio.run(
        _sql(
            url,
            "SELECT * FROM audit_events ORDER BY seq",
            "SELECT * FROM accommodation_registrations ORDER BY id",
            "SELECT tableoid::regclass::text, seq FROM audit_events ORDER BY seq",
            "SELECT tableoid::regclass::text, stay_ref FROM accommodation_registrations ORDER BY id",
            "SELECT relkind::text FROM pg_class WHERE relname IN ('audit_events', 'accommodation_registrations')",
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname IN "
            "('pk_audit_events', 'uq_audit_events_chain_position', 'pk_accommodation_registrations', "
            "'uq_accommodation_registrations_hotel_stay') ORDER BY conname",
        )
    )
    assert after[:2] == before
    # 0029: each hotel's stay reference once, beside the partitioned stays, written from the stays on record
    refs = asyncio.run(
        _sql(
            url,
            "SELECT organisation_id, stay_ref, registration_id, registered_from::text FROM hotel_stay_refs",
        )
    )[0]
    assert sorted(refs) == [(1, "r1", 1, "2026-10-31"), (1, "r2", 2, "2026-11-01")]
    assert after[2] == [
        ("audit_events_y2026m10", 1),
        ("audit_events_y2026m11", 2),
        ("audit_events_y2026m11", 3),
    ]
    assert after[3] == [
        ("accommodation_registrations_y2026m10", "r1"),
        ("accommodation_registrations_y2026m11", "r2"),
    ]
    assert after[4] == [("p",), ("p",)]
    assert after[5] == [
        ("PRIMARY KEY (id, registered_from)",),
        ("PRIMARY KEY (seq, at)",),
        ("UNIQUE (organisation_id, stay_ref, registered_from)",),
        ("UNIQUE (chain, chain_seq, at)",),
    ]
    assert asyncio.run(_verify(url)).ok
    # the chains go on across the migration; the stays' numbers come from their sequence still
    asyncio.run(_events(url, [november + dt.timedelta(days=1)]))
    asyncio.run(
        _exec(
            url,
            "INSERT INTO accommodation_registrations (person_id, address, division_code, registered_from, "
            "registered_by, recorded_at, organisation_id, stay_ref) "
            "VALUES (1, 'x', '110101', '2026-11-02', 'hotel', now(), 1, 'r3')",
        )
    )
    ids = asyncio.run(_sql(url, "SELECT id FROM accommodation_registrations ORDER BY id"))[0]
    assert ids == [(1,), (2,), (3,)]
    assert asyncio.run(_verify(url)).ok
    # the same stay sent again with its check-in day: the key refuses it
    with pytest.raises(Exception, match="duplicate key value violates unique constraint"):
        asyncio.run(
            _exec(
                url,
                "INSERT INTO accommodation_registrations (person_id, address, division_code, registered_from, "
                "registered_by, recorded_at, organisation_id, stay_ref) "
                "VALUES (1, 'x', '110101', '2026-11-02', 'hotel', now(), 1, 'r3')",
            )
        )

    migrate.downgrade(url, "0027")
    plain = asyncio.run(
        _sql(
            url,
            "SELECT relkind::text FROM pg_class WHERE relname IN ('audit_events', 'accommodation_registrations')",
            "SELECT count(*) FROM audit_events",
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'audit_events_y%'",
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'uq_audit_events_chain_position'",
        )
    )
    assert plain == [[("r",), ("r",)], [(4,)], [(0,)], [("UNIQUE (chain, chain_seq)",)]]
    assert asyncio.run(_verify(url)).ok
    migrate.upgrade(url)
    assert asyncio.run(_verify(url)).ok


async def test_a_row_lands_in_its_month_and_the_job_makes_the_months_ahead_once(engine: AsyncEngine) -> None:
    dialect = engine.dialect.name
    sessions = sessionmaker(engine)
    clock = ManualClock(dt.datetime(2035, 2, 10, 9, 0, tzinfo=SHANGHAI))
    far = dt.datetime(2035, 2, 10, 1, 0, tzinfo=UTC)
    stray = dt.datetime(2030, 6, 30, 16, 0, tzinfo=UTC)  # 00:00 on 1 July 2030 in Beijing
    async with sessions() as s, s.begin():
        await audit.append(
            s, at=far, actor_account_id=None, role="system", office_id=None, case_id=7, action="t"
        )
        await audit.append(
            s, at=stray, actor_account_id=None, role="system", office_id=None, case_id=9, action="t"
        )
    ctx = JobContext(sessions, clock, dialect)
    first = await ensure_partitions(ctx, {"ahead": 3})
    again = await ensure_partitions(ctx, {"ahead": 3})
    if dialect == "sqlite":  # plain tables: nothing to do
        assert first["created"] == again["created"] == []
        return
    made = {
        f"{t}_y2035m{m:02d}" for t in ("audit_events", "accommodation_registrations") for m in (2, 3, 4, 5)
    }
    # the months ahead, and the month of a row left in DEFAULT
    assert set(first["created"]) == made | {"audit_events_y2030m07"} and first["moved_from_default"] == 2
    assert again == {"created": [], "moved_from_default": 0}
    async with sessions() as s:
        where = (
            await s.execute(text("SELECT tableoid::regclass::text FROM audit_events WHERE case_id = 7"))
        ).scalar()
        assert where == "audit_events_y2035m02"
        stray_at = "SELECT tableoid::regclass::text FROM audit_events WHERE case_id = 9"
        assert (await s.execute(text(stray_at))).scalar() == "audit_events_y2030m07"  # its Beijing month
        now = dt.datetime.now(SHANGHAI)
        await audit.append(
            s, at=now, actor_account_id=None, role="system", office_id=None, case_id=8, action="t"
        )
        here = (
            await s.execute(text("SELECT tableoid::regclass::text FROM audit_events WHERE case_id = 8"))
        ).scalar()
        assert here == partitions.partition_name("audit_events", now.date())  # made by the migration
        await s.rollback()
        assert (await audit.verify(s)).ok


async def test_months_are_dropped_only_by_the_operator_and_never_the_audit_chains(
    engine: AsyncEngine,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("plain tables on SQLite: no partitions to drop")
    today = dt.date(2035, 2, 10)
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: partitions.ensure(c, dt.date(2034, 10, 1), 6))
        with pytest.raises(ValueError, match="not dropped by the platform"):
            await conn.run_sync(
                lambda c: partitions.drop_before(c, "audit_events", dt.date(2034, 1, 1), today)
            )
        with pytest.raises(ValueError, match="table: 'cases' is not partitioned"):
            await conn.run_sync(lambda c: partitions.drop_before(c, "cases", dt.date(2034, 1, 1), today))
        with pytest.raises(ValueError, match="latest allowed is 2035-02"):
            await conn.run_sync(
                lambda c: partitions.drop_before(c, "accommodation_registrations", dt.date(2035, 3, 1), today)
            )
        await conn.exec_driver_sql(
            "INSERT INTO organisations (id, kind, name, uscc) VALUES (9001, 'hotel', 'H', '91110000100000901X')"
        )
        await conn.exec_driver_sql(
            "INSERT INTO people (id, surname, given_names, birth_date, sex, nationality, created_at) "
            "VALUES (9001, 'A', 'B', '1990-01-01', 'F', 'GBR', now())"
        )
        for n, day in ((9001, "2034-10-20"), (9002, "2034-12-02")):  # a stay in a dropped month, one kept
            await conn.exec_driver_sql(
                "INSERT INTO accommodation_registrations (id, person_id, address, division_code, registered_from,"
                " registered_by, recorded_at, organisation_id, stay_ref) VALUES "
                f"({n}, 9001, 'x', '110101', '{day}', 'hotel', now(), 9001, 'ref-{n}')"
            )
            await conn.exec_driver_sql(
                "INSERT INTO hotel_stay_refs (organisation_id, stay_ref, registration_id, registered_from) "
                f"VALUES (9001, 'ref-{n}', {n}, '{day}')"
            )
        dropped = await conn.run_sync(
            lambda c: partitions.drop_before(c, "accommodation_registrations", dt.date(2034, 12, 1), today)
        )
        # the dropped stay's reference goes with it (it names no stay); the kept stay's stays
        refs = await conn.exec_driver_sql("SELECT stay_ref FROM hotel_stay_refs WHERE organisation_id = 9001")
        assert [r[0] for r in refs] == ["ref-9002"]
    assert {"accommodation_registrations_y2034m10", "accommodation_registrations_y2034m11"} <= set(dropped)
    assert all(name < "accommodation_registrations_y2034m12" for name in dropped)
    async with engine.connect() as conn:
        left = await conn.run_sync(lambda c: partitions.partitions(c, "accommodation_registrations"))
    assert "accommodation_registrations_y2034m12" in left and "accommodation_registrations_default" in left


def test_the_partition_job_is_scheduled_daily_and_the_months_are_beijing_months() -> None:
    job = by_name()["ensure_partitions"]
    assert job.cron == "20 16 * * *" and job.concurrency_limit == 1  # 00:20 Beijing
    spec = partitions.BY_NAME["audit_events"]
    assert partitions.bound(spec, dt.date(2026, 12, 1)) == "'2026-12-01 00:00:00+08:00'::timestamptz"
    assert partitions.add_months(dt.date(2026, 11, 1), 3) == dt.date(2027, 2, 1)
    assert partitions.is_partition("audit_events_y2026m12") and partitions.is_partition(
        "audit_events_default"
    )
    assert not partitions.is_partition("audit_events") and not partitions.is_partition("audit_head")
    assert partitions.BY_NAME["audit_events"].min_retention_months >= 6  # Cybersecurity Law Art 21(3)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cnvisa.cli", "db", "partitions", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CNVISA_CLOCK_START": "2035-02-10T09:00+08:00"},
    )


def test_the_operator_commands_list_make_and_drop_months_with_an_audit_record(db_url: str) -> None:
    url = ["--database-url", db_url]
    if db_url.startswith("sqlite"):
        r = _cli("list", *url)
        assert r.returncode == 2 and "SQLite keeps plain tables" in r.stderr and "Traceback" not in r.stderr
        return
    made = _cli("ensure", "--ahead", "1", *url)
    assert made.returncode == 0, made.stderr
    assert "accommodation_registrations_y2035m03" in json.loads(made.stdout)["created"]
    listed = json.loads(_cli("list", *url).stdout)
    assert "audit_events_y2035m02" in listed["audit_events"]["partitions"]
    assert "6 months" in listed["audit_events"]["retention"]
    refused = _cli("drop", "audit_events", "--before", "2030-01", "--yes", *url)
    assert refused.returncode == 2 and "not dropped by the platform" in refused.stderr
    bad = _cli("drop", "accommodation_registrations", "--before", "March", *url)
    assert bad.returncode == 2 and "before: 'March' is not a month (YYYY-MM)" in bad.stderr
    dry = _cli("drop", "accommodation_registrations", "--before", "2035-02", *url)
    assert dry.returncode == 0 and json.loads(dry.stdout)["would_drop"], dry.stderr
    assert "accommodation_registrations_y2035m01" not in json.loads(dry.stdout)["would_drop"]
    assert json.loads(_cli("list", *url).stdout) == listed  # nothing dropped without --yes
    done = _cli("drop", "accommodation_registrations", "--before", "2035-02", "--yes", *url)
    assert done.returncode == 0, done.stderr
    dropped = json.loads(done.stdout)["dropped"]
    assert dropped == json.loads(dry.stdout)["would_drop"]
    after = json.loads(_cli("list", *url).stdout)["accommodation_registrations"]["partitions"]
    assert not set(dropped) & set(after) and "accommodation_registrations_y2035m02" in after

    async def recorded() -> list[Any]:
        eng = make_engine(db_url)
        try:
            async with sessionmaker(eng)() as s:
                rows = await s.execute(
                    text("SELECT detail FROM audit_events WHERE action = 'drop_partitions'")
                )
                return [r[0] for r in rows]
        finally:
            await eng.dispose()

    (detail,) = asyncio.run(recorded())
    assert detail["dropped"] == dropped and detail["table"] == "accommodation_registrations"
