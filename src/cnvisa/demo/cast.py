"""The demo's cast: one sign-in per role, and the people the applicant-side sign-ins apply as or act for.

The story (the demo's day is ``today``; Demo Employer, Demo University and Demo Bank are in Shanghai):

- **Alice MARTIN** (``alice``, French, 37) — software engineer at Demo Employer, holds a work-type residence
  permit (J25DEMO0001, valid 165 more days); she applies for herself.
- **Bob OKAFOR** (``bob``, Nigerian, 22) — student at Demo University, holds a study-type residence permit
  (J25DEMO0002); he applies for himself (e.g. the off-campus work annotation).
- **Carol MARTIN** (``carol``) — Alice's wife; by a relative's mandate (Regulations Art 19 para 1(1): under 16)
  she applies for their son **Léo MARTIN** (8), who holds a family-reunion residence permit ending in 40 days.
- **Kenji TANAKA** (Japanese, 35) — engineer just hired by Demo Employer, entered 12 days ago on a Z visa
  (30-day stay): he must turn it into a work-type residence permit (Law Art 30).
- **María GARCIA** (Spanish, 23) — new student of Demo University, entered 20 days ago on an X1 visa.
- **David SMITH** (American, 50) — business visitor on an M visa (90-day stay), no account.
- Officers Wang Fang and Li Qiang (second officer for refusals) and supervisor Zhang Wei at SH01, officer Zhao Lei
  at BJ01, officers Chen Jing and Sun Hao at the Lujiazui and Siping Road police stations (demo data), HR of Demo
  Employer, the international office of Demo University, a teller of Demo Bank
  (Regulations Art 27), an administrator.

Printed by ``make run``; never use these passwords outside a demo."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from cnvisa.cases.queries.presence import mark_stale
from cnvisa.demo.vocab import mrz
from cnvisa.http.security import hash_off_loop
from cnvisa.law.documents import organisation_code_check_char, social_credit_check_char
from cnvisa.store.police_tables import PoliceDesk, PoliceStation
from cnvisa.store.port_visa_tables import PortVisaDesk
from cnvisa.store.tables import (
    Account,
    Holding,
    Mandate,
    Movement,
    Office,
    Organisation,
    OrgPerson,
    Person,
    TravelDocument,
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    description: str
    display_name: str


@dataclass(frozen=True)
class Member:
    """A person of the story: who they are, what they hold (``holding``: kind, number, category, entries, stay
    days, days since it began, days it has left), when they last entered, and the organisation they belong to."""

    key: str
    surname: str
    given_names: str
    sex: str
    nationality: str
    age: int
    passport: str
    holding: tuple[str, str, str, str | None, int | None, int, int]
    entered_days_ago: int
    organisation: tuple[str, str] | None = None  # (organisation key, relation)


CAST: list[Member] = [
    Member("alice", "MARTIN", "ALICE", "F", "FRA", 37, "21FR04417",
           ("residence_permit", "J25DEMO0001", "work", None, None, 200, 165), 20, ("employer", "employee")),
    Member("bob", "OKAFOR", "BOB", "M", "NGA", 22, "A09871234",
           ("residence_permit", "J25DEMO0002", "study", None, None, 100, 265), 95, ("school", "student")),
    Member("leo", "MARTIN", "LEO", "M", "FRA", 8, "21FR88210",
           ("residence_permit", "J25DEMO0003", "family_reunion", None, None, 325, 40), 60),
    Member("kenji", "TANAKA", "KENJI", "M", "JPN", 35, "TR5520731",
           ("visa", "V25DEMO0004", "Z", "single", 30, 40, 60), 12, ("employer", "employee")),
    Member("maria", "GARCIA", "MARIA", "F", "ESP", 23, "PAA123456",
           ("visa", "V25DEMO0005", "X1", "single", 30, 50, 40), 20, ("school", "student")),
    Member("david", "SMITH", "DAVID", "M", "USA", 50, "566123987",
           ("visa", "V25DEMO0006", "M", "multiple", 90, 120, 245), 30),
]  # fmt: skip
"""``seed_web`` returns their ids in this order (``ids["people"]``): the tests name them by position."""

DEMO: list[DemoAccount] = [
    DemoAccount("alice", "alice-demo-2025", "applicant", "Alice Martin, employee of Demo Employer", "Alice Martin"),
    DemoAccount("bob", "bob-demo-2025", "applicant", "Bob Okafor, student of Demo University", "Bob Okafor"),
    DemoAccount(
        "carol", "carol-demo-2025", "agent", "Carol Martin, acting for her son Léo (亲友帮办)", "Carol Martin"
    ),
    DemoAccount("sh01.officer", "officer-demo-2025", "officer", "officer, Shanghai office SH01", "Officer Wang Fang"),
    DemoAccount(
        "sh01.officer2", "officer2-demo-2025", "officer", "second officer, SH01 (confirms refusals)", "Officer Li Qiang"
    ),
    DemoAccount("sh01.supervisor", "supervisor-demo-2025", "supervisor", "supervisor, SH01", "Supervisor Zhang Wei"),
    DemoAccount("bj01.officer", "bj01-demo-2025", "officer", "officer, Beijing office BJ01", "Officer Zhao Lei"),
    DemoAccount("employer.hr", "employer-demo-2025", "org_staff", "HR of Demo Employer", "HR, Demo Employer"),
    DemoAccount(
        "university.office", "school-demo-2025", "org_staff", "international office of Demo University",
        "International Office, Demo University",
    ),
    DemoAccount("bank.teller", "bank-demo-2025", "verifier", "bank teller (Regulations Art 27)", "Teller, Demo Bank"),
    DemoAccount(
        "hotel.desk", "hotel-demo-2025", "hotel_staff", "front desk of Demo Riverside Hotel (Law Art 39 reports)",
        "Front desk, Demo Riverside Hotel",
    ),
    DemoAccount(
        "pv.yinchuan", "portvisa-demo-2025", "port_visa_officer",
        "port visa desk, Yinchuan Hedong airport (Law Art 20)", "Port visa desk, Yinchuan Hedong",
    ),
    DemoAccount(
        "pv.guiyang", "portvisa2-demo-2025", "port_visa_officer",
        "port visa desk, Guiyang Longdongbao airport (Law Art 20)", "Port visa desk, Guiyang Longdongbao",
    ),
    DemoAccount(
        "police.pudong", "police-demo-2025", "police_officer",
        "police station desk, Lujiazui (Pudong; Law Art 39 stays)", "Officer Chen Jing, Lujiazui police station",
    ),
    DemoAccount(
        "police.yangpu", "police2-demo-2025", "police_officer",
        "police station desk, Siping Road (Yangpu; Law Art 39 stays)", "Officer Sun Hao, Siping Road police station",
    ),
    DemoAccount("admin", "admin-demo-2025", "admin", "administrator", "Administrator"),
]  # fmt: skip
PORT_DESKS = {"pv.yinchuan": "yinchuan_hedong_airport", "pv.guiyang": "guiyang_longdongbao_airport"}
"""Port-visa officer → the port its desk serves (cnvisa.store.port_visa_tables.PortVisaDesk)."""
DEMO_STATIONS = (
    "demo data: a real district's county-level code as the area, not the station's real jurisdiction"
)
POLICE_STATIONS = (
    # code, name (zh), name (en), office, area (GB/T 2260 county-level division inside the office's area)
    ("SH-PD-LJZ", "浦东分局陆家嘴派出所", "Lujiazui Police Station, Pudong", "SH01", "310115"),
    ("SH-YP-SPL", "杨浦分局四平路派出所", "Siping Road Police Station, Yangpu", "SH01", "310110"),
    ("BJ-CY-SLT", "朝阳分局三里屯派出所", "Sanlitun Police Station, Chaoyang", "BJ01", "110105"),
)
"""The demo's police stations (派出所, Law Art 39 para 2), labelled demo data (``PoliceStation.source``)."""
POLICE_DESKS = {"police.pudong": "SH-PD-LJZ", "police.yangpu": "SH-YP-SPL"}
"""Police officer → the station its desk serves (cnvisa.store.police_tables.PoliceDesk)."""
SELF_APPLICANTS = {"alice": "alice", "bob": "bob"}
"""Account → the cast member it applies as (its display name is that person's name)."""
MANDATES = {"carol": ("leo", "relative")}
"""Account → the cast member it acts for, and in what capacity (Regulations Art 19)."""
ORGANISATIONS = (
    # serials use the GB 32100 alphabet (no I, O, S, V, Z)
    ("employer", "Demo Employer Co., Ltd.", "employer", "MA1DEM01"),
    ("school", "Demo University", "school", "MA1DEM02"),
    ("bank", "Demo Bank", "bank", "MA1DEM03"),
    ("hotel", "Demo Riverside Hotel", "hotel", "MA1DEM04"),
)


