"""Penalty decisions for illegal residence (issue 12): what an officer decided after hearing the person, with its
articles (``cnvisa.law.penalties``; kept by ``cnvisa.cases.penalties``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cnvisa.store.tables import TS, Base, Id


class PenaltyDecision(Base):
    __tablename__ = "penalty_decisions"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_on: Mapped[dt.date] = mapped_column(Date)
    decided_at: Mapped[dt.datetime] = mapped_column(TS)
    subject: Mapped[str] = mapped_column(String(8))  # person | guardian (Law Art 78 para 1, 2)
    last_lawful_day: Mapped[dt.date] = mapped_column(Date)
    days_overstayed: Mapped[int] = mapped_column(Integer)
    warning: Mapped[bool] = mapped_column(Boolean)
    fine_cny: Mapped[int] = mapped_column(Integer)
    detention_days: Mapped[int] = mapped_column(Integer)
    serious: Mapped[bool] = mapped_column(Boolean)
    serious_reason: Mapped[str | None] = mapped_column(Text)
    authority: Mapped[str] = mapped_column(String(16))  # exit_entry | public_security (Law Art 70)
    decision_number: Mapped[str | None] = mapped_column(String(60))
    heard_on: Mapped[dt.date] = mapped_column(Date)
    statement: Mapped[str | None] = mapped_column(Text)
    """What the person said when heard (Administrative Penalty Law Art 45), as the officer recorded it."""
    payment_due: Mapped[dt.date | None] = mapped_column(Date)
    citations: Mapped[list[Any]] = mapped_column(JSON)
    __table_args__ = (
        # Administrative Penalty Law Art 29: one decision for one spell of illegal residence
        UniqueConstraint("person_id", "subject", "last_lawful_day", name="uq_penalty_decisions_spell"),
    )
