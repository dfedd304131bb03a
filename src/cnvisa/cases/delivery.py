"""Delivering the notifications outbox (issue 12): ``OutboxService.deliver_due`` — what ``cnvisa db deliver`` runs
once and the job queue's worker runs on a schedule.

One pass:
1. **claim** the due rows (pending, or a claim whose lease ran out — a deliverer that died mid-send), oldest
   first: PostgreSQL ``FOR UPDATE SKIP LOCKED``, so deliverers side by side never take the same row; SQLite has one
   writer, and the claim's UPDATE re-checks the row is still due, so a row is claimed once either way. The claim
   renders the text (first attempt only; kept for every later one), sets the stable Message-ID, counts the
   attempt, leases the row (``sending`` until the lease ends) and **records the attempt before sending** —
   committed;
2. **send** each row through its channel's adapter, ``concurrency`` (20) at once; a channel keeps what it opened
   for the pass (SMTP: its connections, reused message after message) and closes it when the pass ends;
3. **record** every outcome of the pass in one transaction: sent (the rows the channels accepted: one statement
   for them, one for their attempts); or, on a transient failure, pending again after an exponential backoff —
   ``base × 2^(attempts − 1)`` — until the most attempts, then failed; a permanent failure fails at once. One
   audit event (``notifications_delivered``) lists the pass's rows by outcome.

A deliverer killed between 2 and 3 leaves the pass's rows ``sending``: after the lease it is claimed again and sent with
the same Message-ID (the receiving side can recognise it), its earlier attempt left open (``sending``) as the
record of the crash. Delivery is at least once; the Message-ID makes the rare second copy recognisable.

Office rules, not law (``RetryRules.from_env``): ``CNVISA_NOTIFY_MAX_ATTEMPTS`` (6), ``CNVISA_NOTIFY_BACKOFF_SECONDS``
(60: 1, 2, 4, 8, 16 minutes), ``CNVISA_NOTIFY_LEASE_SECONDS`` (300).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import Table, and_, bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases import audit
from cnvisa.cases.actor import SYSTEM, caseless_event
from cnvisa.cases.channels import Channel, DeliveryError, Message, PermanentFailure
from cnvisa.cases.clock import Clock, Clocked, beijing_date
from cnvisa.cases.outbox import OBLIGATION
from cnvisa.store.obligation_tables import Obligation
from cnvisa.store.outbox_tables import DUE_PREDICATE, Notification, NotificationAttempt
from cnvisa.store.tables import Case

ERROR_CHARS = 500
_ROWS = cast(Table, Notification.__table__)
_ATTEMPTS = cast(Table, NotificationAttempt.__table__)
_RECORD_ROW = (
    update(_ROWS)
    .where(_ROWS.c.id == bindparam("b_id"), _ROWS.c.state == "sending")
    .values(
        state=bindparam("b_state"),
        sent_at=bindparam("b_sent_at"),
        last_error=bindparam("b_error"),
        next_attempt_at=bindparam("b_next"),
    )
)
_CLAIMED = tuple(
    _ROWS.c[name]
    for name in (
        "id",
        "subject_kind",
        "subject_id",
        "stage",
        "channel",
        "recipient_account_id",
        "address",
        "language",
        "template",
        "params",
        "subject",
        "body",
        "message_id",
        "attempts",
    )
)
"""What a claim reads of each row it takes (``RETURNING``)."""
_KEEP_TEXT = (
    update(_ROWS)
    .where(_ROWS.c.id == bindparam("b_id"))
    .values(subject=bindparam("b_subject"), body=bindparam("b_body"), message_id=bindparam("b_mid"))
)
_FAIL_ROW = (
    update(_ROWS)
    .where(_ROWS.c.id == bindparam("b_id"))
    .values(state="failed", last_error=bindparam("b_error"))
)
_RECORD_ATTEMPT = (
    update(_ATTEMPTS)
    .where(_ATTEMPTS.c.id == bindparam("b_id"))
    .values(outcome=bindparam("b_outcome"), error=bindparam("b_error"), finished_at=bindparam("b_done"))
)


class Texts(Protocol):
    """Renders a row's text in its language from the Babel catalogs (``cnvisa.web.notify_texts``)."""

    def render(self, template: str, language: str, context: Mapping[str, Any]) -> tuple[str, str]: ...


