"""cnvisa.law.one_stop: the clocks' arithmetic (hypothesis) and the join's table."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from cnvisa.law import calendar, one_stop

FIRST, LAST = calendar.loaded_years()
DAYS = st.dates(min_value=dt.date(FIRST, 1, 1), max_value=dt.date(LAST, 10, 31))


def _commitment(days: int) -> one_stop.Commitment:
    return one_stop.Commitment("x", "x", "x", "000000", dt.date(2000, 1, 1), days, "test")


@given(DAYS, st.integers(min_value=1, max_value=25), st.booleans())
def test_clocks_count_working_days_from_the_day_after_acceptance(
    on: dt.date, days: int, extended: bool
) -> None:
    c = one_stop.clocks(on, _commitment(days), extended=extended)
    extra = 10 if extended else 0
    assert calendar.working_days_between(on, c.statutory_due) == 20 + extra
    assert c.commitment_due is not None
    assert calendar.working_days_between(on, c.commitment_due) == days + extra
    assert calendar.working_days_between(on, c.receipt_valid_until) == 15
    assert all(calendar.is_working_day(d) for d in (c.statutory_due, c.commitment_due, c.receipt_valid_until))
    # the guard holds exactly when the commitment (extended or not) fits in the 15 working days of the receipt
    assert one_stop.receipt_covers(c).ok is (days + extra <= 15)


@given(DAYS)
def test_without_a_commitment_the_statutory_period_outruns_the_receipt(on: dt.date) -> None:
    c = one_stop.clocks(on, None)
    assert c.commitment_due is None and c.work_permit_due == c.statutory_due
    answer = one_stop.receipt_covers(c)
    assert not answer.ok and "no service commitment" in answer.detail


def test_the_join_table() -> None:
    expected = {
        ("granted", "granted"): "issue_together",
        ("granted", "refused"): "partial",
        ("granted", "pending"): "pending",
        ("pending", "granted"): "pending",
        ("pending", "pending"): "pending",
        ("refused", "pending"): "not_issuable",
        ("refused", "granted"): "not_issuable",
        ("refused", "refused"): "refused_both",
        ("pending", "refused"): "pending",
    }
    for wp, rp in itertools.product(one_stop.DECISIONS, repeat=2):
        outcome = one_stop.join_outcome(wp, rp).outcome
        if "withdrawn" in (wp, rp):
            assert outcome == "withdrawn"
        else:
            assert outcome == expected[(wp, rp)], (wp, rp)
    assert one_stop.join_outcome("refused", "pending").residence_action == "end_not_issuable"
    assert one_stop.join_outcome("refused", "refused").residence_action is None


def test_each_material_once_and_every_branch_covered() -> None:
    for category, days, in_china, changer in itertools.product(
        "ABC", (180, 365), (True, False), (True, False)
    ):
        ms = one_stop.joint_materials(
            category=category, validity_days=days, in_china=in_china, job_changer=changer
        )
        codes = [m.code for m in ms]
        assert len(codes) == len(set(codes))
        assert all(m.required_by and m.required_by <= {"work_permit", "residence_permit"} for m in ms)
        assert one_stop.missing_materials(ms, set()) == [m.code for m in ms if m.satisfied_by == "upload"]
        assert "work_permit" not in one_stop.missing_materials(ms, set())
