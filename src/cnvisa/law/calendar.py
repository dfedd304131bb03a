"""The working-day calendar (工作日) used to count the periods of the Regulations.

Regulations Art 36, last paragraph: the approval periods and the validity period of the
acceptance receipt specified in the Regulations "shall be calculated in working days,
excluding legal holidays". A working day is a day other than a Saturday, a Sunday or a day
of a statutory holiday's rest period, and includes the Saturdays and Sundays that the State
Council's yearly notice (国务院办公厅关于XXXX年部分节假日安排的通知) makes working days (调休).

The yearly notices are the only source. No rule derives them (the lunar dates, the
"bridge" days and the 调休 weekends are chosen each year), so nothing here computes a
holiday: every rest period and every 调休 working day comes from a data file in
``cnvisa/law/data/calendar/``, one per notice, copied from the notice by hand (see the
README there). A date in a year for which no notice is loaded raises
:class:`~cnvisa.law.errors.CalendarYearNotLoaded`; the calendar never guesses.

Counting follows Civil Code Art 201: a period counted in days does not count the day on
which it starts, so the period of ``n`` working days from ``start`` ends on the n-th working
day *after* ``start``, whether or not ``start`` is itself a working day.

The module is pure: no clock, no I/O after import. The data files are read once at import
(through :mod:`importlib.resources`) and turned into flat tables over the loaded span, so
each query is a handful of list look-ups.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any, Final

from cnvisa.law.errors import CalendarYearNotLoaded, InvalidInput

__all__ = [
    "DAY_KINDS",
    "CalendarDataError",
    "add_working_days",
    "calendar_version",
    "day_kind",
    "holiday_on",
    "is_working_day",
    "loaded_years",
    "next_working_day",
    "previous_working_day",
    "source_for",
    "working_days_between",
]

_date = _dt.date

WORKING_DAY: Final = "working_day"
"""An ordinary Monday-Friday outside any holiday rest period."""
WEEKEND: Final = "weekend"
"""A Saturday or Sunday that no notice makes a working day or places in a rest period."""
STATUTORY_HOLIDAY_REST: Final = "statutory_holiday_rest"
"""A day inside a rest period announced by a notice (放假, 放假调休), weekend or not."""
ADJUSTED_WORKING_DAY: Final = "adjusted_working_day"
"""A Saturday or Sunday that a notice makes a working day (调休上班)."""

DAY_KINDS: Final = (WORKING_DAY, WEEKEND, STATUTORY_HOLIDAY_REST, ADJUSTED_WORKING_DAY)
_K_WORKING, _K_WEEKEND, _K_REST, _K_ADJUSTED = 0, 1, 2, 3

_FILE_NAME = re.compile(r"^(\d{4})\.toml$")
_TOP_KEYS = frozenset({"year", "notice", "document_number", "url", "published", "holiday", "amendment"})
_TOP_REQUIRED = frozenset({"year", "notice", "document_number", "published", "holiday"})
_HOLIDAY_KEYS = frozenset({"name_en", "name_zh", "first", "last", "working_weekend_days", "note"})
_HOLIDAY_REQUIRED = frozenset({"name_en", "name_zh", "first", "last", "working_weekend_days"})
_AMENDMENT_KEYS = frozenset(
    {
        "notice",
        "document_number",
        "url",
        "published",
        "holiday",
        "first",
        "last",
        "working_weekend_days",
        "note",
    }
)
_AMENDMENT_REQUIRED = frozenset({"notice", "document_number", "published", "holiday"})
_LONGEST_REST_PERIOD = 31  # days; a sanity bound on a typing error, no notice comes near it


class CalendarDataError(ValueError):
    """A calendar data file is malformed or contradicts another: the module refuses to load."""


# --------------------------------------------------------------------------------------
# Loading and checking the data files
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Holiday:
    name_en: str
    name_zh: str
    first: _dt.date
    last: _dt.date
    working_weekend_days: tuple[_dt.date, ...]


@dataclass(frozen=True, slots=True)
class _Tables:
    """Everything the queries need, precomputed over the loaded span."""

    first_year: int
    last_year: int
    base: int  # ordinal of 1 January of first_year
    kinds: bytearray  # one _K_* code per day of the span
    working: list[bool]  # per day: is it a working day
    cumulative: list[int]  # per day: working days from the span's first day to this day, inclusive
    working_dates: list[_dt.date]  # [sentinel, 1st working day, 2nd, ...]: index = cumulative count
    holiday_index: bytearray  # per day: 0, or 1 + index into holiday_names
    holiday_names: tuple[str, ...]
    sources: dict[int, dict[str, object]]
    version: str


def _fail(where: str, message: str) -> CalendarDataError:
    return CalendarDataError(f"{where}: {message}")


def _check_keys(
    where: str, table: Mapping[str, Any], allowed: frozenset[str], required: frozenset[str]
) -> None:
    if not isinstance(table, Mapping):
        raise _fail(where, "expected a table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise _fail(where, f"unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    missing = sorted(required - set(table))
    if missing:
        raise _fail(where, f"missing key(s) {missing}")


def _str(where: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"expected a non-empty string, got {value!r}")
    return value


def _day(where: str, value: object) -> _dt.date:
    # TOML dates load as datetime.date; a datetime (date with time) is not a calendar day.
    if not isinstance(value, _date) or isinstance(value, _dt.datetime):
        raise _fail(where, f"expected a TOML date such as 2025-01-28, got {value!r}")
    return value


def _days(where: str, value: object) -> tuple[_dt.date, ...]:
    if not isinstance(value, list):
        raise _fail(where, f"expected a list of dates, got {value!r}")
    out = tuple(_day(f"{where}[{i}]", v) for i, v in enumerate(value))
    if len(set(out)) != len(out):
        raise _fail(where, "a date is listed twice")
    return out


def _in_notice_year(where: str, year: int, day: _dt.date) -> None:
    """A notice for ``year`` announces dates of ``year``, or of the December before it
    (a New Year rest period or 调休 day that starts in the old year)."""
    if not (day.year == year or (day.year == year - 1 and day.month == 12)):
        raise _fail(where, f"{day.isoformat()} is neither in {year} nor in December {year - 1}")


def _parse_holiday(where: str, raw: Mapping[str, Any]) -> _Holiday:
    _check_keys(where, raw, _HOLIDAY_KEYS, _HOLIDAY_REQUIRED)
    if "note" in raw:
        _str(f"{where}.note", raw["note"])
    return _Holiday(
        name_en=_str(f"{where}.name_en", raw["name_en"]),
        name_zh=_str(f"{where}.name_zh", raw["name_zh"]),
        first=_day(f"{where}.first", raw["first"]),
        last=_day(f"{where}.last", raw["last"]),
        working_weekend_days=_days(f"{where}.working_weekend_days", raw["working_weekend_days"]),
    )


def _check_holiday(where: str, year: int, h: _Holiday) -> None:
    if h.last < h.first:
        raise _fail(where, f"last {h.last} is before first {h.first}")
    if (h.last - h.first).days >= _LONGEST_REST_PERIOD:
        raise _fail(where, f"a rest period of {(h.last - h.first).days + 1} days is not credible")
    _in_notice_year(f"{where}.first", year, h.first)
    _in_notice_year(f"{where}.last", year, h.last)
    for d in h.working_weekend_days:
        _in_notice_year(f"{where}.working_weekend_days", year, d)
        if d.weekday() < 5:
            raise _fail(where, f"working weekend day {d.isoformat()} is a {d.strftime('%A')}, not a weekend")
        if h.first <= d <= h.last:
            raise _fail(where, f"working weekend day {d.isoformat()} lies inside the rest period")


def _source(raw: Mapping[str, Any]) -> dict[str, object]:
    return {
        "notice": raw["notice"],
        "document_number": raw["document_number"],
        "url": raw.get("url"),
        "published": raw["published"],
    }


def _parse_file(name: str, doc: Mapping[str, Any]) -> tuple[int, list[_Holiday], dict[str, object]]:
    """Check one file's shape and apply its amendments; return its year, holidays and sources."""
    _check_keys(name, doc, _TOP_KEYS, _TOP_REQUIRED)
    year = doc["year"]
    if type(year) is not int:
        raise _fail(f"{name}.year", f"expected an integer, got {year!r}")
    match = _FILE_NAME.match(name)
    if match is None or int(match.group(1)) != year:
        raise _fail(name, f"a file for {year} must be named {year}.toml")
    _str(f"{name}.notice", doc["notice"])
    if str(year) not in doc["notice"]:
        raise _fail(f"{name}.notice", f"the title does not name {year}")
    _str(f"{name}.document_number", doc["document_number"])
    if "url" in doc:
        _str(f"{name}.url", doc["url"])
    _day(f"{name}.published", doc["published"])

    raw_holidays = doc["holiday"]
    if not isinstance(raw_holidays, list) or not raw_holidays:
        raise _fail(f"{name}.holiday", "expected one or more [[holiday]] tables")
    holidays = [_parse_holiday(f"{name}.holiday[{i}]", h) for i, h in enumerate(raw_holidays)]
    names = [h.name_en for h in holidays]
    if len(set(names)) != len(names):
        raise _fail(f"{name}.holiday", "two holidays share a name_en")

    amendments: list[dict[str, object]] = []
    raw_amendments = doc.get("amendment", [])
    if not isinstance(raw_amendments, list):
        raise _fail(f"{name}.amendment", "expected [[amendment]] tables")
    for i, raw in enumerate(raw_amendments):
        where = f"{name}.amendment[{i}]"
        _check_keys(where, raw, _AMENDMENT_KEYS, _AMENDMENT_REQUIRED)
        _str(f"{where}.notice", raw["notice"])
        _str(f"{where}.document_number", raw["document_number"])
        if "url" in raw:
            _str(f"{where}.url", raw["url"])
        _day(f"{where}.published", raw["published"])
        target = _str(f"{where}.holiday", raw["holiday"])
        if target not in names:
            raise _fail(f"{where}.holiday", f"no [[holiday]] named {target!r} in {name}")
        if not {"first", "last", "working_weekend_days"} & set(raw):
            raise _fail(where, "an amendment must change first, last or working_weekend_days")
        j = names.index(target)
        old = holidays[j]
        holidays[j] = _Holiday(
            name_en=old.name_en,
            name_zh=old.name_zh,
            first=_day(f"{where}.first", raw["first"]) if "first" in raw else old.first,
            last=_day(f"{where}.last", raw["last"]) if "last" in raw else old.last,
            working_weekend_days=(
                _days(f"{where}.working_weekend_days", raw["working_weekend_days"])
                if "working_weekend_days" in raw
                else old.working_weekend_days
            ),
        )
        amendments.append({**_source(raw), "holiday": target})

    for i, h in enumerate(holidays):
        _check_holiday(f"{name}.holiday[{i}] ({h.name_en}, as amended)", year, h)
    source = {"year": year, **_source(doc), "amendments": amendments}
    return year, holidays, source


