"""The accommodation register (Law Art 39; issue 11 §3) on both engines: hotel batches with MRZ checks, idempotent
per stay; private stays on time and late; moving out; the police's area by day and search; impossible facts refused
by field; everything audited."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from case_helpers import World
from sqlalchemy import func, select, text

from cnvisa.cases.accommodation import MAX_BATCH, AccommodationService, Stay
from cnvisa.cases.errors import BadInput, Forbidden, NotFound
from cnvisa.cases.service import Actor
from cnvisa.cases.workflow import Role
from cnvisa.law.documents.mrz import icao_check_digit
from cnvisa.store.register_tables import AccommodationRegistration
from cnvisa.store.tables import Account, AuditEvent, Organisation, Person, TravelDocument

BEIJING = dt.timezone(dt.timedelta(hours=8))


def td3(
    surname: str, given: str, number: str, state: str, birth: str, sex: str, expiry: str
) -> tuple[str, str]:
    """A passport's two MRZ lines with their check digits (ICAO 9303 Part 4)."""
    name = f"{surname}<<{given}".replace(" ", "<")
    line1 = f"P<{state}{name}".ljust(44, "<")[:44]
    num = number.ljust(9, "<")
    personal = "<" * 14
    body = f"{num}{icao_check_digit(num)}{state}{birth}{icao_check_digit(birth)}{sex}{expiry}{icao_check_digit(expiry)}"
    body += personal + "<"
    composite = icao_check_digit(body[0:10] + body[13:20] + body[21:43])
    return line1, body + composite


MUELLER = td3("MUELLER", "ANNA", "C01X00T47", "DEU", "610514", "F", "310101")
NEWCOMER = td3("TANAKA", "YUKI", "TK1234567", "JPN", "900301", "F", "320615")


async def _hotel(
    world: World,
    uscc: str = "91310115MA1HOTEL0X",
    name: str = "Riverside Hotel",
    username: str = "front-desk",
    *,
    guest_passport: bool = True,
) -> Actor:
    """A hotel in Pudong and its front desk (with the applicant's passport on record, unless told not to)."""
    async with world.sessions() as s, s.begin():
        hotel = Organisation(uscc=uscc, name=name, kind="hotel", region="310115")
        s.add(hotel)
        await s.flush()
        staff = Account(
            username=username,
            display_name=f"{name} front desk",
            role=str(Role.HOTEL_STAFF),
            organisation_id=hotel.id,
        )
        s.add(staff)
        if guest_passport:
            s.add(
                TravelDocument(
                    person_id=world.person_id, number="C01X00T47", issuing_state="DEU", valid_until=None
                )
            )
        await s.flush()
        return Actor(staff.id, Role.HOTEL_STAFF, organisation_id=hotel.id)


def _at(hours_ago: float, world: World) -> dt.datetime:
    return (world.clock.now() - dt.timedelta(hours=hours_ago)).astimezone(BEIJING)


def _stay(mrz: tuple[str, str], world: World, ref: str | None, hours_ago: float = 2, **kw: Any) -> Stay:
    return Stay(
        mrz=mrz,
        address=kw.pop("address", "Room 1208, 88 Riverside Road, Pudong"),
        division_code=kw.pop("division_code", "310115"),
        moved_in_at=_at(hours_ago, world),
        stay_ref=ref,
        **kw,
    )


async def _count(world: World, table: Any, *where: Any) -> int:
    async with world.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(table).where(*where))).scalar_one())


