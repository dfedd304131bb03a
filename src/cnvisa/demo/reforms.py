"""The 2024 NIA measures in the demo (issue 10 §2-3): Alice, who has held two work-type residence permits of one
year in a row, applies to extend hers with the facts of a permit of up to five years (the officer's case page and
her checklist show "may be granted up to DATE, on these grounds"); and her employer has notified two post
changes — one acknowledged (a new post in Pudong, within the employer: the Art 26 report filed with it), one
referred (a post at a subsidiary in Beijing: another employer, with what to apply for instead)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases.actor import Actor
from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.cases.post_change import PostChanges
from cnvisa.cases.queries.presence import mark_stale
from cnvisa.cases.workflow import Role, State
from cnvisa.demo.cast import CAST, birth_date
from cnvisa.demo.story import Plan
from cnvisa.store.db import sessionmaker
from cnvisa.store.tables import Holding, TravelDocument

EARLIER_PERMIT = "J24DEMO0001"
"""Alice's earlier work-type permit: one year, ending the day before her present one began."""


def _alice() -> Any:
    return next(m for m in CAST if m.key == "alice")


def five_year_facts(today: dt.date, passport_until: dt.date | None) -> dict[str, Any]:
    """The ``five_year`` facts of Alice's extension (cnvisa.law.five_year): two one-year work-type permits in a
    row, a professional, her work permit to mid-2028."""
    _kind, _number, _category, _entries, _stay, began, left = _alice().holding
    now_from, now_until = today - dt.timedelta(days=began), today + dt.timedelta(days=left)
    first_until = now_from - dt.timedelta(days=1)
    first_from = first_until - dt.timedelta(days=364)
    return {
        "role": "professional_technical",
        "permits": [
            {"type": "work", "valid_from": first_from.isoformat(), "valid_until": first_until.isoformat()},
            {"type": "work", "valid_from": now_from.isoformat(), "valid_until": now_until.isoformat()},
        ],
        "work_permit_valid_until": dt.date(today.year + 2, 6, 30).isoformat(),
        **({"passport_valid_until": passport_until.isoformat()} if passport_until else {}),
    }


async def plans(engine: AsyncEngine, ids: dict[str, Any], today: dt.date) -> list[tuple[Plan, dt.date]]:
    """Alice's earlier permit on record, and her extension with the five-year facts (submitted at SH01)."""
    alice = _alice()
    person = ids["cast"]["alice"]
    facts = five_year_facts(today, None)
    first = facts["permits"][0]
    async with engine.begin() as conn:
        passport = (
            await conn.execute(
                select(TravelDocument.valid_until).where(
                    TravelDocument.person_id == person, TravelDocument.current.is_(True)
                )
            )
        ).scalar_one_or_none()
        await conn.execute(
            insert(Holding).values(
                person_id=person,
                kind="residence_permit",
                number=EARLIER_PERMIT,
                category="work",
                entries_used=0,
                valid_from=dt.date.fromisoformat(first["valid_from"]),
                valid_until=dt.date.fromisoformat(first["valid_until"]),
                extended_days=0,
                annotations=[],
                status="valid",
            )
        )
        await mark_stale(conn)  # a holding written with Core (cnvisa.cases.queries.presence)
    _kind, number, category, _entries, _stay, _began, left = alice.holding
    inputs = {
        "applicant": {"birth_date": birth_date(alice, today).isoformat(), "nationality": alice.nationality},
        "holding_number": number,
        "residence_permit": {"type": category, "valid_until": (today + dt.timedelta(days=left)).isoformat()},
        "requested": {"validity_days": 1825},
        "five_year": five_year_facts(today, passport),
    }
    applicant = Actor(ids["accounts"]["alice"], Role.APPLICANT, person_id=person)
    plan = Plan(
        person, applicant, ids["offices"]["SH01"], "residence_permit_extension", inputs, State.SUBMITTED
    )
    return [(plan, today - dt.timedelta(days=1))]


async def post_changes(engine: AsyncEngine, ids: dict[str, Any], today: dt.date) -> list[int]:
    """Alice's employer notifies a post change at a subsidiary in Beijing (referred) and one within the employer
    in Pudong (acknowledged). Returns their ids."""
    clock = ManualClock(dt.datetime.combine(today, dt.time(8, 0), tzinfo=SHANGHAI))
    service = PostChanges(sessionmaker(engine), clock)
    hr = Actor(
        ids["accounts"]["employer.hr"], Role.ORG_STAFF, organisation_id=ids["organisations"]["employer"]
    )
    person = ids["cast"]["alice"]
    async with engine.connect() as conn:
        holding = (
            await conn.execute(select(Holding.id).where(Holding.number == _alice().holding[1]))
        ).scalar_one()
    common = {"person_id": person, "holding_id": holding, "role": "manager"}
    referred = await service.file(
        hr,
        **common,
        to_region="110000",
        position="General manager, Demo Employer (Beijing) Subsidiary Ltd.",
        work_location="8 Jianguomen Outer Street, Chaoyang, Beijing",
        effective_on=today - dt.timedelta(days=20),
        organisation="subsidiary_or_affiliate",
        idempotency_key="demo:post-change:referred",
    )
    acknowledged = await service.file(
        hr,
        **common,
        to_region="310115",
        position="Head of research and development",
        work_location="88 Zhangjiang Road, Pudong New Area, Shanghai",
        effective_on=today - dt.timedelta(days=10),
        idempotency_key="demo:post-change:acknowledged",
    )
    return [int(referred["id"]), int(acknowledged["id"])]
