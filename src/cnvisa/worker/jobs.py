"""The queue's job functions (registered in ``cnvisa.worker.registry.JOBS``). Each is idempotent by key: run
twice — a worker killed half-way, a tick while another worker ran it — its effect happens once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cnvisa.cases.sweep import daily_sweep as sweep

if TYPE_CHECKING:
    from cnvisa.worker.registry import JobContext


async def daily_sweep(ctx: JobContext, payload: dict[str, Any]) -> Mapping[str, Any]:
    """``cnvisa db sweep``'s work (``cnvisa.cases.sweep``): every step changes only what is due on the platform's
    Beijing today, so a second run changes nothing. Payload: nothing (the port-visa arrival window is read from
    ``CNVISA_PORT_VISA_ARRIVAL_WINDOW_DAYS`` in the worker's environment)."""
    report = await sweep(ctx.sessions, ctx.clock)
    return report.summary()