async def test_a_hotel_batch_registers_each_stay_on_its_own(world: World) -> None:
    hotel = await _hotel(world)
    svc = AccommodationService(world.sessions, world.clock)
    bad = (MUELLER[0], MUELLER[1][:9] + "0" + MUELLER[1][10:])  # the document number's check digit changed
    out = await svc.report_hotel_stays(
        hotel,
        [
            _stay(MUELLER, world, "R-1"),
            _stay(NEWCOMER, world, "R-2", address="Room 1209, 88 Riverside Road, Pudong"),
            _stay(bad, world, "R-3"),
            _stay(MUELLER, world, "R-4", division_code="990000"),
        ],
    )
    outcomes = [(r["outcome"], r.get("field")) for r in out["results"]]
    assert outcomes == [
        ("registered", None),
        ("registered", None),
        ("rejected", "mrz"),
        ("rejected", "division_code"),
    ]
    assert out["counts"] == {"registered": 2, "rejected": 2}
    assert out["results"][0]["registration"]["person_id"] == world.person_id  # the passport on record
    assert (
        out["results"][0]["assessment"]["basis"] == "office_rule"
        and out["results"][0]["assessment"]["on_time"]
    )
    # the newcomer's passport was not on record: added from the MRZ, with the person it names
    async with world.sessions() as s:
        tanaka = (await s.execute(select(Person).where(Person.surname == "TANAKA"))).scalar_one()
        assert tanaka.birth_date == dt.date(1990, 3, 1) and tanaka.nationality == "JPN"
    assert await _count(world, AccommodationRegistration) == 2
    async with world.sessions() as s:  # one audit event for the report, naming each stay it wrote
        (event,) = (
            (await s.execute(select(AuditEvent).where(AuditEvent.action == "accommodation_reported")))
            .scalars()
            .all()
        )
    assert (
        sorted(event.detail["registered"]) == sorted(r["registration"]["id"] for r in out["results"][:2])
        and event.detail["stays"] == 4
    )

    # sent again: the same stays; a check-out added records the move-out; another guest under R-1 is refused
    again = await svc.report_hotel_stays(
        hotel,
        [
            _stay(MUELLER, world, "R-1"),
            Stay(
                **{
                    **_stay(NEWCOMER, world, "R-2", address="Room 1209, 88 Riverside Road, Pudong").__dict__,
                    "moved_out_at": _at(0.5, world),
                }
            ),
            _stay(NEWCOMER, world, "R-1"),
        ],
    )
    assert [(r["outcome"], r.get("field")) for r in again["results"]] == [
        ("replayed", None),
        ("moved_out", None),
        ("rejected", "stay_ref"),
    ]
    assert await _count(world, AccommodationRegistration) == 2
    assert (
        await _count(world, AccommodationRegistration, AccommodationRegistration.moved_out_at.is_not(None))
        == 1
    )


async def test_one_report_names_a_stay_once_and_a_new_guest_twice_is_one_person(world: World) -> None:
    """Within one report: a stay reference repeated is refused (named), a new passport on two stays (two rooms,
    one guest) adds one person and one passport, and a passport on record naming someone else is refused."""
    hotel = await _hotel(world)
    svc = AccommodationService(world.sessions, world.clock)
    impostor = td3("SMITH", "JOHN", "C01X00T47", "DEU", "700101", "M", "310101")  # Mueller's passport number
    people = await _count(world, Person)
    out = await svc.report_hotel_stays(
        hotel,
        [
            _stay(NEWCOMER, world, "R-1"),
            _stay(NEWCOMER, world, "R-1", address="Room 7, 88 Riverside Road, Pudong"),
            _stay(NEWCOMER, world, "R-2", address="Room 8, 88 Riverside Road, Pudong"),
            _stay(impostor, world, "R-3"),
        ],
    )
    assert [(r["outcome"], r.get("field")) for r in out["results"]] == [
        ("registered", None),
        ("rejected", "stay_ref"),
        ("registered", None),
        ("rejected", "mrz"),
    ]
    assert out["results"][0]["registration"]["person_id"] == out["results"][2]["registration"]["person_id"]
    assert await _count(world, Person) == people + 1
    assert await _count(world, TravelDocument, TravelDocument.number == "TK1234567") == 1


