"""Registers the platform keeps or reaches, for paper waived through shared records (信息共享免交; seed 001 l.20;
Law Art 5, Regulations Art 3, Administrative Licensing Law Art 33), and the lookups made in them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cnvisa.store.tables import TS, Base, Id


class AccommodationRegistration(Base):
    """A foreigner's accommodation registration (Law Art 39): by the hotel, the host, or at the police station."""

    __tablename__ = "accommodation_registrations"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    travel_document_id: Mapped[int | None] = mapped_column(ForeignKey("travel_documents.id"))
    address: Mapped[str] = mapped_column(String(300))
    division_code: Mapped[str] = mapped_column(String(6))
    """The administrative division (GB/T 2260) of the address."""
    registered_from: Mapped[dt.date] = mapped_column(Date)
    registered_until: Mapped[dt.date | None] = mapped_column(Date)
    registered_by: Mapped[str] = mapped_column(String(8))  # hotel | self | host | police
    recorded_at: Mapped[dt.datetime] = mapped_column(TS)
    # The stay as reported (issue 11 §3, cnvisa.cases.accommodation); rows from before carry dates only.
    moved_in_at: Mapped[dt.datetime | None] = mapped_column(TS)
    moved_out_at: Mapped[dt.datetime | None] = mapped_column(TS)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    """The hotel that reported the stay (Law Art 39 para 1)."""
    stay_ref: Mapped[str | None] = mapped_column(String(64))
    """The hotel's own reference of the stay: a report sent again is the same stay (idempotent per stay)."""
    host_name: Mapped[str | None] = mapped_column(String(120))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    due_at: Mapped[dt.datetime | None] = mapped_column(TS)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    __table_args__ = (
        Index("ix_accommodation_registrations_person", "person_id", "registered_from"),
        # the police's day view: the day first, then the area's range of division codes (cases.accommodation)
        Index("ix_accommodation_registrations_day_area", "registered_from", "division_code"),
        # the stays of an area ended on a day: the police's possibly missing registrations (migration 0023)
        Index("ix_accommodation_registrations_until_area", "registered_until", "division_code"),
        UniqueConstraint("organisation_id", "stay_ref", name="uq_accommodation_registrations_hotel_stay"),
    )


class HotelStayRef(Base):
    """A hotel's stay reference, once per hotel: what makes a hotel's report idempotent per stay (Law Art 39
    para 1; issue 11 §3). On PostgreSQL the registrations are partitioned by month (migration 0028) and a
    partitioned table's unique keys must hold the month, so (hotel, stay reference) is unique here, in a plain
    table written in the same statement as the stay: two reports racing with one reference and different check-in
    days cannot both be stored (migration 0029). Also the lookup of a reference sent again: one key probe, then
    the stay in its own month's partition."""

    __tablename__ = "hotel_stay_refs"
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    stay_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    registration_id: Mapped[int] = mapped_column(BigInteger)
    """accommodation_registrations.id (no foreign key: the partitioned table's key holds the month too)."""
    registered_from: Mapped[dt.date] = mapped_column(Date)
    """The stay's month, for the partition's pruning and for retention (cnvisa.store.partitions.drop_before)."""


class OrganisationLicence(Base):
    """An organisation's business licence as the market-regulation register shows it (unified social credit
    code, GB 32100-2015): status and validity."""

    __tablename__ = "organisation_licences"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    uscc: Mapped[str] = mapped_column(String(18))
    status: Mapped[str] = mapped_column(String(10))  # active | revoked | cancelled
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    """None: a licence without a fixed term (长期)."""
    source: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[dt.datetime] = mapped_column(TS)
    __table_args__ = (UniqueConstraint("uscc", name="uq_organisation_licences_uscc"),)


class OfficePaper(Base):
    """Office rule: a paper this office asks for beyond the national checklist (e.g. the accommodation
    registration form, the employer's business licence copy) — the paper a shared record may waive."""

    __tablename__ = "office_papers"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    material_code: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(300))
    """Where the office publishes that it asks for it (its checklist)."""
    matters: Mapped[list[Any]] = mapped_column(JSON)
    """The matters it is asked for (empty: every matter the office accepts)."""
    __table_args__ = (UniqueConstraint("office_id", "material_code", name="uq_office_papers_material"),)


class EvidenceLookup(Base):
    """One lookup of one material in one register for one use (PIPL Art 6 minimisation: what was asked, whether
    found, which fields matched and the SHA-256 of the record seen — never a copy of the record)."""

    __tablename__ = "evidence_lookups"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    material_code: Mapped[str] = mapped_column(String(60))
    register: Mapped[str] = mapped_column(String(24))
    query_key: Mapped[str] = mapped_column(String(120))
    found: Mapped[bool] = mapped_column(Boolean)
    matched: Mapped[bool] = mapped_column(Boolean)
    matched_fields: Mapped[list[Any]] = mapped_column(JSON)
    mismatch_reason: Mapped[str | None] = mapped_column(Text)
    record_sha256: Mapped[str | None] = mapped_column(String(64))
    looked_up_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    looked_up_at: Mapped[dt.datetime] = mapped_column(TS)
    purpose: Mapped[str] = mapped_column(String(20))  # the use: notice | acceptance
    __table_args__ = (Index("ix_evidence_lookups_case", "case_id", "material_code"),)
