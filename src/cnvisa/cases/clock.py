"""Injectable clocks. Dates and deadlines are Asia/Shanghai; tests travel through months with ``ManualClock``."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(SHANGHAI)


class StartedClock:
    """A clock that starts at a given instant and then runs at the real pace: a served platform for a demo, a
    training room or a browser test, on dates whose holiday notices are loaded (``CNVISA_CLOCK_START``)."""

    def __init__(self, start: dt.datetime) -> None:
        self._start = start if start.tzinfo else start.replace(tzinfo=SHANGHAI)
        self._t0 = time.monotonic()

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=time.monotonic() - self._t0)


class ManualClock:
    """A clock a test sets and advances."""

    def __init__(self, start: dt.datetime | dt.date) -> None:
        if isinstance(start, dt.datetime):
            self._now = start if start.tzinfo else start.replace(tzinfo=SHANGHAI)
        else:
            self._now = dt.datetime.combine(start, dt.time(9, 0), tzinfo=SHANGHAI)

    def now(self) -> dt.datetime:
        return self._now

    def set(self, when: dt.datetime | dt.date) -> None:
        self.__init__(when)  # type: ignore[misc]

    def advance(self, **delta: float) -> None:
        self._now += dt.timedelta(**delta)


def beijing_time(at: dt.datetime) -> dt.datetime:
    """The instant ``at`` in Beijing time. A naive datetime is refused: it names no instant (stored instants
    come back aware, cnvisa.store.instant)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no UTC offset: its time in Beijing is unknown")
    return at.astimezone(SHANGHAI)


def beijing_date(at: dt.datetime) -> dt.date:
    """The Asia/Shanghai date of an instant: every date the platform shows or counts from an instant."""
    return beijing_time(at).date()


def today(clock: Clock) -> dt.date:
    """The date in Beijing time."""
    return beijing_date(clock.now())


class Clocked:
    """A service of the case core: its sessions and its clock (the system's unless one is injected)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock | None = None) -> None:
        self.sessions = sessions
        self.clock: Clock = clock or SystemClock()

    def now(self) -> dt.datetime:
        return self.clock.now()

    def today(self) -> dt.date:
        return today(self.clock)
