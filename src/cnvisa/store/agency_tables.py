"""Tables of the messages exchanged with other agencies (issue 10 §1: the work-permit authority).

``InterAgencyMessage`` records every message received from another agency's system and every message cnvisa
sent to it, with what became of it; ``AgencyCorrelation`` is one thread of messages (a work-permit branch of a
joint application), locked while a message of it is received so that its sequence is applied in order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cnvisa.store.tables import TS, Base, Id


class AgencyCorrelation(Base):
    """One correlated exchange with another agency: cnvisa's reference (``correlation_id``, e.g. the
    work-permit branch of a joint application), opened when cnvisa submits it; messages naming any other
    reference are refused."""

    __tablename__ = "agency_correlations"
    correlation_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    agency: Mapped[str] = mapped_column(String(16))
    """The other agency's code (e.g. ``WP``: the work-permit authority)."""
    subject: Mapped[str] = mapped_column(String(40))
    """What is exchanged (``work_permit_branch``)."""
    remote_reference: Mapped[str | None] = mapped_column(String(80))
    """The other agency's own reference, when its system gave one."""
    last_sequence_in: Mapped[int] = mapped_column(Integer, default=0)
    """The sequence of the last message of the agency that was consumed (applied, or refused by a rule): the
    next one expected is this + 1."""
    last_sequence_out: Mapped[int] = mapped_column(Integer, default=0)
    """The sequence of the last message cnvisa sent on this correlation."""
    opened_at: Mapped[dt.datetime] = mapped_column(TS)
    closed_at: Mapped[dt.datetime | None] = mapped_column(TS)
    """Set when cnvisa withdrew the exchange (no more messages are polled for it)."""


class InterAgencyMessage(Base):
    """Every message received from or sent to another agency, and what became of it (append-only but for an
    outgoing message's delivery outcome). ``final_key`` is the message id on the one row that settled the
    message (applied, or refused by a rule; for an outgoing message its idempotency key): the unique constraint
    makes two workers receiving one message at once settle it once."""

    __tablename__ = "inter_agency_messages"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))
    """``in`` (received) or ``out`` (sent by cnvisa)."""
    agency: Mapped[str] = mapped_column(String(16))
    """The sender of an incoming message, the recipient of an outgoing one."""
    message_id: Mapped[str] = mapped_column(String(80))
    """The sender's unique id of the message (for an outgoing message: its idempotency key)."""
    correlation_id: Mapped[str] = mapped_column(String(80))
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    payload_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the payload's canonical JSON (sorted keys, compact, UTF-8)."""
    sent_at: Mapped[dt.datetime | None] = mapped_column(TS)
    """When the sender says it sent the message (incoming), or when cnvisa's system last sent it (outgoing)."""
    received_at: Mapped[dt.datetime] = mapped_column(TS)
    """When cnvisa received it (incoming) or recorded it before sending (outgoing)."""
    outcome: Mapped[str] = mapped_column(String(16))
    """In: ``applied``, ``duplicate``, ``refused``. Out: ``pending``, ``delivered``, ``failed``."""
    reason: Mapped[str | None] = mapped_column(String(40))
    """Why refused (or failed): a reason code (docs/agencies.md)."""
    detail: Mapped[str | None] = mapped_column(String(500))
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The answer given to the sender (incoming) or received from the agency (outgoing)."""
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    """For a duplicate: the row whose outcome was given again."""
    final_key: Mapped[str | None] = mapped_column(String(80))
    __table_args__ = (
        UniqueConstraint("direction", "agency", "final_key", name="uq_inter_agency_messages_final"),
        Index("ix_inter_agency_messages_message", "direction", "agency", "message_id"),
        Index("ix_inter_agency_messages_correlation", "correlation_id", "sequence"),
    )