@dataclass(frozen=True)
class RetryRules:
    """Office rules: attempts at most, the first backoff, and the lease of a claim."""

    max_attempts: int = 6
    backoff_seconds: float = 60.0
    lease_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.backoff_seconds < 0 or self.lease_seconds <= 0:
            raise ValueError(
                "CNVISA_NOTIFY_MAX_ATTEMPTS ≥ 1, CNVISA_NOTIFY_BACKOFF_SECONDS ≥ 0, CNVISA_NOTIFY_LEASE_SECONDS > 0"
            )

    def backoff(self, attempts: int) -> dt.timedelta:
        """The wait after the ``attempts``-th failed try: base × 2^(attempts − 1)."""
        return dt.timedelta(seconds=self.backoff_seconds * 2 ** max(attempts - 1, 0))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RetryRules:
        e = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, key, kind in (
            ("CNVISA_NOTIFY_MAX_ATTEMPTS", "max_attempts", int),
            ("CNVISA_NOTIFY_BACKOFF_SECONDS", "backoff_seconds", float),
            ("CNVISA_NOTIFY_LEASE_SECONDS", "lease_seconds", float),
        ):
            if raw := e.get(name, "").strip():
                try:
                    values[key] = kind(raw)
                except ValueError:
                    raise ValueError(f"{name} must be a number, got {raw!r}") from None
        return cls(**values)


def message_id(row: Any, domain: str) -> str:
    """Stable per (subject, stage, channel, recipient): the row's unique key."""
    return (
        f"<{row.subject_kind}.{row.subject_id}.{row.stage}.{row.channel}.{row.recipient_account_id}@{domain}>"
    )


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    channel: str
    attempt_id: int
    attempts: int
    message: Message