def _canonical(value: object) -> object:
    if isinstance(value, _date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _build(docs: Iterable[tuple[str, Mapping[str, Any]]]) -> _Tables:
    """Merge every notice (file name, parsed TOML) into the lookup tables.

    A date's status does not depend on which file announced it: the rest days and 调休
    working days of all files are merged, and any date claimed twice is an error.
    """
    docs = sorted(docs, key=lambda item: item[0])
    if not docs:
        raise CalendarDataError("no calendar data files found")
    rest: dict[_dt.date, str] = {}
    rest_from: dict[_dt.date, str] = {}
    adjusted: dict[_dt.date, str] = {}
    sources: dict[int, dict[str, object]] = {}
    canonical: list[object] = []
    for name, doc in docs:
        year, holidays, source = _parse_file(name, doc)
        sources[year] = source
        canonical.append(_canonical(doc))
        for h in holidays:
            where = f"{name} ({h.name_en})"
            for k in range((h.last - h.first).days + 1):
                d = h.first + _dt.timedelta(days=k)
                if d in rest or d in adjusted:
                    raise _fail(
                        where, f"{d.isoformat()} is already announced by {rest_from.get(d, 'another')}"
                    )
                rest[d] = h.name_en
                rest_from[d] = name
        for h in holidays:
            for d in h.working_weekend_days:
                if d in rest or d in adjusted:
                    raise _fail(f"{name} ({h.name_en})", f"{d.isoformat()} is announced twice")
                adjusted[d] = h.name_en

    years = sorted(sources)
    first_year, last_year = years[0], years[-1]
    if years != list(range(first_year, last_year + 1)):
        gaps = sorted(set(range(first_year, last_year + 1)) - set(years))
        raise CalendarDataError(f"the loaded notices must cover consecutive years; missing {gaps}")

    start = _date(first_year, 1, 1)
    end = _date(last_year, 12, 31)
    span = (end - start).days + 1
    names = tuple(sorted(set(rest.values())))
    name_no = {n: i + 1 for i, n in enumerate(names)}
    if len(names) > 254:
        raise CalendarDataError("too many distinct holiday names")
    kinds = bytearray(span)
    holiday_index = bytearray(span)
    working: list[bool] = []
    cumulative: list[int] = []
    working_dates: list[_dt.date] = [start - _dt.timedelta(days=1)]  # sentinel at index 0, never returned
    count = 0
    for i in range(span):
        d = start + _dt.timedelta(days=i)
        if d in rest:
            kind = _K_REST
            holiday_index[i] = name_no[rest[d]]
        elif d in adjusted:
            kind = _K_ADJUSTED
        elif d.weekday() >= 5:
            kind = _K_WEEKEND
        else:
            kind = _K_WORKING
        kinds[i] = kind
        is_working = kind in (_K_WORKING, _K_ADJUSTED)
        working.append(is_working)
        if is_working:
            count += 1
            working_dates.append(d)
        cumulative.append(count)

    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]
    return _Tables(
        first_year=first_year,
        last_year=last_year,
        base=start.toordinal(),
        kinds=kinds,
        working=working,
        cumulative=cumulative,
        working_dates=working_dates,
        holiday_index=holiday_index,
        holiday_names=names,
        sources=sources,
        version=f"{first_year}-{last_year}+{digest}",
    )


