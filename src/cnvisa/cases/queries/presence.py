"""Who is in China now and until when lawfully (issue 12): the lawful-basis query of the sweep of illegal
residence, and the ``presence`` rows that keep its answer per person so that the daily sweep reads one indexed row
per person (``cnvisa.cases.queries.overstay``) — over millions of stays, not a scan of every movement and holding.

The last lawful day is the latest end of every valid basis (Regulations Art 25, 34-35: a void or cancelled
document proves nothing): the visa of the last entry, or a visa issued in China after it (entry day + stay + days
extended, Regulations Art 36 para 1(3)); the last entry's visa-free programme (entry day + its hours ÷ 24); a stay
or residence permit (its last valid day); an acceptance receipt of a case still open (Regulations Art 13 para 3,
Art 18 para 3).

How the rows stay right: every ORM flush that adds or deletes a movement, adds a holding or changes its status,
dates or days, or moves a case with a receipt into or out of the receipt's states refreshes those people's rows
in the same transaction (``after_flush_postexec``), each person's row locked first so that two transactions
about one person take turns (PostgreSQL READ COMMITTED: the refresh statement then sees the other's commit). A
statement that changes those tables without naming people (a bulk UPDATE through a session) marks the rows
stale; so do the bulk seeders that write with Core (``mark_stale``). A stale table is rebuilt from the records
before the next sweep reads it (``ensure_fresh``), under a lock so that two sweeps do not both rebuild.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from typing import Any, Final

from sqlalchemy import (
    BindParameter,
    Date,
    Integer,
    and_,
    bindparam,
    delete,
    event,
    func,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.sql.expression import FunctionElement

from cnvisa.cases.workflow import OPEN_FOR_DEADLINE, State
from cnvisa.law.status import VISA_FREE
from cnvisa.store.presence_tables import Presence, PresenceState
from cnvisa.store.tables import Case, Holding, Movement, Person

INVALID_STATES = ("void", "cancelled")
RECEIPT_STATES = tuple(str(x) for x in (*OPEN_FOR_DEADLINE, State.APPROVED))
_HOLDING_FACTS = ("status", "valid_from", "valid_until", "stay_days", "extended_days", "kind", "person_id")
_WATCHED = frozenset({Movement.__tablename__, Holding.__tablename__, Case.__tablename__})


class add_days(FunctionElement[dt.date]):
    """``date + n days`` on both engines (SQLite keeps dates as ISO text)."""

    type = Date()
    inherit_cache = True


@compiles(add_days, "sqlite")
def _add_days_sqlite(element: add_days, compiler: Any, **kw: Any) -> str:
    day, n = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, '+' || ({compiler.process(n, **kw)}) || ' days')"


@compiles(add_days, "postgresql")
def _add_days_pg(element: add_days, compiler: Any, **kw: Any) -> str:
    day, n = list(element.clauses)
    return f"({compiler.process(day, **kw)} + ({compiler.process(n, **kw)})::integer)"


class latest_of(FunctionElement[dt.date]):
    """The latest of some dates, NULLs ignored (NULL when all are): GREATEST on PostgreSQL; SQLite's
    many-argument max() returns NULL when any argument is, so each is put back from a sentinel."""

    type = Date()
    inherit_cache = True


_NO_DAY = "0001-01-01"


@compiles(latest_of, "sqlite")
def _latest_sqlite(element: latest_of, compiler: Any, **kw: Any) -> str:
    args = ", ".join(f"coalesce({compiler.process(c, **kw)}, '{_NO_DAY}')" for c in element.clauses)
    return f"nullif(max({args}), '{_NO_DAY}')"


@compiles(latest_of, "postgresql")
def _latest_pg(element: latest_of, compiler: Any, **kw: Any) -> str:
    return f"greatest({', '.join(compiler.process(c, **kw) for c in element.clauses)})"


def last_lawful(on: dt.date | None, person_ids: Sequence[int] | BindParameter[Any] | None = None) -> Any:
    """Per person whose last movement (on or before ``on``; of all, when None) is an entry: ``person_id``,
    ``entered_on`` and ``last_lawful`` (None: no basis on record). ``person_ids``: only those people (or an
    expanding bind parameter naming them at execution)."""

    def scope(column: Any) -> list[Any]:
        return [] if person_ids is None else [column.in_(person_ids)]

    # Each person's last movement; in China when it is an entry. A subquery used once (a CTE used several times
    # is materialised and misestimated: nested loops over every person).
    ranked = (
        select(
            Movement.person_id,
            Movement.direction,
            Movement.on,
            Movement.holding_id,
            Movement.visa_free_programme,
            func.row_number()
            .over(partition_by=Movement.person_id, order_by=(Movement.on.desc(), Movement.id.desc()))
            .label("rn"),
        )
        .where(*scope(Movement.person_id), *([Movement.on <= on] if on is not None else []))
        .subquery("ranked")
    )
    inside = (
        select(ranked.c.person_id, ranked.c.on, ranked.c.holding_id, ranked.c.visa_free_programme)
        .where(ranked.c.rn == 1, ranked.c.direction == "entry")
        .subquery("inside")
    )
    entry_visa, issued_visa = aliased(Holding, name="entry_visa"), aliased(Holding, name="issued_visa")
    permits = (
        select(Holding.person_id, func.max(Holding.valid_until, type_=Date).label("until"))
        .where(
            Holding.kind.in_(("stay_permit", "residence_permit")),
            Holding.status.not_in(INVALID_STATES),
            *scope(Holding.person_id),
        )
        .group_by(Holding.person_id)
        .subquery("permits")
    )
    receipts = (
        select(Case.person_id, func.max(Case.receipt_valid_until, type_=Date).label("until"))
        .where(Case.receipt_valid_until.is_not(None), Case.state.in_(RECEIPT_STATES), *scope(Case.person_id))
        .group_by(Case.person_id)
        .subquery("receipts")
    )
    rows = [  # a literal table both engines read (SQLite has no column list on a VALUES alias)
        select(literal(p.code).label("code"), literal(p.hours // 24, Integer).label("days"))
        for p in VISA_FREE.values()
    ] or [select(literal("").label("code"), literal(0, Integer).label("days")).where(literal(False))]
    programmes = (union_all(*rows) if len(rows) > 1 else rows[0]).subquery("programmes")

    def visa_on(v: Any) -> Any:
        return and_(v.kind == "visa", v.status.not_in(INVALID_STATES), v.stay_days > 0)

    until = latest_of(
        add_days(inside.c.on, entry_visa.stay_days + entry_visa.extended_days),
        add_days(inside.c.on, issued_visa.stay_days + issued_visa.extended_days),
        add_days(inside.c.on, programmes.c.days),
        permits.c.until,
        receipts.c.until,
    )
    return (
        select(
            inside.c.person_id,
            func.max(inside.c.on, type_=Date).label("entered_on"),
            func.max(until, type_=Date).label("last_lawful"),
        )
        .select_from(inside)
        .outerjoin(
            entry_visa,
            and_(
                entry_visa.id == inside.c.holding_id,
                entry_visa.person_id == inside.c.person_id,
                visa_on(entry_visa),
            ),
        )
        .outerjoin(  # a visa issued in China after the entry (replacement, reissue: Guide VI(III), VI(IV))
            issued_visa,
            and_(
                issued_visa.person_id == inside.c.person_id,
                issued_visa.issued_by_case_id.is_not(None),
                issued_visa.valid_from >= inside.c.on,
                visa_on(issued_visa),
            ),
        )
        .outerjoin(programmes, programmes.c.code == inside.c.visa_free_programme)
        .outerjoin(permits, permits.c.person_id == inside.c.person_id)
        .outerjoin(receipts, receipts.c.person_id == inside.c.person_id)
        .group_by(inside.c.person_id)
    )


def _upsert(dialect: str, rows: Any) -> Any:
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(Presence)
    stmt = ins.from_select(["person_id", "entered_on", "last_lawful", "refreshed_at"], rows)
    return stmt.on_conflict_do_update(
        index_elements=[Presence.person_id],
        set_={
            "entered_on": stmt.excluded.entered_on,
            "last_lawful": stmt.excluded.last_lawful,
            "refreshed_at": stmt.excluded.refreshed_at,
        },
    )


_IDS: Final = bindparam("presence_ids", expanding=True, type_=Integer)
_NOW: Final = bindparam("presence_now", type_=Presence.refreshed_at.type)


@functools.cache
def _refresh_of(dialect: str) -> tuple[Any, ...]:
    """The refresh's statements (PostgreSQL two, SQLite three), built once per dialect with the people and the time as parameters
    (``_IDS``, ``_NOW``): building the lawful-basis query is most of a refresh's CPU, and every acceptance
    refreshes its applicant's row (compiled once too: SQLAlchemy's statement cache)."""
    lock = select(Person.id).where(Person.id.in_(_IDS)).order_by(Person.id)
    if dialect == "postgresql":
        # after the lock (its own statement, so what follows reads what the lock waited for): the lawful basis
        # computed ONCE, the rows of the people in China upserted and the others' deleted, in one statement
        # (data-modifying CTE; the two touch disjoint people, so no row is changed twice)
        q = last_lawful(None, _IDS).cte("q")
        rows = select(q.c.person_id, q.c.entered_on, q.c.last_lawful, _NOW).where(q.c.person_id.is_not(None))
        gone = delete(Presence).where(  # no longer in China (latest movement an exit) or no movement left
            Presence.person_id.in_(_IDS),
            Presence.person_id.not_in(select(q.c.person_id).where(q.c.person_id.is_not(None))),
        )
        return (lock.with_for_update(), gone.add_cte(_upsert(dialect, rows).cte("upserted")))
    q = last_lawful(None, _IDS).subquery("q")
    rows = select(q.c.person_id, q.c.entered_on, q.c.last_lawful, _NOW).where(q.c.person_id.is_not(None))
    return (
        lock,
        _upsert(dialect, rows),
        delete(Presence).where(
            Presence.person_id.in_(_IDS),
            Presence.person_id.not_in(select(q.c.person_id).where(q.c.person_id.is_not(None))),
        ),
    )


def _refresh_statements(
    dialect: str, person_ids: Sequence[int], now: dt.datetime
) -> list[tuple[Any, dict[str, Any]]]:
    """The statements that recompute these people's rows, each with its parameters."""
    params = {"presence_ids": list(person_ids), "presence_now": now}
    return [(stmt, params) for stmt in _refresh_of(dialect)]


