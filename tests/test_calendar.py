"""The working-day calendar (Regulations Art 36 last paragraph; Civil Code Art 201).

``chinese_calendar`` (chinesecalendar 1.11.0) is used only here, as an independent oracle:
the calendar's data are written from the State Council notices, never generated from it.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

import chinese_calendar
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnvisa.law import calendar as cal
from cnvisa.law.errors import CalendarYearNotLoaded, InvalidInput

D = dt.date
FIRST, LAST = D(2020, 1, 1), D(2026, 12, 31)
DATA = files("cnvisa.law") / "data" / "calendar"


def days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    d = first
    while d <= last:
        yield d
        d += dt.timedelta(days=1)


def naive_add(start: dt.date, n: int) -> dt.date:
    """Reference implementation: walk day by day, not counting the first day."""
    d, seen = start, 0
    while seen < n:
        d += dt.timedelta(days=1)
        seen += cal.is_working_day(d)
    return d


def data_files() -> dict[str, dict[str, Any]]:
    return {
        e.name: tomllib.loads(e.read_text(encoding="utf-8"))
        for e in DATA.iterdir()
        if re.fullmatch(r"\d{4}\.toml", e.name)
    }


# (a) every day against the oracle -------------------------------------------------------


def test_loaded_years() -> None:
    assert cal.loaded_years() == (2020, 2026)


def oracle_span() -> tuple[int, int]:
    years = {d.year for d in chinese_calendar.holidays}
    return min(years), max(years)


@pytest.mark.parametrize("year", range(2020, 2027))
def test_every_day_matches_the_oracle(year: int) -> None:
    lo, hi = oracle_span()
    if not lo <= year <= hi:
        pytest.skip(f"chinesecalendar has no data for {year}")
    disagree = [
        (d.isoformat(), cal.day_kind(d))
        for d in days(D(year, 1, 1), D(year, 12, 31))
        if cal.is_working_day(d) != chinese_calendar.is_workday(d)
    ]
    assert disagree == []


def test_oracle_covers_at_least_2024_to_2026() -> None:
    lo, hi = oracle_span()
    assert lo <= 2024 and hi >= 2026


def test_adjusted_working_days_match_the_oracle() -> None:
    ours = {d for d in days(FIRST, LAST) if cal.day_kind(d) == "adjusted_working_day"}
    theirs = {d for d in chinese_calendar.workdays if FIRST <= d <= LAST}
    assert ours == theirs


def test_rest_periods_match_the_oracle_except_where_the_notice_words_them_otherwise() -> None:
    ours = {d for d in days(FIRST, LAST) if cal.day_kind(d) == "statutory_holiday_rest"}
    theirs = {d for d in chinese_calendar.holidays if FIRST <= d <= LAST}
    assert ours - theirs == set()
    # The 2024 notice: "元旦：1月1日放假，与周末连休。" The oracle also files the weekend of
    # 30-31 December 2023 under New Year's Day; the notice announces 1 January only, the
    # weekend before is an ordinary weekend. Working-day status is the same either way.
    assert theirs - ours == {D(2023, 12, 30), D(2023, 12, 31)}
    assert cal.day_kind(D(2023, 12, 30)) == "weekend"


# (b) yearly totals ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "total"),
    [(2020, 249), (2021, 250), (2022, 249), (2023, 249), (2024, 251), (2025, 248), (2026, 248)],
)
def test_working_days_per_year(year: int, total: int) -> None:
    assert sum(cal.is_working_day(d) for d in days(D(year, 1, 1), D(year, 12, 31))) == total
    if year > 2020:
        assert cal.working_days_between(D(year - 1, 12, 31), D(year, 12, 31)) == total


# (c) worked examples -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "end"),
    [
        # 28 Sep (Sun) and 11 Oct (Sat) 2025 are 调休 working days; 1-8 Oct rest.
        (D(2025, 9, 26), 7, D(2025, 10, 13)),
        (D(2025, 9, 26), 15, D(2025, 10, 23)),
        # 29 Sep (Sun) and 12 Oct (Sat) 2024 are 调休 working days; 1-7 Oct rest.
        (D(2024, 9, 27), 7, D(2024, 10, 12)),
        (D(2024, 9, 27), 15, D(2024, 10, 23)),
        # Spring Festival 2025: rest 28 Jan - 4 Feb; 26 Jan (Sun), 8 Feb (Sat) worked.
        (D(2025, 1, 24), 7, D(2025, 2, 10)),
        (D(2025, 1, 24), 15, D(2025, 2, 20)),
        # Spring Festival 2026: rest 15-23 Feb; 14 Feb (Sat), 28 Feb (Sat) worked.
        (D(2026, 2, 13), 7, D(2026, 3, 2)),
        (D(2026, 2, 13), 15, D(2026, 3, 12)),
        # The first day is never counted, even when it is a working day.
        (D(2025, 10, 13), 1, D(2025, 10, 14)),
        # ... nor when it is a rest day: from Saturday the first day counted is Monday.
        (D(2025, 10, 18), 1, D(2025, 10, 20)),
        # A New Year holiday announced in the next year's notice (2022-12-31..2023-01-02).
        (D(2022, 12, 30), 1, D(2023, 1, 3)),
        # 2020: the extension (国办发明电〔2020〕1号) made 1 Feb (Sat) a rest day.
        (D(2020, 1, 23), 1, D(2020, 2, 3)),
    ],
)
def test_examples(start: dt.date, n: int, end: dt.date) -> None:
    assert cal.add_working_days(start, n) == end
    assert cal.working_days_between(start, end) == n


def test_2020_spring_festival_extension() -> None:
    assert cal.is_working_day(D(2020, 1, 19))  # 调休 Sunday, kept by the extension
    for d in days(D(2020, 1, 24), D(2020, 2, 2)):
        assert not cal.is_working_day(d), d
        assert cal.holiday_on(d) == "Spring Festival"
    assert cal.day_kind(D(2020, 2, 1)) == "statutory_holiday_rest"
    assert cal.is_working_day(D(2020, 2, 3))
    source = cal.source_for(2020)
    assert source["document_number"] == "国办发明电〔2019〕16号"
    amendments = source["amendments"]
    assert isinstance(amendments, list) and len(amendments) == 1
    amendment = amendments[0]
    assert amendment["document_number"] == "国办发明电〔2020〕1号"
    assert amendment["holiday"] == "Spring Festival"


def test_new_year_across_years_is_merged() -> None:
    # Announced in the 2023 notice, not in 2022's.
    assert cal.holiday_on(D(2022, 12, 31)) == "New Year's Day"
    assert cal.day_kind(D(2022, 12, 31)) == "statutory_holiday_rest"
    assert not cal.is_working_day(D(2023, 1, 2))  # Monday
    assert cal.is_working_day(D(2023, 1, 3))


def test_day_kinds_and_holiday_names() -> None:
    assert cal.day_kind(D(2025, 10, 13)) == "working_day"
    assert cal.day_kind(D(2025, 10, 12)) == "weekend"
    assert cal.day_kind(D(2025, 10, 11)) == "adjusted_working_day"
    assert cal.day_kind(D(2025, 10, 4)) == "statutory_holiday_rest"  # a Saturday in the rest period
    assert cal.holiday_on(D(2025, 10, 6)) == "National Day and Mid-Autumn Festival"
    assert cal.holiday_on(D(2025, 10, 11)) is None  # worked, not a holiday
    assert cal.holiday_on(D(2025, 10, 13)) is None
    assert cal.day_kind(D(2024, 2, 9)) == "working_day"  # 除夕 2024: rest only encouraged
    assert set(cal.DAY_KINDS) == {"working_day", "weekend", "statutory_holiday_rest", "adjusted_working_day"}


def test_next_and_previous_working_day() -> None:
    assert cal.next_working_day(D(2025, 9, 30)) == D(2025, 10, 9)
    assert cal.previous_working_day(D(2025, 10, 9)) == D(2025, 9, 30)
    assert cal.previous_working_day(D(2025, 10, 12)) == D(2025, 10, 11)
    assert cal.previous_working_day(D(2025, 10, 11)) == D(2025, 10, 10)


def test_between_is_zero_when_end_not_after_start() -> None:
    assert cal.working_days_between(D(2025, 5, 6), D(2025, 5, 6)) == 0
    assert cal.working_days_between(D(2025, 5, 6), D(2025, 4, 1)) == 0
    assert cal.working_days_between(D(2025, 4, 30), D(2025, 5, 6)) == 1


def test_invalid_input() -> None:
    for n in (0, -1, 1.0, True, "7"):
        with pytest.raises(InvalidInput) as info:
            cal.add_working_days(D(2025, 1, 6), n)  # type: ignore[arg-type]
        assert info.value.field == "n"
    with pytest.raises(InvalidInput) as info:
        cal.add_working_days(dt.datetime(2025, 1, 6, 12, 0), 7)
    assert info.value.field == "start"
    with pytest.raises(InvalidInput):
        cal.is_working_day("2025-01-06")  # type: ignore[arg-type]


# (d) unloaded years --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "year"),
    [
        (lambda: cal.is_working_day(D(2019, 12, 31)), 2019),
        (lambda: cal.is_working_day(D(2027, 1, 4)), 2027),
        (lambda: cal.add_working_days(D(2019, 12, 31), 1), 2019),
        (lambda: cal.add_working_days(D(2027, 1, 4), 1), 2027),
        (lambda: cal.add_working_days(D(2026, 12, 28), 7), 2027),  # walks past 2026-12-31
        (lambda: cal.add_working_days(D(2026, 12, 31), 1), 2027),
        (lambda: cal.working_days_between(D(2026, 12, 1), D(2027, 1, 5)), 2027),
        (lambda: cal.working_days_between(D(2019, 12, 1), D(2020, 1, 5)), 2019),
        (lambda: cal.previous_working_day(D(2020, 1, 2)), 2019),  # 1 Jan 2020 is a holiday
        (lambda: cal.day_kind(D(2027, 1, 1)), 2027),
        (lambda: cal.holiday_on(D(1999, 10, 1)), 1999),
        (lambda: cal.source_for(2027), 2027),
    ],
)
def test_unloaded_years_raise(call: Any, year: int) -> None:
    with pytest.raises(CalendarYearNotLoaded) as info:
        call()
    assert info.value.year == year
    assert str(year) in str(info.value) and "2020-2026" in str(info.value)


def test_last_loaded_days_still_count() -> None:
    assert cal.add_working_days(D(2026, 12, 28), 3) == D(2026, 12, 31)


# (e) properties ------------------------------------------------------------------------

starts = st.dates(min_value=FIRST, max_value=D(2026, 6, 30))
counts = st.integers(min_value=1, max_value=100)


@given(starts, counts, counts)
def test_strictly_increasing_in_n(start: dt.date, a: int, b: int) -> None:
    assume(a != b)
    lo, hi = min(a, b), max(a, b)
    assert cal.add_working_days(start, lo) < cal.add_working_days(start, hi)


@given(starts, counts)
def test_result_is_a_working_day_after_start(start: dt.date, n: int) -> None:
    end = cal.add_working_days(start, n)
    assert end > start
    assert cal.is_working_day(end)
    assert cal.day_kind(end) in ("working_day", "adjusted_working_day")
    assert cal.holiday_on(end) is None
    assert cal.working_days_between(start, end) == n
    assert cal.working_days_between(start, end - dt.timedelta(days=1)) == n - 1


@settings(max_examples=200)
@given(starts, st.integers(min_value=1, max_value=30))
def test_agrees_with_a_day_by_day_walk(start: dt.date, n: int) -> None:
    assert cal.add_working_days(start, n) == naive_add(start, n)


@given(st.dates(min_value=FIRST, max_value=LAST), st.dates(min_value=FIRST, max_value=LAST))
def test_between_counts_the_half_open_interval(a: dt.date, b: dt.date) -> None:
    start, end = min(a, b), max(a, b)
    assume((end - start).days <= 400)
    expected = sum(cal.is_working_day(d) for d in days(start + dt.timedelta(days=1), end))
    assert cal.working_days_between(start, end) == expected
    assert cal.working_days_between(end, start) == 0


# (f) version and sources ---------------------------------------------------------------


def test_calendar_version_is_stable() -> None:
    v = cal.calendar_version()
    assert re.fullmatch(r"2020-2026\+[0-9a-f]{12}", v)
    assert cal.calendar_version() == v
    assert cal._build(cal._read(DATA)).version == v


def test_calendar_version_changes_with_the_data() -> None:
    docs = data_files()
    base = cal._build(docs.items()).version
    changed = {**docs, "2025.toml": {**docs["2025.toml"], "document_number": "国办发明电〔2024〕99号"}}
    assert cal._build(changed.items()).version != base


def test_each_file_carries_its_notice() -> None:
    docs = data_files()
    assert sorted(docs) == [f"{y}.toml" for y in range(2020, 2027)]
    for name, doc in docs.items():
        year = doc["year"]
        assert name == f"{year}.toml"
        assert doc["notice"] == f"国务院办公厅关于{year}年部分节假日安排的通知"
        assert re.fullmatch(r"国办发明电〔\d{4}〕\d+号", doc["document_number"]), name
        assert int(doc["document_number"][6:10]) == year - 1, name  # issued the year before
        assert doc["published"].year == year - 1, name
        assert doc.get("url", "https://www.gov.cn/").startswith(("http://www.gov.cn/", "https://www.gov.cn/"))
        source = cal.source_for(year)
        assert source["notice"] == doc["notice"]
        assert source["document_number"] == doc["document_number"]
        for h in doc["holiday"]:
            assert h["name_zh"] and h["name_en"], name


def test_sources_are_copies() -> None:
    cal.source_for(2025)["notice"] = "changed"
    assert cal.source_for(2025)["notice"] == "国务院办公厅关于2025年部分节假日安排的通知"


# Loader checks on synthetic data --------------------------------------------------------


def _doc(year: int, holidays: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "year": year,
        "notice": f"国务院办公厅关于{year}年部分节假日安排的通知",
        "document_number": f"国办发明电〔{year - 1}〕1号",
        "published": D(year - 1, 11, 1),
        "holiday": holidays,
    }


def _h(
    first: dt.date, last: dt.date, working: list[dt.date] | None = None, name: str = "X"
) -> dict[str, Any]:
    return {
        "name_en": name,
        "name_zh": "节",
        "first": first,
        "last": last,
        "working_weekend_days": working or [],
    }


def test_loader_merges_a_new_year_announced_by_the_next_notice() -> None:
    t = cal._build(
        [
            ("2022.toml", _doc(2022, [_h(D(2022, 10, 3), D(2022, 10, 3))])),
            # 2022-12-30 is a Friday: a rest day only the 2023 notice announces.
            ("2023.toml", _doc(2023, [_h(D(2022, 12, 30), D(2023, 1, 2), [D(2022, 12, 24)])])),
        ]
    )
    i = D(2022, 12, 30).toordinal() - t.base
    assert not t.working[i]
    assert t.working[D(2022, 12, 24).toordinal() - t.base]  # a Saturday made a working day


@pytest.mark.parametrize(
    ("docs", "message"),
    [
        ([("2022.toml", _doc(2022, [_h(D(2022, 1, 3), D(2022, 1, 1))]))], "before first"),
        ([("2022.toml", _doc(2022, [_h(D(2022, 1, 3), D(2022, 1, 3), [D(2022, 1, 5)])]))], "not a weekend"),
        ([("2022.toml", _doc(2022, [_h(D(2022, 1, 1), D(2022, 1, 3), [D(2022, 1, 1)])]))], "inside"),
        ([("2022.toml", _doc(2022, [_h(D(2021, 6, 1), D(2021, 6, 1))]))], "December"),
        ([("2021.toml", _doc(2022, [_h(D(2022, 1, 3), D(2022, 1, 3))]))], "named 2022.toml"),
        (
            [
                ("2022.toml", _doc(2022, [_h(D(2022, 1, 3), D(2022, 1, 3))])),
                ("2024.toml", _doc(2024, [_h(D(2024, 1, 1), D(2024, 1, 1))])),
            ],
            "missing",
        ),
        (
            [
                ("2022.toml", _doc(2022, [_h(D(2022, 12, 30), D(2022, 12, 30))])),
                ("2023.toml", _doc(2023, [_h(D(2022, 12, 30), D(2023, 1, 2))])),
            ],
            "already announced",
        ),
        ([("2022.toml", {**_doc(2022, [_h(D(2022, 1, 3), D(2022, 1, 3))]), "typo": 1})], "unknown"),
    ],
)
def test_loader_rejects_bad_data(docs: list[tuple[str, dict[str, Any]]], message: str) -> None:
    with pytest.raises(cal.CalendarDataError, match=message):
        cal._build(docs)


# (g) cross-check with chinese_calendar.find_workday ------------------------------------


@settings(max_examples=300)
@given(st.dates(min_value=D(2024, 1, 1), max_value=D(2026, 12, 31)), st.integers(min_value=1, max_value=40))
def test_agrees_with_find_workday(start: dt.date, n: int) -> None:
    # find_workday(k, d) first moves to the first workday on or after d ("includes today"),
    # then k workdays further. Civil Code Art 201 never counts the first day, so from a
    # working day the two agree for k = n; from a rest day the first working day after it
    # is already day 1 of the period, so they agree for k = n - 1.
    k = n if chinese_calendar.is_workday(start) else n - 1
    try:
        theirs = chinese_calendar.find_workday(k, start)
    except NotImplementedError:
        assume(False)
    assume(theirs <= LAST)
    assert cal.add_working_days(start, n) == theirs
