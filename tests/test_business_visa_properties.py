"""Hypothesis properties of issue 11 §2: the multiple-entry M ceiling by replacement (MPS 2023-08-03 within Guide
VI(III)3) and the office that may accept (Law Art 29 para 1, Regulations Art 10, 11; NIA 2024-01-11 no. 3)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from cnvisa.law import assess, business_visa, office_choice
from cnvisa.law.periods import add_years

MEASURE = dt.date(2023, 8, 3)
NEAREST = dt.date(2024, 1, 11)
days = st.dates(dt.date(2019, 1, 1), dt.date(2030, 12, 31))
provinces = st.sampled_from(["11", "31", "32", "44", "51"])
division = st.builds(lambda p, rest: p + rest, provinces, st.from_regex(r"[0-9]{4}", fullmatch=True))


@settings(max_examples=200)
@given(days, st.integers(1, 4000))
def test_ceiling_narrows_never_widens(on: dt.date, guide_max: int) -> None:
    """Never above the Guide's bound; from the measure never above three years counted from the day
    (Civil Code Art 202); before it the Guide alone."""
    got = business_visa.multiple_entry_max_days(on, guide_max)
    assert got is not None and got <= guide_max
    if on < MEASURE:
        assert got == guide_max
    else:
        assert got == min(guide_max, (add_years(on, 3) - on).days)
        assert got <= 1096


@settings(max_examples=60)
@given(days, st.integers(1, 1900))
def test_assess_multiple_entry_m_within_bounds(on: dt.date, asked: int) -> None:
    """Through the contract: a request is refused exactly when it is above the bound in force that day."""
    entry = on - dt.timedelta(days=5)
    out = assess(
        {
            "matter": "visa_replacement",
            "ground": "entry_facilitation",
            "on": on.isoformat(),
            "entry_date": entry.isoformat(),
            "visa": {"category": "M", "entries": "single", "stay_days": 30},
            "requested": {"category": "M", "entries": "multiple", "entry_validity_days": asked},
        }
    )
    five = (add_years(on, 5) - on).days
    bound = five if on < MEASURE else min(five, (add_years(on, 3) - on).days)
    assert out["issuable"]["max_entry_validity_days"] == bound
    assert out["issuable"]["max_stay_days"] <= 180
    refused = "entry_validity_exceeds_maximum" in [p["code"] for p in out["problems"]]
    assert refused == (asked > bound)


@settings(max_examples=200)
@given(
    st.sampled_from(["visa_extension", "visa_replacement", "visa_reissue"]),
    days,
    st.sampled_from(["M", "F", "Q2", "S2", "L", "X2", "Z", "R", "C", "G"]),
    division,
    division,
    st.sampled_from(list(office_choice.PREFIX)),
)
def test_office_choice(matter: str, on: dt.date, category: str, place: str, region: str, level: str) -> None:
    """The nearest office may accept only for the listed purposes and only from 2024-01-11; otherwise exactly the
    offices whose area covers the place of stay."""
    rule = office_choice.office_rule(matter, on, category)
    assert rule is not None
    ok = office_choice.may_accept(rule, region, level, place)
    listed = category in ("M", "F", "Q2", "S2", "L") and on >= NEAREST
    assert (rule.scope == "nearest") == listed
    if listed:
        assert ok is True
    else:
        width = office_choice.PREFIX[level]
        assert ok == (region[:width] == place[:width])
        assert office_choice.may_accept(rule, region, level, None) is None
