"""Receiving another agency's messages: idempotent, correlated, in order, every one recorded and audited.

``receive`` settles one message in one transaction (it commits):

- a message whose id was settled before, with the same payload (hash), is a **duplicate**: the recorded outcome
  is given again and nothing changes but the record of the receipt itself;
- the same id with another payload is refused (``message_id_reused``);
- a correlation cnvisa did not open, or opened with another agency, is refused (``unknown_correlation``);
- a sequence other than the next expected for its correlation (a gap, or an older sequence under a new id) is
  refused (``out_of_order``) and nothing is applied;
- otherwise the injected handler decides (e.g. the joint application's work-permit branch); a handler raising a
  case error is refused with that error's code, and everything the handler wrote is undone (a savepoint).

Settled (final) outcomes: ``applied``, and a refusal by a rule of the handler (bad input, an impossible
transition): the message's sequence is consumed, and a resend gets the same answer. Refusals that time can cure
— ``out_of_order`` (the missing message may still come), ``unknown_correlation``, ``conflict`` (a concurrent
change) — settle nothing: the same message sent again is examined again.

Two workers receiving one message at once: the correlation's row is locked (PostgreSQL ``FOR UPDATE``; SQLite
has one writer from ``BEGIN IMMEDIATE``), so the second sees the first's outcome and answers ``duplicate``; the
unique ``final_key`` makes a message settle once whatever happens.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases import audit
from cnvisa.cases.actor import Actor
from cnvisa.cases.agencies.messages import AgencyMessage, utc
from cnvisa.cases.errors import BadInput, CaseError, Conflict, GuardFailed
from cnvisa.store.agency_tables import AgencyCorrelation, InterAgencyMessage

APPLIED, DUPLICATE, REFUSED = "applied", "duplicate", "refused"
REUSED, UNKNOWN_CORRELATION, OUT_OF_ORDER, UNKNOWN_KIND = (
    "message_id_reused",
    "unknown_correlation",
    "out_of_order",
    "unknown_kind",
)
UNSETTLED = frozenset({UNKNOWN_CORRELATION, OUT_OF_ORDER, Conflict.code, REUSED})
"""Refusals that settle nothing (the sequence is not consumed): the same message delivered again is examined
again. A reused id is among them: the sender has to send that sequence under a fresh id."""


class BranchHandler(Protocol):
    """What applies a message's decision (``cnvisa.cases.joint.decide_work_permit_branch``): inside the caller's
    transaction, never committing; raises BadInput/Conflict (or another case error) to refuse."""

    async def __call__(
        self,
        s: AsyncSession,
        *,
        correlation_id: str,
        kind: str,
        payload: dict[str, Any],
        actor: Actor,
        via: str,
        now: dt.datetime,
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Receipt:
    """What became of a received message; ``response`` is the answer given to the sender."""

    outcome: str
    reason: str | None
    record_id: int
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def settled(self) -> bool:
        """Applied or refused for good (a resend is a duplicate); False for a refusal time may cure."""
        return self.outcome in (APPLIED, DUPLICATE) or (
            self.outcome == REFUSED and self.reason not in UNSETTLED
        )


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


async def register_correlation(
    s: AsyncSession, *, correlation_id: str, agency: str, subject: str, now: dt.datetime
) -> AgencyCorrelation:
    """Open a correlation (cnvisa's reference for an exchange with ``agency``) inside the caller's transaction;
    opening it again is a no-op, opening it for another agency or subject is BadInput."""
    corr = await s.get(AgencyCorrelation, correlation_id, with_for_update=True)
    if corr is None:
        corr = AgencyCorrelation(
            correlation_id=correlation_id,
            agency=agency,
            subject=subject,
            last_sequence_in=0,
            last_sequence_out=0,
            opened_at=utc(now),
        )
        s.add(corr)
        await s.flush()
    elif (corr.agency, corr.subject) != (agency, subject):
        raise BadInput("correlation_id", f"already opened with {corr.agency} for {corr.subject}")
    return corr


async def receive(
    s: AsyncSession,
    message: AgencyMessage,
    handler: BranchHandler,
    actor: Actor,
    *,
    now: dt.datetime,
    via: str = "external",
    kinds: frozenset[str] | None = None,
) -> Receipt:
    """Settle one received message in one transaction of ``s`` (which must not be in one: ``receive``
    commits). ``kinds``: the kinds the handler takes (others are refused, ``unknown_kind``)."""
    for attempt in range(3):
        try:
            async with s.begin():
                # the handler's audit events wait and go last, in one group with the receipt's: the chain's
                # head is the last lock the message takes (audit.append), after the rows the handler moves
                s.info[audit.DEFERRED] = []
                try:
                    return await _receive(s, message, handler, actor, now=now, via=via, kinds=kinds)
                finally:
                    s.info.pop(audit.DEFERRED, None)
        except IntegrityError:
            # another worker settled the same message between our look and our write: look again (duplicate)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _receive(
    s: AsyncSession,
    m: AgencyMessage,
    handler: BranchHandler,
    actor: Actor,
    *,
    now: dt.datetime,
    via: str,
    kinds: frozenset[str] | None,
) -> Receipt:
    digest = m.payload_hash
    # the correlation first, locked: whatever another worker settled on it is visible from here on
    corr = (
        await s.execute(
            select(AgencyCorrelation)
            .where(AgencyCorrelation.correlation_id == m.correlation_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    prior = (
        (
            await s.execute(
                select(InterAgencyMessage)
                .where(
                    InterAgencyMessage.direction == "in",
                    InterAgencyMessage.agency == m.sender,
                    InterAgencyMessage.message_id == m.message_id,
                )
                .order_by(InterAgencyMessage.id)
            )
        )
        .scalars()
        .all()
    )
    first = next((r for r in prior if r.reason != REUSED), None)
    same = (digest, m.correlation_id, m.sequence, m.kind)
    if first is not None and (first.payload_hash, first.correlation_id, first.sequence, first.kind) != same:
        return await _record(
            s,
            m,
            actor,
            now,
            REFUSED,
            REUSED,
            "this message_id came before with another payload, correlation, sequence or kind",
        )
    settled = next((r for r in prior if r.final_key is not None), None)
    if settled is not None:
        return await _record(
            s,
            m,
            actor,
            now,
            DUPLICATE,
            None,
            None,
            response=dict(settled.response or {}, duplicate=True),
            duplicate_of=settled.id,
        )
    if corr is None or corr.agency != m.sender:
        return await _record(
            s, m, actor, now, REFUSED, UNKNOWN_CORRELATION, "no exchange of this agency has this reference"
        )
    expected = corr.last_sequence_in + 1
    if m.sequence != expected:
        return await _record(
            s,
            m,
            actor,
            now,
            REFUSED,
            OUT_OF_ORDER,
            f"expected sequence {expected}, got {m.sequence}",
            extra={"expected_sequence": expected},
        )
    if kinds is not None and m.kind not in kinds:
        corr.last_sequence_in = m.sequence
        return await _record(
            s, m, actor, now, REFUSED, UNKNOWN_KIND, f"one of {sorted(kinds)}", final=True, corr=corr
        )
    deferred: list[dict[str, Any]] = s.info[audit.DEFERRED]
    try:
        async with s.begin_nested():  # the handler's writes are undone if it refuses
            result = await handler(
                s,
                correlation_id=m.correlation_id,
                kind=m.kind,
                payload=dict(m.payload),
                actor=actor,
                via=via,
                now=now,
            )
    except CaseError as exc:
        deferred.clear()  # what the refused handler recorded was undone with its writes
        final = not isinstance(exc, Conflict)
        if final:
            corr.last_sequence_in = m.sequence
        extra: dict[str, Any] = {"field": exc.field} if isinstance(exc, BadInput) else {}
        if isinstance(exc, GuardFailed):
            extra = {"guard": exc.guard, "article": exc.article}
        return await _record(
            s, m, actor, now, REFUSED, exc.code, str(exc)[:500], final=final, extra=extra, corr=corr
        )
    corr.last_sequence_in = m.sequence
    return await _record(
        s, m, actor, now, APPLIED, None, None, final=True, extra={"result": _jsonable(result)}, corr=corr
    )


async def _record(
    s: AsyncSession,
    m: AgencyMessage,
    actor: Actor,
    now: dt.datetime,
    outcome: str,
    reason: str | None,
    detail: str | None,
    *,
    final: bool = False,
    extra: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    duplicate_of: int | None = None,
    corr: AgencyCorrelation | None = None,
) -> Receipt:
    """Record the receipt and its audit event, with the handler's events before it (last: the chain head is
    locked until the commit)."""
    if response is None:
        response = {"message_id": m.message_id, "outcome": outcome, "reason": reason, "detail": detail}
        response.update(extra or {})
    row = InterAgencyMessage(
        direction="in",
        agency=m.sender,
        message_id=m.message_id,
        correlation_id=m.correlation_id,
        sequence=m.sequence,
        kind=m.kind,
        payload=dict(m.payload),
        payload_hash=m.payload_hash,
        sent_at=utc(m.sent_at),
        received_at=utc(now),
        outcome=outcome,
        reason=reason,
        detail=detail,
        response=response,
        duplicate_of=duplicate_of,
        final_key=m.message_id if final else None,
    )
    s.add(row)
    await s.flush()
    result = response.get("result")
    case_id = result.get("case_id") if isinstance(result, dict) else None
    receipt_event: dict[str, Any] = dict(
        at=now,
        actor_account_id=actor.account_id,
        role=str(actor.role),
        office_id=actor.office_id,
        case_id=case_id if isinstance(case_id, int) else None,
        action=f"agency_message_{outcome}",
        detail={
            "record": row.id,
            "agency": m.sender,
            "message_id": m.message_id,
            "correlation_id": m.correlation_id,
            "sequence": m.sequence,
            "kind": m.kind,
            "payload_hash": m.payload_hash,
            "outcome": outcome,
            "reason": reason,
            "duplicate_of": duplicate_of,
            "next_sequence": (corr.last_sequence_in + 1) if corr is not None else None,
        },
    )
    deferred = s.info.get(audit.DEFERRED) or []
    await audit.append_many(s, [*deferred, receipt_event])  # the handler's events, then the receipt's
    deferred.clear()
    return Receipt(outcome, reason, row.id, response)
