"""Duties with a deadline, and illegal residence counted (issue 12; reforms.md §8) — pure rules.

Each duty is computed from the fact that starts it (an entry, a change, a permit's end, a move-in, a birth) and
carries its article. The Chinese of the Exit and Entry Administration Law governs:
- Art 29 para 1: 外国人需要延长签证停留期限的，应当在签证注明的停留期限届满七日前提出申请 — the last day to apply is seven
  days before the last day of stay (``cnvisa.law.extension.last_day_to_apply``).
- Art 30 para 1: 应当自入境之日起三十日内 … 申请办理外国人居留证件 — thirty days from the entry, the entry day not counted
  (Civil Code Art 201 para 1) and the thirtieth day included (以内, Civil Code Art 1259).
- Art 32 para 1: 应当在居留证件有效期限届满三十日前 … 提出申请 — thirty days before the permit's last valid day.
- Art 33 para 1: 应当自登记事项发生变更之日起十日内 … 申请办理变更 — ten days from the change, the day of change not counted.
- Art 39 para 2: 应当在入住后二十四小时内 … 办理登记 — counted in hours from the moment of moving in (Civil Code Art
  201 para 2: a period in hours starts at the moment it is set to start), shown in Beijing time.
- Art 40 para 1: 应当在婴儿出生后六十日内 … 办理停留或者居留登记 — sixty days from the birth, the birth day not counted.
- Reading (Civil Code Art 203 para 1: 期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日; Art 204): a
  period counted forward from a fact (Art 30, 33, 40) whose last day is a rest day (a weekend day not made a
  working day, or a holiday — the State Council's yearly notice, ``cnvisa.law.calendar``) ends on the next working
  day: the office is closed, as Administrative Procedure Law Art 83 says of its own periods. Where that year's
  notice is not loaded, ``by`` stays the period's own last day — never later than the true deadline — and
  ``holidays_known`` is false. A day counted back from an end (Art 29, 32: 届满…日前) is not moved: moving it would
  shorten the time the law gives, and Art 203 speaks of a period's last day.
- Regulations Art 26: the employer's or school's report is due 及时 (promptly): no day count in law; a count an
  office sets is labelled "Office rule", never law.

Illegal residence (Regulations Art 25; Law Art 78 para 1: 处每非法居留一日五百元，总额不超过一万元的罚款): the days are
counted from the day after the last lawful day to the day asked about, both included; the most the law allows is
500 yuan a day up to 10,000 (reached on day 20), OR 5 to 15 days' detention, and only when serious (情节严重);
otherwise a warning. The platform shows the maximum and imposes nothing: a penalty is an officer's decision after
the person is heard (Administrative Penalty Law Art 45: 陈述、申辩). A child under 16: the guardian, warning and at most
1,000 yuan (Law Art 78 para 2).

Pure: no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal, get_args

from cnvisa.law import calendar
from cnvisa.law.citations import Citation, law, reg
from cnvisa.law.errors import CalendarYearNotLoaded, InvalidInput
from cnvisa.law.extension import last_day_to_apply

BEIJING: Final = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
"""China Standard Time (no daylight saving since 1991): the zone of every deadline in hours."""

CIVIL_CODE: Final = "Civil Code"
ADMINISTRATIVE_PENALTY_LAW: Final = "Administrative Penalty Law"

FINE_PER_DAY_CNY: Final = 500
FINE_CAP_CNY: Final = 10_000
DETENTION_DAYS: Final = (5, 15)
GUARDIAN_FINE_CAP_CNY: Final = 1_000
GUARDIAN_AGE: Final = 16
"""Law Art 78 para 2: 未满十六周岁 — under 16 (16 itself is not under it)."""

OVERSTAY_CITATIONS: Final = (reg(25), law(78, paragraph=1))
PERIOD_DAYS: Final = (Citation(CIVIL_CODE, "201", 1), Citation(CIVIL_CODE, "1259"))
PERIOD_HOURS: Final = (Citation(CIVIL_CODE, "201", 2),)
REST_DAY_END: Final = (Citation(CIVIL_CODE, "203", 1),)

Kind = Literal[
    "residence_permit_after_entry",
    "change_of_particulars",
    "residence_permit_extension",
    "visa_stay_extension",
    "accommodation_registration",
    "birth_registration",
    "employer_report",
]
KINDS: Final = get_args(Kind)


@dataclass(frozen=True, slots=True)
class Overstay:
    """Illegal residence on a day: how many days, and the most the law allows (shown, never imposed)."""

    last_lawful_day: dt.date
    on: dt.date
    days_overstayed: int
    max_fine_cny: int
    citations: tuple[Citation, ...]

    def as_dict(self) -> dict[str, object]:
        serious = {
            "fine_cny_per_day": FINE_PER_DAY_CNY,
            "fine_cap_cny": FINE_CAP_CNY,
            "or_detention_days": list(DETENTION_DAYS),
        }
        return {
            "last_lawful_day": self.last_lawful_day.isoformat(),
            "on": self.on.isoformat(),
            "days_overstayed": self.days_overstayed,
            "max_fine_cny": self.max_fine_cny,
            "sanctions": {"warning": self.days_overstayed > 0, "if_serious": serious}
            if self.days_overstayed
            else None,
            "guardian_of_child_under_16": {"warning": True, "max_fine_cny": GUARDIAN_FINE_CAP_CNY}
            if self.days_overstayed
            else None,
            "imposed": False,
            "note": "the most the law allows; a penalty is an officer's decision after the person is heard",
            "citations": [c.cite for c in self.citations],
        }


def _date(value: object, field: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidInput(field, "a date YYYY-MM-DD", kind="date")
    return value


def overstay(last_lawful_day: dt.date, on: dt.date) -> Overstay:
    """Days of illegal residence on ``on`` after ``last_lawful_day`` (the last day the person was covered): from the
    day after it to ``on``, both included; 0 when ``on`` is not later. Maximum fine: Law Art 78 para 1."""
    last = _date(last_lawful_day, "last_lawful_day")
    day = _date(on, "on")
    days = max(0, (day - last).days)
    fine = min(FINE_PER_DAY_CNY * days, FINE_CAP_CNY)
    guardian = law(78, paragraph=2)
    cites = (
        (*OVERSTAY_CITATIONS, guardian, Citation(ADMINISTRATIVE_PENALTY_LAW, "45"))
        if days
        else OVERSTAY_CITATIONS
    )
    return Overstay(last, day, days, fine, cites)


@dataclass(frozen=True, slots=True)
class Due:
    """When a duty must be met: the last day (``by``) or, for a period in hours, the instant (``by_at``)."""

    kind: str
    """One of ``KINDS``."""
    who: str
    by: dt.date | None
    by_at: dt.datetime | None
    label: Literal["law", "office rule", "no day count"]
    when: str
    citations: tuple[Citation, ...]
    period_end: dt.date | None = None
    """The period's own last day, before a rest day moves it (Civil Code Art 203 para 1)."""
    holidays_known: bool = True
    """False: the year's holiday notice is not loaded; ``by`` may move later once it is."""

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "who": self.who,
            "by": self.by.isoformat() if self.by else None,
            "by_at": self.by_at.isoformat() if self.by_at else None,
            "label": self.label,
            "when": self.when,
            "period_end": end.isoformat() if (end := self.period_end or self.by) else None,
            "holidays_known": self.holidays_known,
            "citations": [c.cite for c in self.citations],
        }


