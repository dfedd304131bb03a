"""Stored instants mean one instant on both engines (issue 8): stored as UTC, read back aware, naive refused;
and migration 0005 converts the SQLite rows the case core wrote in Beijing wall-clock time."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases.clock import SHANGHAI, beijing_date
from cnvisa.store import migrate
from cnvisa.store.db import sessionmaker
from cnvisa.store.instant import NaiveDatetime
from cnvisa.store.tables import IdempotencyRecord

FIVE_PM = dt.datetime(2025, 11, 20, 17, 0, 0, 123456, tzinfo=SHANGHAI)  # 09:00 UTC, the same day
HALF_PAST_MIDNIGHT = dt.datetime(2025, 11, 20, 0, 30, tzinfo=SHANGHAI)  # 16:30 UTC the day before


@pytest.mark.parametrize(
    "instant", [FIVE_PM, HALF_PAST_MIDNIGHT, FIVE_PM.astimezone(dt.timezone(-dt.timedelta(hours=5)))]
)
async def test_an_instant_written_is_the_instant_read(
    engine: AsyncEngine, dialect: str, instant: dt.datetime
) -> None:
    sessions = sessionmaker(engine)
    async with sessions() as s, s.begin():
        s.add(IdempotencyRecord(key="k", command="c", response={}, created_at=instant))
    async with sessions() as s:
        back = (await s.execute(select(IdempotencyRecord.created_at))).scalar_one()
        # comparisons in SQL see the same instant, whatever offset the parameter carries
        found = (
            await s.execute(
                select(IdempotencyRecord.key).where(
                    IdempotencyRecord.created_at > (instant - dt.timedelta(seconds=1)).astimezone(SHANGHAI),
                    IdempotencyRecord.created_at < instant + dt.timedelta(seconds=1),
                )
            )
        ).scalar_one_or_none()
        if dialect == "sqlite":
            raw = (await s.execute(text("SELECT created_at FROM idempotency"))).scalar_one()
        else:
            raw = (
                await s.execute(
                    text(
                        "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM idempotency"
                    )
                )
            ).scalar_one()
    assert back == instant and back.utcoffset() == dt.timedelta(0)
    assert beijing_date(back) == instant.astimezone(SHANGHAI).date()
    assert found == "k"
    assert raw == instant.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # UTC in storage, both engines


async def test_a_naive_datetime_is_refused(engine: AsyncEngine) -> None:
    sessions = sessionmaker(engine)
    with pytest.raises(StatementError) as caught:
        async with sessions() as s, s.begin():
            s.add(
                IdempotencyRecord(key="k", command="c", response={}, created_at=dt.datetime(2025, 11, 20, 17))
            )
    assert isinstance(caught.value.orig, NaiveDatetime)
    async with sessions() as s:
        assert (await s.execute(select(IdempotencyRecord))).first() is None  # nothing half-written


def test_beijing_date_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        beijing_date(dt.datetime(2025, 11, 20, 17))
    assert beijing_date(dt.datetime(2025, 11, 19, 16, 30, tzinfo=dt.UTC)) == dt.date(2025, 11, 20)


# ----------------------------------------------------------------------------------------- migration 0005
BEIJING = "2025-11-20 17:00:00.250000"  # what the case core wrote before 0005 for 17:00 Beijing time
UTC = "2025-11-20 09:00:00.250000"  # the same instant in UTC
DEMO = "2025-11-19 10:00:00.000000"  # what the demo seed wrote (already UTC)


def _old_rows(db: sqlite3.Connection) -> None:
    """Rows as the code before 0005 wrote them: the case core's in Beijing time, the demo seed's in UTC."""
    db.execute(
        "INSERT INTO offices (id, code, name_zh, name_en, level, region, opening_hours, slot_minutes, "
        "slot_capacity) VALUES (1, 'SH01', 'x', 'x', 'provincial', '310000', '{}', 30, 4)"
    )
    for pid, created in ((1, BEIJING), (2, DEMO)):
        db.execute(
            "INSERT INTO people (id, surname, given_names, birth_date, nationality, created_at) "
            "VALUES (?, 'A', 'B', '1990-01-01', 'DEU', ?)",
            (pid, created),
        )
    for cid, created in ((1, BEIJING), (2, DEMO)):
        db.execute(
            "INSERT INTO cases (id, number, person_id, office_id, matter, inputs, state, version, submitted_by, "
            "proxy_grounds, refusal_grounds, created_at, updated_at) "
            "VALUES (?, ?, ?, 1, 'visa_extension', '{}', 'draft', 1, 'self', '[]', '[]', ?, ?)",
            (cid, f"SH01-{cid}", cid, created, created),
        )
    db.execute(
        "INSERT INTO notices (id, case_id, seq, items, issued_at, required) VALUES (1, 1, 1, '[]', ?, '[]')",
        (BEIJING,),
    )
    audit = (
        "INSERT INTO audit_events (seq, at, role, case_id, action, detail, chain, chain_seq, prev_seq, "
        "prev_hash, hash) VALUES (?, ?, 'applicant', ?, ?, '{}', 0, ?, 0, '', '')"
    )
    db.execute(audit, (1, "2025-11-20 09:00:00.250100", None, "register_person", 1))
    db.execute(audit, (2, "2025-11-20 09:00:00.250300", 1, "open", 2))


def _values(db: sqlite3.Connection) -> dict[str, str]:
    return {
        "person 1": db.execute("SELECT created_at FROM people WHERE id = 1").fetchone()[0],
        "person 2": db.execute("SELECT created_at FROM people WHERE id = 2").fetchone()[0],
        "case 1": db.execute("SELECT created_at || '|' || updated_at FROM cases WHERE id = 1").fetchone()[0],
        "case 2": db.execute("SELECT created_at || '|' || updated_at FROM cases WHERE id = 2").fetchone()[0],
        "notice": db.execute("SELECT issued_at FROM notices").fetchone()[0],
        "audit": db.execute("SELECT group_concat(at) FROM audit_events").fetchone()[0],
    }


def test_migration_0005_converts_the_beijing_rows_of_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(url, "0004")
    with sqlite3.connect(path) as db:
        _old_rows(db)
        before = _values(db)
    migrate.upgrade(url)
    with sqlite3.connect(path) as db:
        after = _values(db)
    assert after == {
        "person 1": UTC,
        "person 2": DEMO,
        "case 1": f"{UTC}|{UTC}",
        "case 2": f"{DEMO}|{DEMO}",
        "notice": UTC,
        "audit": before["audit"],
    }
    migrate.downgrade(url, "0004")
    with sqlite3.connect(path) as db:
        assert _values(db) == before
