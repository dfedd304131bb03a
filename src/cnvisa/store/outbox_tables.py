"""The notifications outbox (issue 12): one row per message to deliver — (subject, stage, channel, recipient),
unique, written in the same transaction as the change that causes it — every delivery attempt, and each
account's choice of channels and language. Delivered by ``cnvisa.cases.delivery``; the texts are rendered from
the template key and parameters in the recipient's language when first sent, and kept as sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from cnvisa.store.tables import TS, Base, Id

DUE_PREDICATE = "state IN ('pending', 'sending')"
"""The rows still to deliver (a claim whose lease runs out is due again): the partial index's predicate, which the
claim's query repeats word for word (``cnvisa.cases.delivery``) so that both engines' planners use the index."""


class Notification(Base):
    """One message to one account over one channel. ``subject_kind`` is ``obligation`` or ``case``; ``stage`` a
    step of it (``T-30``, ``late``, ``notice-1``, ``approved``, ``near`` …). The unique key makes enqueueing
    twice change nothing. In the inbox (``channel`` = ``inbox``) a row is the message once ``state`` is sent."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[int] = mapped_column(Id)
    stage: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(8))  # inbox | email | sms
    recipient_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    address: Mapped[str | None] = mapped_column(String(254))
    """The e-mail address or phone number as chosen when the row was written (None for the inbox)."""
    language: Mapped[str] = mapped_column(String(8))  # zh_CN | en
    template: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    """The text as rendered for the first attempt, kept: every later attempt sends the same."""
    message_id: Mapped[str | None] = mapped_column(String(200))
    """Stable per row (its unique key): a re-send after a crash carries the same Message-ID."""
    state: Mapped[str] = mapped_column(String(8))  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(TS)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(TS)
    sent_at: Mapped[dt.datetime | None] = mapped_column(TS)
    read_at: Mapped[dt.datetime | None] = mapped_column(TS)
    __table_args__ = (
        UniqueConstraint(
            "subject_kind",
            "subject_id",
            "stage",
            "channel",
            "recipient_account_id",
            name="uq_notifications_key",
        ),
        # a delivery pass: the oldest due rows in one ordered range scan over the rows not yet delivered
        Index(
            "ix_notifications_due_open",
            "next_attempt_at",
            "id",
            postgresql_where=text(DUE_PREDICATE),
            sqlite_where=text(DUE_PREDICATE),
        ),
        Index("ix_notifications_inbox", "recipient_account_id", "channel", "state"),
    )


class NotificationAttempt(Base):
    """One try at delivering a row, recorded before sending (``outcome`` = sending) and closed after it."""

    __tablename__ = "notification_attempts"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(TS)
    finished_at: Mapped[dt.datetime | None] = mapped_column(TS)
    outcome: Mapped[str] = mapped_column(String(8))  # sending | sent | retry | failed
    error: Mapped[str | None] = mapped_column(Text)


class NotificationPreference(Base):
    """An account's choice: its language, and the channels beside the inbox (always on)."""

    __tablename__ = "notification_preferences"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    email: Mapped[str | None] = mapped_column(String(254))
    email_on: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(20))
    sms_on: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[dt.datetime] = mapped_column(TS)
