"""The demo's accommodation register (issue 11 §3, Law Art 39), played through ``AccommodationService`` with the
demo clock set to each report's moment — nothing written into the tables directly:

- Demo Riverside Hotel (Pudong, 310115) reports its foreign guests each evening: the day before yesterday's
  check-ins, then yesterday's with one earlier guest sent again with the check-out (the stay closed); one guest
  of the day before yesterday reported only yesterday evening, more than the office's hours after check-in
  (late: the sanction shown, Law Art 76 para 1(6), nothing imposed); after midnight tonight's late arrivals, one
  passport misread (that stay refused by field, the others stored).
- Private stays (Art 39 para 2): Alice registers her flat online within the 24 hours; Bob registers late (the 24
  hours passed); the Lujiazui police station's desk (``police.pudong``, Pudong 310115) registers Léo's stay for his
  mother, and David SMITH's stay at a friend's flat three days ago, which the desk closes the next morning when he
  moves out — no later stay of his is registered and no exit recorded: a possibly missing registration on the day
  before yesterday (cnvisa.cases.accommodation.area).

The police of SH01 (Shanghai, the province's area) see them on /office/accommodation by day; the Lujiazui station
its area (Pudong) on /police, the Siping Road station (``police.yangpu``) its own (Yangpu: Bob's flat); the hotel's
desk on /hotel/stays."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases.accommodation import AccommodationService, Stay
from cnvisa.cases.actor import Actor
from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.cases.workflow import Role
from cnvisa.demo.vocab import GIVEN, NATIONS, SURNAMES, mrz
from cnvisa.store.db import sessionmaker
from cnvisa.store.tables import Account

HOTEL_ADDRESS = "Demo Riverside Hotel, 88 Binjiang Avenue, Pudong New Area, Shanghai — room {room}"
GUESTS = 14


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def _guest(n: int, day: dt.date, hour: int, room: int) -> Stay:
    nat = NATIONS[n % len(NATIONS)]
    lines = mrz(
        SURNAMES[n % len(SURNAMES)],
        GIVEN[(n * 7) % len(GIVEN)],
        nat,
        f"H{nat[:2]}{n:06d}",
        dt.date(1960 + n * 3 % 40, 1 + n % 12, 1 + n % 28),
        "F" if n % 2 else "M",
        dt.date(2033, 6, 30),
    ).split("\n")
    return Stay(
        mrz=(lines[0], lines[1]),
        address=HOTEL_ADDRESS.format(room=room),
        division_code="310115",
        moved_in_at=_at(day, hour, 10 * (n % 5)),
        stay_ref=f"RIV-{day:%Y%m%d}-{room}",
    )


async def seed_accommodation(engine: AsyncEngine, today: dt.date, ids: dict[str, Any]) -> dict[str, int]:
    """Plays the stays; returns how many registrations each report or registration stored."""
    sessions = sessionmaker(engine)
    async with sessions() as s:
        accounts = {
            a.username: a
            for a in (
                await s.execute(
                    select(Account).where(
                        Account.username.in_(("hotel.desk", "alice", "bob", "carol", "police.pudong"))
                    )
                )
            )
            .scalars()
            .all()
        }
    desk = accounts["hotel.desk"]
    hotel = Actor(desk.id, Role.HOTEL_STAFF, organisation_id=desk.organisation_id)
    clock = ManualClock(_at(today, 0))
    service = AccommodationService(sessions, clock)
    d2, d1 = today - dt.timedelta(days=2), today - dt.timedelta(days=1)
    stored: dict[str, int] = {}

    async def hotel_report(name: str, at: dt.datetime, stays: list[Stay]) -> None:
        clock.set(at.astimezone(dt.UTC))
        out = await service.report_hotel_stays(hotel, stays)
        stored[name] = out["counts"].get("registered", 0) + out["counts"].get("moved_out", 0)

    first = [_guest(n, d2, 14 + n % 8, 800 + n) for n in range(5)]
    await hotel_report("hotel_evening_1", _at(d2, 23, 40), first)
    checked_out = Stay(
        **{**first[0].__dict__, "moved_out_at": _at(d1, 11, 30)}
    )  # sent again with its check-out
    second = [checked_out, *[_guest(n, d1, 13 + n % 9, 800 + n) for n in range(5, 10)]]
    await hotel_report("hotel_evening_2", _at(d1, 23, 40), second)
    late = _guest(10, d2, 9, 910)  # checked in the day before yesterday at 09:00, reported 34 hours on
    await hotel_report("hotel_late", _at(d1, 19, 5), [late])
    bad = _guest(11, today, 0, 911)
    assert bad.mrz is not None
    line1, line2 = bad.mrz
    bad = Stay(**{**bad.__dict__, "mrz": (line1, line2[:9] + "X" + line2[10:])})  # the check digit misread
    tonight = [
        *[_guest(n, today, 0, 800 + n) for n in range(12, GUESTS)],
        bad,
    ]  # after midnight, 00:10 to 00:20
    await hotel_report("hotel_after_midnight", _at(today, 0, 35), tonight)

    cast = ids["cast"]
    flats = {
        "alice": ("Apartment 1502, 777 Zhangyang Road, Pudong New Area, Shanghai", "310115", 20, 9),
        "bob": ("Room 304, 1239 Siping Road, Yangpu District, Shanghai", "310110", 40, 14),
    }
    for who, (address, division, hours_before, registered_hour) in flats.items():
        a = accounts[who]
        registered = _at(d1, registered_hour)
        clock.set(registered.astimezone(dt.UTC))
        stay = Stay(
            mrz=None,
            address=address,
            division_code=division,
            moved_in_at=registered - dt.timedelta(hours=hours_before),
            host_name="Wang Jianguo" if who == "bob" else None,
        )
        actor = Actor(a.id, Role.APPLICANT, person_id=a.person_id)
        await service.register_private_stay(actor, cast[who], stay)
        stored[f"private_{who}"] = 1
    station = Actor(accounts["police.pudong"].id, Role.POLICE_OFFICER)  # the Lujiazui police station's desk
    d3 = today - dt.timedelta(days=3)
    clock.set(_at(d3, 20, 0).astimezone(dt.UTC))
    david = Stay(
        mrz=None,
        address="Room 602, 150 Yincheng Road, Pudong New Area, Shanghai",
        division_code="310115",
        moved_in_at=_at(d3, 18),
        host_name="Li Ming",
    )
    david_stay = await service.register_private_stay(station, cast["david"], david)
    clock.set(_at(d2, 10, 30).astimezone(dt.UTC))
    await service.move_out(station, david_stay["registration"]["id"], _at(d2, 10))
    stored["private_david_at_the_station"] = 1
    clock.set(_at(d1, 20, 30).astimezone(dt.UTC))
    leo = Stay(
        mrz=None,
        address="Apartment 1502, 777 Zhangyang Road, Pudong New Area, Shanghai",
        division_code="310115",
        moved_in_at=_at(d1, 18),
        host_name="Carol Martin",
    )
    await service.register_private_stay(station, cast["leo"], leo)
    stored["private_leo_at_the_desk"] = 1
    return stored
