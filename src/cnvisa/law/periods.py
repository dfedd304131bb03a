"""Counting periods and ages the way PRC law counts them.

- Civil Code Art 201: a period counted in days, months or years does not count its first day
  (开始的当日不计入，自下一日开始计算).
- Civil Code Art 202: a period counted in months or years ends on the corresponding day of the
  last month; where that month has no such day, on the month's last day.
- Civil Code Art 203: the last day of a period ends at 24:00.
- Civil Code Art 1259: 以上、以下、以内、届满 include the number itself.

Age (周岁). "已满60周岁" (Regulations Art 19(1), "60 or over") and "未满16周岁" ("under 16")
count completed years of life. Reading chosen: the N-year period that starts at birth is a
period counted in years (Civil Code Art 201-203), so the birth day is not counted and the
N years are complete at 24:00 on the N-th birthday; the person "已满N周岁" from the day after
that birthday. This is also the reading of the Supreme People's Court (法释〔2006〕1号 Art 2:
"周岁……从周岁生日的第二天起算"). A person born on 29 February completes a year on 28
February of a common year (Civil Code Art 202), so is "已满" from 1 March.
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt

from cnvisa.law.citations import Citation, civil_code

AGE_CITATIONS: tuple[Citation, ...] = (civil_code(201), civil_code(202), civil_code(203))


def add_months(start: dt.date, months: int) -> dt.date:
    """The corresponding day ``months`` later (Civil Code Art 202); month end when none."""
    total = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(total, 12)
    month = month0 + 1
    last = _cal.monthrange(year, month)[1]
    return dt.date(year, month, min(start.day, last))


def add_years(start: dt.date, years: int) -> dt.date:
    """The corresponding day ``years`` later (Civil Code Art 202); 29 Feb → 28 Feb."""
    return add_months(start, 12 * years)


def period_end_days(start: dt.date, days: int) -> dt.date:
    """Last day of a period of ``days`` days that starts counting the day after ``start``."""
    return start + dt.timedelta(days=days)


def days_in_years(start: dt.date, years: int) -> int:
    """Length in days of a period of ``years`` years counted from the day after ``start``."""
    return (add_years(start, years) - start).days


def days_in_months(start: dt.date, months: int) -> int:
    """Length in days of a period of ``months`` months counted from the day after ``start``."""
    return (add_months(start, months) - start).days


def completed_years(birth_date: dt.date, on: dt.date) -> int:
    """Completed years of age (周岁) on ``on``: the N-th year completes at the end of the N-th
    birthday, so the count rises on the day after it (module docstring)."""
    if on <= birth_date:
        return 0
    years = on.year - birth_date.year
    # Has the `years`-th birthday already ended before `on`?
    while years > 0 and add_years(birth_date, years) >= on:
        years -= 1
    return years
