"""``cnvisa demo setup``: offices and a background population (``bulk``), the cast (``cast``), then every demo
case played through the workflow (``story``): the cast's own cases first, then ``cases`` more for people of the
background population, each application built from what that person holds (their visa, their entry)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.cases.obligations import ObligationRegister
from cnvisa.cases.service import Actor
from cnvisa.cases.workflow import Role, State
from cnvisa.demo import reforms
from cnvisa.demo.accommodation_story import seed_accommodation
from cnvisa.demo.bulk import seed
from cnvisa.demo.cast import CAST, Member, birth_date, seed_web
from cnvisa.demo.joint_story import seed_joint
from cnvisa.demo.port_visa_story import seed_port_visas
from cnvisa.demo.registers import RELIES_ON_RECORDS, office_papers, seed_registers
from cnvisa.demo.story import Plan, Staff, office_staff, play, required, schedule, service_for, steps
from cnvisa.demo.vocab import STATES
from cnvisa.store.db import sessionmaker
from cnvisa.store.tables import Holding, Movement, Person

OPEN = {State.SUBMITTED, State.DEFICIENT, State.ACCEPTED, State.UNDER_VERIFICATION, State.REFUSAL_PROPOSED}


def _member(key: str) -> Member:
    return next(c for c in CAST if c.key == key)


def _applicant(key: str, today: dt.date) -> dict[str, Any]:
    m = _member(key)
    return {"birth_date": birth_date(m, today).isoformat(), "nationality": m.nationality}


def _entry(key: str, today: dt.date) -> str:
    return (today - dt.timedelta(days=_member(key).entered_days_ago)).isoformat()


def _held(key: str, today: dt.date) -> dict[str, Any]:
    """The visa or permit the member holds, as the law contract describes it."""
    kind, _number, category, entries, stay, _began, left = _member(key).holding
    until = (today + dt.timedelta(days=left)).isoformat()
    if kind == "residence_permit":
        return {"type": category, "valid_until": until}
    visa = {"category": category, "entries": entries, "stay_days": stay}
    return visa if category in ("Z", "X1") else {**visa, "valid_until": until}


def cast_plans(ids: dict[str, Any], today: dt.date) -> list[tuple[Plan, dt.date]]:
    """The cast's cases (see ``cnvisa.demo.cast``), each with the day of its last step."""
    people, accounts, sh01 = ids["cast"], ids["accounts"], ids["offices"]["SH01"]
    counter = {m: Actor(None, Role.APPLICANT, person_id=people[m]) for m in people}
    day = dt.timedelta(days=1)
    return [
        # Kenji: his work-type residence permit, applied without the work permit and health certificate
        (Plan(people["kenji"], counter["kenji"], sh01, "residence_permit",
              {"applicant": _applicant("kenji", today), "entry_date": _entry("kenji", today),
               "visa": _held("kenji", today),
               "requested": {"permit_type": "work", "validity_days": 730}}, State.DEFICIENT), today - 2 * day),
        # María: her study-type residence permit, accepted with a receipt
        (Plan(people["maria"], counter["maria"], sh01, "residence_permit",
              {"applicant": _applicant("maria", today), "entry_date": _entry("maria", today),
               "visa": _held("maria", today),
               "requested": {"permit_type": "study", "validity_days": 365}}, State.ACCEPTED), today - day),
        # Léo: the extension of his family-reunion permit, applied for by his mother; the new permit is issued
        (Plan(people["leo"], Actor(accounts["carol"], Role.AGENT, represents=frozenset({people["leo"]})), sh01,
              "residence_permit_extension",
              {"applicant": _applicant("leo", today), "holding_number": "J25DEMO0003",
               "residence_permit": _held("leo", today),
               "requested": {"validity_days": 365}}, State.ISSUED, "relative"), today - day),
        # Bob: the off-campus work annotation of his study permit, submitted
        (Plan(people["bob"], Actor(accounts["bob"], Role.APPLICANT, person_id=people["bob"]), sh01,
              "study_work_annotation",
              {"applicant": _applicant("bob", today), "holding_number": "J25DEMO0002",
               "residence_permit": _held("bob", today)}, State.SUBMITTED),
         today - day),
        # David: the extension of his stay, decided and collected
        (Plan(people["david"], counter["david"], sh01, "visa_extension",
              {"applicant": _applicant("david", today), "holding_number": "V25DEMO0006",
               "entry_date": _entry("david", today), "visa": _held("david", today),
               "requested": {"extension_days": 30}}, State.COLLECTED), today - day),
    ]  # fmt: skip


