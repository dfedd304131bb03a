"""The tables. Names follow the law's vocabulary; Alembic migrations (``cnvisa db upgrade``) create them."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cnvisa.store.instant import Instant

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Id = BigInteger().with_variant(Integer, "sqlite")
"""64-bit keys on PostgreSQL; INTEGER PRIMARY KEY (the rowid) on SQLite."""
TS = Instant()
"""Every instant: stored as UTC on both engines, read back aware (cnvisa.store.instant)."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Office(Base):
    """An exit-entry administration that accepts applications (Guide III)."""

    __tablename__ = "offices"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))  # provincial | prefecture | county (Guide III)
    region: Mapped[str] = mapped_column(String(6))  # administrative division code
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSON)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    slot_capacity: Mapped[int] = mapped_column(Integer, default=4)


class Organisation(Base):
    """Inviting entity, employer, school, service agency or travel agency, by its unified social credit code."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(24))
    region: Mapped[str | None] = mapped_column(String(6))


class Person(Base):
    """A foreigner."""

    __tablename__ = "people"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    surname: Mapped[str] = mapped_column(String(120))
    given_names: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    nationality: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[dt.datetime] = mapped_column(TS)
    __table_args__ = (Index("ix_people_name", "surname", "given_names"),)


class TravelDocument(Base):
    """A passport or other international travel document; a person may hold several over time."""

    __tablename__ = "travel_documents"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    number: Mapped[str] = mapped_column(String(20), index=True)
    issuing_state: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16), default="passport")
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    mrz: Mapped[str | None] = mapped_column(String(90))
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    __table_args__ = (UniqueConstraint("issuing_state", "number", name="uq_travel_documents_state_number"),)


class Holding(Base):
    """A visa, stay permit or residence permit a person holds, with its status."""

    __tablename__ = "holdings"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # visa | stay_permit | residence_permit
    number: Mapped[str] = mapped_column(String(24), unique=True)
    category: Mapped[str | None] = mapped_column(String(20))  # visa category or permit type
    entries: Mapped[str | None] = mapped_column(String(8))
    entries_used: Mapped[int] = mapped_column(Integer, default=0)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date, index=True)
    stay_days: Mapped[int | None] = mapped_column(Integer)
    extended_days: Mapped[int] = mapped_column(Integer, default=0)
    annotations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(
        String(12), default="valid"
    )  # valid | void | cancelled (expiry by date)
    issued_by_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    travel_document_id: Mapped[int | None] = mapped_column(ForeignKey("travel_documents.id"))


class Movement(Base):
    """An entry into or exit from China."""

    __tablename__ = "movements"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    direction: Mapped[str] = mapped_column(String(5))  # entry | exit
    on: Mapped[dt.date] = mapped_column(Date)
    port: Mapped[str] = mapped_column(String(60))
    holding_id: Mapped[int | None] = mapped_column(ForeignKey("holdings.id"))
    visa_free_programme: Mapped[str | None] = mapped_column(String(24))


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(24))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    active_since: Mapped[dt.datetime | None] = mapped_column(TS)
    """When the account was last switched back on (None: active since created): sessions and API tokens from
    before are dead, so reactivating an account does not revive them."""


class Mandate(Base):
    """An agent acting for a named person (Art 19): a relative, inviting entity or service agency."""

    __tablename__ = "mandates"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    agent_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    capacity: Mapped[str] = mapped_column(
        String(20)
    )  # relative | inviting_entity | inviting_person | service_agency
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)


QUEUE_STATES = ("submitted", "accepted", "under_verification", "refusal_proposed", "approved")
"""States an officer still has to act on; the order matters: the queue query repeats this exact list."""
QUEUE_PREDICATE = "state IN ('submitted', 'accepted', 'under_verification', 'refusal_proposed', 'approved')"
DEADLINE_STATES = ("accepted", "under_verification", "refusal_proposed")
DEADLINE_PREDICATE = "state IN ('accepted', 'under_verification', 'refusal_proposed')"


class Case(Base):
    """An application, run as a case."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    matter: Mapped[str] = mapped_column(String(32))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    submitted_by: Mapped[str] = mapped_column(String(20))
    submitter_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    proxy_grounds: Mapped[list[Any]] = mapped_column(JSON, default=list)
    law_version: Mapped[str | None] = mapped_column(String(80))
    calendar_version: Mapped[str | None] = mapped_column(String(40))
    receipt_number: Mapped[str | None] = mapped_column(String(24), unique=True)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    receipt_issued_at: Mapped[dt.datetime | None] = mapped_column(TS)
    """When the acceptance receipt was issued (Regulations Art 13 para 1, Art 18 para 1)."""
    receipt_valid_until: Mapped[dt.date | None] = mapped_column(Date)
    passport_kept: Mapped[bool | None] = mapped_column(Boolean)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    refusal_grounds: Mapped[list[Any]] = mapped_column(JSON, default=list)
    refusal_proposed_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    issued_holding_id: Mapped[int | None] = mapped_column(
        Id
    )  # holdings.issued_by_case_id is the enforced link
    created_at: Mapped[dt.datetime] = mapped_column(TS)
    updated_at: Mapped[dt.datetime] = mapped_column(TS)
    __table_args__ = (
        # the officer queue: one office, by statutory deadline, over the open states only (a partial index
        # answers "next 50 by deadline" with one ordered index range scan, however many cases are closed)
        Index(
            "ix_cases_queue",
            "office_id",
            "deadline",
            "id",
            postgresql_where=text(QUEUE_PREDICATE),
            sqlite_where=text(QUEUE_PREDICATE),
        ),
        Index("ix_cases_office_state", "office_id", "state"),
        Index(
            "ix_cases_deadline_open",
            "deadline",
            postgresql_where=text(DEADLINE_PREDICATE),
            sqlite_where=text(DEADLINE_PREDICATE),
        ),
    )
    # optimistic concurrency: every UPDATE carries WHERE version = <the version read>
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it as a plain mapping)


