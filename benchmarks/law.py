"""Speed of the law engine (issue 2): add_working_days against chinesecalendar in the same run, and a full
assessment (checklist, limits, fee, receipt deadline, trace).

Run: ``make bench`` (or ``.venv/bin/python benchmarks/law.py``). Figures go to benchmarks/RESULTS.md by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
import timeit
from pathlib import Path

import chinese_calendar

from cnvisa.law import assess
from cnvisa.law.calendar import add_working_days

ROOT = Path(__file__).resolve().parents[1]


def working_days() -> dict[str, float]:
    starts = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(0, 1000, 3)]
    starts = [d for d in starts if d <= dt.date(2026, 11, 30)]
    n_calls = len(starts)

    def ours() -> None:
        for d in starts:
            add_working_days(d, 7)

    def oracle() -> None:
        for d in starts:
            chinese_calendar.find_workday(7, d)

    ours_best = min(timeit.repeat(ours, number=200, repeat=5)) / (200 * n_calls)
    oracle_best = min(timeit.repeat(oracle, number=2, repeat=3)) / (2 * n_calls)
    return {
        "add_working_days_calls_per_s": 1 / ours_best,
        "chinesecalendar_find_workday_calls_per_s": 1 / oracle_best,
        "speedup": oracle_best / ours_best,
    }


def assessment() -> dict[str, float]:
    app = json.loads((ROOT / "examples" / "visa_extension_L.json").read_text())
    app_rp = json.loads((ROOT / "examples" / "residence_permit_work_missing.json").read_text())
    for _ in range(200):
        assess(app)
    out = {}
    for name, a in (("visa_extension", app), ("residence_permit", app_rp)):
        samples = []
        for _ in range(5000):
            t = time.perf_counter_ns()
            assess(a)
            samples.append(time.perf_counter_ns() - t)
        samples.sort()
        out[f"assess_{name}_median_us"] = statistics.median(samples) / 1000
        out[f"assess_{name}_p99_us"] = samples[int(len(samples) * 0.99)] / 1000
    return out


if __name__ == "__main__":
    results = {**working_days(), **assessment()}
    for key, value in results.items():
        print(f"{key:45s} {value:,.2f}")
