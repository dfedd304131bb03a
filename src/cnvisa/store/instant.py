"""Instants in storage: one meaning on both engines.

PostgreSQL's ``timestamptz`` keeps the instant; SQLite keeps text without an offset, so whatever wall-clock
time was written comes back naive and is then read as something else. ``Instant`` stores every instant as UTC
on both engines and always returns an aware UTC datetime; a naive datetime is refused when written, since
nothing says which instant it means."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class NaiveDatetime(ValueError):
    """A datetime without an offset was to be stored as an instant."""


def as_utc(at: dt.datetime) -> dt.datetime:
    """The instant ``at`` in UTC; a naive datetime is refused (it names no instant)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise NaiveDatetime(f"{at.isoformat()} has no UTC offset: an instant must be an aware datetime")
    return at.astimezone(dt.UTC)


class Instant(TypeDecorator[dt.datetime]):
    """A ``timestamp with time zone`` stored as UTC on both engines and read back as an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"an instant must be a datetime, not {type(value).__name__}")
        utc = as_utc(value)
        # SQLite's DATETIME text has no offset: the UTC wall-clock time is what is kept
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        at: dt.datetime = value
        # SQLite: stored as UTC without an offset; PostgreSQL: already aware (the session's time zone aside)
        return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