class CaseFile(Base):
    """A material handed in: the bytes, their SHA-256, size and sniffed media type."""

    __tablename__ = "case_files"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    material_code: Mapped[str] = mapped_column(String(60))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[dt.datetime] = mapped_column(TS)


class Notice(Base):
    """A one-time notice (一次性告知): everything missing, at once (Art 13 para 2, Art 18 para 2)."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    items: Mapped[list[Any]] = mapped_column(JSON)
    issued_at: Mapped[dt.datetime] = mapped_column(TS)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    respond_by: Mapped[dt.date | None] = mapped_column(Date)
    required: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Every material and procedure required when the notice was issued: a later notice may not repeat them."""


class Verification(Base):
    """Verification of the reasons for an application (Art 20)."""

    __tablename__ = "verifications"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    scheduled_for: Mapped[dt.datetime | None] = mapped_column(TS)
    outcome: Mapped[str | None] = mapped_column(String(16))  # confirmed | not_confirmed | no_show
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime | None] = mapped_column(TS)


class AuditEvent(Base):
    """An append-only, hash-chained record of every command and every staff read."""

    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(TS)
    actor_account_id: Mapped[int | None] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(24))
    office_id: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(40))
    state_before: Mapped[str | None] = mapped_column(String(20))
    state_after: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    chain: Mapped[int] = mapped_column(Integer)
    chain_seq: Mapped[int] = mapped_column(BigInteger)
    prev_seq: Mapped[int] = mapped_column(BigInteger)
    """``seq`` of the previous event in the same chain (0 for the first): a deleted event is named by it."""
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("chain", "chain_seq", name="uq_audit_events_chain_position"),)


class AuditHead(Base):
    """The head of one audit chain (id = chain number): locked by each appender so the chain never forks."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    """Position (chain_seq) of the chain's last event."""
    last_seq: Mapped[int] = mapped_column(BigInteger)
    """Global ``seq`` of the chain's last event."""
    hash: Mapped[str] = mapped_column(String(64))


