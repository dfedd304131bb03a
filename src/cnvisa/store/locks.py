"""Transaction-scoped locks that make a count-then-record atomic among concurrent requests (a limit cannot be
slipped past by two requests counting at once).

PostgreSQL: ``pg_advisory_xact_lock`` per key, released at commit or rollback. SQLite: nothing to do — every
transaction there begins with BEGIN IMMEDIATE (``cnvisa.store.db``), which admits one writer at a time."""

from __future__ import annotations

import hashlib
from typing import Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

SIGNIN_ADDRESS: Final = 1
SIGNIN_NAME: Final = 2
PUBLIC_LOOKUP: Final = 3
IDENTITY_DOCUMENT: Final = 4
"""The namespaces (the first key); one per limit, so that two limits never share a lock."""


def lock_key(kind: int, value: str) -> tuple[int, int]:
    """The two 32-bit keys of an advisory lock: a namespace and a hash of the value."""
    return kind, int.from_bytes(hashlib.sha256(value.encode()).digest()[:4], "big", signed=True)


async def serialise(s: AsyncSession, *keys: tuple[int, int]) -> None:
    """Lock each key in the order given (callers always give the same order, so two never wait crosswise)."""
    if s.get_bind().dialect.name != "postgresql":
        return
    for kind, key in keys:
        await s.execute(text("SELECT pg_advisory_xact_lock(:kind, :key)"), {"kind": kind, "key": key})
