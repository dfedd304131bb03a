"""The daily sweep (issue 12): everything the platform does each day without being asked, in one function that
``cnvisa db sweep`` and the queue's ``daily_sweep`` job (``cnvisa.worker``) both call.

1. Open deadlines recomputed when this release's holiday data differs from the one they were computed under
   (Regulations Art 36 last paragraph).
2. Drafts past retention and one-time notices unanswered past their reply date lapse (Regulations Art 13
   para 2, Art 18 para 2).
3. Port-visa requests whose arrival window ran out lapse (office rule, ``CNVISA_PORT_VISA_ARRIVAL_WINDOW_DAYS``).
4. The obligations register is kept (open, met, late, waived: ``cnvisa.cases.obligations``).

Every change is audited by the service that makes it. Each step changes only what is due and is its own
transaction: run again (the same day, or after a worker was killed half-way) it does only what is left — this
is what makes the queue's at-least-once delivery act once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases.clock import Clock
from cnvisa.cases.obligations import ObligationRegister
from cnvisa.cases.port_visa.service import PortVisaService, port_visa_window
from cnvisa.cases.service import CaseService


@dataclass(frozen=True)
class SweepReport:
    deadlines: list[dict[str, Any]]
    """Open deadlines recomputed: ``{"case", "from", "to"}`` each."""
    lapsed: list[str]
    """Case and port-visa request numbers that lapsed."""
    obligations: dict[str, list[int]]
    """Obligation ids by change: opened, met, late, waived."""

    def summary(self) -> dict[str, Any]:
        """Counts, for logs and a job's result."""
        return {
            "deadlines_changed": len(self.deadlines),
            "lapsed": len(self.lapsed),
            "obligations": {k: len(v) for k, v in self.obligations.items()},
        }


async def daily_sweep(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    arrival_window_days: int | None = None,
    reminder_steps: tuple[int, ...] | None = None,
    near_working_days: int | None = None,
) -> SweepReport:
    """The sweep on the platform's clock (Beijing today). ``arrival_window_days``: the port-visa office rule;
    None reads ``CNVISA_PORT_VISA_ARRIVAL_WINDOW_DAYS`` (``BadInput`` names it when it is not a day count).
    ``reminder_steps`` and ``near_working_days``: the office rules the register's reminders and escalations are
    written by (``CNVISA_REMINDER_STEPS_DAYS``, ``CNVISA_ESCALATION_WORKING_DAYS``); None: their defaults."""
    window = port_visa_window() if arrival_window_days is None else arrival_window_days
    cases = CaseService(sessions, clock)
    deadlines = await cases.recompute_deadlines()
    lapsed = await cases.lapse_due()
    lapsed += await PortVisaService(sessions, clock, arrival_window_days=window).lapse_due()
    register = ObligationRegister(sessions, clock)
    if reminder_steps is not None:
        register.reminder_steps = reminder_steps
    if near_working_days is not None:
        register.near_working_days = near_working_days
    obligations = await register.sweep()
    return SweepReport(deadlines, lapsed, obligations)
