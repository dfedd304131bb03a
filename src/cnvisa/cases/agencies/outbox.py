"""Sending to the work-permit authority and pulling its decisions.

Every message cnvisa sends is recorded before it is sent (``pending``), under its idempotency key, in the same
table as the messages received; its delivery is then recorded (``delivered`` with the answer, or ``failed``
with the reason) and audited. Sending again under the same key sends the same message (the authority settles it
once) — or, when it was delivered, only returns the recorded answer. The same key with another payload is
BadInput.

``poll_once`` asks the authority for each open branch's messages after the last one consumed and feeds them,
in sequence order, to ``receive``, each in its own transaction; a branch stops at the first message that
settles nothing (it will be asked for again at the next poll). ``poll_loop`` polls until told to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases import audit
from cnvisa.cases.actor import Actor
from cnvisa.cases.agencies.intake import BranchHandler, Receipt, receive, register_correlation
from cnvisa.cases.agencies.messages import (
    ID_PATTERN,
    WORK_PERMIT_AGENCY,
    WORK_PERMIT_KINDS,
    AgencyMessage,
    payload_hash,
    utc,
)
from cnvisa.cases.agencies.work_permit_client import AgencyError, WorkPermitClient
from cnvisa.cases.clock import Clock
from cnvisa.cases.errors import BadInput
from cnvisa.store.agency_tables import AgencyCorrelation, InterAgencyMessage

log = logging.getLogger(__name__)

SUBJECT = "work_permit_branch"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True)
class Delivery:
    """What became of a message cnvisa sent: ``outcome`` delivered (``response``: the authority's answer) or
    failed (``reason``: the error's code, ``detail``); ``replayed`` when it had been delivered before and was
    not sent again."""

    outcome: str
    record_id: int
    sequence: int
    response: dict[str, Any] | None = None
    reason: str | None = None
    detail: str | None = None
    replayed: bool = False


async def _record_outgoing(
    s: AsyncSession,
    *,
    agency: str,
    sender: str,
    correlation_id: str,
    kind: str,
    payload: dict[str, Any],
    key: str,
    actor: Actor,
    now: dt.datetime,
) -> tuple[InterAgencyMessage, AgencyMessage]:
    """The pending record of an outgoing message (or the one already made under ``key``), in the caller's
    transaction."""
    if not re.fullmatch(ID_PATTERN, key):
        raise BadInput(
            "idempotency_key", "1-80 letters, digits and . _ : - (starting with a letter or digit)"
        )
    digest = payload_hash(payload)
    row = (
        await s.execute(
            select(InterAgencyMessage).where(
                InterAgencyMessage.direction == "out",
                InterAgencyMessage.agency == agency,
                InterAgencyMessage.final_key == key,
            )
        )
    ).scalar_one_or_none()
    if row is not None:
        if (row.payload_hash, row.kind, row.correlation_id) != (digest, kind, correlation_id):
            raise BadInput(
                "idempotency_key", "already used for another message: a new message needs a fresh key"
            )
    else:
        corr = await s.get(AgencyCorrelation, correlation_id, with_for_update=True)
        if corr is None or corr.agency != agency:
            raise BadInput("correlation_id", f"no exchange with {agency} has this reference")
        corr.last_sequence_out += 1
        row = InterAgencyMessage(
            direction="out",
            agency=agency,
            message_id=key,
            correlation_id=correlation_id,
            sequence=corr.last_sequence_out,
            kind=kind,
            payload=dict(payload),
            payload_hash=digest,
            sent_at=utc(now),  # the message's instant: a resend under this key repeats it unchanged
            received_at=utc(now),
            outcome=PENDING,
            final_key=key,
        )
        s.add(row)
        await s.flush()
        await _audit(s, actor, now, row)
    sent_at = row.sent_at or utc(now)
    message = AgencyMessage(
        message_id=key,
        correlation_id=correlation_id,
        sequence=row.sequence,
        kind=kind,
        payload=dict(row.payload),
        sent_at=sent_at,
        sender=sender,
    )
    return row, message


async def _audit(s: AsyncSession, actor: Actor, now: dt.datetime, row: InterAgencyMessage) -> None:
    """Inside a command (``Runner._run``) the event joins the command's group, written last: the head of its
    chain (drawn at random: no case) is not locked before the rows the command moves after recording the
    message, nor out of order with the case's chain (audit.append: the head is the last lock)."""
    event: dict[str, Any] = dict(
        at=now,
        actor_account_id=actor.account_id,
        role=str(actor.role),
        office_id=actor.office_id,
        case_id=None,
        action=f"agency_message_{row.outcome}",
        detail={
            "record": row.id,
            "direction": "out",
            "agency": row.agency,
            "message_id": row.message_id,
            "correlation_id": row.correlation_id,
            "sequence": row.sequence,
            "kind": row.kind,
            "payload_hash": row.payload_hash,
            "outcome": row.outcome,
            "reason": row.reason,
        },
    )
    deferred = s.info.get(audit.DEFERRED)
    if deferred is not None:
        deferred.append(event)
    else:
        await audit.append(s, **event)


async def _send(
    sessions: async_sessionmaker[AsyncSession],
    client: WorkPermitClient,
    *,
    correlation_id: str,
    kind: str,
    payload: dict[str, Any],
    key: str,
    actor: Actor,
    clock: Clock,
    open_first: bool,
) -> Delivery:
    cfg = client.config
    for attempt in range(2):
        try:
            async with sessions() as s, s.begin():
                if open_first:
                    await register_correlation(
                        s, correlation_id=correlation_id, agency=cfg.agency, subject=SUBJECT, now=clock.now()
                    )
                row, message = await _record_outgoing(
                    s,
                    agency=cfg.agency,
                    sender=cfg.sender,
                    correlation_id=correlation_id,
                    kind=kind,
                    payload=payload,
                    key=key,
                    actor=actor,
                    now=clock.now(),
                )
                if row.outcome == DELIVERED:
                    return Delivery(DELIVERED, row.id, row.sequence, row.response, replayed=True)
                row_id = row.id
            break
        except IntegrityError:
            # a concurrent call opened the correlation or recorded this key first: the second look finds it
            if attempt:
                raise
    answer: dict[str, Any] | None = None
    error: AgencyError | None = None
    try:
        if kind == "submission":
            answer = await client.submit_branch(message, key)
        else:
            answer = await client.notify_withdrawal(message, key)
    except AgencyError as exc:
        error = exc
    now = clock.now()
    async with sessions() as s, s.begin():
        sent = await s.get(InterAgencyMessage, row_id, with_for_update=True)
        assert sent is not None
        row = sent
        if row.outcome != DELIVERED:  # a concurrent sender may have recorded the delivery first
            if error is None:
                row.outcome, row.reason, row.detail, row.response = DELIVERED, None, None, answer
                corr = await s.get(AgencyCorrelation, correlation_id, with_for_update=True)
                assert corr is not None
                if kind == "submission" and isinstance(answer, dict) and answer.get("reference"):
                    corr.remote_reference = str(answer["reference"])[:80]
                if kind == "withdrawal":
                    corr.closed_at = utc(now)
            else:
                row.outcome, row.reason, row.detail = FAILED, error.code, str(error)[:500]
            await s.flush()
            await _audit(s, actor, now, row)
        return Delivery(row.outcome, row.id, row.sequence, row.response, row.reason, row.detail)


async def submit_work_permit_branch(
    sessions: async_sessionmaker[AsyncSession],
    client: WorkPermitClient,
    *,
    correlation_id: str,
    payload: dict[str, Any],
    actor: Actor,
    clock: Clock,
    idempotency_key: str | None = None,
) -> Delivery:
    """Open the correlation (cnvisa's reference of the work-permit branch), record the submission and send it
    to the authority. A failed delivery may be sent again with the same call (the same key:
    ``{correlation_id}:submission`` unless one is given)."""
    return await _send(
        sessions,
        client,
        correlation_id=correlation_id,
        kind="submission",
        payload=payload,
        key=idempotency_key or f"{correlation_id}:submission",
        actor=actor,
        clock=clock,
        open_first=True,
    )


async def notify_withdrawal(
    sessions: async_sessionmaker[AsyncSession],
    client: WorkPermitClient,
    *,
    correlation_id: str,
    reason: str,
    actor: Actor,
    clock: Clock,
    idempotency_key: str | None = None,
) -> Delivery:
    """Record and send the notice that the joint application was withdrawn (withdrawal ends both branches,
    issue 10 §1; the message is cnvisa's proposal, docs/agencies.md); once delivered, the branch is no longer
    polled."""
    return await _send(
        sessions,
        client,
        correlation_id=correlation_id,
        kind="withdrawal",
        payload={"reason": reason},
        key=idempotency_key or f"{correlation_id}:withdrawal",
        actor=actor,
        clock=clock,
        open_first=False,
    )


async def record_outgoing(
    s: AsyncSession,
    *,
    correlation_id: str,
    kind: str,
    payload: dict[str, Any],
    actor: Actor,
    now: dt.datetime,
    agency: str = WORK_PERMIT_AGENCY,
    sender: str = "CNVISA",
    idempotency_key: str | None = None,
) -> InterAgencyMessage:
    """The outbox: record a message to send (``submission``: opening the correlation first; ``withdrawal``)
    as ``pending`` inside the CALLER's transaction — the command that makes it (the joint acceptance, the
    withdrawal) commits it with its own change, so the message is never lost nor sent for a change that was
    rolled back. ``submit_work_permit_branch`` / ``notify_withdrawal`` (or ``deliver_pending``, e.g. from
    ``cnvisa agency poll``) send it after the commit, under the same key."""
    if kind not in ("submission", "withdrawal"):
        raise BadInput("kind", "submission or withdrawal")
    if kind == "submission":
        await register_correlation(s, correlation_id=correlation_id, agency=agency, subject=SUBJECT, now=now)
    row, _ = await _record_outgoing(
        s,
        agency=agency,
        sender=sender,
        correlation_id=correlation_id,
        kind=kind,
        payload=payload,
        key=idempotency_key or f"{correlation_id}:{kind}",
        actor=actor,
        now=now,
    )
    return row


async def deliver_pending(
    sessions: async_sessionmaker[AsyncSession],
    client: WorkPermitClient,
    *,
    actor: Actor,
    clock: Clock,
    correlation_id: str | None = None,
) -> list[Delivery]:
    """Send what the outbox holds for the client's agency (of one correlation, or all): every outgoing message
    ``pending`` (recorded, never sent — e.g. the process stopped after the commit) or ``failed`` because the
    agency did not answer (``agency_unavailable``); in the order recorded, each through
    ``submit_work_permit_branch`` / ``notify_withdrawal`` under its own key (the authority settles it once). A
    message the agency refused (4xx) is not sent again: it needs a person."""
    q = (
        select(InterAgencyMessage)
        .where(
            InterAgencyMessage.direction == "out",
            InterAgencyMessage.agency == client.config.agency,
            (InterAgencyMessage.outcome == PENDING)
            | ((InterAgencyMessage.outcome == FAILED) & (InterAgencyMessage.reason == "agency_unavailable")),
        )
        .order_by(InterAgencyMessage.id)
    )
    if correlation_id is not None:
        q = q.where(InterAgencyMessage.correlation_id == correlation_id)
    async with sessions() as s:
        rows = [
            (r.correlation_id, r.kind, dict(r.payload), r.message_id) for r in (await s.execute(q)).scalars()
        ]
    out: list[Delivery] = []
    for cid, kind, payload, key in rows:
        if kind == "submission":
            d = await submit_work_permit_branch(
                sessions,
                client,
                correlation_id=cid,
                payload=payload,
                actor=actor,
                clock=clock,
                idempotency_key=key,
            )
        elif kind == "withdrawal":
            d = await notify_withdrawal(
                sessions,
                client,
                correlation_id=cid,
                reason=str(payload.get("reason", "")),
                actor=actor,
                clock=clock,
                idempotency_key=key,
            )
        else:  # pragma: no cover - only these two kinds are ever recorded
            continue
        out.append(d)
    return out


async def poll_once(
    sessions: async_sessionmaker[AsyncSession],
    client: WorkPermitClient,
    handler: BranchHandler,
    actor: Actor,
    clock: Clock,
    *,
    via: str = "external",
) -> list[Receipt]:
    """One poll of every open branch of the authority: the receipts of the messages received, in order. A
    branch the authority does not answer for is left for the next poll (logged)."""
    async with sessions() as s:
        open_ = (
            await s.execute(
                select(AgencyCorrelation.correlation_id, AgencyCorrelation.last_sequence_in)
                .where(
                    AgencyCorrelation.agency == client.config.agency, AgencyCorrelation.closed_at.is_(None)
                )
                .order_by(AgencyCorrelation.correlation_id)
            )
        ).all()
    receipts: list[Receipt] = []
    for correlation_id, last in open_:
        try:
            batch = await client.messages(correlation_id, after=last)
        except (AgencyError, BadInput) as exc:
            log.warning("work-permit poll of %s failed: %s", correlation_id, exc)
            continue
        for message in batch:
            async with sessions() as s:
                receipt = await receive(
                    s, message, handler, actor, now=clock.now(), via=via, kinds=WORK_PERMIT_KINDS
                )
            receipts.append(receipt)
            if not receipt.settled:
                break
    return receipts


async def poll_loop(
    sessions: async_sessionmaker[AsyncSession],
    client: WorkPermitClient,
    handler: BranchHandler,
    actor: Actor,
    clock: Clock,
    stop: asyncio.Event,
    *,
    interval: float | None = None,
    via: str = "external",
) -> int:
    """Poll every ``interval`` seconds (the client's ``poll_seconds``) until ``stop`` is set; the number of
    messages received is returned. A poll that fails as a whole is logged and tried again next time."""
    wait = client.config.poll_seconds if interval is None else interval
    received = 0
    while not stop.is_set():
        try:
            received += len(await poll_once(sessions, client, handler, actor, clock, via=via))
        except Exception:  # the loop outlives one bad poll (e.g. the database restarting)
            log.exception("work-permit poll failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)
    return received
