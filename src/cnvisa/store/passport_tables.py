"""The passport checks of the passport-not-kept measure (免留存护照; cnvisa.law.passport_retention): who checked
which passport of which case, when, with what result, and whether the office returned or kept it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cnvisa.store.tables import TS, Base, Id


class PassportCheck(Base):
    """One on-site check of a passport (seed 001 l.20 "现场查验"): at acceptance (``stage`` acceptance, outcome
    ``returned`` or ``kept``) and at collection (``stage`` collection, outcome ``same`` — the passport checked at
    acceptance — or ``new`` — another passport of the same holder, checked again, into which the permit goes)."""

    __tablename__ = "passport_checks"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    stage: Mapped[str] = mapped_column(String(12))  # acceptance | collection
    travel_document_id: Mapped[int | None] = mapped_column(ForeignKey("travel_documents.id"))
    """The passport checked (None: kept without being read, e.g. outside the measure)."""
    checked_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    checked_at: Mapped[dt.datetime] = mapped_column(TS)
    mrz_valid: Mapped[bool | None] = mapped_column(Boolean)
    holder_matches: Mapped[bool | None] = mapped_column(Boolean)
    mrz_result: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The check digits, errors and the holder fields compared (no image, no copy of the page)."""
    outcome: Mapped[str] = mapped_column(String(12))  # returned | kept | same | new
    retention_reason: Mapped[str | None] = mapped_column(String(40))
    retention_note: Mapped[str | None] = mapped_column(Text)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    """The collection appointment booked when the passport was returned."""
    __table_args__ = (Index("ix_passport_checks_case", "case_id", "stage"),)
