"""The obligations register's two later sources (issue 12; ``cnvisa.cases.obligation_sources``), both engines:
a private stay's registration within 24 hours of moving in (Law Art 39 para 2) — recorded met or late by the hour,
in Beijing time; a hotel's report opens nothing for the guest — and an employer's or school's report when a
person's relationship ends (Regulations Art 26, an office rule's day count, labelled), met by the report, late
after the count, reminded to the organisation's staff and not to the person."""

from __future__ import annotations

import datetime as dt

import pytest
from case_helpers import World
from sqlalchemy import select
from test_accommodation import MUELLER

from cnvisa.cases.accommodation import AccommodationService, Stay
from cnvisa.cases.errors import BadInput
from cnvisa.cases.obligation_sources import employer_report_days
from cnvisa.cases.obligations import ObligationRegister
from cnvisa.cases.org_reports import OrgReports
from cnvisa.cases.service import Actor
from cnvisa.cases.workflow import Role
from cnvisa.store.obligation_tables import Obligation
from cnvisa.store.outbox_tables import Notification
from cnvisa.store.register_tables import AccommodationRegistration
from cnvisa.store.tables import Account, Organisation, OrgPerson, TravelDocument

BEIJING = dt.timezone(dt.timedelta(hours=8))


async def _passport(world: World) -> None:
    async with world.sessions() as s, s.begin():
        s.add(
            TravelDocument(
                person_id=world.person_id, number="C01X00T47", issuing_state="DEU", valid_until=None
            )
        )


async def _duties(world: World, kind: str) -> list[Obligation]:
    async with world.sessions() as s:
        rows = await s.execute(select(Obligation).where(Obligation.kind == kind).order_by(Obligation.id))
        return list(rows.scalars())


def register(world: World, days: int | None = 10) -> ObligationRegister:
    reg = ObligationRegister(world.sessions, world.clock)
    reg.report_days_rule = (days,)
    return reg


# ------------------------------------------------------------------------------------------ Law Art 39 para 2
@pytest.mark.parametrize("moved_in", ["00:30", "07:59", "16:01", "23:59"])
async def test_a_private_stay_is_registered_on_time_or_late_by_the_hour(world: World, moved_in: str) -> None:
    await _passport(world)
    svc = AccommodationService(world.sessions, world.clock)
    hh, mm = map(int, moved_in.split(":"))
    at = dt.datetime(2025, 11, 30, hh, mm, tzinfo=BEIJING)  # 24 hours later may be another day and month
    world.clock.set(at + dt.timedelta(hours=24))
    await svc.register_private_stay(world.applicant, world.person_id, Stay(MUELLER, "Flat 3", "310104", at))
    world.clock.set(at + dt.timedelta(hours=24, minutes=1))
    await svc.register_private_stay(world.agent, world.person_id, Stay(MUELLER, "Flat 9", "310104", at))
    swept = await register(world).sweep()
    on_time, late = await _duties(world, "accommodation_registration")
    assert on_time.state == "met" and late.state == "late"
    assert swept["opened"] == [on_time.id, late.id]
    assert swept["met"] == [on_time.id] and swept["late"] == [late.id]
    for d in (on_time, late):
        assert d.due_at == at + dt.timedelta(hours=24)
        assert d.due_by == (at + dt.timedelta(hours=24)).date()  # the Beijing date of the instant
        assert d.label == "law" and d.basis == "stay" and d.person_id == world.person_id
        assert "Exit and Entry Administration Law Art 39 para 2" in [c["cite"] for c in d.citations]
    assert late.met_at is not None and late.met_at - on_time.met_at == dt.timedelta(minutes=1)
    assert (await register(world).sweep())["opened"] == []  # once

    # the holder's list shows it with its instant; a late registration is not a deadline still running
    mine = await register(world).of_person(world.person_id)
    stays = [o for o in mine if o["kind"] == "accommodation_registration"]
    assert {o["state"] for o in stays} == {"met", "late"}
    assert all(o["due_at"] and o["met_on"] for o in stays)
    async with world.sessions() as s:
        late_notices = (await s.execute(select(Notification).where(Notification.subject_id == late.id))).all()
    assert late_notices == []  # done, though late: no "deadline passed" notice


async def test_a_hotel_guest_has_no_duty_of_the_hotel(world: World) -> None:
    await _passport(world)
    async with world.sessions() as s, s.begin():
        hotel = Organisation(uscc="91310115MA1HOTEL0X", name="Riverside Hotel", kind="hotel", region="310115")
        s.add(hotel)
        await s.flush()
        s.add(
            AccommodationRegistration(
                person_id=world.person_id,
                address="Room 1208",
                division_code="310115",
                registered_from=dt.date(2025, 11, 2),
                registered_by="hotel",
                recorded_at=world.clock.now(),
                moved_in_at=world.clock.now() - dt.timedelta(hours=30),
                organisation_id=hotel.id,
                stay_ref="R-1",
            )
        )
    await register(world).sweep()
    assert await _duties(world, "accommodation_registration") == []


