"""The client's waits between tries: exponential, jittered within [half, whole], never above the cap; a numeric
Retry-After is waited instead, capped (property tests)."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from cnvisa.cases.agencies import WorkPermitClient, WorkPermitClientConfig


@given(
    attempt=st.integers(1, 40),
    backoff=st.floats(0, 5),
    extra=st.floats(0, 60),
    seed=st.integers(0, 2**32),
)
def test_the_wait_doubles_with_jitter_and_stays_under_the_cap(
    attempt: int, backoff: float, extra: float, seed: int
) -> None:
    cfg = WorkPermitClientConfig(base_url="http://x", backoff=backoff, backoff_max=backoff + extra)
    c = WorkPermitClient(cfg, rng=random.Random(seed))
    base = min(cfg.backoff_max, backoff * 2.0 ** (attempt - 1))
    wait = c._delay(attempt, None)
    assert base / 2 <= wait <= base <= cfg.backoff_max


@given(retry_after=st.integers(0, 10_000), cap=st.floats(0, 120))
def test_retry_after_is_honoured_up_to_the_cap(retry_after: int, cap: float) -> None:
    c = WorkPermitClient(WorkPermitClientConfig(base_url="http://x", backoff=0, backoff_max=cap))
    assert c._delay(1, str(retry_after)) == min(float(retry_after), cap)
    assert c._delay(1, "Wed, 21 Oct 2015 07:28:00 GMT") == 0  # a date is not a number of seconds: backoff
