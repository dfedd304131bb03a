"""What the officer's acceptance and collection forms offer for a residence document's passport (passport not
kept, 免留存护照; rules in ``cnvisa.law.passport_retention``, the check in ``cnvisa.cases.passport_check``):
whether the measure applies, the passport on record to confirm, the reasons to keep it, and the office's free
collection slots within the receipt's validity (Regulations Art 18 para 1; seed 001 l.20 按约定时间) — counted
the way ``cnvisa.cases.appointments`` counts the seats of a slot."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases.appointments import slot_times
from cnvisa.cases.passport_check import permit_type
from cnvisa.law import calendar as workdays
from cnvisa.law.errors import CalendarYearNotLoaded, InvalidInput
from cnvisa.law.passport_retention import RETENTION_REASONS, scope
from cnvisa.store.tables import Appointment, Case, Office, TravelDocument

COLLECTION_DAYS_OFFERED: Final = 10
"""The working days offered for collection, counted back from the receipt's last day (the slot the core books by
default is the first free one of that day)."""


async def free_collection_slots(
    s: AsyncSession, office: Office, today: dt.date, last: dt.date
) -> list[dict[str, Any]]:
    """The office's free slots on the last ``COLLECTION_DAYS_OFFERED`` working days after ``today`` up to
    ``last`` (the receipt's last day), latest day first: each day with its slots and the seats still free."""
    days: list[dt.date] = []
    day = last
    while day > today and len(days) < COLLECTION_DAYS_OFFERED:
        try:
            working = workdays.is_working_day(day)
        except CalendarYearNotLoaded:
            working = False
        if working and slot_times(office, day):
            days.append(day)
        day -= dt.timedelta(days=1)
    if not days:
        return []
    taken: dict[tuple[dt.date, str], int] = {
        (d, slot): int(n)
        for d, slot, n in (
            await s.execute(
                select(Appointment.day, Appointment.slot, func.count())
                .where(Appointment.office_id == office.id, Appointment.day.in_(days))
                .group_by(Appointment.day, Appointment.slot)
            )
        ).all()
    }
    out = []
    for d in days:
        slots = [
            {"slot": t, "free": office.slot_capacity - taken.get((d, t), 0)}
            for t in slot_times(office, d)
            if office.slot_capacity - taken.get((d, t), 0) > 0
        ]
        if slots:
            out.append({"day": d, "slots": slots})
    return out


async def passport_options(
    s: AsyncSession, case: Case, office: Office, today: dt.date, receipt_last_day: dt.date | None
) -> dict[str, Any]:
    """The passport part of the acceptance and collection forms."""
    try:
        sc = scope(case.matter, permit_type(case))
        in_scope, reason = sc.in_scope, sc.reason
    except InvalidInput:
        in_scope, reason = False, None
    doc = (
        await s.execute(
            select(TravelDocument)
            .where(
                TravelDocument.person_id == case.person_id,
                TravelDocument.kind == "passport",
                TravelDocument.current.is_(True),
            )
            .order_by(TravelDocument.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return {
        "in_scope": in_scope,
        "scope_reason": reason,
        "on_record": None
        if doc is None
        else {
            "number": doc.number,
            "issuing_state": doc.issuing_state,
            "valid_until": doc.valid_until,
            "has_mrz": bool(doc.mrz),
        },
        "retention_reasons": list(RETENTION_REASONS),
        "receipt_last_day": receipt_last_day,
        "collection_slots": await free_collection_slots(s, office, today, receipt_last_day)
        if in_scope and receipt_last_day is not None
        else [],
    }