async def test_two_reports_racing_on_the_same_stays_write_them_once(world: World) -> None:
    """Two copies of a report at once (a hotel system retrying): one writes, the other answers replayed."""
    hotel = await _hotel(world)
    svc = AccommodationService(world.sessions, world.clock)
    stays = [_stay(NEWCOMER, world, "R-1"), _stay(MUELLER, world, "R-2")]
    a, b = await asyncio.gather(svc.report_hotel_stays(hotel, stays), svc.report_hotel_stays(hotel, stays))
    assert sorted([a["counts"], b["counts"]], key=str) == [{"registered": 2}, {"replayed": 2}]
    assert await _count(world, AccommodationRegistration) == 2


async def test_two_reports_racing_with_one_reference_and_different_check_in_days_store_one_stay(
    world: World,
) -> None:
    """A stay reference is the hotel's, once, whatever the check-in day: on PostgreSQL the stays are partitioned by
    month, so the reference's own table (hotel_stay_refs, migration 0029) is what refuses the second; the loser is
    read again and refused naming ``stay_ref`` (other facts than the stay on record)."""
    hotel = await _hotel(world)
    svc = AccommodationService(world.sessions, world.clock)
    today, yesterday = [_stay(NEWCOMER, world, "R-9")], [_stay(NEWCOMER, world, "R-9", hours_ago=30)]
    assert (
        today[0].moved_in_at.date() != yesterday[0].moved_in_at.date()
    )  # two months' partitions at a month end
    for _ in range(3):  # a race is a race: a few rounds, each on a new reference
        a, b = await asyncio.gather(
            svc.report_hotel_stays(hotel, today), svc.report_hotel_stays(hotel, yesterday)
        )
        outcomes = sorted([a["results"][0], b["results"][0]], key=lambda r: r["outcome"])
        assert [(r["outcome"], r.get("field")) for r in outcomes] == [
            ("registered", None),
            ("rejected", "stay_ref"),
        ]
        ref = today[0].stay_ref
        assert await _count(world, AccommodationRegistration, AccommodationRegistration.stay_ref == ref) == 1
        today = [_stay(NEWCOMER, world, f"{ref}x")]
        yesterday = [_stay(NEWCOMER, world, f"{ref}x", hours_ago=30)]


async def test_what_a_batch_answers_is_what_it_stored(world: World) -> None:
    """The rows a batch writes (on PostgreSQL in one statement from arrays) read back as answered: the stay with
    its hotel, reference, times and assessment, the new person and passport from the MRZ; the lookups' planning
    setting ends with the batch's transaction."""
    hotel = await _hotel(world)
    svc = AccommodationService(world.sessions, world.clock)
    out = await svc.report_hotel_stays(
        hotel, [_stay(NEWCOMER, world, "R-1", hours_ago=30), _stay(MUELLER, world, "R-2")]
    )
    assert out["counts"] == {"registered": 2}
    async with world.sessions() as s:
        for r in out["results"]:
            shown = r["registration"]
            reg = await s.get(AccommodationRegistration, shown["id"])
            assert reg is not None
            assert (reg.organisation_id, reg.stay_ref, reg.recorded_by) == (
                hotel.organisation_id,
                shown["stay_ref"],
                hotel.account_id,
            )
            assert (
                reg.moved_in_at is not None
                and reg.moved_in_at.isoformat()
                == dt.datetime.fromisoformat(shown["moved_in_at"]).astimezone(dt.UTC).isoformat()
            )
            assert (reg.registered_from.isoformat(), reg.on_time) == (
                shown["registered_from"],
                shown["on_time"],
            )
            assert (reg.registered_by, reg.person_id) == ("hotel", shown["person_id"])
        late = out["results"][0]
        assert late["registration"]["on_time"] is False and late["assessment"]["on_time"] is False
        doc = (
            await s.execute(select(TravelDocument).where(TravelDocument.number == "TK1234567"))
        ).scalar_one()
        person = await s.get(Person, doc.person_id)
        assert person is not None and doc.person_id == late["registration"]["person_id"]
        assert (person.surname, person.given_names, person.sex, person.nationality) == (
            "TANAKA",
            "YUKI",
            "F",
            "JPN",
        )
        assert (doc.issuing_state, doc.kind, doc.current, doc.mrz) == (
            "JPN",
            "passport",
            True,
            "\n".join(NEWCOMER),
        )
        if world.engine.dialect.name == "postgresql":
            assert (await s.execute(text("SHOW plan_cache_mode"))).scalar_one() == "auto"


