"""Port-visa requests (口岸签证, Law Art 20; issue 11 §1): filed in advance by the inviting organisation or the
foreigner, decided before arrival by the port visa authority's desk, issued at the port (the passport and face
checked there) or lapsed when no one came (cnvisa.cases.port_visa)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cnvisa.store.tables import TS, Base, Id


class PortVisaRequest(Base):
    """One request for a port visa: who, which passport, why, where and when they arrive, and its state
    (cnvisa.cases.port_visa.flow)."""

    __tablename__ = "port_visa_requests"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    travel_document_id: Mapped[int] = mapped_column(ForeignKey("travel_documents.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    """The inviting organisation (filed by its staff, or named by the foreigner: None when a person invites)."""
    filed_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    filed_role: Mapped[str] = mapped_column(String(24))
    filed_at: Mapped[dt.datetime] = mapped_column(TS)
    purpose: Mapped[str] = mapped_column(String(40))
    urgent: Mapped[bool] = mapped_column(Boolean)
    urgency: Mapped[str] = mapped_column(Text)
    """The urgent need in the filer's words (Law Art 20 para 1)."""
    inviter_kind: Mapped[str] = mapped_column(String(24))
    port: Mapped[str] = mapped_column(String(64))
    """A code of cnvisa.law.port_visa.PORTS (data/ports.toml)."""
    arrival_at: Mapped[dt.datetime] = mapped_column(TS)
    """The scheduled arrival (the flight's), an instant; its Beijing date is the arrival date."""
    arrival_date: Mapped[dt.date] = mapped_column(Date)
    flight: Mapped[str] = mapped_column(String(12))
    stay_days: Mapped[int] = mapped_column(Integer)
    """The stay asked for (at most 30 days, Law Art 20 para 4)."""
    category: Mapped[str | None] = mapped_column(String(4))
    lapses_after: Mapped[dt.date] = mapped_column(Date)
    """Last Beijing day the person may present the passport at the port (office rule: arrival date + window)."""
    state: Mapped[str] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(Integer, default=1)
    assessment: Mapped[dict[str, Any]] = mapped_column(JSON)
    """What the law engine said at filing: issuable, required materials, refusal grounds, citations."""
    decided_at: Mapped[dt.datetime | None] = mapped_column(TS)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    refusal: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Ground codes, their citations, whether the reasons are withheld (Law Art 21 para 2, Art 25 para 2)."""
    issued_at: Mapped[dt.datetime | None] = mapped_column(TS)
    holding_id: Mapped[int | None] = mapped_column(ForeignKey("holdings.id"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(TS)
    __table_args__ = (
        # the desk's queue: its port's open requests by arrival
        Index("ix_port_visa_requests_desk", "port", "state", "arrival_at"),
        Index("ix_port_visa_requests_person", "person_id"),
        Index("ix_port_visa_requests_organisation", "organisation_id"),
        # the sweep: open requests whose window ran out
        Index("ix_port_visa_requests_lapse", "state", "lapses_after"),
    )


class PortVisaCheck(Base):
    """The passport and face checked at the port when the person presents the passport (as ``PassportCheck``:
    the check digits, the holder fields compared, no image), issued or refused."""

    __tablename__ = "port_visa_checks"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("port_visa_requests.id"), index=True)
    checked_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    checked_at: Mapped[dt.datetime] = mapped_column(TS)
    passport_number: Mapped[str] = mapped_column(String(20))
    """The number of the passport presented."""
    number_matches: Mapped[bool] = mapped_column(Boolean)
    mrz_valid: Mapped[bool | None] = mapped_column(Boolean)
    holder_matches: Mapped[bool | None] = mapped_column(Boolean)
    face_matches: Mapped[bool] = mapped_column(Boolean)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Check digits, errors, the fields that differ."""
    outcome: Mapped[str] = mapped_column(String(12))  # issued | mismatch


class PortVisaDesk(Base):
    """Which port a port-visa officer's desk serves (the port visa authority the MPS entrusts, Law Art 20 para 1)."""

    __tablename__ = "port_visa_desks"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    port: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[dt.datetime] = mapped_column(TS)
    note: Mapped[str | None] = mapped_column(Text)


class PortVisaFile(Base):
    """A material uploaded with a port-visa request (one the law engine lists for it), checked as every upload
    (``cnvisa.cases.uploads``): the bytes, their SHA-256, size and the media type found by decoding them."""

    __tablename__ = "port_visa_files"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("port_visa_requests.id"), index=True)
    material_code: Mapped[str] = mapped_column(String(60))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[dt.datetime] = mapped_column(TS)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
