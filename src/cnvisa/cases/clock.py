"""Injectable clocks. Dates and deadlines are Asia/Shanghai; tests travel through months with ``ManualClock``."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(SHANGHAI)


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


def today(clock: Clock) -> dt.date:
    """The date in Beijing time."""
    return clock.now().astimezone(SHANGHAI).date()