def _dialect(s: AsyncSession) -> str:
    return s.get_bind().dialect.name


async def refresh(s: AsyncSession, person_ids: Iterable[int], now: dt.datetime) -> None:
    """Recompute these people's rows in the caller's transaction."""
    ids = sorted(set(person_ids))
    if ids:
        conn = await s.connection()  # Core: the upsert's parameters are not ORM rows
        for stmt, params in _refresh_statements(_dialect(s), ids, now):
            await conn.execute(stmt, params)


async def rebuild(s: AsyncSession, now: dt.datetime) -> int:
    """Every row again from the records, in the caller's transaction; the number of people in China."""
    await s.execute(delete(Presence))
    q = last_lawful(None).subquery("q")
    rows = select(
        q.c.person_id, q.c.entered_on, q.c.last_lawful, literal(now, Presence.refreshed_at.type)
    ).where(q.c.person_id.is_not(None))  # a WHERE before ON CONFLICT: SQLite's parser needs one
    await s.execute(_upsert(_dialect(s), rows))
    await s.execute(update(PresenceState).where(PresenceState.id == 1).values(stale=False, rebuilt_at=now))
    if _dialect(s) == "postgresql":  # the planner's figures for the new rows (else it guesses an empty table)
        await s.execute(text("ANALYZE presence"))
    return int((await s.execute(select(func.count()).select_from(Presence))).scalar_one())


