"""Illegal residence found by a daily sweep (issue 12; Regulations Art 25; Law Art 78): everyone in China on a
day — their last movement on or before it is an entry — whose last lawful day is before it. One set-based query
on both engines, not a loop over people: it reads what ``cnvisa.cases.queries.status`` reads for one person.

The last lawful day is the latest end of every valid basis (Regulations Art 25, 34-35: a void or cancelled
document proves nothing):
- the visa of the last entry, or a visa issued in China after it (replacement, reissue): the entry day + the stay
  + the days extended (Regulations Art 36 para 1(3));
- the last entry's visa-free programme: the entry day + its hours ÷ 24 (``cnvisa.law.status.VisaFreeProgramme``);
- a stay or residence permit: its last valid day;
- an acceptance receipt of a case still open (Regulations Art 13 para 3, Art 18 para 3).
Someone in China with none of these is listed with no last lawful day (Regulations Art 25(4): other
circumstances) — for an officer to look at, never counted.

Reading (whose list): the office of the place of residence (居留地, Law Art 30 para 1, Art 32) sees the person —
the place is the accommodation registration covering the day (Law Art 39), in the office's area as
``cnvisa.law.shared_records.in_area`` reads it; with no registration covering the day, the office of the person's
latest application. Someone with neither is in the national list only (the sweep without an office).

The count and the most the law allows are the law engine's (``cnvisa.law.obligations.overstay``): shown, never
imposed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, and_, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases.actor import Actor, caseless_event
from cnvisa.cases.errors import BadInput, Forbidden
from cnvisa.cases.queries.presence import ensure_fresh, last_lawful
from cnvisa.cases.queries.reader import Reader
from cnvisa.cases.workflow import Role, State
from cnvisa.law.obligations import OVERSTAY_CITATIONS, Overstay, overstay
from cnvisa.law.shared_records import AREA_DIGITS
from cnvisa.store.presence_tables import Presence
from cnvisa.store.register_tables import AccommodationRegistration
from cnvisa.store.tables import Case, Office, Person


@dataclass(frozen=True, slots=True)
class Found:
    """One person in China on the day with no lawful basis covering it."""

    person_id: int
    surname: str
    given_names: str
    nationality: str
    entered_on: dt.date
    last_lawful_day: dt.date | None
    count: Overstay | None
    """None when no basis is on record at all (Regulations Art 25(4))."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "name": f"{self.surname}, {self.given_names}",
            "nationality": self.nationality,
            "entered_on": self.entered_on.isoformat(),
            "last_lawful_day": self.last_lawful_day.isoformat() if self.last_lawful_day else None,
            "ground": "reg25_4" if self.count is None else "reg25_1_or_2",
            **(self.count.as_dict() if self.count else {"days_overstayed": None, "max_fine_cny": None}),
        }


