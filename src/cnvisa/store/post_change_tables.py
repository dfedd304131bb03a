"""Post changes (issue 10 §3): a manager's or professional-technical staff member's change of post across
regions within the employer, or study while working, notified without a new residence permit (NIA measures
2024-03-20, seed 001 l.16; the rule is ``cnvisa.law.post_change``, the workflow ``cnvisa.cases.post_change``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cnvisa.store.tables import TS, Base, Id


class PostChange(Base):
    """One notification: filed by the employer, then acknowledged (covered: the new work location is recorded,
    the responsible office moves, the Art 26 report is filed) or referred (not covered, with the unmet condition
    and what to apply for instead)."""

    __tablename__ = "post_changes"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    holding_id: Mapped[int] = mapped_column(ForeignKey("holdings.id"))
    """The residence permit held (it stays valid when the change is covered)."""
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # post_change | study
    from_region: Mapped[str] = mapped_column(String(6))
    to_region: Mapped[str] = mapped_column(String(6))
    position: Mapped[str] = mapped_column(String(200))
    work_location: Mapped[str] = mapped_column(String(300))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    filed_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    filed_at: Mapped[dt.datetime] = mapped_column(TS)
    state: Mapped[str] = mapped_column(String(16))  # filed | acknowledged | referred
    referred_reason: Mapped[str | None] = mapped_column(Text)
    from_office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    to_office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    """The office responsible for the holder after the change (Law Art 30 para 1, Art 32)."""
    org_report_id: Mapped[int | None] = mapped_column(ForeignKey("org_reports.id"))
    """The employer's Regulations Art 26(1) report filed with it."""
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    work_permit_id: Mapped[int | None] = mapped_column(Id, ForeignKey("work_permits.id"))
    """The holder's work permit the change was recorded on (position, work region), if the registry has it."""
    """The law engine's answer (cnvisa.law.post_change) the record was decided on, with what is still due."""
    __table_args__ = (Index("ix_post_changes_holding_state", "holding_id", "state"),)
