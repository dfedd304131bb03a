"""Online appointments (NIA measures 2024-03-20: 在线预约办证): one seat of one slot of one office on one
working day.

- Days: from tomorrow up to ``HORIZON_DAYS`` calendar days ahead, working days only (工作日: the State Council's
  yearly holiday notice decides, ``cnvisa.law.calendar.is_working_day``; a year without a loaded notice offers
  no days — the calendar never guesses).
- Slots: within the office's ``opening_hours`` (``{"mon-fri": ["09:00-12:00", "13:30-17:00"]}``; keys are day
  names or ranges, comma-separated), in steps of ``slot_minutes``; a slot starts where a whole slot still fits.
  A Saturday or Sunday the notice makes a working day (调休) keeps the office's Monday-to-Friday hours.
- Capacity: a slot has seats 1..``slot_capacity``. A booking tries the free seats in order, each INSERT in its
  own savepoint: the unique constraint (office, day, slot, seat) lets exactly one of two racing requests take a
  seat, the loser moves on to the next, and when none is left the slot is full. The unique constraint
  (person, day, slot) keeps one person from holding two appointments at the same time.
- How many: a person holds at most ``per_person`` open appointments (from today on; an office rule, not law,
  configured as ``CNVISA_APPOINTMENTS_PER_PERSON``), so that no one hoards the slots. The person's row is
  locked while counting (PostgreSQL; SQLite serialises writers), so concurrent bookings cannot slip past it.
- Who: an applicant books for themself, an agent for the people they hold a mandate for (Regulations Art 19;
  the same rule the case service applies). Bookings and cancellations are audited.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases import audit
from cnvisa.cases.clock import Clocked
from cnvisa.cases.errors import BadInput, CaseError, Forbidden, NotFound
from cnvisa.cases.service import Actor, caseless_event
from cnvisa.cases.workflow import TERMINAL, Role
from cnvisa.law import calendar as workdays
from cnvisa.law.application import IN_COUNTRY_MATTERS as _IN_COUNTRY_MATTERS
from cnvisa.law.errors import CalendarYearNotLoaded
from cnvisa.store.passport_tables import PassportCheck
from cnvisa.store.tables import Appointment, Case, Office, Person

HORIZON_DAYS: Final = 30
"""Office rule: appointments are offered up to 30 days ahead."""
DAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
IN_COUNTRY_MATTERS: Final = _IN_COUNTRY_MATTERS
"""The matters an exit-entry administration in China handles (Regulations Art 10-23)."""
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class NotBookable(BadInput):
    """The day or slot cannot be booked; ``rule`` names the rule (``appointment.working_day`` …)."""

    def __init__(self, field: str, message: str, rule: str) -> None:
        self.rule = rule
        super().__init__(field, message)


class SlotFull(CaseError):
    code = "slot_full"


class AlreadyBooked(CaseError):
    """The person already holds an appointment in this slot."""

    code = "double_booking"


class TooManyAppointments(CaseError):
    """Office rule ``appointment.per_person``: the person already holds the most open appointments allowed."""

    code = "appointment_limit"
    rule = "appointment.per_person"

    def __init__(self, person_id: int, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"person {person_id} already holds {limit} upcoming appointments: office rule "
            f"appointment.per_person allows at most {limit} at a time (cancel one to book another)"
        )


class AppointmentPast(CaseError):
    code = "appointment_past"


# ------------------------------------------------------------------------------------- opening hours


def _days_of(key: str) -> set[int]:
    out: set[int] = set()
    for part in key.lower().split(","):
        part = part.strip()
        if "-" in part:
            a, _, b = part.partition("-")
            if a.strip() in DAY_NAMES and b.strip() in DAY_NAMES:
                i, j = DAY_NAMES.index(a.strip()), DAY_NAMES.index(b.strip())
                out.update(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
        elif part in DAY_NAMES:
            out.add(DAY_NAMES.index(part))
    return out


def _ranges(value: Any) -> list[tuple[int, int]]:
    """Minutes since midnight of each well-formed "HH:MM-HH:MM" range (others are ignored)."""
    out = []
    for item in value if isinstance(value, list) else [value]:
        m = _RANGE.match(str(item))
        if m:
            start = int(m[1]) * 60 + int(m[2])
            end = int(m[3]) * 60 + int(m[4])
            if 0 <= start < end <= 24 * 60:
                out.append((start, end))
    return out


def hours_on(opening_hours: dict[str, Any], weekday: int) -> list[tuple[int, int]]:
    """The opening ranges (minutes since midnight) of a weekday (0 = Monday)."""
    ranges: list[tuple[int, int]] = []
    for key, value in (opening_hours or {}).items():
        if weekday in _days_of(str(key)):
            ranges.extend(_ranges(value))
    return sorted(set(ranges))


def slot_times(office: Office, day: dt.date) -> list[str]:
    """The slots ("HH:MM") of an office on a day, by its opening hours (not checking the calendar)."""
    hours = hours_on(office.opening_hours, day.weekday())
    if not hours and day.weekday() >= 5 and _adjusted_working_day(day):
        for weekday in range(5):  # 调休: a worked weekend day keeps the weekday hours
            hours = hours_on(office.opening_hours, weekday)
            if hours:
                break
    step = max(5, int(office.slot_minutes or 30))
    out: list[str] = []
    for start, end in hours:
        t = start
        while t + step <= end:
            out.append(f"{t // 60:02d}:{t % 60:02d}")
            t += step
    return sorted(set(out))


def _adjusted_working_day(day: dt.date) -> bool:
    try:
        return workdays.day_kind(day) == workdays.ADJUSTED_WORKING_DAY
    except CalendarYearNotLoaded:
        return False


# ------------------------------------------------------------------------------------- the service


def people_for(actor: Actor) -> frozenset[int]:
    """The people an actor may book for and follow: the case service's rule (``CaseService._may_touch``)."""
    if actor.role is Role.APPLICANT:
        return frozenset({actor.person_id}) if actor.person_id is not None else frozenset()
    if actor.role in (Role.AGENT, Role.ORG_STAFF):
        return actor.represents
    return frozenset()


