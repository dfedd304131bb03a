"""Demo sign-ins for the platform: one account per role, with the relations that make each page meaningful.

Printed by ``make run``; never use these passwords outside a demo."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.law.documents import organisation_code_check_char, social_credit_check_char
from cnvisa.store.tables import Account, Holding, Mandate, Movement, Office, Organisation, OrgPerson, Person
from cnvisa.web.security import hash_password


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    description: str
    display_name: str


def _uscc(region: str, serial: str) -> str:
    body = "91" + region + serial
    body += organisation_code_check_char(body[8:16])
    return body + social_credit_check_char(body)


DEMO: list[DemoAccount] = [
    DemoAccount(
        "alice",
        "alice-demo-2025",
        "applicant",
        "applicant (person 1, an employee of Demo Employer)",
        "Alice Martin",
    ),
    DemoAccount(
        "bob",
        "bob-demo-2025",
        "applicant",
        "applicant (person 2, a student of Demo University)",
        "Bob Okafor",
    ),
    DemoAccount(
        "carol", "carol-demo-2025", "agent", "relative acting for person 3 (亲友帮办)", "Carol Martin"
    ),
    DemoAccount(
        "sh01.officer", "officer-demo-2025", "officer", "officer, Shanghai office SH01", "Officer Wang Fang"
    ),
    DemoAccount(
        "sh01.officer2",
        "officer2-demo-2025",
        "officer",
        "second officer, SH01 (confirms refusals)",
        "Officer Li Qiang",
    ),
    DemoAccount(
        "sh01.supervisor", "supervisor-demo-2025", "supervisor", "supervisor, SH01", "Supervisor Zhang Wei"
    ),
    DemoAccount(
        "bj01.officer", "bj01-demo-2025", "officer", "officer, Beijing office BJ01", "Officer Zhao Lei"
    ),
    DemoAccount("employer.hr", "employer-demo-2025", "org_staff", "HR of Demo Employer", "HR, Demo Employer"),
    DemoAccount(
        "university.office",
        "school-demo-2025",
        "org_staff",
        "international office of Demo University",
        "International Office, Demo University",
    ),
    DemoAccount(
        "bank.teller", "bank-demo-2025", "verifier", "bank teller (Regulations Art 27)", "Teller, Demo Bank"
    ),
    DemoAccount("admin", "admin-demo-2025", "admin", "administrator", "Administrator"),
]


async def seed_web(engine: AsyncEngine, today: dt.date) -> dict[str, Any]:
    """Accounts, organisations, mandates and relations on top of ``cnvisa.demo.seed`` data (needs ≥ 6 people
    and the offices SH01 and BJ01). Returns the ids tests and pages need."""
    async with engine.begin() as conn:
        offices = {code: oid for code, oid in await conn.execute(select(Office.code, Office.id))}
        people = [pid for (pid,) in await conn.execute(select(Person.id).order_by(Person.id).limit(6))]
        assert len(people) >= 6 and "SH01" in offices and "BJ01" in offices, "seed demo data first"
        orgs = {}
        for key, name, kind, serial in (
            # serials use the GB 32100 alphabet (no I, O, S, V, Z)
            ("employer", "Demo Employer Co., Ltd.", "employer", "MA1DEM01"),
            ("school", "Demo University", "school", "MA1DEM02"),
            ("bank", "Demo Bank", "bank", "MA1DEM03"),
        ):
            code = _uscc("310000", serial)
            existing = (await conn.execute(select(Organisation.id).where(Organisation.uscc == code))).scalar()
            if existing is None:
                existing = (
                    await conn.execute(
                        insert(Organisation)
                        .values(uscc=code, name=name, kind=kind, region="310000")
                        .returning(Organisation.id)
                    )
                ).scalar_one()
            orgs[key] = existing
        ids: dict[str, Any] = {"offices": offices, "organisations": orgs, "people": people}
        links = {
            "alice": {"person_id": people[0]},
            "bob": {"person_id": people[1]},
            "sh01.officer": {"office_id": offices["SH01"]},
            "sh01.officer2": {"office_id": offices["SH01"]},
            "sh01.supervisor": {"office_id": offices["SH01"]},
            "bj01.officer": {"office_id": offices["BJ01"]},
            "employer.hr": {"organisation_id": orgs["employer"]},
            "university.office": {"organisation_id": orgs["school"]},
            "bank.teller": {"organisation_id": orgs["bank"]},
        }
        accounts = {}
        for d in DEMO:
            existing = (await conn.execute(select(Account.id).where(Account.username == d.username))).scalar()
            if existing is None:
                existing = (
                    await conn.execute(
                        insert(Account)
                        .values(
                            username=d.username,
                            display_name=d.display_name,
                            role=d.role,
                            password_hash=hash_password(d.password),
                            active=True,
                            **links.get(d.username, {}),
                        )
                        .returning(Account.id)
                    )
                ).scalar_one()
            accounts[d.username] = existing
        ids["accounts"] = accounts
        await conn.execute(
            insert(Mandate).values(
                agent_account_id=accounts["carol"],
                person_id=people[2],
                capacity="relative",
                valid_from=today - dt.timedelta(days=30),
                valid_until=None,
            )
        )
        await conn.execute(
            insert(OrgPerson),
            [
                {
                    "organisation_id": orgs["employer"],
                    "person_id": people[0],
                    "relation": "employee",
                    "since": today,
                },
                {
                    "organisation_id": orgs["employer"],
                    "person_id": people[3],
                    "relation": "employee",
                    "since": today,
                },
                {
                    "organisation_id": orgs["school"],
                    "person_id": people[1],
                    "relation": "student",
                    "since": today,
                },
                {
                    "organisation_id": orgs["school"],
                    "person_id": people[4],
                    "relation": "student",
                    "since": today,
                },
            ],
        )
        # alice holds a work-type residence permit; bob a study permit (for "my documents" and the annotation)
        await conn.execute(
            insert(Holding),
            [
                {
                    "person_id": people[0],
                    "kind": "residence_permit",
                    "number": "J25DEMO0001",
                    "category": "work",
                    "entries": None,
                    "entries_used": 0,
                    "valid_from": today - dt.timedelta(days=200),
                    "valid_until": today + dt.timedelta(days=165),
                    "stay_days": None,
                    "extended_days": 0,
                    "annotations": [],
                    "status": "valid",
                },
                {
                    "person_id": people[1],
                    "kind": "residence_permit",
                    "number": "J25DEMO0002",
                    "category": "study",
                    "entries": None,
                    "entries_used": 0,
                    "valid_from": today - dt.timedelta(days=100),
                    "valid_until": today + dt.timedelta(days=265),
                    "stay_days": None,
                    "extended_days": 0,
                    "annotations": [],
                    "status": "valid",
                },
            ],
        )
        await conn.execute(
            insert(Movement),
            [
                {
                    "person_id": people[0],
                    "direction": "entry",
                    "on": today - dt.timedelta(days=20),
                    "port": "PVG",
                },
            ],
        )
    return ids