def _uscc(region: str, serial: str) -> str:
    body = "91" + region + serial
    body += organisation_code_check_char(body[8:16])
    return body + social_credit_check_char(body)


def birth_date(member: Member, today: dt.date) -> dt.date:
    """A birthday in the spring, ``member.age`` years before the demo's day (so the age is the same all year)."""
    return dt.date(today.year - member.age - (1 if (today.month, today.day) < (3, 15) else 0), 3, 15)


async def _one(conn: AsyncConnection, table: Any, where: Any, values: dict[str, Any]) -> int:
    """The id of the row ``where`` finds, inserting ``values`` when there is none (setup runs once per database,
    but the tests' bulk data may already hold an office or organisation)."""
    found = (await conn.execute(select(table.id).where(where))).scalar()
    if found is None:
        found = (await conn.execute(insert(table).values(**values).returning(table.id))).scalar_one()
    return int(found)


async def _person(conn: AsyncConnection, m: Member, today: dt.date, now: dt.datetime) -> int:
    born = birth_date(m, today)
    pid_ = (
        await conn.execute(
            insert(Person)
            .values(
                surname=m.surname,
                given_names=m.given_names,
                birth_date=born,
                sex=m.sex,
                nationality=m.nationality,
                created_at=now,
            )
            .returning(Person.id)
        )
    ).scalar_one()
    expiry = today + dt.timedelta(days=2000)
    await conn.execute(
        insert(TravelDocument).values(
            person_id=pid_,
            number=m.passport,
            issuing_state=m.nationality,
            kind="passport",
            valid_until=expiry,
            current=True,
            mrz=mrz(m.surname, m.given_names, m.nationality, m.passport, born, m.sex, expiry),
        )
    )
    kind, number, category, entries, stay, began, left = m.holding
    holding = (
        await conn.execute(
            insert(Holding)
            .values(
                person_id=pid_,
                kind=kind,
                number=number,
                category=category,
                entries=entries,
                entries_used=1 if kind == "visa" else 0,
                valid_from=today - dt.timedelta(days=began),
                valid_until=today + dt.timedelta(days=left),
                stay_days=stay,
                extended_days=0,
                annotations=[],
                status="valid",
            )
            .returning(Holding.id)
        )
    ).scalar_one()
    await conn.execute(
        insert(Movement).values(
            person_id=pid_,
            direction="entry",
            on=today - dt.timedelta(days=m.entered_days_ago),
            port="PVG",
            holding_id=holding if kind == "visa" else None,
        )
    )
    return int(pid_)