def _read(folder: Traversable) -> list[tuple[str, Mapping[str, Any]]]:
    out: list[tuple[str, Mapping[str, Any]]] = []
    for entry in folder.iterdir():
        if _FILE_NAME.match(entry.name):
            try:
                out.append((entry.name, tomllib.loads(entry.read_text(encoding="utf-8"))))
            except tomllib.TOMLDecodeError as exc:
                raise _fail(entry.name, f"not valid TOML: {exc}") from exc
    return out


_T: Final = _build(_read(files("cnvisa.law") / "data" / "calendar"))

# Flat module-level names for the hot paths (each a single global look-up).
_BASE: Final = _T.base
_SPAN: Final = len(_T.kinds)
_KINDS: Final = _T.kinds
_WORKING: Final = _T.working
_CUM: Final = _T.cumulative
_WD: Final = _T.working_dates
_TOTAL: Final = len(_T.working_dates) - 1
_LOADED: Final = (_T.first_year, _T.last_year)
_AFTER: Final = _T.last_year + 1
_BEFORE: Final = _T.first_year - 1


# --------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------


def _bad_date(field: str, value: object) -> InvalidInput:
    return InvalidInput(
        field, f"expected a datetime.date (a calendar day), got {type(value).__name__} {value!r}"
    )


def _index(field: str, day: _dt.date) -> int:
    """Index of ``day`` in the tables; raises if it is not a date or its year is not loaded."""
    if type(day) is not _date:
        raise _bad_date(field, day)
    i = day.toordinal() - _BASE
    if 0 <= i < _SPAN:
        return i
    raise CalendarYearNotLoaded(day.year, _LOADED)


