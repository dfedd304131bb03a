"""CNVISA_CLOCK_START: a served platform whose clock starts at a given instant and runs at the real pace (demos,
training, the browser tests) — never a guess about dates whose holiday notices are not loaded."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from fastapi.testclient import TestClient

from cnvisa.app import create_app
from cnvisa.cases.clock import SHANGHAI, StartedClock
from cnvisa.http.settings import Settings


def test_started_clock_runs_from_its_start() -> None:
    start = dt.datetime(2025, 9, 30, 23, 59, 59, 900000, tzinfo=SHANGHAI)
    clock = StartedClock(start)
    first = clock.now()
    time.sleep(0.15)
    later = clock.now()
    assert start <= first < later < start + dt.timedelta(seconds=5)
    assert later.astimezone(SHANGHAI).date() == dt.date(
        2025, 10, 1
    )  # it runs: past midnight into the holiday
    naive = StartedClock(dt.datetime(2025, 11, 20, 9, 0)).now()
    assert naive.tzinfo is not None and naive.astimezone(SHANGHAI).hour == 9  # naive means Beijing time


def test_the_platform_answers_as_of_the_clock_start(db_url: str) -> None:
    app = create_app(Settings(database_url=db_url, clock_start="2025-11-20T09:00:00+08:00"))
    with TestClient(app):
        assert app.state.platform.today() == dt.date(2025, 11, 20)


def test_a_bad_clock_start_stops_the_server_with_the_setting_named() -> None:
    with pytest.raises(SystemExit, match="CNVISA_CLOCK_START: '20/11/2025'"):
        create_app(Settings(clock_start="20/11/2025"))