async def test_only_a_hotel_reports_and_a_batch_has_a_bound(world: World) -> None:
    hotel = await _hotel(world)
    svc = AccommodationService(world.sessions, world.clock)
    with pytest.raises(Forbidden):
        await svc.report_hotel_stays(world.applicant, [_stay(MUELLER, world, "R-1")])
    with pytest.raises(BadInput) as too_many:
        await svc.report_hotel_stays(hotel, [_stay(MUELLER, world, f"R-{i}") for i in range(MAX_BATCH + 1)])
    assert too_many.value.field == "stays"
    async with world.sessions() as s, s.begin():  # an employer is not a hotel
        org = await s.get(Organisation, hotel.organisation_id)
        assert org is not None
        org.kind = "enterprise"
    with pytest.raises(Forbidden):
        await svc.report_hotel_stays(hotel, [_stay(MUELLER, world, "R-1")])


async def test_impossible_facts_are_refused_by_field_and_nothing_is_written(world: World) -> None:
    hotel = await _hotel(world)
    svc = AccommodationService(world.sessions, world.clock)
    future = await svc.report_hotel_stays(hotel, [_stay(MUELLER, world, "R-1", hours_ago=-3)])
    assert future["results"][0]["field"] == "moved_in_at"
    out_first = Stay(**{**_stay(MUELLER, world, "R-2").__dict__, "moved_out_at": _at(5, world)})
    assert (await svc.report_hotel_stays(hotel, [out_first]))["results"][0]["field"] == "moved_out_at"
    with pytest.raises(BadInput) as naive:
        await svc.register_private_stay(
            world.applicant,
            world.person_id,
            Stay(MUELLER, "Flat 3, 5 Lane 100", "310104", dt.datetime(2025, 11, 2, 9)),
        )
    assert naive.value.field == "moved_in_at"
    assert await _count(world, AccommodationRegistration) == 0


async def test_codes_outside_the_tables_in_the_mrz_are_refused_and_nothing_is_written(world: World) -> None:
    """No check digit covers an MRZ's issuing State or nationality: a code in neither ISO 3166-1 nor ICAO Doc
    9303's list reads, but a register does not record it (issue 13 §13: every code field is checked against
    its table at every entry point)."""
    hotel = await _hotel(world)
    svc = AccommodationService(world.sessions, world.clock)
    line1, line2 = NEWCOMER
    nowhere = td3("TANAKA", "YUKI", "TK1234567", "QQQ", "900301", "F", "320615")
    stateless_typo = (line1, line2[:10] + "ZZZ" + line2[13:])  # issued by JPN, nationality ZZZ
    people, documents = await _count(world, Person), await _count(world, TravelDocument)
    out = await svc.report_hotel_stays(
        hotel, [_stay(nowhere, world, "R-1"), _stay(stateless_typo, world, "R-2")]
    )
    assert [(r["outcome"], r["field"]) for r in out["results"]] == [("rejected", "mrz")] * 2, out
    assert "QQQ" in out["results"][0]["detail"] and "ZZZ" in out["results"][1]["detail"]
    assert await _count(world, AccommodationRegistration) == 0
    assert (await _count(world, Person), await _count(world, TravelDocument)) == (people, documents)


