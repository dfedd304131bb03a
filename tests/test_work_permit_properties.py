"""Properties of the work-permit points arithmetic (both table versions): caps, bounds, monotonicity."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cnvisa.law.work_permit import CHINESE_CODES, DIRECT_A, EXTRA_CODES, VERSIONS, points_and_category

ONS = st.sampled_from([dt.date(2016, 12, 1), dt.date(2017, 3, 31), dt.date(2017, 4, 1), dt.date(2025, 1, 1)])
EXTRAS = st.lists(
    st.sampled_from([*CHINESE_CODES, *EXTRA_CODES, *(f"provincial_bonus:{n}" for n in range(11))]),
    max_size=6,
    unique_by=lambda c: c.partition(":")[0],
)


@st.composite
def facts(draw: st.DrawFn) -> dict[str, Any]:
    on = draw(ONS)
    return {
        "on": on,
        "birth_date": on - dt.timedelta(days=draw(st.integers(16 * 365, 80 * 365))),
        "education": draw(st.sampled_from(["doctorate", "master", "bachelor", "other"])),
        "annual_salary_cny": draw(st.integers(0, 2_000_000)),
        "years_experience": draw(st.integers(0, 50)),
        "months_in_china_per_year": draw(st.integers(0, 12)),
        "hsk_level": draw(st.integers(0, 6)),
        "region": draw(st.sampled_from(["ordinary", "west_northeast_poor"])),
        "extras": draw(EXTRAS),
    }


def _caps(version: str) -> int:
    v = next(x for x in VERSIONS if x.code == version)
    return sum(int(v.raw[k]["cap"]) for k in v.raw if isinstance(v.raw[k], dict) and "cap" in v.raw[k])


@settings(max_examples=300, deadline=None)
@given(facts())
def test_no_factor_exceeds_its_cap_and_the_total_is_their_sum(f: dict[str, Any]) -> None:
    out = points_and_category(f)
    total = 0
    for factor in out["factors"]:
        if factor["points"] is None:
            low, high = factor["range"]
            assert 0 <= low <= high <= factor["cap"], factor
        else:
            assert 0 <= factor["points"] <= factor["cap"], factor
            total += factor["points"]
    assert out["points"] == total <= _caps(out["table_version"])
    if out["complete"]:
        expected = "A" if total >= 85 else "B" if total >= 60 else "C"
        assert out["category"] == expected
    else:
        low, high = out["points_range"]
        assert low <= high and total <= high


@settings(max_examples=200, deadline=None)
@given(facts(), st.integers(0, 2_000_000), st.integers(0, 2_000_000))
def test_points_never_fall_when_the_salary_rises(f: dict[str, Any], a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    p_lo = points_and_category({**f, "annual_salary_cny": lo})
    p_hi = points_and_category({**f, "annual_salary_cny": hi})
    assert p_lo["points_by_factor"]["salary"] <= p_hi["points_by_factor"]["salary"]
    assert p_lo["points"] <= p_hi["points"]
    order = {"C": 0, "B": 1, "A": 2}
    if p_lo["category"] and p_hi["category"]:
        assert order[p_lo["category"]] <= order[p_hi["category"]]


@settings(max_examples=150, deadline=None)
@given(facts(), st.integers(0, 50), st.integers(0, 12), st.integers(0, 6))
def test_more_experience_months_or_chinese_never_lower_the_points(
    f: dict[str, Any], years: int, months: int, hsk: int
) -> None:
    base = points_and_category(f)
    for key, value in (("years_experience", years), ("months_in_china_per_year", months), ("hsk_level", hsk)):
        if value >= f[key]:
            assert points_and_category({**f, key: value})["points"] >= base["points"], key


@settings(max_examples=100, deadline=None)
@given(facts(), st.sampled_from(sorted(DIRECT_A)))
def test_a_direct_route_is_always_a(f: dict[str, Any], code: str) -> None:
    assert points_and_category({**f, "extras": [*f["extras"], code]})["category"] == "A"
