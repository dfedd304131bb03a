"""The notifications outbox's backlog for ``/metrics`` (issue 14's observability; issue 12's outbox): per channel,
the messages waiting (``pending``), claimed by a deliverer (``sending``) and given up (``failed``), and how long
the oldest message due has waited. Sent messages are not counted (their number only grows; it says nothing an
operator acts on). One grouped read over the ``ix_notifications_due`` index's states."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.store.instant import as_utc
from cnvisa.store.outbox_tables import Notification

STATES: Final = ("pending", "sending", "failed")


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    channel: str
    state: str
    messages: int
    oldest_due_seconds: float
    """For ``pending`` and ``sending``: how long the oldest message whose time has come has waited (0: none)."""


async def outbox_backlog(s: AsyncSession, now: dt.datetime) -> list[OutboxBacklog]:
    due_since = func.min(case((Notification.next_attempt_at <= now, Notification.next_attempt_at)))
    rows = await s.execute(
        select(Notification.channel, Notification.state, func.count(), due_since)
        .where(Notification.state.in_(STATES))
        .group_by(Notification.channel, Notification.state)
        .order_by(Notification.channel, Notification.state)
    )
    out: list[OutboxBacklog] = []
    for channel, state, n, since in rows:
        waited = 0.0
        if since is not None and state != "failed":
            waited = max(0.0, (now - as_utc(since)).total_seconds())
        out.append(OutboxBacklog(channel, state, int(n), waited))
    return out
