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

_HEAD_LOCK = re.compile(r"FROM audit_head\b.*FOR UPDATE", re.S)
_AUDIT_OWN = re.compile(r"\baudit_(events|head)\b")
_WRITES = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|MERGE)\b|\bFOR (UPDATE|NO KEY UPDATE|SHARE|KEY SHARE)\b", re.I | re.S
)
_KEY = "audit_head_locked"

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
    if _HEAD_LOCK.search(statement):
        chain = _chain(context)
        if held and chain is not None and any(c is not None and c >= chain for c in held):
            violations.append(
                f"chain {chain}'s head locked after chain(s) {held}'s: {statement[:120]} [{_where()}]"
            )
        conn.info[_KEY] = [*(held or []), chain]
        return
    if held and not _AUDIT_OWN.search(statement) and _WRITES.search(statement):
        violations.append(f"after the head of chain(s) {held} was locked: {statement[:160]} [{_where()}]")


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _ended(conn: Connection) -> None:
    if not conn.invalidated:  # a lost connection (the outage drills) has no info to clear, and no locks
        conn.info.pop(_KEY, None)


@event.listens_for(Pool, "checkin")
def _returned(dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info.pop(_KEY, None)


@pytest.fixture(autouse=True)
def _audit_head_is_the_last_lock() -> Iterator[None]:
    violations.clear()
    yield
    if violations:
        found = list(dict.fromkeys(violations))
        violations.clear()
        pytest.fail("the audit chain's head is not the last lock:\n" + "\n".join(found), pytrace=False)