@pytest.mark.parametrize("beijing", ["00:30", "07:59", "16:01", "23:59"])
async def test_a_private_stay_on_time_or_late_by_the_hour(world: World, beijing: str) -> None:
    """Moved in at a Beijing hour the day before; registered 24 hours later or 25 — the Beijing date is the day
    of moving in, whatever the hour."""
    await _hotel(world)
    svc = AccommodationService(world.sessions, world.clock)
    hh, mm = map(int, beijing.split(":"))
    moved_in = dt.datetime(2025, 11, 2, hh, mm, tzinfo=BEIJING)
    world.clock.set(moved_in + dt.timedelta(hours=24))
    ok = await svc.register_private_stay(
        world.applicant, world.person_id, Stay(MUELLER, "Flat 3, 5 Lane 100", "310104", moved_in)
    )
    assert ok["assessment"]["on_time"] is True and ok["registration"]["registered_by"] == "self"
    assert ok["registration"]["registered_from"] == "2025-11-02"
    world.clock.set(moved_in + dt.timedelta(hours=25))
    late = await svc.register_private_stay(
        world.agent, world.person_id, Stay(MUELLER, "Flat 9, 7 Lane 200", "310104", moved_in)
    )
    assert late["assessment"]["on_time"] is False and late["assessment"]["minutes_late"] == 60
    assert (
        late["assessment"]["sanction"]["max_fine_cny"] == 2000
        and late["registration"]["registered_by"] == "host"
    )
    with pytest.raises(NotFound):
        await svc.register_private_stay(
            world.agent_without_mandate, world.person_id, Stay(MUELLER, "x", "310104", moved_in)
        )
    with pytest.raises(BadInput) as other:  # someone else's passport
        await svc.register_private_stay(
            world.applicant, world.person_id, Stay(NEWCOMER, "x", "310104", moved_in)
        )
    assert other.value.field == "mrz"


async def test_moving_out_closes_the_stay_once(world: World) -> None:
    await _hotel(world)
    svc = AccommodationService(world.sessions, world.clock)
    reg = await svc.register_private_stay(
        world.applicant, world.person_id, Stay(MUELLER, "Flat 3", "310104", _at(3, world))
    )
    rid = reg["registration"]["id"]
    with pytest.raises(NotFound):
        await svc.move_out(world.other_applicant, rid, _at(1, world))
    with pytest.raises(BadInput) as early:
        await svc.move_out(world.applicant, rid, _at(4, world))
    assert early.value.field == "moved_out_at"
    closed = await svc.move_out(world.applicant, rid, _at(1, world))
    assert closed["registration"]["moved_out_at"] and closed["registration"]["registered_until"]
    with pytest.raises(BadInput):
        await svc.move_out(world.applicant, rid, _at(0.5, world))


async def test_the_police_see_their_area_by_day_late_ones_first_and_search_by_passport(world: World) -> None:
    hotel = await _hotel(world)
    svc = AccommodationService(world.sessions, world.clock)
    await svc.report_hotel_stays(hotel, [_stay(NEWCOMER, world, "R-2", hours_ago=2)])
    late = await svc.register_private_stay(
        world.applicant, world.person_id, Stay(MUELLER, "Flat 3", "310104", _at(30, world))
    )
    day_of_late = dt.date.fromisoformat(late["registration"]["registered_from"])
    view = await svc.area_day(world.officer, day_of_late)
    assert view["area"] == "31" and view["late"] == 1
    assert view["registrations"][0]["on_time"] is False and view["sanctions"]["imposed"] is False
    only_late = await svc.area_day(world.officer, day_of_late, late_only=True)
    assert [r["on_time"] for r in only_late["registrations"]] == [False]
    elsewhere = await svc.area_day(world.foreign_officer, day_of_late)  # Beijing's office: not its area
    assert elsewhere["registrations"] == [] and elsewhere["late"] == 0
    found = await svc.search_passport(world.officer, "tk1234567")
    assert len(found["registrations"]) == 1
    assert (await svc.search_passport(world.foreign_officer, "TK1234567"))["registrations"] == []
    with pytest.raises(Forbidden):
        await svc.area_day(world.applicant, day_of_late)
    reads = await _count(
        world, AuditEvent, AuditEvent.action.in_(["accommodation_area_day", "accommodation_search"])
    )
    assert reads == 5  # three area views and two searches; the refused one read nothing


