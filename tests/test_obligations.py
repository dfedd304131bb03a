"""Duties with a deadline and illegal residence counted (cnvisa.law.obligations; issue 12): properties of the
arithmetic (hypothesis) and the contract of `cnvisa law overstay`."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cnvisa.law import calendar, due, overstay
from cnvisa.law.obligations import BEIJING, FINE_CAP_CNY, FINE_PER_DAY_CNY

DAYS = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2026, 10, 31))


@settings(max_examples=300)
@given(DAYS, st.integers(min_value=-400, max_value=400))
def test_overstay_counts_from_the_day_after_and_caps_the_fine(last: dt.date, offset: int) -> None:
    on = last + dt.timedelta(days=offset)
    o = overstay(last, on)
    assert o.days_overstayed == max(0, offset)
    assert o.max_fine_cny == min(FINE_PER_DAY_CNY * o.days_overstayed, FINE_CAP_CNY)
    # one more day never lowers the maximum, and it reaches the cap on day 20 exactly
    assert overstay(last, on + dt.timedelta(days=1)).max_fine_cny >= o.max_fine_cny
    assert (o.max_fine_cny == FINE_CAP_CNY) == (o.days_overstayed >= 20)


@settings(max_examples=200)
@given(DAYS, st.sampled_from(["residence_permit_after_entry", "change_of_particulars", "birth_registration"]))
def test_a_forward_period_ends_on_a_working_day_never_before_its_own_last_day(
    start: dt.date, kind: str
) -> None:
    d = due(kind, start)
    assert d.by is not None and d.period_end is not None and d.by >= d.period_end
    if d.holidays_known:
        assert calendar.is_working_day(d.by)
        # every day skipped was a rest day (Civil Code Art 203 para 1)
        day = d.period_end
        while day < d.by:
            assert not calendar.is_working_day(day)
            day += dt.timedelta(days=1)


@settings(max_examples=200)
@given(
    st.datetimes(
        min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1), timezones=st.just(dt.UTC)
    )
)
def test_accommodation_registration_is_due_24_hours_after_moving_in(moved_in: dt.datetime) -> None:
    d = due("accommodation_registration", moved_in)
    assert d.by_at is not None and d.by_at - moved_in == dt.timedelta(hours=24)
    assert d.by_at.utcoffset() == dt.timedelta(hours=8) and d.by == d.by_at.astimezone(BEIJING).date()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cnvisa.cli", "law", "overstay", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_overstay_command_prints_the_contract() -> None:
    out = run("2026-01-31", "2026-02-21")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["days_overstayed"] == 21 and data["max_fine_cny"] == 10_000
    assert "Exit and Entry Administration Law Art 78 para 1" in data["citations"]
    assert json.loads(run("2026-01-31", "2026-01-31").stdout)["days_overstayed"] == 0


def test_the_overstay_command_names_the_bad_field() -> None:
    out = run("2026-01-31", "31/01/2026")
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [
        "error: ON: '31/01/2026' is not a date in the form YYYY-MM-DD"
    ]


def test_the_overstays_command_lists_the_demo_people_past_their_last_lawful_day(tmp_path: Path) -> None:
    """`cnvisa db overstays`: on the demo's day nobody; months later, people whose documents ran out — each with
    the law engine's count — and an office's list is part of the national one; a bad office names the option."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    env = {**os.environ, "CNVISA_CLOCK_START": "2026-03-02T09:00+08:00"}
    setup = subprocess.run(
        [sys.executable, "-m", "cnvisa.cli", "demo", "setup", "--database-url", url],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert setup.returncode == 0, setup.stderr

    def overstays(*args: str) -> dict[str, Any]:
        out = subprocess.run(
            [sys.executable, "-m", "cnvisa.cli", "db", "overstays", "--database-url", url, *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert out.returncode == 0, out.stderr
        data: dict[str, Any] = json.loads(out.stdout)
        return data

    assert overstays()["on"] == "2026-03-02"
    later = overstays("--on", "2027-01-15")
    assert later["count"] > 0
    for p in later["people"]:
        if p["last_lawful_day"] is not None:
            expect = overstay(dt.date.fromisoformat(p["last_lawful_day"]), dt.date(2027, 1, 15))
            assert (p["days_overstayed"], p["max_fine_cny"]) == (expect.days_overstayed, expect.max_fine_cny)
    office = overstays("--on", "2027-01-15", "--office", "SH01")
    assert {p["person_id"] for p in office["people"]} <= {p["person_id"] for p in later["people"]}
    bad = subprocess.run(
        [sys.executable, "-m", "cnvisa.cli", "db", "overstays", "--database-url", url, "--office", "XX"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert bad.returncode == 2 and bad.stderr.strip() == "error: --office: no office 'XX'"
