"""Benchmark of the working-day calendar (cnvisa.law.calendar) against chinesecalendar.

Measures, in one run on one core: ``add_working_days(d, 7)`` and ``is_working_day(d)``
calls per second over starts spread across 2024-2026, and ``chinese_calendar.find_workday(7, d)``
over the same starts, for the ratio. Figures are the best of several timeit repetitions and
include the cost of the ``for`` loop that drives the calls (so they slightly understate the
functions' own speed). Runs in well under 20 s.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_calendar.py
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import timeit
from typing import Any

import chinese_calendar

from cnvisa.law import calendar as cal

N = 7
# Every day from 2024-01-01 to 2026-12-10, so that start + 7 working days stays in 2026.
STARTS: list[dt.date] = [
    dt.date(2024, 1, 1) + dt.timedelta(days=i)
    for i in range((dt.date(2026, 12, 10) - dt.date(2024, 1, 1)).days)
]


def _calls_per_second(stmt: str, namespace: dict[str, Any], calls: int, number: int, repeat: int) -> float:
    best = min(timeit.repeat(stmt, globals=namespace, number=number, repeat=repeat))
    return calls * number / best


def run() -> dict[str, Any]:
    """Time the three functions; return calls/s, the ratio and the setting."""
    # Same answers before timing anything (from a working day the two definitions agree).
    for d in STARTS[::37]:
        if chinese_calendar.is_workday(d):
            assert cal.add_working_days(d, N) == chinese_calendar.find_workday(N, d), d

    ns: dict[str, Any] = {
        "starts": STARTS,
        "add": cal.add_working_days,
        "is_wd": cal.is_working_day,
        "find_workday": chinese_calendar.find_workday,
        "n": N,
    }
    add_rate = _calls_per_second("for d in starts: add(d, n)", ns, len(STARTS), number=1000, repeat=7)
    is_rate = _calls_per_second("for d in starts: is_wd(d)", ns, len(STARTS), number=1000, repeat=7)
    sample = STARTS  # chinesecalendar walks day by day: one pass per repetition is enough
    ns["sample"] = sample
    cc_rate = _calls_per_second("for d in sample: find_workday(n, d)", ns, len(sample), number=1, repeat=3)
    return {
        "add_working_days_calls_per_s": round(add_rate),
        "is_working_day_calls_per_s": round(is_rate),
        "chinesecalendar_find_workday_calls_per_s": round(cc_rate),
        "speedup_vs_find_workday": round(add_rate / cc_rate, 1),
        "n": N,
        "starts": f"{STARTS[0].isoformat()}..{STARTS[-1].isoformat()} ({len(STARTS)} days)",
        "calendar_version": cal.calendar_version(),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, ensure_ascii=False))
