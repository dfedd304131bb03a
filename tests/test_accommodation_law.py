"""Accommodation registration arithmetic (Law Art 39, 76), for any instants: hypothesis."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cnvisa.law.accommodation import assess

OFFSETS = st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=8)), dt.timezone(dt.timedelta(hours=-5))])
MOVED_IN = st.datetimes(
    min_value=dt.datetime(2014, 1, 1), max_value=dt.datetime(2040, 1, 1), timezones=OFFSETS
)


@given(
    MOVED_IN, st.integers(min_value=0, max_value=5 * 24 * 60), st.sampled_from(["online", "police_station"])
)
def test_private_stay_on_time_exactly_within_24_hours(
    moved_in: dt.datetime, minutes: int, channel: str
) -> None:
    registered = moved_in + dt.timedelta(minutes=minutes)
    a = assess(channel, moved_in, registered)  # type: ignore[arg-type]
    assert a.due_at == moved_in + dt.timedelta(hours=24)
    assert a.due_at.utcoffset() == dt.timedelta(hours=8)  # shown in Beijing time
    assert a.on_time == (minutes <= 24 * 60)
    assert a.minutes_late == max(0, minutes - 24 * 60)
    assert (a.sanction is None) == a.on_time


@given(MOVED_IN, st.integers(min_value=0, max_value=3 * 24 * 60), st.integers(min_value=1, max_value=72))
def test_hotel_report_against_the_office_rule(moved_in: dt.datetime, minutes: int, hours: int) -> None:
    a = assess("hotel", moved_in, moved_in + dt.timedelta(minutes=minutes), hotel_report_hours=hours)
    assert a.basis == "office_rule" and a.on_time == (minutes <= hours * 60)
    assert a.minutes_late == max(0, minutes - hours * 60)