class OutboxService(Clocked):
    """``OutboxService(sessions, clock, channels=…, texts=…, rules=…)``; ``deliver_due(limit=…)`` is the job."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock | None = None,
        *,
        channels: Mapping[str, Channel],
        texts: Texts,
        rules: RetryRules | None = None,
        domain: str = "cnvisa.localhost",
        concurrency: int = 20,
    ) -> None:
        super().__init__(sessions, clock)
        self.channels = dict(channels)
        self.texts = texts
        self.rules = rules or RetryRules()
        self.domain = domain
        self.concurrency = concurrency
        """Messages sent at once within a pass (a pass records every outcome in one transaction after)."""

    async def deliver_due(self, now: dt.datetime | None = None, limit: int = 100) -> dict[str, list[int]]:
        """One pass over at most ``limit`` due rows: claimed, sent, recorded (module docstring). Returns the row
        ids by outcome: ``sent``, ``retry`` (pending again), ``failed``."""
        if not 1 <= limit <= 10_000:
            raise ValueError("limit must be 1 to 10000")
        at = now or self.now()
        claimed, unsendable = await self._claim(at, limit)
        gate = asyncio.Semaphore(self.concurrency)

        async def one(c: _Claimed) -> tuple[_Claimed, DeliveryError | None]:
            async with gate:
                return c, await self._send(c)

        try:
            results = await asyncio.gather(*(one(c) for c in claimed))
        finally:  # the connections the pass kept open (SMTP), reused message after message, closed
            for channel in self.channels.values():
                await channel.close()
        out: dict[str, list[int]] = {"sent": [], "retry": [], "failed": list(unsendable)}
        if claimed or unsendable:
            async with self.sessions() as s, s.begin():  # every outcome of the pass, and its audit event
                for outcome, ids in (await self._record(s, results)).items():
                    out[outcome] += ids
                await audit.append(
                    s, **caseless_event(SYSTEM, self.now(), "notifications_delivered", out, None)
                )
        return out

    async def _send(self, c: _Claimed) -> DeliveryError | None:
        channel = self.channels.get(c.channel)
        try:
            if channel is None:
                raise PermanentFailure(f"the {c.channel} channel is not configured on this platform")
            await channel.send(c.message)
        except DeliveryError as exc:
            return exc
        except Exception as exc:  # an adapter's unexpected error: transient, recorded, never lost
            return DeliveryError(f"{type(exc).__name__}: {exc}")
        return None

    async def _claim(self, at: dt.datetime, limit: int) -> tuple[list[_Claimed], list[int]]:
        """The rows claimed, their attempts recorded, ready to send; and the rows failed for want of a text. Five
        statements a pass: the due ids, their claim and read (one UPDATE … RETURNING), the subjects, the texts
        rendered, the attempts."""
        n = _ROWS.c
        due = and_(text(f"notifications.{DUE_PREDICATE}"), n.next_attempt_at <= at)
        lease = at + dt.timedelta(seconds=self.rules.lease_seconds)
        pick = (
            select(n.id)
            .where(due)
            .order_by(n.next_attempt_at, n.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        out: list[_Claimed] = []
        async with self.sessions() as s, s.begin():
            # the ids first, then the UPDATE: a LIMIT … FOR UPDATE SKIP LOCKED inside the UPDATE's WHERE may be
            # run again per row by PostgreSQL's plan, taking more than the limit
            ids = list((await s.execute(pick)).scalars())
            if not ids:
                return [], []
            rows = sorted(
                (
                    await s.execute(
                        update(_ROWS)
                        .where(n.id.in_(ids), due)  # still due: claimed once
                        .values(state="sending", attempts=n.attempts + 1, next_attempt_at=lease)
                        .returning(*_CLAIMED)
                    )
                ).all(),
                key=lambda r: int(r.id),
            )
            if not rows:
                return [], []
            contexts = await self._contexts(s, rows)
            unsendable: list[dict[str, Any]] = []
            texts: list[dict[str, Any]] = []
            sendable: list[tuple[Any, str, str, str]] = []
            today = beijing_date(at).isoformat()
            for row in rows:
                subject, body, mid = row.subject, row.body, row.message_id
                if body is None:  # first attempt: render once, keep it
                    ctx = {**row.params, **contexts.get((row.subject_kind, row.subject_id), {})}
                    ctx["stage"], ctx["today"] = row.stage, today
                    try:
                        subject, body = self.texts.render(row.template, row.language, ctx)
                    except (KeyError, ValueError, TypeError) as exc:  # its subject is gone, or no such text
                        error = f"no text: {type(exc).__name__}: {exc}"[:ERROR_CHARS]
                        unsendable.append(
                            {
                                "notification_id": row.id,
                                "number": row.attempts,
                                "started_at": at,
                                "finished_at": at,
                                "outcome": "failed",
                                "error": error,
                            }
                        )
                        continue
                    mid = message_id(row, self.domain)
                    texts.append({"b_id": row.id, "b_subject": subject, "b_body": body, "b_mid": mid})
                sendable.append((row, subject or "", body, mid or message_id(row, self.domain)))
            if texts:
                await s.execute(_KEEP_TEXT, texts)
            if unsendable:  # failed, recorded, never retried: the same text would fail again
                await s.execute(
                    _FAIL_ROW,
                    [{"b_id": u["notification_id"], "b_error": u["error"]} for u in unsendable],
                )
                await s.execute(insert(NotificationAttempt), unsendable)
                if not sendable:
                    return [], [u["notification_id"] for u in unsendable]
            attempt_ids = (
                await s.execute(
                    insert(NotificationAttempt).returning(
                        NotificationAttempt.id, sort_by_parameter_order=True
                    ),
                    [
                        {
                            "notification_id": r.id,
                            "number": r.attempts,
                            "started_at": at,
                            "outcome": "sending",
                        }
                        for r, *_ in sendable
                    ],
                )
            ).scalars()
            for (row, subject, body, mid), attempt_id in zip(sendable, list(attempt_ids), strict=True):
                msg = Message(mid, row.address, subject, body, row.language)
                out.append(_Claimed(row.id, row.channel, attempt_id, row.attempts, msg))
        return out, [u["notification_id"] for u in unsendable]

    async def _contexts(self, s: AsyncSession, rows: list[Any]) -> dict[tuple[str, int], dict[str, Any]]:
        """What the texts say of each subject: the duty (kind, deadline, citations) or the case (number,
        deadline), read once per pass."""
        out: dict[tuple[str, int], dict[str, Any]] = {}
        obligation_ids = {r.subject_id for r in rows if r.subject_kind == OBLIGATION and r.body is None}
        case_ids = {r.subject_id for r in rows if r.subject_kind != OBLIGATION and r.body is None}
        if obligation_ids:
            o = Obligation
            for r in await s.execute(
                select(o.id, o.kind, o.due_by, o.label, o.citations).where(o.id.in_(obligation_ids))
            ):
                out[(OBLIGATION, r.id)] = {
                    "kind": r.kind,
                    "due_by": r.due_by.isoformat() if r.due_by else None,
                    "label": r.label,
                    "citations": list(r.citations),
                }
        if case_ids:
            for r in await s.execute(
                select(Case.id, Case.number, Case.matter, Case.deadline).where(Case.id.in_(case_ids))
            ):
                out[("case", r.id)] = {
                    "case": r.number,
                    "matter": r.matter,
                    "deadline": r.deadline.isoformat() if r.deadline else None,
                }
        return out

    async def _record(
        self, s: AsyncSession, results: list[tuple[_Claimed, DeliveryError | None]]
    ) -> dict[str, list[int]]:
        """The outcomes of the pass's sends, in the caller's transaction: the rows sent in one statement and their
        attempts in another; the failures (each its own error and backoff) in one batch each (a row claimed again
        meanwhile — its lease ran out — is left to its new claim)."""
        done = self.now()
        out: dict[str, list[int]] = {"sent": [], "retry": [], "failed": []}
        row_values, attempt_values, sent_attempts = [], [], []
        for c, error in results:
            if error is None:
                out["sent"].append(c.id)
                sent_attempts.append(c.attempt_id)
                continue
            text = str(error)[:ERROR_CHARS] or type(error).__name__
            final = isinstance(error, PermanentFailure) or c.attempts >= self.rules.max_attempts
            outcome, state = ("failed", "failed") if final else ("retry", "pending")
            later = done + self.rules.backoff(c.attempts)
            out[outcome].append(c.id)
            row_values.append(
                {
                    "b_id": c.id,
                    "b_state": state,
                    "b_sent_at": None,
                    "b_error": text,
                    "b_next": later,
                }
            )
            attempt_values.append(
                {"b_id": c.attempt_id, "b_outcome": outcome, "b_error": text, "b_done": done}
            )
        if out["sent"]:
            await s.execute(
                update(_ROWS)
                .where(_ROWS.c.id.in_(out["sent"]), _ROWS.c.state == "sending")
                .values(state="sent", sent_at=done, last_error=None, next_attempt_at=done)
            )
            await s.execute(
                update(_ATTEMPTS)
                .where(_ATTEMPTS.c.id.in_(sent_attempts))
                .values(outcome="sent", error=None, finished_at=done)
            )
        if row_values:
            await s.execute(_RECORD_ROW, row_values)
            await s.execute(_RECORD_ATTEMPT, attempt_values)
        return out

    async def counts(self) -> dict[str, int]:
        """Rows by state (for ``cnvisa db deliver``'s summary)."""
        async with self.sessions() as s:
            rows = await s.execute(select(Notification.state, func.count()).group_by(Notification.state))
            return {str(state): int(n) for state, n in rows}