async def test_a_private_stay_sent_twice_is_one_stay(world: World) -> None:
    await _hotel(world)
    svc = AccommodationService(world.sessions, world.clock)
    stay = Stay(MUELLER, "Flat 3, 5 Lane 100", "310104", _at(3, world))
    first = await svc.register_private_stay(world.applicant, world.person_id, stay)
    again = await svc.register_private_stay(world.agent, world.person_id, stay)
    assert again["replayed"] is True and again["registration"]["id"] == first["registration"]["id"]
    assert await _count(world, AccommodationRegistration) == 1


async def test_a_person_registers_with_the_passport_on_record_and_lists_their_stays(world: World) -> None:
    hotel = await _hotel(world)
    svc = AccommodationService(world.sessions, world.clock)
    out = await svc.register_private_stay(
        world.applicant, world.person_id, Stay(None, "Flat 3", "310104", _at(2, world))
    )
    assert out["registration"]["person_id"] == world.person_id
    with pytest.raises(BadInput) as none:  # nobody's passport is on record for the other person
        await svc.register_private_stay(
            world.officer, world.other_person_id, Stay(None, "Flat 4", "310104", _at(2, world))
        )
    assert none.value.field == "mrz"
    assert [r["id"] for r in await svc.of_people(world.agent)] == [out["registration"]["id"]]
    assert await svc.of_people(world.other_applicant) == []
    no_mrz = await svc.report_hotel_stays(
        hotel, [Stay(None, "Room 1", "310115", _at(1, world), stay_ref="R-9")]
    )
    assert no_mrz["results"][0]["field"] == "mrz"
    await svc.report_hotel_stays(hotel, [_stay(NEWCOMER, world, "R-2", hours_ago=1)])
    today = dt.date.fromisoformat(_at(1, world).date().isoformat())
    assert len(await svc.hotel_day(hotel, today)) == 1


async def test_a_host_registers_a_guest_from_the_passport_and_sees_only_that_stay(world: World) -> None:
    """Law Art 39 para 2 (本人或者留宿人): the host registers a guest staying with them online, from the guest's
    passport MRZ, without a mandate; the host sees and closes the stays they recorded, nothing else of the guest's."""
    svc = AccommodationService(world.sessions, world.clock)
    host = world.other_applicant  # represents nobody
    with pytest.raises(BadInput) as no_mrz:
        await svc.register_private_stay(host, None, Stay(None, "Flat 8, 12 Lane 3", "310104", _at(2, world)))
    assert no_mrz.value.field == "mrz"
    out = await svc.register_private_stay(
        host, None, Stay(NEWCOMER, "Flat 8, 12 Lane 3", "310104", _at(30, world), host_name="Li Ming")
    )
    reg = out["registration"]
    assert reg["registered_by"] == "host" and reg["on_time"] is False  # 30 hours after moving in: late
    assert out["assessment"]["sanction"]["max_fine_cny"] == 2000  # shown (Law Art 76 para 1(6)), not imposed
    guest = reg["person_id"]
    assert guest not in (world.person_id, world.other_person_id)  # added from the MRZ, as a hotel's guest
    # the same stay sent again (a double click): one stay
    again = await svc.register_private_stay(
        host, None, Stay(NEWCOMER, "Flat 8, 12 Lane 3", "310104", _at(30, world), host_name="Li Ming")
    )
    assert again.get("replayed") is True and again["registration"]["id"] == reg["id"]
    # the guest's stay elsewhere (a hotel's) is not the host's to see
    hotel = await _hotel(world)
    await svc.report_hotel_stays(hotel, [_stay(NEWCOMER, world, "R-77", hours_ago=1)])
    listed = await svc.of_people(host)
    assert [(r["id"], r["name"]) for r in listed] == [(reg["id"], "TANAKA YUKI")]
    assert [r["id"] for r in await svc.of_people(world.applicant)] == []  # nor anyone else's to see
    with pytest.raises(NotFound):  # nor anyone else's to close
        await svc.move_out(world.applicant, reg["id"], _at(1, world))
    closed = await svc.move_out(host, reg["id"], _at(1, world))
    assert closed["registration"]["moved_out_at"] is not None
    # a "guest" whose passport is the registrant's own is their own stay
    own = await svc.register_private_stay(
        world.applicant, None, Stay(MUELLER, "Flat 3, 5 Lane 100", "310104", _at(2, world))
    )
    assert own["registration"]["registered_by"] == "self"
    assert own["registration"]["person_id"] == world.person_id