def loaded_years() -> tuple[int, int]:
    """First and last year (inclusive) for which a State Council notice is loaded."""
    return _LOADED


def calendar_version() -> str:
    """``"<first>-<last>+<hash>"``: the loaded years and the first 12 hex digits of the SHA-256
    of the data files' parsed content (comments and layout do not count). Record it with any
    result computed in working days: it changes whenever any notice's data changes."""
    return _T.version


def source_for(year: int) -> dict[str, object]:
    """The notice a year's working days come from: ``notice`` (title), ``document_number``,
    ``url`` (None when not recorded), ``published`` (date) and ``amendments`` (later notices
    that changed it, each with the same keys and the ``holiday`` it changed). A fresh copy."""
    if type(year) is not int:
        raise InvalidInput("year", f"expected an integer year, got {year!r}")
    source = _T.sources.get(year)
    if source is None:
        raise CalendarYearNotLoaded(year, _LOADED)
    amendments = source["amendments"]
    assert isinstance(amendments, list)
    return {**source, "amendments": [dict(a) for a in amendments]}


def is_working_day(day: _dt.date) -> bool:
    """Whether ``day`` is a working day (工作日): Monday to Friday outside every announced rest
    period, or a Saturday/Sunday that a notice makes a working day (调休). Raises
    CalendarYearNotLoaded for a year with no loaded notice."""
    if type(day) is not _date:
        raise _bad_date("day", day)
    i = day.toordinal() - _BASE
    if 0 <= i < _SPAN:
        return _WORKING[i]
    raise CalendarYearNotLoaded(day.year, _LOADED)


