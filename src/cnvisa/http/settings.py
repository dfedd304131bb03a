"""Settings from the environment (``CNVISA_*``), with defaults fit for the embedded demo."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from cnvisa.cases.channels import ChannelConfig
from cnvisa.cases.delivery import RetryRules
from cnvisa.cases.errors import BadInput
from cnvisa.cases.outbox import reminder_steps
from cnvisa.cases.queries.escalation import NEAR_WORKING_DAYS


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _count(name: str, default: int) -> int:
    """A count of zero or more, refused at start-up naming the variable (not at the first request)."""
    value = _int(name, default)
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, got {value}")
    return value


def _steps() -> tuple[int, ...]:
    """``CNVISA_REMINDER_STEPS_DAYS``, refused at start-up naming the variable (cnvisa.cases.outbox)."""
    try:
        return reminder_steps()
    except BadInput as exc:
        raise ValueError(f"{exc.field}: {exc.message}") from None


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class PhotoSpec:
    """The application photo (出入境证件相片照相指引): JPEG, 354-480 × 472-640 px, 3:4, 20-80 KB.

    Each limit can be changed in the environment: ``CNVISA_PHOTO_MIN_WIDTH``, ``_MAX_WIDTH``, ``_MIN_HEIGHT``,
    ``_MAX_HEIGHT`` (pixels), ``_MIN_KB``, ``_MAX_KB`` and ``_RATIO_TOLERANCE`` (0.02: 2 % off 3:4)."""

    media_type: str = "image/jpeg"
    min_width: int = field(default_factory=lambda: _int("CNVISA_PHOTO_MIN_WIDTH", 354))
    max_width: int = field(default_factory=lambda: _int("CNVISA_PHOTO_MAX_WIDTH", 480))
    min_height: int = field(default_factory=lambda: _int("CNVISA_PHOTO_MIN_HEIGHT", 472))
    max_height: int = field(default_factory=lambda: _int("CNVISA_PHOTO_MAX_HEIGHT", 640))
    ratio: tuple[int, int] = (3, 4)
    ratio_tolerance: float = field(
        default_factory=lambda: float(os.environ.get("CNVISA_PHOTO_RATIO_TOLERANCE", "0.02"))
    )
    min_bytes: int = field(default_factory=lambda: _int("CNVISA_PHOTO_MIN_KB", 20) * 1024)
    max_bytes: int = field(default_factory=lambda: _int("CNVISA_PHOTO_MAX_KB", 80) * 1024)


@dataclass(frozen=True)
class UploadSpec:
    """Limits of the decode check of every uploaded file (``cnvisa.cases.uploads``; ASVS 4.0 V12.1.2):
    ``CNVISA_UPLOAD_MAX_PIXELS`` (width × height, read from the header before decoding; 40 million takes an A4
    page scanned at 600 dpi, 35 million) and ``CNVISA_UPLOAD_MAX_PDF_PAGES``."""

    max_pixels: int = field(default_factory=lambda: _int("CNVISA_UPLOAD_MAX_PIXELS", 40_000_000))
    max_pdf_pages: int = field(default_factory=lambda: _int("CNVISA_UPLOAD_MAX_PDF_PAGES", 50))


@dataclass(frozen=True)
class Settings:
    database_url: str | None = field(default_factory=lambda: os.environ.get("CNVISA_DATABASE_URL"))
    secure_cookies: bool = field(default_factory=lambda: os.environ.get("CNVISA_SECURE_COOKIES", "0") == "1")
    session_hours: int = field(default_factory=lambda: _int("CNVISA_SESSION_HOURS", 8))
    signin_max_failures: int = field(default_factory=lambda: _int("CNVISA_SIGNIN_MAX_FAILURES", 5))
    signin_lockout_minutes: int = field(default_factory=lambda: _int("CNVISA_SIGNIN_LOCKOUT_MINUTES", 15))
    signin_per_minute_per_ip: int = field(default_factory=lambda: _int("CNVISA_SIGNIN_PER_MINUTE_PER_IP", 30))
    password_hashes_at_once: int = field(default_factory=lambda: _int("CNVISA_PASSWORD_HASHES_AT_ONCE", 2))
    """Argon2 hashes computed at once per worker (each takes 64 MiB and a core; the rest wait, off the loop)."""
    api_token_days: int = field(default_factory=lambda: _int("CNVISA_API_TOKEN_DAYS", 90))
    """How long a verifier's bearer token is valid (ASVS 4.0 V3.5.x)."""
    public_lookups_per_minute_per_ip: int = field(
        default_factory=lambda: _int("CNVISA_PUBLIC_LOOKUPS_PER_MINUTE_PER_IP", 30)
    )
    """Progress inquiries, and document checks, a minute from one client address (each counted apart)."""
    identity_checks_per_minute: int = field(
        default_factory=lambda: _int("CNVISA_IDENTITY_CHECKS_PER_MINUTE", 30)
    )
    identity_checks_per_day: int = field(default_factory=lambda: _int("CNVISA_IDENTITY_CHECKS_PER_DAY", 500))
    """Checks one verifier account may make in a Beijing day (probing limit, issue 13)."""
    identity_checks_per_document_per_day: int = field(
        default_factory=lambda: _int("CNVISA_IDENTITY_CHECKS_PER_DOCUMENT_PER_DAY", 5)
    )
    """Checks of one document number an institution may make in a Beijing day (guessing a passport holder's
    name or birth date)."""
    appointments_per_person: int = field(default_factory=lambda: _int("CNVISA_APPOINTMENTS_PER_PERSON", 2))
    """Office rule, not law: how many open (upcoming) appointments one person may hold at once (issue 13:
    one applicant had booked every slot of two days)."""
    clock_start: str | None = field(default_factory=lambda: os.environ.get("CNVISA_CLOCK_START") or None)
    """An ISO instant (e.g. 2025-11-20T09:00+08:00) the platform's clock starts at instead of now; unset in
    production."""
    lock_wait_seconds: float = field(
        default_factory=lambda: float(os.environ.get("CNVISA_LOCK_WAIT_SECONDS", "10"))
    )
    max_upload_bytes: int = field(default_factory=lambda: _int("CNVISA_MAX_UPLOAD_BYTES", 10 * 1024 * 1024))
    """The largest file of an upload."""
    max_upload_request_bytes: int | None = field(
        default_factory=lambda: _int("CNVISA_MAX_UPLOAD_REQUEST_BYTES", 0) or None
    )
    """The largest multipart request body (all its files and fields); unset: ``max_upload_bytes`` + 1 MiB for
    the form's other fields and the multipart framing (cnvisa.http.limits)."""
    max_json_bytes: int = field(default_factory=lambda: _int("CNVISA_MAX_JSON_BYTES", 1024 * 1024))
    """The largest request body that is not a form (JSON, or anything else)."""
    max_form_bytes: int = field(default_factory=lambda: _int("CNVISA_MAX_FORM_BYTES", 64 * 1024))
    """The largest url-encoded form (the pages' forms: a few fields)."""
    db_connect_timeout: float = field(default_factory=lambda: _float("CNVISA_DB_CONNECT_TIMEOUT", 5))
    """Seconds to open a database connection (cnvisa.store.db.Timeouts)."""
    db_statement_timeout: float = field(default_factory=lambda: _float("CNVISA_DB_STATEMENT_TIMEOUT", 15))
    """Seconds one statement may run (PostgreSQL statement_timeout; the client gives up a second later)."""
    db_pool_timeout: float = field(default_factory=lambda: _float("CNVISA_DB_POOL_TIMEOUT", 5))
    """Seconds to wait for a connection when the pool is full."""
    request_timeout: float = field(default_factory=lambda: _float("CNVISA_REQUEST_TIMEOUT", 20))
    """Seconds a request may take, from its last byte received to its answer starting: past it the answer is
    503 with Retry-After, whatever the database does (cnvisa.http.outage)."""
    photo: PhotoSpec = field(default_factory=PhotoSpec)
    uploads: UploadSpec = field(default_factory=UploadSpec)
    replica_url: str | None = field(default_factory=lambda: os.environ.get("CNVISA_REPLICA_URL") or None)
    """A PostgreSQL replica for the reads that tolerate lag (``cnvisa.store.replica``); unset: all on the primary."""
    replica_max_lag: float = field(default_factory=lambda: _float("CNVISA_REPLICA_MAX_LAG_SECONDS", 5))
    """Past this lag the tolerant reads go to the primary."""
    escalation_working_days: int = field(
        default_factory=lambda: _count("CNVISA_ESCALATION_WORKING_DAYS", NEAR_WORKING_DAYS)
    )
    """Office rule (the law sets the deadline, not when to warn): a case with this many working days or fewer
    left before its statutory deadline is flagged near on the queue and escalated to the supervisor."""
    hotel_report_hours: int = field(default_factory=lambda: _int("CNVISA_HOTEL_REPORT_HOURS", 24))
    """Office rule (Law Art 39 para 1 sets no count): hours a hotel's report of a check-in may take."""
    metrics_allow: str = field(
        default_factory=lambda: os.environ.get("CNVISA_METRICS_ALLOW", "127.0.0.0/8,::1/128")
    )
    """Networks (comma-separated CIDR) that may read ``/metrics``; everyone else gets 404 (issue 14)."""
    reminder_steps_days: tuple[int, ...] = field(default_factory=_steps)
    """Office rule (the law sets deadlines, not reminders): days before each duty's deadline at which the
    holder is reminded (``CNVISA_REMINDER_STEPS_DAYS``, default "30,7,1"; cnvisa.cases.outbox)."""
    notify_channels: ChannelConfig = field(default_factory=ChannelConfig.from_env)
    """E-mail (``CNVISA_SMTP_HOST``, ``_PORT``, ``_FROM``, ``_STARTTLS``, ``_USERNAME``, ``_PASSWORD``,
    ``_TIMEOUT``, ``_CONNECTIONS``) and SMS (``CNVISA_SMS_GATEWAY_URL``, ``_TOKEN``; ``CNVISA_SMS_TIMEOUT``); each
    unset: that channel is not offered (the inbox always is). cnvisa.cases.channels."""
    notify_retry: RetryRules = field(default_factory=RetryRules.from_env)
    """Office rules of delivery: ``CNVISA_NOTIFY_MAX_ATTEMPTS`` (6), ``CNVISA_NOTIFY_BACKOFF_SECONDS`` (60,
    doubled each retry), ``CNVISA_NOTIFY_LEASE_SECONDS`` (300). cnvisa.cases.delivery."""
    public_base_url: str = field(
        default_factory=lambda: os.environ.get("CNVISA_PUBLIC_URL", "http://127.0.0.1:8000")
    )

    @property
    def upload_request_bytes(self) -> int:
        return self.max_upload_request_bytes or self.max_upload_bytes + 1024 * 1024