async def _other_hotel(world: World) -> Actor:
    """A second hotel in the same district, with its own front desk."""
    return await _hotel(world, "91310115MA1HOTEL1Y", "Harbour Inn", "harbour-desk", guest_passport=False)


async def test_a_hotel_neither_sees_nor_closes_another_hotels_guests(world: World) -> None:
    """Law Art 39 para 1; issue 11 §3 (a hotel sees only its own guests): the same ``stay_ref`` from two hotels is
    two separate stays — B sending A's stay (same reference, guest, time and room) with a check-out registers a
    stay of B's and leaves A's open; B cannot move out A's guest by the registration's id; each hotel's day list
    holds only its own guests."""
    a = await _hotel(world)
    b = await _other_hotel(world)
    svc = AccommodationService(world.sessions, world.clock)
    mine = await svc.report_hotel_stays(a, [_stay(MUELLER, world, "R-1")])
    assert mine["counts"] == {"registered": 1}
    a_stay = mine["results"][0]["registration"]

    copy = Stay(**{**_stay(MUELLER, world, "R-1").__dict__, "moved_out_at": _at(1, world)})
    theirs = await svc.report_hotel_stays(b, [copy])
    assert [(r["outcome"], r.get("field")) for r in theirs["results"]] == [("registered", None)], theirs
    b_stay = theirs["results"][0]["registration"]
    assert b_stay["id"] != a_stay["id"] and b_stay["stay_ref"] == a_stay["stay_ref"] == "R-1"
    assert b_stay["moved_out_at"] is not None
    # another guest under a reference only A has used: B's own stay too
    other = await svc.report_hotel_stays(
        b, [_stay(NEWCOMER, world, "R-7", address="Room 3, 12 Harbour Lane")]
    )
    assert other["counts"] == {"registered": 1}
    async with world.sessions() as s:
        reg = await s.get(AccommodationRegistration, a_stay["id"])
        assert reg is not None and reg.moved_out_at is None and reg.registered_until is None
        rows = (
            await s.execute(
                select(AccommodationRegistration.organisation_id, AccommodationRegistration.stay_ref)
            )
        ).all()
    assert sorted(rows) == sorted(
        [(a.organisation_id, "R-1"), (b.organisation_id, "R-1"), (b.organisation_id, "R-7")]
    )

    with pytest.raises(NotFound):  # A's guest by the registration's id
        await svc.move_out(b, a_stay["id"], _at(1, world))
    today = dt.date.fromisoformat(a_stay["registered_from"])
    assert [r["id"] for r in await svc.hotel_day(a, today)] == [a_stay["id"]]
    b_day = await svc.hotel_day(b, today)
    assert sorted(r["id"] for r in b_day) == sorted([b_stay["id"], other["results"][0]["registration"]["id"]])
    assert "TANAKA" not in str(await svc.hotel_day(a, today))

    # A's own check-out still closes A's stay (it was not taken by B's report)
    closed = await svc.report_hotel_stays(a, [copy])
    assert [(r["outcome"], r["registration"]["id"]) for r in closed["results"]] == [
        ("moved_out", a_stay["id"])
    ]