def next_working_day_from(day: dt.date) -> tuple[dt.date, bool]:
    """``day`` if a working day, else the first working day after it (Civil Code Art 203 para 1); with whether
    the calendar knew: an unloaded year leaves ``day`` as it is (the earlier, safe answer)."""
    end = day
    try:
        while not calendar.is_working_day(end):
            end += dt.timedelta(days=1)
    except CalendarYearNotLoaded:
        return day, False
    return end, True


def _days_after(kind: str, who: str, start: dt.date, days: int, article: Citation, zh: str) -> Due:
    period_end = start + dt.timedelta(days=days)
    by, known = next_working_day_from(period_end)
    cites = (article, *PERIOD_DAYS, *(REST_DAY_END if by != period_end else ()))
    return Due(kind, who, by, None, "law", zh, cites, period_end, known)


def due(
    kind: str,
    trigger: dt.date | dt.datetime,
    *,
    office_rule_days: int | None = None,
) -> Due:
    """The deadline of the duty ``kind`` started by ``trigger``:

    - ``residence_permit_after_entry``: the entry date (Law Art 30 para 1);
    - ``change_of_particulars``: the day the registered particular changed (Law Art 33 para 1);
    - ``residence_permit_extension``: the permit's last valid day (Law Art 32 para 1);
    - ``visa_stay_extension``: the last day of the stay the visa allows (Law Art 29 para 1);
    - ``accommodation_registration``: the moment of moving in, an aware datetime (Law Art 39 para 2);
    - ``birth_registration``: the birth date (Law Art 40 para 1);
    - ``employer_report``: the day of the event reported (Regulations Art 26) — ``office_rule_days`` gives the
      office's count, labelled; without it no day count exists."""
    if kind not in KINDS:
        raise InvalidInput("kind", f"one of {', '.join(KINDS)}", kind="choice")
    if kind == "accommodation_registration":
        if not isinstance(trigger, dt.datetime) or trigger.tzinfo is None:
            raise InvalidInput("moved_in_at", "an instant with its offset (e.g. 2026-03-01T23:30+08:00)")
        at = trigger.astimezone(BEIJING) + dt.timedelta(hours=24)
        return Due(
            "accommodation_registration",
            "the foreigner or the host (at a hotel: the hotel)",
            at.date(),
            at,
            "law",
            "入住后二十四小时内 — within 24 hours of moving in",
            (law(39, paragraph=2), *PERIOD_HOURS),
        )
    day = _date(trigger, "trigger")
    if kind == "residence_permit_after_entry":
        return _days_after(kind, "the holder", day, 30, law(30, paragraph=1), "自入境之日起三十日内")
    if kind == "change_of_particulars":
        return _days_after(
            kind, "the holder", day, 10, law(33, paragraph=1), "自登记事项发生变更之日起十日内"
        )
    if kind == "birth_registration":
        return _days_after(
            kind, "the parents or their agent", day, 60, law(40, paragraph=1), "婴儿出生后六十日内"
        )
    if kind == "residence_permit_extension":
        by = day - dt.timedelta(days=30)
        return Due(
            kind,
            "the holder",
            by,
            None,
            "law",
            "居留证件有效期限届满三十日前",
            (law(32, paragraph=1), *PERIOD_DAYS),
        )
    if kind == "visa_stay_extension":
        return Due(
            kind,
            "the holder",
            last_day_to_apply(day),
            None,
            "law",
            "签证注明的停留期限届满七日前",
            (law(29, paragraph=1), *PERIOD_DAYS),
        )
    # employer_report: Regulations Art 26 says 及时 (promptly) and counts no days
    if office_rule_days is None:
        return Due(kind, "the employer or school", None, None, "no day count", "及时 — promptly", (reg(26),))
    if type(office_rule_days) is not int or office_rule_days < 0:
        raise InvalidInput("office_rule_days", "a whole number of days, ≥ 0")
    return Due(
        kind,
        "the employer or school",
        day + dt.timedelta(days=office_rule_days),
        None,
        "office rule",
        f"Office rule: within {office_rule_days} days; the Regulations say promptly (及时)",
        (reg(26),),
    )
