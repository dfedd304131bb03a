"""The joint application's tables (one-stop work permit + work-type residence permit; issue 10 §1).

A ``JointApplication`` is the parent; its residence branch IS an ordinary case (``cases``, linked by
``case_id``: its files, its one-time notices and its receipt are the case's); its work-permit branch is a
``WorkPermitBranch``; a granted work permit is a ``WorkPermit`` record. Reading: reforms.md §1 "Data model" [A].
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from cnvisa.store.tables import TS, Base, Id

DESK_QUEUE_PREDICATE = "state = 'accepted'"
"""The joint applications whose work-permit branch may be open (accepted or under review)."""


class JointApplication(Base):
    """One submission, one notice, one acceptance and one receipt for both permits."""

    __tablename__ = "joint_applications"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    employer_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    window_office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    """The residence branch: an ordinary case."""
    state: Mapped[str] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(Integer)
    work_permit: Mapped[dict[str, Any]] = mapped_column(JSON)
    """What is applied for: category, position, work region, contract dates, job changer, in China."""
    submitter_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    jurisdiction: Mapped[str | None] = mapped_column(String(40))
    """The service commitment's jurisdiction (None: no commitment applies)."""
    commitment_working_days: Mapped[int | None] = mapped_column(Integer)
    commitment_due: Mapped[dt.date | None] = mapped_column(Date)
    commitment_source: Mapped[str | None] = mapped_column(Text)
    law_version: Mapped[str | None] = mapped_column(String(80))
    calendar_version: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(TS)
    updated_at: Mapped[dt.datetime] = mapped_column(TS)
    __table_args__ = (
        Index("ix_joint_applications_office_state", "window_office_id", "state"),
        # the work-permit desk's queue: one office's accepted joint applications by the commitment's due, one
        # ordered range scan (cnvisa.cases.queries.joint; migration 0017)
        Index(
            "ix_joint_applications_desk_queue",
            "window_office_id",
            "commitment_due",
            "id",
            postgresql_where=text(DESK_QUEUE_PREDICATE),
            sqlite_where=text(DESK_QUEUE_PREDICATE),
        ),
    )
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class WorkPermitBranch(Base):
    """The work-permit branch, decided by the work-permit authority (a desk in cnvisa or an external system)."""

    __tablename__ = "work_permit_branches"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    joint_id: Mapped[int] = mapped_column(ForeignKey("joint_applications.id"), unique=True)
    state: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(40), unique=True)
    """The correlation id generated at acceptance: the other agency's messages name it."""
    statutory_due: Mapped[dt.date | None] = mapped_column(Date)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(12))  # granted | refused
    grounds: Mapped[list[Any]] = mapped_column(JSON, default=list)
    external_reference: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime | None] = mapped_column(TS)
    decided_via: Mapped[str | None] = mapped_column(String(10))  # desk | external
    work_permit_id: Mapped[int | None] = mapped_column(Id)
    """The granted permit (work_permits.branch_id is the enforced link)."""
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(TS)
    __table_args__ = (Index("ix_work_permit_branches_state_due", "state", "statutory_due"),)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class WorkPermit(Base):
    """A foreigner's work permit (外国人工作许可), as the work-permit authority granted it."""

    __tablename__ = "work_permits"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    category: Mapped[str] = mapped_column(String(1))  # A | B | C
    employer_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    position: Mapped[str] = mapped_column(String(200))
    work_region: Mapped[str] = mapped_column(String(6))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))  # granted | active | cancelled
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("work_permit_branches.id"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(TS)
    points: Mapped[int | None] = mapped_column(Integer)
    """The points the law engine counted from the facts given at the grant (cnvisa.law.work_permit_points)."""
    table_version: Mapped[str | None] = mapped_column(String(40))
    """The points table's version the points were counted by."""
    category_reason: Mapped[str | None] = mapped_column(Text)
    """Why the category granted differs from the law's category for the facts (recorded, migration 0016)."""