class IdempotencyRecord(Base):
    """The first result of a command carrying an idempotency key; a repeat returns it and writes nothing."""

    __tablename__ = "idempotency"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    command: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(Integer)
    account_id: Mapped[int | None] = mapped_column(Integer)
    role: Mapped[str | None] = mapped_column(String(24))
    """Whose key it is: a key replays only for the same account (and role), command and case."""
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of the request the key was first used with (``cnvisa.cases.runner.fingerprint``): the same key
    with another request is refused (draft-ietf-httpapi-idempotency-key-header §2.7); NULL for older keys."""
    created_at: Mapped[dt.datetime] = mapped_column(TS)


class CalendarState(Base):
    """The calendar version open deadlines were last computed under."""

    __tablename__ = "calendar_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(40))


# --- the platform on the web (issue 4) ------------------------------------------------------------------


class Appointment(Base):
    """An online appointment: one seat of one slot of one office on one working day.

    A slot of capacity n has seats 1..n; the unique constraint makes a double booking impossible even
    when two requests race (the loser tries the next seat, or finds the slot full)."""

    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    booked_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    slot: Mapped[str] = mapped_column(String(5))  # "09:00"
    seat: Mapped[int] = mapped_column(Integer)
    matter: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(TS)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    """The application the appointment was booked for (None: booked before applying)."""
    __table_args__ = (
        UniqueConstraint("office_id", "day", "slot", "seat", name="uq_appointments_seat"),
        UniqueConstraint("person_id", "day", "slot", name="uq_appointments_person_slot"),
    )


class KeptUpload(Base):
    """A file the online application form accepted while the form as a whole was refused: kept for the next
    submission of the same form (account + form key), so that only the refused file is chosen again."""

    __tablename__ = "kept_uploads"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    form_key: Mapped[str] = mapped_column(String(80))
    material_code: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(TS, index=True)
    __table_args__ = (Index("ix_kept_uploads_form", "account_id", "form_key"),)


class WebSession(Base):
    """A server-side sign-in session; the cookie carries only a random token, stored here as its SHA-256."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(TS)
    expires_at: Mapped[dt.datetime] = mapped_column(TS)


class SigninAttempt(Base):
    __tablename__ = "signin_attempts"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    ok: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[dt.datetime] = mapped_column(TS)
    # the per-address limit counts one address's attempts of the last minute (cnvisa.http.security)
    __table_args__ = (Index("ix_signin_attempts_ip_at", "ip", "at"),)


class ApiToken(Base):
    """A bearer token of an institution's API client (stored as its SHA-256)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(TS)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[dt.datetime] = mapped_column(TS)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(TS)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(TS)
    """Updated at most once a minute per token (cnvisa.http.security.touch_api_token), not on every request."""
    __table_args__ = (Index("ix_api_tokens_account_id", "account_id"),)


class RequestCount(Base):
    """Requests counted per key (a route class and a client address) and minute: the public
    lookups' per-address limit, shared by every worker (cnvisa.http.throttle)."""

    __tablename__ = "request_counts"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    minute: Mapped[dt.datetime] = mapped_column(TS, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    __table_args__ = (Index("ix_request_counts_minute", "minute"),)


class OrgPerson(Base):
    """A foreigner an organisation invites, employs or enrols."""

    __tablename__ = "org_people"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    relation: Mapped[str] = mapped_column(String(12))  # employee | student | invitee
    since: Mapped[dt.date] = mapped_column(Date)
    until: Mapped[dt.date | None] = mapped_column(Date)


class OrgReport(Base):
    """An employer's or school's report under Regulations Art 26."""

    __tablename__ = "org_reports"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    reported_at: Mapped[dt.datetime] = mapped_column(TS)


class IdentityCheck(Base):
    """An institution's identity verification (Regulations Art 27): what was asked and the yes/no answer."""

    __tablename__ = "identity_checks"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    verifier_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    document_number: Mapped[str] = mapped_column(String(24))
    purpose: Mapped[str] = mapped_column(String(200))
    on: Mapped[dt.date] = mapped_column(Date)
    matched: Mapped[bool] = mapped_column(Boolean)
    covered: Mapped[bool] = mapped_column(Boolean)
    holder_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(TS)