def may_act_for(actor: Actor, person_id: int) -> None:
    if actor.role not in (Role.APPLICANT, Role.AGENT, Role.ORG_STAFF):
        raise Forbidden(f"a {actor.role} does not book appointments")
    if person_id not in people_for(actor):
        if actor.role is Role.APPLICANT:
            raise Forbidden("an applicant books for themself; acting for another needs a mandate")
        raise Forbidden("no mandate to act for this person")


def office_dict(o: Office) -> dict[str, Any]:
    return {
        "id": o.id,
        "code": o.code,
        "name": {"en": o.name_en, "zh": o.name_zh},
        "level": o.level,
        "region": o.region,
        "opening_hours": o.opening_hours,
        "slot_minutes": o.slot_minutes,
        "slot_capacity": o.slot_capacity,
    }


def _appointment_dict(a: Appointment, o: Office) -> dict[str, Any]:
    return {
        "id": a.id,
        "office": {"id": o.id, "code": o.code, "name": {"en": o.name_en, "zh": o.name_zh}},
        "person_id": a.person_id,
        "booked_by": a.booked_by,
        "day": a.day.isoformat(),
        "slot": a.slot,
        "seat": a.seat,
        "matter": a.matter,
        "case_id": a.case_id,
    }


async def _case_booked_for(
    s: AsyncSession, person_id: int, office_id: int, matter: str, case_id: int | None
) -> int | None:
    """The open application of this person, matter and office the appointment is for: the one named (refused
    when it is not such an application), else the only one there is, else none (booked before applying)."""
    q = select(Case.id).where(
        Case.person_id == person_id,
        Case.office_id == office_id,
        Case.matter == matter,
        Case.state.not_in([str(t) for t in TERMINAL]),
    )
    if case_id is not None:
        if (await s.execute(q.where(Case.id == case_id))).first() is None:
            raise BadInput("case_id", "an open application of this person, for this matter, at this office")
        return case_id
    found = (await s.execute(q.limit(2))).scalars().all()
    return found[0] if len(found) == 1 else None