def _office_scope(on: dt.date, office: Office) -> Any:
    """The persons of ``office``'s list (Reading in the module docstring), as a condition on ``Person.id``."""
    reg = AccommodationRegistration
    covering = and_(
        reg.registered_from <= on, or_(reg.registered_until.is_(None), reg.registered_until >= on)
    )
    latest_reg = (
        select(
            reg.person_id,
            reg.division_code,
            func.row_number()
            .over(partition_by=reg.person_id, order_by=(reg.registered_from.desc(), reg.id.desc()))
            .label("rn"),
        )
        .where(covering)
        .subquery("latest_reg")
    )
    prefix = office.region[: AREA_DIGITS[office.level]]
    registered_here = select(latest_reg.c.person_id).where(
        latest_reg.c.rn == 1, latest_reg.c.division_code.startswith(prefix)
    )
    # NOT EXISTS, not NOT IN: an anti-join, where NOT IN over a nullable column is a scan per person
    any_registration = exists(select(reg.id).where(reg.person_id == Person.id, covering))
    latest_case_office = (
        select(Case.office_id)
        .where(
            Case.person_id == Person.id, Case.state != str(State.DRAFT)
        )  # a draft is not yet an application
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return or_(
        Person.id.in_(registered_here),
        and_(~any_registration, latest_case_office == office.id),
    )


def _query(on: dt.date, limit: int | None, office: Office | None = None, *, current: bool = False) -> Any:
    if current:  # the maintained rows (cnvisa.cases.queries.presence): one index range scan
        last = (
            select(
                Presence.person_id,
                Presence.entered_on,
                Presence.last_lawful,
            )
            .where(Presence.entered_on <= literal(on, Date))
            .subquery("last")
        )
    else:
        last = last_lawful(on).subquery("last")
    q = (
        select(
            Person.id,
            Person.surname,
            Person.given_names,
            Person.nationality,
            last.c.entered_on,
            last.c.last_lawful,
        )
        .join(last, last.c.person_id == Person.id)
        .where(or_(last.c.last_lawful.is_(None), last.c.last_lawful < literal(on, Date)))
        .order_by(last.c.last_lawful.asc().nulls_first(), Person.id)
    )
    if office is not None:
        q = q.where(_office_scope(on, office))
    return q.limit(limit) if limit is not None else q


async def illegal_residence(
    s: AsyncSession,
    on: dt.date,
    *,
    office_id: int | None = None,
    limit: int | None = None,
    current: bool = False,
) -> list[Found]:
    """Everyone in China on ``on`` whose last lawful day is before it (module docstring), longest first;
    ``office_id``: only that office's list. ``current``: ``on`` is today or later, so the records as they stand
    are the records of the day — the maintained ``presence`` rows answer (made fresh first when stale); a day
    in the past is computed from every movement on or before it."""
    office = None
    if office_id is not None:
        office = await s.get(Office, office_id)
        if office is None:
            raise BadInput("office_id", f"no office {office_id}")
    if current:
        await ensure_fresh(s, dt.datetime.now(dt.UTC))
    rows = (await s.execute(_query(on, limit, office, current=current))).all()
    out = []
    for pid, surname, given, nationality, entered, last in rows:
        last_day = _as_date(last)
        out.append(
            Found(
                pid,
                surname,
                given,
                nationality,
                _as_date(entered) or on,
                last_day,
                overstay(last_day, on) if last_day is not None else None,
            )
        )
    return out


def _as_date(value: Any) -> dt.date | None:
    """A date from either engine: SQLite's computed dates come back as ISO date text (YYYY-MM-DD)."""
    if value is None or type(value) is dt.date:
        return value
    return dt.date.fromisoformat(str(value))


class OverstayQueries(Reader):
    async def illegal_residence(
        self, actor: Actor, on: dt.date | None = None, *, office_id: int | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """An office's overstay list: an officer's or supervisor's own office (the read audited); the system or an
        administrator may name any office, or none for the national list. ``on``: today in Beijing time."""
        if actor.is_staff:
            if office_id not in (None, actor.office_id):
                raise Forbidden("another office's overstay list")
            office_id = actor.office_id
        elif actor.role not in (Role.SYSTEM, Role.ADMIN):
            raise Forbidden(f"a {actor.role} does not read the overstay list")
        today = self.today()
        day = on or today
        detail = {"office": office_id, "on": day.isoformat()}
        if actor.role is Role.SYSTEM:  # the operator's command: recorded all the same
            await self.read_log.append(
                **caseless_event(actor, self.now(), "read_overstays", detail, office_id)
            )
        else:
            await self._audit_read(actor, "read_overstays", detail, office_id)
        async with self.sessions() as s, s.begin():  # a stale presence table is rebuilt first
            found = await illegal_residence(s, day, office_id=office_id, limit=limit, current=day >= today)
        return [f.as_dict() for f in found]


async def overstay_view(cases: OverstayQueries, actor: Actor, limit: int) -> dict[str, Any]:
    """The staff member's office's list today (API and page): at most ``limit`` people, ``more`` when others
    follow (one more is read to know it)."""
    found = await cases.illegal_residence(actor, office_id=actor.office_id, limit=limit + 1)
    return {
        "office_id": actor.office_id,
        "on": cases.today().isoformat(),
        "limit": limit,
        "more": len(found) > limit,
        "people": found[:limit],
        "imposed": False,
        "citations": [c.cite for c in OVERSTAY_CITATIONS],
    }