async def ensure_fresh(s: AsyncSession, now: dt.datetime) -> bool:
    """Rebuild when stale (in the caller's transaction, the state row locked first); whether it rebuilt."""
    q = select(PresenceState.stale).where(PresenceState.id == 1)
    if _dialect(s) == "postgresql":
        q = q.with_for_update()
    if (await s.execute(q)).scalar_one_or_none() is False:
        return False
    await rebuild(s, now)
    return True


async def mark_stale(s: AsyncSession | AsyncConnection) -> None:
    """Records were written with Core, naming no people to refresh (a bulk seed): the next sweep rebuilds the rows
    first. In the writer's transaction."""
    await s.execute(update(PresenceState).where(PresenceState.id == 1).values(stale=True))


# ------------------------------------------------------------------------------------ kept with each change
def _changed(obj: Any, attrs: Sequence[str]) -> bool:
    return any(get_history(obj, a).has_changes() for a in attrs)


def _people_touched(session: Session) -> set[int]:
    ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Movement):
            ids.add(obj.person_id)
        elif isinstance(obj, Holding):
            if obj in session.new or obj in session.deleted or _changed(obj, _HOLDING_FACTS):
                ids.add(obj.person_id)
        elif isinstance(obj, Case):
            receipt = obj.receipt_valid_until is not None or get_history(obj, "receipt_valid_until").deleted
            if receipt and (
                obj in session.new or _changed(obj, ("state", "receipt_valid_until", "person_id"))
            ):
                ids.add(obj.person_id)
    return ids


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context: Any) -> None:
    touched = _people_touched(session)
    if touched:
        session.info.setdefault("presence_people", set()).update(touched)


