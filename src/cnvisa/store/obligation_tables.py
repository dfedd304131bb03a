"""The obligations register (issue 12): every duty with a deadline that a record on file starts, with its
citation and its state (open → met / late / waived). The rules are ``cnvisa.law.obligations``; the register is
kept by ``cnvisa.cases.obligations``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cnvisa.store.tables import TS, Base, Id


class Obligation(Base):
    """One duty of one person, started by one record (``basis``: a holding or an entry). ``late`` without
    ``met_by_case_id``: the deadline passed with nothing done; with it: done after the deadline."""

    __tablename__ = "obligations"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # cnvisa.law.obligations.KINDS
    basis: Mapped[str] = mapped_column(String(12))  # holding | entry | post_change | stay | org_person
    basis_id: Mapped[int] = mapped_column(Id)
    """holdings.id, movements.id, post_changes.id, accommodation_registrations.id or org_people.id: the record
    that started the duty."""
    due_by: Mapped[dt.date | None] = mapped_column(Date)
    due_at: Mapped[dt.datetime | None] = mapped_column(TS)
    """A period in hours (Law Art 39 para 2): the instant it ends; ``due_by`` is its Beijing date."""
    label: Mapped[str] = mapped_column(String(16))  # law | office rule | no day count
    citations: Mapped[list[Any]] = mapped_column(JSON)
    """Each as the law engine gives it (``Citation.as_dict``): shown in the reader's language."""
    holidays_known: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(8))  # open | met | late | waived
    opened_at: Mapped[dt.datetime] = mapped_column(TS)
    changed_at: Mapped[dt.datetime] = mapped_column(TS)
    met_by_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    met_at: Mapped[dt.datetime | None] = mapped_column(TS)
    """When the application that met it was made (its first submission)."""
    reason: Mapped[str | None] = mapped_column(Text)
    """Why it was waived."""
    __table_args__ = (
        UniqueConstraint("kind", "basis", "basis_id", name="uq_obligations_basis"),
        Index("ix_obligations_state_due", "state", "due_by"),
    )
