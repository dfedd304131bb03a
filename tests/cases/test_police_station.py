"""Police stations (派出所) on both engines (Law Art 39 para 2; issue 11 §3): the administrator keeps the stations and
assigns each police officer's desk to one; the station registers private stays at the desk in its area only; its day
view is paged with the day's counts (on time, late, possibly missing), sees its area only, and every read is
audited; the possibly missing registrations follow their reading (cnvisa.cases.accommodation.area)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from case_helpers import World
from sqlalchemy import func, select
from test_accommodation import MUELLER, NEWCOMER, _hotel, td3

from cnvisa.cases.accommodation import AccommodationService, Stay
from cnvisa.cases.actor import Actor
from cnvisa.cases.desks import DeskAssignments
from cnvisa.cases.errors import BadInput, Forbidden, NotFound
from cnvisa.cases.workflow import Role
from cnvisa.store.register_tables import AccommodationRegistration
from cnvisa.store.tables import Account, AuditEvent, Movement

BEIJING = dt.timezone(dt.timedelta(hours=8))
ADMIN = Actor(None, Role.ADMIN)


async def _police(world: World, username: str) -> Actor:
    async with world.sessions() as s, s.begin():
        acc = Account(username=username, display_name=username, role=str(Role.POLICE_OFFICER))
        s.add(acc)
        await s.flush()
        return Actor(acc.id, Role.POLICE_OFFICER)


async def _stations(world: World) -> tuple[Actor, Actor, DeskAssignments]:
    """Lujiazui (310115) and Xujiahui (310104) under SH01; an officer at each."""
    desks = DeskAssignments(world.sessions, world.clock)
    for code, area in (("SH-LJZ", "310115"), ("SH-XJH", "310104")):
        await desks.add_station(
            ADMIN,
            code=code,
            name_zh=f"{code}派出所",
            name_en=f"{code} police station",
            office_code="SH01",
            division_code=area,
            source="test data",
        )
    pudong, xuhui = await _police(world, "police-pd"), await _police(world, "police-xh")
    await desks.assign_police(ADMIN, "police-pd", "SH-LJZ")
    await desks.assign_police(ADMIN, "police-xh", "SH-XJH", note="day shift")
    return pudong, xuhui, desks


def _at(world: World, hours_ago: float) -> dt.datetime:
    return (world.clock.now() - dt.timedelta(hours=hours_ago)).astimezone(BEIJING)


async def _count(world: World, *where: Any) -> int:
    async with world.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(AuditEvent).where(*where))).scalar_one())


async def test_the_administrator_keeps_stations_and_assigns_desks(world: World) -> None:
    pudong, _xuhui, desks = await _stations(world)
    with pytest.raises(BadInput) as outside:  # Beijing's district under Shanghai's office
        await desks.add_station(
            ADMIN,
            code="X-1",
            name_zh="x",
            name_en="x",
            office_code="SH01",
            division_code="110105",
            source="t",
        )
    assert outside.value.field == "division_code"
    with pytest.raises(BadInput) as twice:
        await desks.add_station(
            ADMIN,
            code="SH-LJZ",
            name_zh="x",
            name_en="x",
            office_code="SH01",
            division_code="310115",
            source="t",
        )
    assert twice.value.field == "code"
    with pytest.raises(BadInput) as not_police:  # an exit-entry officer's account is not a police desk
        await desks.assign_police(ADMIN, "officer-1", "SH-LJZ")
    assert not_police.value.field == "username"
    with pytest.raises(BadInput) as no_station:
        await desks.assign_police(ADMIN, "police-pd", "NOPE")
    assert no_station.value.field == "station"
    with pytest.raises(Forbidden):
        await desks.assign_police(world.officer, "police-pd", "SH-XJH")
    with pytest.raises(Forbidden):
        await desks.overview(pudong)
    moved = await desks.assign_police(ADMIN, "police-pd", "SH-XJH")  # reassigned: the new station's area
    assert moved == {"username": "police-pd", "station": "SH-XJH", "area": "310104"}
    seen = await desks.overview(ADMIN)
    assert {(p["username"], p["station"]) for p in seen["police"]} == {
        ("police-pd", "SH-XJH"),
        ("police-xh", "SH-XJH"),
    }
    assert [s["code"] for s in seen["stations"]] == ["SH-LJZ", "SH-XJH"]
    assert seen["stations"][0]["source"] == "test data" and seen["ports"]
    assert await _count(world, AuditEvent.action == "police_station_added") == 2
    assert await _count(world, AuditEvent.action == "police_desk_assigned") == 3
    assert await _count(world, AuditEvent.action == "desks_viewed") == 1


async def test_a_desk_without_a_station_sees_nothing(world: World) -> None:
    lone = await _police(world, "police-lone")
    svc = AccommodationService(world.sessions, world.clock)
    with pytest.raises(Forbidden):
        await svc.area_day(lone, world.clock.now().date())
    with pytest.raises(Forbidden):
        await svc.register_private_stay(lone, None, Stay(MUELLER, "Flat 1", "310115", _at(world, 2)))


@pytest.mark.parametrize("beijing", ["00:30", "07:59", "16:01", "23:59"])
async def test_the_station_registers_at_the_desk_in_its_area_only(world: World, beijing: str) -> None:
    hour, minute = map(int, beijing.split(":"))
    world.clock.set(dt.datetime(2025, 11, 20, hour, minute, tzinfo=BEIJING))
    pudong, xuhui, _ = await _stations(world)
    svc = AccommodationService(world.sessions, world.clock)
    moved_in = _at(world, 0.25)  # a quarter of an hour ago: before midnight at 00:30 Beijing
    out = await svc.register_private_stay(
        pudong, None, Stay(NEWCOMER, "Flat 9, 1 Lane 2", "310115", moved_in)
    )
    reg = out["registration"]
    assert reg["registered_by"] == "police" and reg["on_time"] is True
    assert reg["registered_from"] == moved_in.astimezone(BEIJING).date().isoformat()
    again = await svc.register_private_stay(
        pudong, None, Stay(NEWCOMER, "Flat 9, 1 Lane 2", "310115", moved_in)
    )
    assert again["replayed"] is True
    with pytest.raises(BadInput) as elsewhere:  # Xuhui's stay at Pudong's desk: not its area (Art 39 para 2)
        await svc.register_private_stay(pudong, None, Stay(NEWCOMER, "Flat 1", "310104", moved_in))
    assert elsewhere.value.field == "division_code"
    day = moved_in.astimezone(BEIJING).date()
    assert [r["id"] for r in (await svc.area_day(pudong, day))["registrations"]] == [reg["id"]]
    assert (await svc.area_day(xuhui, day))["registrations"] == []  # another station: nothing
    with pytest.raises(NotFound):  # nor may it close the stay
        await svc.move_out(xuhui, reg["id"], _at(world, 0))
    closed = await svc.move_out(pudong, reg["id"], _at(world, 0))
    assert closed["registration"]["moved_out_at"] is not None


async def test_the_day_view_is_paged_with_its_counts_and_late_ones_first(world: World) -> None:
    pudong, xuhui, _ = await _stations(world)
    hotel = await _hotel(world)
    svc = AccommodationService(world.sessions, world.clock)
    base = dt.datetime(2025, 11, 3, 10, 0, tzinfo=BEIJING)  # the world's day at 10:00
    world.clock.set(base + dt.timedelta(hours=10))
    guests = [td3("GUEST", f"N{chr(65 + i)}", f"GP{i:07d}", "GBR", "800101", "M", "330101") for i in range(5)]
    stays = [
        Stay(g, f"Room {i}", "310115", base + dt.timedelta(minutes=i), stay_ref=f"P-{i}")
        for i, g in enumerate(guests)
    ]
    await svc.report_hotel_stays(hotel, stays)
    world.clock.set(base + dt.timedelta(hours=30))  # 30 hours after moving in: late (Art 39 para 2)
    late = await svc.register_private_stay(pudong, None, Stay(NEWCOMER, "Flat 2", "310115", base))
    await svc.register_private_stay(xuhui, None, Stay(MUELLER, "Flat 3", "310104", base))  # Xuhui's
    day = base.date()
    first = await svc.area_day(pudong, day, per_page=2)
    assert first["counts"] == {"registered": 6, "on_time": 5, "late": 1, "missing": 0}
    assert (first["page"], first["pages"], first["total"]) == (1, 3, 6)
    assert first["registrations"][0]["id"] == late["registration"]["id"]  # late first
    assert first["station"]["code"] == "SH-LJZ" and first["area"] == "310115"
    seen = [
        r["id"]
        for p in (1, 2, 3)
        for r in (await svc.area_day(pudong, day, page=p, per_page=2))["registrations"]
    ]
    assert len(seen) == len(set(seen)) == 6  # every row once across the pages
    assert (await svc.area_day(pudong, day, page=4, per_page=2))["registrations"] == []
    only_late = await svc.area_day(pudong, day, show="late")
    assert [r["id"] for r in only_late["registrations"]] == [late["registration"]["id"]]
    assert only_late["total"] == 1 and only_late["sanctions"]["imposed"] is False
    assert (await svc.area_day(xuhui, day))["counts"]["registered"] == 1
    for bad, field in (({"per_page": 0}, "per_page"), ({"page": 0}, "page"), ({"show": "x"}, "show")):
        with pytest.raises(BadInput) as exc:
            await svc.area_day(pudong, day, **bad)  # type: ignore[arg-type]
        assert exc.value.field == field
    found = await svc.search_passport(pudong, "gp0000003")
    assert [r["passport"] for r in found["registrations"]] == ["GP0000003"]
    assert (await svc.search_passport(xuhui, "GP0000003"))["registrations"] == []
    reads = await _count(world, AuditEvent.action.in_(["accommodation_area_day", "accommodation_search"]))
    # seven day views (the first, three pages, one past the end, the late ones, Xuhui's) and two searches
    assert reads == 9
    assert (await svc.hotel_day(hotel, day))[0]["stay_ref"].startswith("P-")  # the hotel: its guests only
    assert len(await svc.hotel_day(hotel, day)) == 5


async def test_possibly_missing_registrations_follow_their_reading(world: World) -> None:
    pudong, xuhui, _ = await _stations(world)
    hotel = await _hotel(world)
    svc = AccommodationService(world.sessions, world.clock)
    base = dt.datetime(2025, 11, 1, 14, 0, tzinfo=BEIJING)
    out_at = dt.datetime(2025, 11, 2, 11, 0, tzinfo=BEIJING)
    world.clock.set(out_at + dt.timedelta(hours=1))
    people = {
        key: td3("LEFT", key, f"LF{i:07d}", "FRA", "790101", "F", "330101")
        for i, key in enumerate(("GONE", "EXITED", "MOVED", "HOME"))
    }
    reported = await svc.report_hotel_stays(
        hotel,
        [
            Stay(mrz, f"Room {i}", "310115", base, moved_out_at=out_at, stay_ref=f"M-{key}")
            for i, (key, mrz) in enumerate(people.items())
        ],
    )
    ids = {key: r["registration"]["person_id"] for key, r in zip(people, reported["results"], strict=True)}
    day = out_at.date()
    assert (await svc.area_day(pudong, day, show="missing"))["total"] == 0  # less than 24 hours since
    world.clock.set(out_at + dt.timedelta(hours=2))
    # MOVED registers the next stay (in Xuhui); HOME had a flat of its own open all along; EXITED left China
    await svc.register_private_stay(xuhui, None, Stay(people["MOVED"], "Flat 8", "310104", out_at))
    await svc.register_private_stay(
        xuhui, None, Stay(people["HOME"], "Flat 4", "310104", base - dt.timedelta(days=20))
    )
    async with world.sessions() as s, s.begin():
        s.add(Movement(person_id=ids["EXITED"], direction="exit", on=day, port="PVG"))
    world.clock.set(out_at + dt.timedelta(hours=25))
    view = await svc.area_day(pudong, day, show="missing")
    assert view["counts"]["missing"] == view["total"] == 1
    assert [r["name"] for r in view["registrations"]] == ["LEFT GONE"]
    assert view["sanctions"]["private_stay"]["article"] == "76"
    assert (await svc.area_day(xuhui, day, show="missing"))["total"] == 0  # not Xuhui's area
    async with world.sessions() as s:
        stored = (await s.execute(select(func.count()).select_from(AccommodationRegistration))).scalar_one()
    assert stored == 6  # reading the missing ones wrote nothing but the audit