def _background_inputs(row: Any, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """An application that fits what the person holds: a Z or X1 visa becomes a residence permit (Law Art 30),
    any other visa's stay is extended (Law Art 29)."""
    applicant = {"birth_date": row.birth_date.isoformat(), "nationality": row.nationality}
    if row.category in ("Z", "X1"):
        kind = "work" if row.category == "Z" else "study"
        return "residence_permit", {
            "applicant": applicant,
            "entry_date": row.on.isoformat(),
            "visa": {"category": row.category, "entries": row.entries, "stay_days": row.stay_days},
            "requested": {"permit_type": kind, "validity_days": rng.choice([365, 730])},
        }
    return "visa_extension", {
        "applicant": applicant,
        "holding_number": row.number,
        "entry_date": row.on.isoformat(),
        "visa": {
            "category": row.category,
            "entries": row.entries,
            "valid_until": row.valid_until.isoformat(),
            "stay_days": row.stay_days,
        },
        "requested": {"extension_days": 30},
    }


async def background_plans(
    engine: AsyncEngine, today: dt.date, cases: int, staff: dict[int, Staff], rng: random.Random
) -> list[tuple[Plan, dt.date]]:
    """``cases`` plans for people of the bulk population (each person at most once), states drawn with the
    bulk seed's weights, offices weighted towards SH01 (the demo officers' office)."""
    async with engine.connect() as conn:
        rows = list(
            await conn.execute(
                select(
                    Person.id,
                    Person.surname,
                    Person.given_names,
                    Person.birth_date,
                    Person.nationality,
                    Holding.number,
                    Holding.category,
                    Holding.entries,
                    Holding.valid_until,
                    Holding.stay_days,
                    Movement.on,
                )
                .join(Holding, Holding.person_id == Person.id)
                .join(Movement, Movement.holding_id == Holding.id)
                .where(Holding.kind == "visa", Holding.issued_by_case_id.is_(None))
                .order_by(Person.id)
                .limit(cases * 6)
            )
        )
    rng.shuffle(rows)
    offices = sorted(staff)
    weights = [6 if i == 0 else 1 for i in range(len(offices))]
    plans: list[tuple[Plan, dt.date]] = []
    namesakes = {
        (m.surname, m.given_names) for m in CAST
    }  # the story's people stay the only ones of their name
    for row in rows:
        if len(plans) >= cases:
            break
        if (row.surname, row.given_names) in namesakes:
            continue
        target = rng.choices([s for s, _ in STATES], [w for _, w in STATES])[0]
        last = today - dt.timedelta(days=rng.randint(1, 8 if target in OPEN else 25))
        matter, inputs = _background_inputs(row, rng)
        person = Actor(None, Role.APPLICANT, person_id=row.id)
        plan = Plan(
            row.id,
            person,
            rng.choices(offices, weights)[0],
            matter,
            inputs,
            target,
            notice_first=rng.random() < 0.2,
        )
        first = schedule(steps(plan), last)[0]
        if first > row.on and required(plan, first) is not None:
            plans.append((plan, last))
    return plans


async def setup(engine: AsyncEngine, today: dt.date, cases: int = 300, seed_value: int = 1) -> dict[str, Any]:
    """Everything ``cnvisa demo setup`` writes; returns the cast's ids and the played cases' ids by state."""
    await seed(engine, cases=0, seed_value=seed_value, today=today, population=max(60, cases * 3))
    ids = await seed_web(engine, today)
    await seed_registers(engine, ids, today)
    member_of = {pid: key for key, pid in ids["cast"].items()}
    staff = await office_staff(engine)
    sh01 = ids["offices"]["SH01"]
    staff[sh01] = Staff(sh01, ids["accounts"]["sh01.officer"], ids["accounts"]["sh01.officer2"])
    rng = random.Random(seed_value)
    service, clock = service_for(engine, today)
    played: dict[str, list[int]] = {}
    cast = [*cast_plans(ids, today), *await reforms.plans(engine, ids, today)]
    for plan, last in [*cast, *await background_plans(engine, today, cases, staff, rng)]:
        relies = RELIES_ON_RECORDS.get(member_of.get(plan.person_id, ""), ())
        asked = await office_papers(engine, plan.office_id, plan.matter)
        plan.papers = tuple(c for c in asked if c not in relies)
        days = schedule(steps(plan), last)
        case_id = await play(service, clock, plan, staff[plan.office_id], days)
        played.setdefault(str(plan.target), []).append(case_id)
    post_changes = await reforms.post_changes(engine, ids, today)
    joint = await seed_joint(engine, today, ids, agent=True)  # carol follows one (AGENT_PLAN)
    stays = await seed_accommodation(engine, today, ids)
    port_visas = await seed_port_visas(engine, today)
    # the register the daily sweep keeps (issue 12), as it stands on the demo's morning
    morning = ManualClock(dt.datetime.combine(today, dt.time(9), tzinfo=SHANGHAI))
    duties = await ObligationRegister(sessionmaker(engine), morning).sweep(today)
    return {
        **ids,
        "cases": played,
        "post_changes": post_changes,
        "joint": joint,
        "accommodation": stays,
        "port_visas": port_visas,
        "obligations": {change: len(ids_) for change, ids_ in duties.items()},
    }
