"""Properties of the match conditions of paper waived through shared records (cnvisa.law.shared_records): the
date coverage and the office's area, over generated dates and division codes (no database)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cnvisa.law.shared_records import in_area, match_record

codes = st.from_regex(r"[1-6][0-9]{5}", fullmatch=True)
days = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))


@given(codes, codes)
def test_the_area_narrows_with_the_level(a: str, b: str) -> None:
    assert in_area(a, a, "county") and in_area(a, a, "prefecture") and in_area(a, a, "provincial")
    if in_area(a, b, "county"):
        assert in_area(a, b, "prefecture")
    if in_area(a, b, "prefecture"):
        assert in_area(a, b, "provincial")
    assert in_area(a, b, "provincial") == (a[:2] == b[:2])


@given(days, st.one_of(st.none(), days), days)
def test_a_registration_matches_exactly_when_it_covers_the_day(
    start: dt.date, end: dt.date | None, on: dt.date
) -> None:
    record = {"person_id": 1, "division_code": "310115", "from": start, "until": end}
    ask = {"person_id": 1, "on": on, "office_region": "310000", "office_level": "provincial"}
    m = match_record("accommodation_registration", record, ask)
    covers = start <= on and (end is None or on <= end)
    assert m["found"] and m["matched"] == covers
    assert ("dates" in m["matched_fields"]) == covers


@given(st.sampled_from(["active", "revoked", "cancelled"]), st.one_of(st.none(), days), days)
def test_a_licence_matches_exactly_when_active_and_valid(
    status: str, until: dt.date | None, on: dt.date
) -> None:
    uscc = "91310000MA1FL4XL2K"
    m = match_record(
        "employer_business_licence",
        {"uscc": uscc, "status": status, "valid_until": until},
        {"uscc": uscc, "on": on, "office_region": "310000", "office_level": "provincial"},
    )
    assert m["matched"] == (status == "active" and (until is None or on <= until))