# ------------------------------------------------------------------------------------------ Regulations Art 26
async def _employer(world: World, until: dt.date | None, relation: str = "employee") -> tuple[Actor, int]:
    async with world.sessions() as s, s.begin():
        org = Organisation(
            uscc="91310000MA1EMPLOY0", name="Pudong Tools Ltd", kind="employer", region="310115"
        )
        s.add(org)
        await s.flush()
        staff = Account(username="hr", display_name="HR", role=str(Role.ORG_STAFF), organisation_id=org.id)
        s.add(staff)
        link = OrgPerson(
            organisation_id=org.id,
            person_id=world.person_id,
            relation=relation,
            since=dt.date(2024, 3, 1),
            until=until,
        )
        s.add(link)
        await s.flush()
        return Actor(staff.id, Role.ORG_STAFF, organisation_id=org.id), link.id


async def test_an_employee_who_left_is_reported_by_the_office_rules_day(world: World) -> None:
    left = world.clock.now().astimezone(BEIJING).date() - dt.timedelta(days=1)
    hr, _ = await _employer(world, left)
    reg = register(world, days=10)
    swept = await reg.sweep()
    [duty] = await _duties(world, "employer_report")
    assert duty.id in swept["opened"] and duty.state == "open"
    assert duty.due_by == left + dt.timedelta(days=10) and duty.label == "office rule"
    assert [c["cite"] for c in duty.citations] == ["Regulations Art 26"]
    # the organisation's duty: on its staff's page, not on the holder's
    assert [o["kind"] for o in await reg.of_organisation(hr)] == ["employer_report"]
    assert "employer_report" not in [o["kind"] for o in await reg.of_person(world.person_id)]

    # a report of another event does not meet it; a change of work location is not a leaving
    reports = OrgReports(world.sessions, world.clock)
    await reports.file(hr, person_id=world.person_id, event="violated_exit_entry_rules", occurred_on=left)
    assert (await reg.sweep())["met"] == []
    await reports.file(hr, person_id=world.person_id, event="resigned", occurred_on=left)
    assert (await reg.sweep())["met"] == [duty.id]
    [duty] = await _duties(world, "employer_report")
    assert duty.state == "met" and duty.met_at is not None


async def test_a_report_after_the_count_is_late_and_the_staff_are_reminded(world: World) -> None:
    today = world.clock.now().astimezone(BEIJING).date()
    hr, _ = await _employer(world, today - dt.timedelta(days=12), relation="student")
    reg = register(world, days=10)
    swept = await reg.sweep()
    [duty] = await _duties(world, "employer_report")
    assert duty.id in swept["late"]
    async with world.sessions() as s:
        to = (
            await s.execute(
                select(Notification.recipient_account_id, Notification.stage).where(
                    Notification.subject_id == duty.id, Notification.subject_kind == "obligation"
                )
            )
        ).all()
    assert to and {a for a, _ in to} == {hr.account_id}  # the school's staff, never the student
    await OrgReports(world.sessions, world.clock).file(
        hr, person_id=world.person_id, event="graduated", occurred_on=today - dt.timedelta(days=12)
    )
    assert (await reg.sweep())["met"] == [duty.id]  # done (the sweep's "met" lists what was done) …
    [duty] = await _duties(world, "employer_report")
    assert duty.state == "late" and duty.met_at is not None  # … after the count: late, with the report's time


async def test_without_a_day_count_the_duty_never_goes_late(world: World) -> None:
    today = world.clock.now().astimezone(BEIJING).date()
    await _employer(world, today - dt.timedelta(days=400))
    await register(world, days=None).sweep()
    [duty] = await _duties(world, "employer_report")
    assert duty.state == "open" and duty.due_by is None and duty.label == "no day count"


async def test_a_relationship_still_running_or_an_invitee_starts_nothing(world: World) -> None:
    today = world.clock.now().astimezone(BEIJING).date()
    await _employer(world, today + dt.timedelta(days=3))
    await register(world).sweep()
    assert await _duties(world, "employer_report") == []


def test_the_office_rule_is_read_and_refused_by_name() -> None:
    assert employer_report_days({}) == 10
    assert employer_report_days({"CNVISA_EMPLOYER_REPORT_DAYS": "none"}) is None
    assert employer_report_days({"CNVISA_EMPLOYER_REPORT_DAYS": "5"}) == 5
    for bad in ("-1", "61", "ten"):
        with pytest.raises(BadInput) as e:
            employer_report_days({"CNVISA_EMPLOYER_REPORT_DAYS": bad})
        assert e.value.field == "CNVISA_EMPLOYER_REPORT_DAYS"
