"""The police's view of their area (Law Art 39; issue 11 §3): the registrations of stays begun on a day, paged, with
the day's counts (on time, late, possibly missing); the late ones and the possibly missing ones on their own; a
search by passport number. Every read is audited as a staff read; each reader sees only their area (``area_of``).

Late (Art 39 para 2; a hotel's report, para 1, by the office rule's hours): recorded with its due time; the
sanction the law allows is shown (Art 76 para 1(6); para 2 for a hotel) and nothing is imposed.

Possibly missing — a reading, for the officer to look into, never a finding: the platform cannot see a stay nobody
registered, only its trace. A stay in the area that ended on the day (moved out), more than 24 hours ago, of a
person with no other stay on record open on or after that day and no exit from China recorded on or after it: where
the person stayed next is registered nowhere, though Art 39 para 2 wanted it within 24 hours of moving in (Art 39
para 1 at a hotel). Art 76 para 1(6) is shown; nothing is imposed."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final, Literal

from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from cnvisa.cases.accommodation.base import AccommodationBase, Area, area_of
from cnvisa.cases.accommodation.checks import text_field
from cnvisa.cases.accommodation.views import in_area, named, with_who
from cnvisa.cases.actor import Actor
from cnvisa.cases.errors import BadInput
from cnvisa.law import accommodation as rules
from cnvisa.store.register_tables import AccommodationRegistration as Reg
from cnvisa.store.tables import Movement, TravelDocument

Show = Literal["all", "late", "missing"]
PER_PAGE: Final = 50
"""Rows a page of the day view (office rule of the pages; the API takes 1 to ``MAX_PER_PAGE``)."""
MAX_PER_PAGE: Final = 200
NEXT_STAY_HOURS: Final = 24
"""Art 39 para 2: the next stay is registered within 24 hours of moving in — a stay ended less than 24 hours ago is
not yet counted as possibly missing."""


def _missing(day: dt.date, area: Area, now: dt.datetime) -> list[ColumnElement[bool]]:
    """The conditions of a possibly missing registration (module docstring), on the stays of the area ended on
    ``day``: the index (registered_until, division_code) reads only those."""
    other = aliased(Reg)
    later_stay = exists().where(
        other.person_id == Reg.person_id,
        other.id != Reg.id,
        or_(other.registered_until.is_(None), other.registered_until >= day),
    )
    exit_since = exists().where(
        Movement.person_id == Reg.person_id, Movement.direction == "exit", Movement.on >= day
    )
    return [
        Reg.registered_until == day,
        *in_area(area.prefix),
        Reg.moved_out_at <= now - dt.timedelta(hours=NEXT_STAY_HOURS),
        ~later_stay,
        ~exit_since,
    ]


def _sanctions() -> dict[str, Any]:
    return {
        "private_stay": rules.PRIVATE_SANCTION.as_dict(),
        "hotel_report": rules.HOTEL_SANCTION.as_dict(),
        "imposed": False,
    }


class AreaViews(AccommodationBase):
    async def area_day(
        self,
        actor: Actor,
        day: dt.date,
        *,
        show: Show = "all",
        page: int = 1,
        per_page: int = PER_PAGE,
        late_only: bool = False,
    ) -> dict[str, Any]:
        """One page of the area's registrations of ``day`` (Beijing date): begun that day (late ones first), the
        late ones, or the possibly missing ones (stays ended that day); with the day's counts of each."""
        if late_only:
            show = "late"
        if show not in ("all", "late", "missing"):
            raise BadInput("show", "all, late or missing")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise BadInput("per_page", f"1 to {MAX_PER_PAGE}")
        if page < 1:
            raise BadInput("page", "1 or more")
        now = self.now()
        async with self.sessions() as s:
            area = await area_of(s, actor)
            begun = [Reg.registered_from == day, *in_area(area.prefix)]
            by_time = dict(
                (await s.execute(select(Reg.on_time, func.count()).where(*begun).group_by(Reg.on_time))).all()
            )
            missing = (
                await s.execute(select(func.count()).select_from(Reg).where(*_missing(day, area, now)))
            ).scalar_one()
            counts = {
                "registered": sum(by_time.values()),
                "on_time": by_time.get(True, 0),
                "late": by_time.get(False, 0),
                "missing": missing,
            }
            if show == "missing":
                q = with_who(select(Reg)).where(*_missing(day, area, now)).order_by(Reg.moved_out_at, Reg.id)
                total = missing
            else:
                where = [*begun, *([Reg.on_time.is_(False)] if show == "late" else [])]
                late_first = case((Reg.on_time.is_(False), 0), else_=1)
                q = with_who(select(Reg)).where(*where).order_by(late_first, Reg.moved_in_at, Reg.id)
                total = counts["late"] if show == "late" else counts["registered"]
            pages = max(1, -(-total // per_page))
            rows = (await s.execute(q.limit(per_page).offset((page - 1) * per_page))).all()
        await self._read_audit(
            actor,
            "accommodation_area_day",
            {"day": day.isoformat(), "show": show, "page": page, "rows": len(rows), "area": area.prefix},
            area.office_id,
        )
        return {
            **area.as_dict(),
            "day": day.isoformat(),
            "show": show,
            "late": counts["late"],
            "counts": counts,
            "page": page,
            "per_page": per_page,
            "pages": pages,
            "total": total,
            "registrations": [named(r) for r in rows],
            "sanctions": _sanctions(),
        }

    async def search_passport(self, actor: Actor, number: str) -> dict[str, Any]:
        number = text_field(number, "passport", 20).upper()
        async with self.sessions() as s:
            area = await area_of(s, actor)
            rows = (
                await s.execute(
                    with_who(select(Reg))
                    .where(TravelDocument.number == number, *in_area(area.prefix))
                    .order_by(Reg.registered_from.desc(), Reg.id.desc())
                    .limit(100)
                )
            ).all()
        await self._read_audit(
            actor, "accommodation_search", {"found": len(rows), "area": area.prefix}, area.office_id
        )
        return {**area.as_dict(), "registrations": [named(r) for r in rows]}


__all__ = ["MAX_PER_PAGE", "PER_PAGE", "AreaViews", "Show"]
