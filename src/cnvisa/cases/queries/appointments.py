"""The appointments of one office on one day, for its officers: who comes when, for what, and the application
each appointment was booked for. A staff read: it leaves an audit event, as the queue and search do."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases import audit
from cnvisa.cases.errors import Forbidden
from cnvisa.cases.service import Actor, caseless_event
from cnvisa.store.tables import Account, Appointment, Case, Person, TravelDocument


async def of_office_day(
    sessions: async_sessionmaker[AsyncSession], actor: Actor, day: dt.date, now: dt.datetime
) -> list[dict[str, Any]]:
    """The appointments at the officer's own office on ``day``, by slot and seat."""
    if not actor.is_staff or actor.office_id is None:
        raise Forbidden("only an office's staff see its appointments")
    passport = (
        select(TravelDocument.number)
        .where(TravelDocument.person_id == Appointment.person_id)
        .order_by(TravelDocument.current.desc(), TravelDocument.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    q = (
        select(
            Appointment.id,
            Appointment.slot,
            Appointment.seat,
            Appointment.matter,
            Appointment.person_id,
            Person.surname,
            Person.given_names,
            passport.label("passport"),
            Account.username.label("booked_by"),
            Appointment.case_id,
            Case.number.label("case_number"),
            Case.state.label("case_state"),
        )
        .join(Person, Person.id == Appointment.person_id)
        .outerjoin(Account, Account.id == Appointment.booked_by)
        .outerjoin(Case, Case.id == Appointment.case_id)
        .where(Appointment.office_id == actor.office_id, Appointment.day == day)
        .order_by(Appointment.slot, Appointment.seat)
    )
    async with sessions() as s, s.begin():
        rows = [dict(r._mapping) for r in (await s.execute(q)).all()]
        detail = {"day": day.isoformat(), "appointments": len(rows)}
        await audit.append(s, **caseless_event(actor, now, "read_appointments", detail, actor.office_id))
    return rows
