"""Hypothesis properties of the arithmetic (issue 2, "Shown by")."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from cnvisa.law import assess, calendar
from cnvisa.law.acceptance import receipt_valid_until
from cnvisa.law.extension import EXTENSION_RULES, S2_FAMILY, S2_OTHER, max_extension_days

RULES = [*EXTENSION_RULES.values(), S2_FAMILY, S2_OTHER]
EXTENDABLE = ["C", "F", "G", "J2", "L", "M", "Q2", "R", "S2", "X2"]
days_2024_2026 = st.dates(dt.date(2024, 1, 1), dt.date(2026, 9, 15))  # + 60 working days stays in 2026


@given(st.sampled_from(RULES), st.integers(1, 400), st.lists(st.integers(1, 400), max_size=6))
def test_cumulative_extension_never_exceeds_original_stay(rule, stay, asks) -> None:
    """Regulations Art 14 para 1; Law Art 29 para 2: granting the maximum again and again never takes the
    total past the stay stated on the original visa."""
    extended = 0
    for ask in asks:
        grant = min(ask, max_extension_days(rule, stay, extended))
        assert 0 <= grant <= rule.max_days
        extended += grant
        assert extended <= stay


@settings(max_examples=150)
@given(st.sampled_from(EXTENDABLE), st.integers(1, 365), st.integers(0, 400), days_2024_2026)
def test_assess_extension_respects_cumulative_bound(category, stay, extended, entry) -> None:
    """Through the public contract: max_extension_days + extended_days ≤ original stay, always."""
    out = assess(
        {
            "matter": "visa_extension",
            "on": entry.isoformat(),
            "entry_date": entry.isoformat(),
            "visa": {"category": category, "stay_days": stay, "extended_days": extended},
        }
    )
    m = out["max_extension_days"]
    assert m is not None and m >= 0
    assert extended + m <= max(stay, extended)
    if extended >= stay:
        assert m == 0 and "cumulative_extension_exhausted" in [p["code"] for p in out["problems"]]


@given(days_2024_2026, st.integers(1, 30), st.integers(1, 30))
def test_add_working_days_strictly_increasing_and_on_working_days(start, n, k) -> None:
    a = calendar.add_working_days(start, n)
    b = calendar.add_working_days(start, n + k)
    assert start < a < b
    assert calendar.is_working_day(a) and calendar.is_working_day(b)


@given(
    days_2024_2026,
    st.sampled_from(
        [
            "visa_extension",
            "visa_replacement",
            "visa_reissue",
            "stay_permit",
            "residence_permit",
            "residence_permit_extension",
            "study_work_annotation",
        ]
    ),
)
def test_receipt_always_ends_on_a_working_day(accepted, matter) -> None:
    """Regulations Art 13, 18, 36: the receipt's last day is the 7th/15th working day after acceptance."""
    until = receipt_valid_until(matter, accepted)
    assert until is not None and until > accepted
    assert calendar.is_working_day(until)
    n = 15 if matter.startswith("residence") or matter == "study_work_annotation" else 7
    assert calendar.working_days_between(accepted, until) == n
