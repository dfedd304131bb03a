"""Who is in China now, and until when lawfully (issue 12: the daily sweep of illegal residence over millions of
stays reads one indexed row per person instead of every movement and holding). Kept by
``cnvisa.cases.queries.presence`` in the same transaction as each change that moves a person's last lawful day."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from cnvisa.store.tables import TS, Base, Id


class Presence(Base):
    """A person whose latest movement is an entry: the day of that entry and the latest end of every lawful basis
    on record (None: none at all, Regulations Art 25(4))."""

    __tablename__ = "presence"
    person_id: Mapped[int] = mapped_column(Id, ForeignKey("people.id"), primary_key=True, autoincrement=False)
    entered_on: Mapped[dt.date] = mapped_column(Date)
    last_lawful: Mapped[dt.date | None] = mapped_column(Date)
    refreshed_at: Mapped[dt.datetime] = mapped_column(TS)
    __table_args__ = (Index("ix_presence_last_lawful", "last_lawful"),)


class PresenceState(Base):
    """One row: ``stale`` when records changed by a path that names no person (a bulk statement, a bulk seed,
    the migration that made the table) — the next sweep rebuilds every row first."""

    __tablename__ = "presence_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    stale: Mapped[bool] = mapped_column(Boolean)
    rebuilt_at: Mapped[dt.datetime | None] = mapped_column(TS)