async def seed_web(engine: AsyncEngine, today: dt.date) -> dict[str, Any]:
    """The cast on top of ``cnvisa.demo.seed`` offices (SH01 and BJ01): organisations, people with passports,
    holdings and entries, accounts, the mandate and the organisations' people. Returns the ids tests and pages
    need: ``offices`` and ``organisations`` by code, ``people`` in ``CAST`` order, ``accounts`` by user name."""
    now = dt.datetime.combine(today, dt.time(1, 0), tzinfo=dt.UTC)
    async with engine.begin() as conn:
        offices = {code: oid for code, oid in await conn.execute(select(Office.code, Office.id))}
        assert "SH01" in offices and "BJ01" in offices, "seed the offices first (cnvisa.demo.seed)"
        orgs = {
            key: await _one(
                conn,
                Organisation,
                Organisation.uscc == _uscc("310000", serial),
                {"uscc": _uscc("310000", serial), "name": name, "kind": kind, "region": "310000"},
            )
            for key, name, kind, serial in ORGANISATIONS
        }
        people = {m.key: await _person(conn, m, today, now) for m in CAST}
        await mark_stale(conn)  # holdings and entries written with Core: the sweep rebuilds its presence rows
        links: dict[str, dict[str, int]] = {
            **{account: {"person_id": people[member]} for account, member in SELF_APPLICANTS.items()},
            "sh01.officer": {"office_id": offices["SH01"]},
            "sh01.officer2": {"office_id": offices["SH01"]},
            "sh01.supervisor": {"office_id": offices["SH01"]},
            "bj01.officer": {"office_id": offices["BJ01"]},
            "employer.hr": {"organisation_id": orgs["employer"]},
            "university.office": {"organisation_id": orgs["school"]},
            "bank.teller": {"organisation_id": orgs["bank"]},
            "hotel.desk": {"organisation_id": orgs["hotel"]},
        }
        accounts = {
            d.username: await _one(
                conn,
                Account,
                Account.username == d.username,
                {
                    "username": d.username,
                    "display_name": d.display_name,
                    "role": d.role,
                    "password_hash": await hash_off_loop(d.password),
                    "active": True,
                    **links.get(d.username, {}),
                },
            )
            for d in DEMO
        }
        for username, port in PORT_DESKS.items():  # the port each port-visa desk serves (Law Art 20 para 1)
            await _one(
                conn,
                PortVisaDesk,
                PortVisaDesk.account_id == accounts[username],
                {"account_id": accounts[username], "port": port, "assigned_at": now, "note": "demo"},
            )
        stations = {
            code: await _one(
                conn,
                PoliceStation,
                PoliceStation.code == code,
                {
                    "code": code,
                    "name_zh": zh,
                    "name_en": en,
                    "office_id": offices[office],
                    "division_code": area,
                    "source": DEMO_STATIONS,
                },
            )
            for code, zh, en, office, area in POLICE_STATIONS
        }
        for username, code in POLICE_DESKS.items():
            await _one(
                conn,
                PoliceDesk,
                PoliceDesk.account_id == accounts[username],
                {
                    "account_id": accounts[username],
                    "station_id": stations[code],
                    "assigned_at": now,
                    "note": "demo",
                },
            )
        for account, (member, capacity) in MANDATES.items():
            await conn.execute(
                insert(Mandate).values(
                    agent_account_id=accounts[account],
                    person_id=people[member],
                    capacity=capacity,
                    valid_from=today - dt.timedelta(days=30),
                    valid_until=None,
                )
            )
        await conn.execute(
            insert(OrgPerson),
            [
                {
                    "organisation_id": orgs[m.organisation[0]],
                    "person_id": people[m.key],
                    "relation": m.organisation[1],
                    "since": today - dt.timedelta(days=m.holding[5]),
                }
                for m in CAST
                if m.organisation
            ],
        )
    return {
        "offices": offices,
        "organisations": orgs,
        "people": [people[m.key] for m in CAST],
        "cast": people,
        "accounts": accounts,
        "stations": stations,
    }
