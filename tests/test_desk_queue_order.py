"""The Reading the work-permit desk's queue rests on (cnvisa.cases.queries.joint, migration 0017): whenever a joint
application can be accepted — and after an extension the guard allows — its service commitment's due comes
before its statutory due, so ordering by the commitment's due is ordering by the earlier of the two."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cnvisa.law import calendar, one_stop

FIRST, LAST = calendar.loaded_years()
DAYS = st.dates(min_value=dt.date(FIRST, 1, 1), max_value=dt.date(LAST, 10, 31))
REGIONS = st.sampled_from(sorted({c.region for c in one_stop.COMMITMENTS} | {"440100", "510100"}))


@given(DAYS, st.one_of(st.none(), st.integers(min_value=1, max_value=30)), st.booleans())
def test_an_admissible_clock_has_its_commitment_due_first(
    on: dt.date, days: int | None, extended: bool
) -> None:
    commitment = (
        None if days is None else one_stop.Commitment("x", "x", "x", "000000", dt.date(2000, 1, 1), days, "t")
    )
    c = one_stop.clocks(on, commitment, extended=extended)
    if one_stop.receipt_covers(c).ok:
        assert c.commitment_due is not None and c.commitment_due < c.statutory_due


@given(DAYS, REGIONS, st.sampled_from(one_stop.CATEGORIES), st.booleans())
def test_the_jurisdictions_data_keeps_it(on: dt.date, region: str, category: str, extended: bool) -> None:
    commitment = one_stop.service_commitment(region, on, category)
    c = one_stop.clocks(on, commitment, extended=extended)
    if one_stop.receipt_covers(c).ok:
        assert c.commitment_due is not None and c.commitment_due < c.statutory_due
        assert c.work_permit_due == c.commitment_due