class Appointments(Clocked):
    # ----------------------------------------------------------------- days and slots
    def window(self) -> tuple[dt.date, dt.date]:
        """First and last day that may be booked: tomorrow to ``HORIZON_DAYS`` days ahead."""
        on = self.today()
        return on + dt.timedelta(days=1), on + dt.timedelta(days=HORIZON_DAYS)

    def check_day(self, day: dt.date) -> None:
        """``NotBookable`` (field ``day``) unless the day is in the window and a working day."""
        first, last = self.window()
        if day < first:
            raise NotBookable(
                "day", f"appointments are booked from tomorrow ({first.isoformat()})", "appointment.window"
            )
        if day > last:
            raise NotBookable(
                "day",
                f"appointments are booked at most {HORIZON_DAYS} days ahead (until {last.isoformat()})",
                "appointment.window",
            )
        try:
            working = workdays.is_working_day(day)
        except CalendarYearNotLoaded as exc:
            raise NotBookable(
                "day",
                f"no State Council holiday notice is loaded for {exc.year}: its working days are unknown",
                "appointment.working_day",
            ) from None
        if not working:
            holiday = workdays.holiday_on(day)
            why = f"a public holiday ({holiday})" if holiday else "a Saturday or Sunday"
            raise NotBookable(
                "day",
                f"{day.isoformat()} is not a working day: it is {why} (State Council holiday notice "
                f"{day.year}; Regulations Art 36 para 2)",
                "appointment.working_day",
            )

    def bookable_days(self, office: Office) -> list[dt.date]:
        """The days of the window that are working days with at least one slot at the office."""
        first, last = self.window()
        out = []
        day = first
        while day <= last:
            try:
                self.check_day(day)
            except NotBookable:
                pass
            else:
                if slot_times(office, day):
                    out.append(day)
            day += dt.timedelta(days=1)
        return out

    async def offices(self) -> list[Office]:
        async with self.sessions() as s:
            return list((await s.execute(select(Office).order_by(Office.code))).scalars())

    async def office(self, office_id: int) -> Office:
        if (
            not 1 <= office_id < 2**63
        ):  # not a 64-bit key: no such office (and nothing for the driver to choke on)
            raise NotFound(f"office {office_id}")
        async with self.sessions() as s:
            office = await s.get(Office, office_id)
        if office is None:
            raise NotFound(f"office {office_id}")
        return office

    async def slots(self, office_id: int, day: dt.date) -> dict[str, Any]:
        """The slots of an office on a bookable day, each with its capacity and the seats still free."""
        office = await self.office(office_id)
        self.check_day(day)
        async with self.sessions() as s:
            taken = dict(
                (
                    await s.execute(
                        select(Appointment.slot, func.count())
                        .where(Appointment.office_id == office_id, Appointment.day == day)
                        .group_by(Appointment.slot)
                    )
                ).all()
            )
        cap = office.slot_capacity
        return {
            "office_id": office.id,
            "day": day.isoformat(),
            "slots": [
                {
                    "slot": t,
                    "capacity": cap,
                    "taken": int(taken.get(t, 0)),
                    "free": max(0, cap - int(taken.get(t, 0))),
                }
                for t in slot_times(office, day)
            ],
        }

    # ----------------------------------------------------------------- booking
    async def book(
        self,
        actor: Actor,
        *,
        person_id: int,
        office_id: int,
        day: dt.date,
        slot: str,
        matter: str,
        case_id: int | None = None,
        per_person: int = 2,
    ) -> dict[str, Any]:
        """Book a seat; ``case_id`` names the application it is for (by default the person's one open case of
        this matter at this office, if there is exactly one). ``per_person``: the office rule's most open
        appointments of one person (``TooManyAppointments`` beyond)."""
        may_act_for(actor, person_id)
        if matter not in IN_COUNTRY_MATTERS:
            raise BadInput("matter", f"one of {', '.join(IN_COUNTRY_MATTERS)}")
        office = await self.office(office_id)
        self.check_day(day)
        if slot not in slot_times(office, day):
            raise NotBookable(
                "slot",
                f"{slot} is not a slot of office {office.code} on {day.isoformat()} (opening hours in steps "
                f"of {office.slot_minutes} minutes)",
                "appointment.opening_hours",
            )
        async with self.sessions() as s, s.begin():
            # one person's bookings queue here, so two cannot both slip under the limit
            await s.execute(select(Person.id).where(Person.id == person_id).with_for_update())
            mine = (
                await s.execute(
                    select(Appointment.id).where(
                        Appointment.person_id == person_id, Appointment.day == day, Appointment.slot == slot
                    )
                )
            ).first()
            if mine is not None:
                raise AlreadyBooked(f"person {person_id} already holds an appointment at {day} {slot}")
            # the office's own collection appointments (passport not kept, cnvisa.cases.passport_check) are not the
            # person's bookings: the office rule against hoarding slots does not count them
            collections = select(PassportCheck.appointment_id).where(
                PassportCheck.appointment_id.is_not(None)
            )
            held = (
                await s.execute(
                    select(func.count()).where(
                        Appointment.person_id == person_id,
                        Appointment.day >= self.today(),
                        Appointment.id.not_in(collections),
                    )
                )
            ).scalar_one()
            if held >= per_person:
                raise TooManyAppointments(person_id, per_person)
            case_id = await _case_booked_for(s, person_id, office_id, matter, case_id)
            taken = set(
                (
                    await s.execute(
                        select(Appointment.seat).where(
                            Appointment.office_id == office_id,
                            Appointment.day == day,
                            Appointment.slot == slot,
                        )
                    )
                ).scalars()
            )
            appointment_id: int | None = None
            seat = 0
            for seat in range(1, office.slot_capacity + 1):
                if seat in taken:
                    continue
                try:
                    async with s.begin_nested():
                        appointment_id = (
                            await s.execute(
                                insert(Appointment)
                                .values(
                                    office_id=office_id,
                                    person_id=person_id,
                                    booked_by=actor.account_id,
                                    day=day,
                                    slot=slot,
                                    seat=seat,
                                    matter=matter,
                                    case_id=case_id,
                                    created_at=self.clock.now(),
                                )
                                .returning(Appointment.id)
                            )
                        ).scalar_one()
                except IntegrityError as exc:
                    if "person" in str(exc.orig).lower():  # uq_appointments_person_slot: a racing twin
                        raise AlreadyBooked(
                            f"person {person_id} already holds an appointment at {day} {slot}"
                        ) from None
                    continue  # someone took this seat a moment ago: try the next
                break
            if appointment_id is None:
                raise SlotFull(f"the slot {day} {slot} at office {office.code} is full")
            await audit.append(
                s,
                **caseless_event(
                    actor,
                    self.clock.now(),
                    "book_appointment",
                    {
                        "appointment": appointment_id,
                        "person": person_id,
                        "day": day.isoformat(),
                        "slot": slot,
                        "seat": seat,
                        "matter": matter,
                        "case": case_id,
                    },
                    office_id,
                ),
            )
        return {
            "id": appointment_id,
            "office": {
                "id": office.id,
                "code": office.code,
                "name": {"en": office.name_en, "zh": office.name_zh},
            },
            "person_id": person_id,
            "booked_by": actor.account_id,
            "day": day.isoformat(),
            "slot": slot,
            "seat": seat,
            "matter": matter,
            "case_id": case_id,
        }

    async def cancel(self, actor: Actor, appointment_id: int) -> None:
        """Cancel an appointment of a person the actor acts for; a day already begun cannot be cancelled."""
        async with self.sessions() as s, s.begin():
            a = await s.get(Appointment, appointment_id)
            if a is None:
                raise NotFound(f"appointment {appointment_id}")
            may_act_for(actor, a.person_id)
            if a.day <= self.today():
                raise AppointmentPast(f"the appointment of {a.day.isoformat()} can no longer be cancelled")
            detail = {"appointment": a.id, "person": a.person_id, "day": a.day.isoformat(), "slot": a.slot}
            office_id = a.office_id
            await s.execute(delete(Appointment).where(Appointment.id == appointment_id))
            await audit.append(
                s, **caseless_event(actor, self.clock.now(), "cancel_appointment", detail, office_id)
            )

    async def of(self, actor: Actor, *, past: bool = False) -> list[dict[str, Any]]:
        """The appointments of the people the actor acts for: upcoming ones (from today), or all."""
        people = people_for(actor)
        if not people:
            return []
        q = (
            select(Appointment, Office)
            .join(Office, Office.id == Appointment.office_id)
            .where(Appointment.person_id.in_(sorted(people)))
        )
        if not past:
            q = q.where(Appointment.day >= self.today())
        async with self.sessions() as s:
            rows = (await s.execute(q.order_by(Appointment.day, Appointment.slot, Appointment.id))).all()
        return [_appointment_dict(a, o) for a, o in rows]