@event.listens_for(Session, "after_flush_postexec")
def _refresh_after_flush(session: Session, _context: Any) -> None:
    ids = sorted(session.info.pop("presence_people", ()))
    if not ids:
        return
    now = dt.datetime.now(dt.UTC)
    conn = session.connection()  # Core: the upsert's parameters are not ORM rows
    for stmt, params in _refresh_statements(conn.dialect.name, ids, now):
        conn.execute(stmt, params)


NEW_CASES: Final = "cnvisa_new_cases"
"""Execution option of a Core INSERT of cases whose rows are all in its parameters (``runner.INSERT_CASE``)."""


def _new_cases_without_receipt(state: Any) -> bool:
    """New cases none of which holds a receipt change nobody's lawful basis: only an acceptance receipt is one
    (Regulations Art 13 para 3, Art 18 para 3), and it is issued later, through the ORM, which refreshes that
    person's row. Marking the table stale instead would lock its one state row until the commit — every
    submission in turn, and on a cluster across the synchronous standby's flush — and make the next sweep
    rebuild every person's row."""
    if not (state.is_insert and state.execution_options.get(NEW_CASES)):
        return False
    params = state.parameters
    rows = params if isinstance(params, list) else [params]
    return all(row and row.get("receipt_valid_until") is None for row in rows)


@event.listens_for(Session, "do_orm_execute")
def _bulk_marks_stale(state: Any) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if table is not None and getattr(table, "name", None) in _WATCHED:
        if _new_cases_without_receipt(state):
            return
        state.session.info["presence_stale"] = True


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop("presence_stale", None)
    session.info.pop("presence_people", None)


@event.listens_for(Session, "before_commit")
def _stale_before_commit(session: Session) -> None:
    if session.info.pop("presence_stale", False):
        session.execute(update(PresenceState).where(PresenceState.id == 1).values(stale=True))