def day_kind(day: _dt.date) -> str:
    """What a day is: ``"working_day"`` (an ordinary Monday-Friday), ``"weekend"`` (an ordinary
    Saturday/Sunday), ``"statutory_holiday_rest"`` (any day inside an announced rest period,
    weekday or weekend) or ``"adjusted_working_day"`` (a 调休 Saturday/Sunday that is worked)."""
    return DAY_KINDS[_KINDS[_index("day", day)]]


def holiday_on(day: _dt.date) -> str | None:
    """The English name of the holiday whose announced rest period covers ``day``, else None
    (also None for a 调休 working day: it is worked, not a holiday)."""
    k = _T.holiday_index[_index("day", day)]
    return _T.holiday_names[k - 1] if k else None


def add_working_days(start: _dt.date, n: int) -> _dt.date:
    """The day a period of ``n`` working days that starts on ``start`` ends: the n-th working
    day *after* ``start`` (Civil Code Art 201: the first day is not counted, whether or not it
    is a working day; Regulations Art 36 last paragraph: only working days count).

    ``n`` must be an integer ≥ 1 (else InvalidInput on field ``n``). Raises
    CalendarYearNotLoaded naming the first year without a notice that the count reaches
    (the year of ``start``, or the year after the last loaded one)."""
    if type(n) is not int or n < 1:
        raise InvalidInput("n", f"the number of working days must be an integer ≥ 1, got {n!r}")
    if type(start) is not _date:
        raise _bad_date("start", start)
    i = start.toordinal() - _BASE
    if 0 <= i < _SPAN:
        k = _CUM[i] + n
        if k <= _TOTAL:
            return _WD[k]
        raise CalendarYearNotLoaded(_AFTER, _LOADED)
    raise CalendarYearNotLoaded(start.year, _LOADED)


def working_days_between(start: _dt.date, end: _dt.date) -> int:
    """The number of working days ``d`` with ``start < d <= end`` (the first day is not counted,
    the last is), so ``add_working_days(s, k) == e`` implies ``working_days_between(s, e) == k``.
    0 when ``end <= start``. Both dates must lie in loaded years."""
    i = _index("start", start)
    j = _index("end", end)
    return _CUM[j] - _CUM[i] if j > i else 0


def next_working_day(day: _dt.date) -> _dt.date:
    """The first working day strictly after ``day`` (``add_working_days(day, 1)``)."""
    return add_working_days(day, 1)


def previous_working_day(day: _dt.date) -> _dt.date:
    """The last working day strictly before ``day``. Raises CalendarYearNotLoaded for the year
    before the first loaded one if no loaded working day precedes ``day``."""
    i = _index("day", day)
    before = _CUM[i] - _WORKING[i]
    if before < 1:
        raise CalendarYearNotLoaded(_BEFORE, _LOADED)
    return _WD[before]
