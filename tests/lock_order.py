"""A pytest plugin that holds every test on PostgreSQL to the audit chain's rule (``cnvisa.cases.audit.append``):
the head is the last lock a transaction takes. After a statement locks a chain's head, only the audit's own
statements (the events' insert, the head's move, a row written with them in one statement), reads and
savepoints may follow until the commit; another chain's head only in ascending order. A write or a row lock
after the head is a deadlock waiting to happen (the holder of that row may want the head): the test that did
it fails, naming the statement."""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterator
from typing import Any

import greenlet
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import Pool

_HEAD_LOCK = re.compile(r"\bFROM\s+audit_head\b.*\bFOR\s+UPDATE\b", re.I | re.S)
_AUDIT_OWN = re.compile(
    r"\baudit_(events|head)\b", re.I
)  # the events' insert, the head's move (and a row with them)
_WRITES = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|MERGE|LOCK)\b"  # a write, or LOCK TABLE
    r"|\bAS\s*(NOT\s+)?(MATERIALIZED\s*)?\(\s*(INSERT|UPDATE|DELETE|MERGE)\b"  # a write in a WITH clause
    r"|\bFOR\s+(UPDATE|NO\s+KEY\s+UPDATE|SHARE|KEY\s+SHARE)\b"  # a row lock
    r"|\bpg_(try_)?advisory(_xact)?_lock",  # an advisory lock (store.locks)
    re.I | re.S,
)
_KEY = "audit_head_locked"
_MARKS = "audit_head_savepoints"
_SAVEPOINT = re.compile(r"^\s*(SAVEPOINT|ROLLBACK\s+TO\s+SAVEPOINT|RELEASE\s+SAVEPOINT)\s+(\S+)", re.I)

violations: list[str] = []


def _where() -> str:
    """The platform's frames that sent the statement (innermost last)."""
    stack = traceback.extract_stack()
    parent = getattr(greenlet.getcurrent(), "parent", None)  # SQLAlchemy's async: the awaiting coroutines
    if parent is not None and parent.gr_frame is not None:
        stack = traceback.extract_stack(parent.gr_frame) + stack
    frames = [f for f in stack if "/src/cnvisa/" in f.filename]
    return " <- ".join(f"{f.filename.rsplit('/src/cnvisa/', 1)[1]}:{f.lineno}" for f in reversed(frames[-4:]))


def _chain(context: Any) -> int | None:
    params = getattr(context, "compiled_parameters", None) or [{}]
    chain = params[0].get("chain")
    return chain if isinstance(chain, int) else None


@event.listens_for(Engine, "before_cursor_execute")
def _check(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
    if conn.dialect.name != "postgresql":  # SQLite: one writer from BEGIN IMMEDIATE, no row locks
        return
    held: list[int | None] | None = conn.info.get(_KEY)
    if sp := _SAVEPOINT.match(statement):
        _savepoint(conn, sp[1].upper().split()[0], sp[2])
        return
    if _HEAD_LOCK.search(statement):
        chain = _chain(context)
        # the same head again cannot wait (already held); a lower one after a higher one can deadlock
        if held and chain is not None and any(c is not None and c > chain for c in held):
            violations.append(
                f"chain {chain}'s head locked after chain(s) {held}'s: {statement[:120]} [{_where()}]"
            )
        conn.info[_KEY] = [*(held or []), chain]
        return
    if held and not _AUDIT_OWN.search(statement) and _WRITES.search(statement):
        violations.append(f"after the head of chain(s) {held} was locked: {statement[:160]} [{_where()}]")


def _savepoint(conn: Connection, verb: str, name: str) -> None:
    """Savepoints as the statements say (the ``savepoint`` event is not given the name SQLAlchemy makes up):
    PostgreSQL releases the locks taken since a savepoint rolled back to, so those heads are no longer held."""
    marks: list[tuple[str, int]] = conn.info.setdefault(_MARKS, [])
    held = conn.info.get(_KEY) or []
    if verb == "SAVEPOINT":
        marks.append((name, len(held)))
        return
    for i in range(len(marks) - 1, -1, -1):
        if marks[i][0] == name:
            if verb == "ROLLBACK":
                conn.info[_KEY] = held[: marks[i][1]]
                del marks[i + 1 :]  # ROLLBACK TO keeps the savepoint itself
            else:
                del marks[i:]
            return


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _ended(conn: Connection) -> None:
    if not conn.invalidated:  # a lost connection (the outage drills) has no info to clear, and no locks
        conn.info.pop(_KEY, None)
        conn.info.pop(_MARKS, None)


@event.listens_for(Pool, "checkin")
def _returned(dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info.pop(_KEY, None)
        record.info.pop(_MARKS, None)


@pytest.fixture(autouse=True)
def _audit_head_is_the_last_lock() -> Iterator[None]:
    violations.clear()
    yield
    if violations:
        found = list(dict.fromkeys(violations))
        violations.clear()
        pytest.fail("the audit chain's head is not the last lock:\n" + "\n".join(found), pytrace=False)
