"""The registers a newcomer sees used instead of paper (信息共享免交; ``cnvisa.cases.evidence``): Shanghai's office
asks for two papers beyond the national checklist (an office rule, ``OfficePaper``), and the registers that may
replace them hold records for the cast — Kenji's and María's accommodation registrations (Law Art 39) in
Shanghai, the employer's business licence revoked and the university's active. So María's accepted case shows a
paper waived, and Kenji's one-time notice a paper back with its reason (the employer's licence is revoked)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases.evidence import asked_for
from cnvisa.store.register_tables import AccommodationRegistration, OfficePaper, OrganisationLicence
from cnvisa.store.tables import Organisation

OFFICE_PAPERS: Final = (
    ("accommodation_registration", ["residence_permit"]),
    ("employer_business_licence", ["residence_permit"]),
)
"""Office rule (demo): the papers SH01 asks of a first residence permit beyond the national checklist."""
RELIES_ON_RECORDS: Final = {
    "kenji": ("accommodation_registration", "employer_business_licence"),
    "maria": ("accommodation_registration",),
}
"""The cast members who hand in neither paper and rely on the registers instead (``Plan.records``)."""
LICENCES: Final = (("employer", "revoked"), ("school", "active"))


async def seed_registers(engine: AsyncEngine, ids: dict[str, Any], today: dt.date) -> None:
    now = dt.datetime.combine(today, dt.time(1, 0), tzinfo=dt.UTC)
    people, orgs = ids["cast"], ids["organisations"]
    async with engine.begin() as conn:
        await conn.execute(
            insert(OfficePaper),
            [
                {
                    "office_id": ids["offices"]["SH01"],
                    "material_code": code,
                    "source": "demo: the office's published checklist (an office rule)",
                    "matters": matters,
                }
                for code, matters in OFFICE_PAPERS
            ],
        )
        for key, status in LICENCES:
            uscc = (
                await conn.execute(select(Organisation.uscc).where(Organisation.id == orgs[key]))
            ).scalar_one()
            await conn.execute(
                insert(OrganisationLicence).values(
                    organisation_id=orgs[key],
                    uscc=uscc,
                    status=status,
                    valid_until=None,
                    source="demo: market-regulation register",
                    recorded_at=now,
                )
            )
        await conn.execute(
            insert(AccommodationRegistration),
            [
                {
                    "person_id": people[key],
                    "address": address,
                    "division_code": division,
                    "registered_from": today - dt.timedelta(days=days),
                    "registered_until": None,
                    "registered_by": by,
                    "recorded_at": now,
                }
                for key, address, division, days, by in (
                    ("kenji", "Zhangjiang Road 100, Pudong New Area, Shanghai", "310115", 12, "hotel"),
                    ("maria", "Siping Road 1239, Yangpu District, Shanghai", "310110", 20, "host"),
                )
            ],
        )


async def office_papers(engine: AsyncEngine, office_id: int, matter: str) -> list[str]:
    """The papers the office asks of the matter beyond the national checklist (demo applicants hand them in
    unless they rely on the registers)."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(OfficePaper.material_code, OfficePaper.matters).where(
                    OfficePaper.office_id == office_id
                )
            )
        ).all()
    return asked_for(rows, matter)
