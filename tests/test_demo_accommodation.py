"""`cnvisa demo setup` plays the accommodation register (issue 11 §3) through the service: the demo hotel's
evening reports (one late, one stay closed by its check-out, one misread passport refused), Alice's and Bob's
private stays (Bob's late), Léo's and David's registered at the Lujiazui police station's desk (David's closed
with no later stay: possibly missing); the police of SH01 see them by day, each police station its area, the
hotel its own guests."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases.accommodation import AccommodationService
from cnvisa.cases.actor import Actor
from cnvisa.cases.clock import ManualClock
from cnvisa.cases.workflow import Role
from cnvisa.demo.setup import setup
from cnvisa.store.db import sessionmaker
from cnvisa.store.tables import Account

pytestmark = pytest.mark.usefixtures("cheap_demo_passwords")  # they seed the demo, never sign in

TODAY = dt.date(2025, 11, 20)


async def test_demo_registers_stays_the_police_and_the_hotel_see(engine: AsyncEngine) -> None:
    ids = await setup(engine, TODAY, cases=4)
    assert ids["accommodation"] == {
        "hotel_evening_1": 5,
        "hotel_evening_2": 6,  # five new guests and the first evening's guest checked out
        "hotel_late": 1,
        "hotel_after_midnight": 2,  # the misread passport refused
        "private_alice": 1,
        "private_bob": 1,
        "private_david_at_the_station": 1,
        "private_leo_at_the_desk": 1,
    }
    sessions = sessionmaker(engine)
    async with sessions() as s:
        accounts = {
            a.username: a
            for a in (
                await s.execute(
                    select(Account).where(
                        Account.username.in_(("sh01.officer", "hotel.desk", "police.pudong", "police.yangpu"))
                    )
                )
            )
            .scalars()
            .all()
        }
    service = AccommodationService(sessions, ManualClock(dt.datetime(2025, 11, 20, 4, tzinfo=dt.UTC)))
    police = Actor(accounts["sh01.officer"].id, Role.OFFICER, office_id=accounts["sh01.officer"].office_id)
    before = await service.area_day(police, TODAY - dt.timedelta(days=2))
    assert before["late"] == 1  # the guest reported 34 hours after check-in
    assert before["registrations"][0]["on_time"] is False  # late ones first
    closed = [r for r in before["registrations"] if r["registered_until"]]
    assert len(closed) == 1 and closed[0]["registered_until"] == (TODAY - dt.timedelta(days=1)).isoformat()
    yesterday = await service.area_day(police, TODAY - dt.timedelta(days=1))
    assert {r["registered_by"] for r in yesterday["registrations"]} >= {"hotel", "police"}
    bob = [r for r in (await service.area_day(police, TODAY - dt.timedelta(days=3)))["registrations"]]
    # Bob's, 40 hours after moving in (late first), and David's at the Lujiazui station's desk
    assert [(r["registered_by"], r["on_time"]) for r in bob] == [("self", False), ("police", True)]
    desk = accounts["hotel.desk"]
    hotel = Actor(desk.id, Role.HOTEL_STAFF, organisation_id=desk.organisation_id)
    assert len(await service.hotel_day(hotel, TODAY)) == 2
    # the police stations (demo data): Lujiazui sees Pudong, with David's stay possibly missing a successor
    lujiazui = Actor(accounts["police.pudong"].id, Role.POLICE_OFFICER)
    siping = Actor(accounts["police.yangpu"].id, Role.POLICE_OFFICER)
    later = AccommodationService(sessions, ManualClock(dt.datetime(2025, 11, 20, 12, tzinfo=dt.UTC)))
    missing = await later.area_day(lujiazui, TODAY - dt.timedelta(days=2), show="missing")
    assert [r["name"] for r in missing["registrations"]] == ["SMITH DAVID"]
    assert missing["counts"]["late"] == 1 and missing["station"]["code"] == "SH-PD-LJZ"
    assert (await later.area_day(lujiazui, TODAY - dt.timedelta(days=3)))["counts"][
        "registered"
    ] == 1  # David's
    assert (await later.area_day(siping, TODAY - dt.timedelta(days=2), show="missing"))["total"] == 0
    yangpu = await later.area_day(siping, TODAY - dt.timedelta(days=3))
    assert [(r["registered_by"], r["on_time"]) for r in yangpu["registrations"]] == [("self", False)]  # Bob
