"""The applicant side's reads: the people an actor may act for, who submits for them (Regulations Art 19), their
last entry, their cases and documents, and the facts on record an application is assessed with."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Integer,
    String,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases.appointments import people_for
from cnvisa.cases.errors import BadInput
from cnvisa.cases.evidence import asked_for
from cnvisa.cases.registry import Registry
from cnvisa.cases.service import Actor
from cnvisa.cases.workflow import Role
from cnvisa.store.fast import FastQuery, Reads
from cnvisa.store.register_tables import OfficePaper
from cnvisa.store.tables import Case, Holding, Mandate, Movement, Office, Person

Sessions = async_sessionmaker[AsyncSession]


def record_facts(
    inputs: dict[str, Any], birth_date: dt.date | None, nationality: str | None
) -> dict[str, Any]:
    """The law engine's input with the applicant's facts on record: the record, not the form, says how old the
    applicant is (Regulations Art 19 para 1(1)) and of which nationality. Every assessment of an application —
    the form's check before it is sent and the submitted case — takes its facts from here."""
    if birth_date is not None and isinstance(inputs.setdefault("applicant", {}), dict):
        inputs["applicant"]["birth_date"] = birth_date.isoformat()
        inputs["applicant"]["nationality"] = nationality
    return inputs


APPLY_FACTS = FastQuery(
    select(
        select(Office.id).where(Office.id == bindparam("office_id")).scalar_subquery().label("office_id"),
        select(Person.birth_date)
        .where(Person.id == bindparam("person_id"))
        .scalar_subquery()
        .label("birth_date"),
        select(Person.nationality)
        .where(Person.id == bindparam("person_id"))
        .scalar_subquery()
        .label("nationality"),
    )
)
"""What an application needs from the records before it is opened — whether the office exists, and the
applicant's birth date and nationality — in one hot read."""


_NO_PAPER = (cast(null(), String).label("code"), cast(null(), JSON).label("matters"))
APPLY_FACTS_AND_PAPERS = FastQuery(
    union_all(
        select(
            literal_column("0", Integer).label("k"),
            literal_column("0", Integer).label("paper_id"),
            *APPLY_FACTS.stmt.selected_columns,
            *_NO_PAPER,
        ),
        select(
            literal_column("1", Integer),
            OfficePaper.id,
            cast(null(), Integer),
            cast(null(), Date),
            cast(null(), String),
            OfficePaper.material_code,
            OfficePaper.matters,
        ).where(OfficePaper.office_id == bindparam("office_id")),
    )
    .subquery()
    .select()
    .order_by(text("k"), text("paper_id"))
)
"""``APPLY_FACTS`` (the first row) and the window office's own papers (``OfficePaper``, a row each, in the
order of their ids) in ONE hot read, before the joint submission's transaction: a round trip less inside it."""


async def application_facts(
    reads: Reads, sessions: Sessions, person_id: int, office_id: int, inputs: dict[str, Any]
) -> dict[str, Any]:
    """``inputs`` checked against the records and completed with the facts on record (``record_facts``): the
    office exists, the visa or permit named (``holding_number``) is the person's."""
    found = await reads.first(APPLY_FACTS, person_id=person_id, office_id=office_id)
    return await _checked(sessions, found, person_id, office_id, inputs)


async def application_facts_and_papers(
    reads: Reads, sessions: Sessions, person_id: int, office_id: int, inputs: dict[str, Any], matter: str
) -> tuple[dict[str, Any], list[str]]:
    """``application_facts`` and the papers the office asks for ``matter`` beyond the national checklist
    (``cnvisa.cases.evidence.asked_for``, an office rule), read together."""
    rows = await reads.all(APPLY_FACTS_AND_PAPERS, person_id=person_id, office_id=office_id)
    found = rows[0] if rows else None
    checked = await _checked(sessions, found, person_id, office_id, inputs)
    return checked, asked_for(((r["code"], r["matters"]) for r in rows[1:]), matter)


async def _checked(
    sessions: Sessions,
    found: Mapping[str, Any] | None,
    person_id: int,
    office_id: int,
    inputs: dict[str, Any],
) -> dict[str, Any]:
    if found is None or found["office_id"] is None:
        raise BadInput("application.office_id", f"no office {office_id}")
    number = inputs.get("holding_number")
    if number:
        async with sessions() as s:
            held = (
                await s.execute(
                    select(Holding.id).where(Holding.number == str(number), Holding.person_id == person_id)
                )
            ).first()
        if held is None:
            raise BadInput("application.inputs.holding_number", "not a visa or permit of this person")
    return record_facts(inputs, found["birth_date"], found["nationality"])


async def people(sessions: Sessions, ids: frozenset[int] | set[int]) -> dict[int, dict[str, Any]]:
    """Name, birth date and nationality of each person."""
    if not ids:
        return {}
    async with sessions() as s:
        rows = (
            await s.execute(select(Person).where(Person.id.in_(sorted(ids))).order_by(Person.id))
        ).scalars()
        return {
            r.id: {
                "id": r.id,
                "name": f"{r.surname}, {r.given_names}".strip(", "),
                "birth_date": r.birth_date.isoformat(),
                "nationality": r.nationality,
            }
            for r in rows
        }


async def submitter_for(sessions: Sessions, actor: Actor, person_id: int, on: dt.date) -> str:
    """Who submits: the applicant themself, or the agent in the capacity of their mandate (Art 19)."""
    if actor.role is Role.APPLICANT and actor.person_id == person_id:
        return "self"
    async with sessions() as s:
        capacity = (
            await s.execute(
                select(Mandate.capacity)
                .where(
                    Mandate.agent_account_id == actor.account_id,
                    Mandate.person_id == person_id,
                    Mandate.valid_from <= on,
                    (Mandate.valid_until.is_(None)) | (Mandate.valid_until >= on),
                )
                .order_by(Mandate.id)
            )
        ).scalar()
    return str(capacity or "relative")


async def last_entry(sessions: Sessions, person_id: int, on: dt.date) -> str | None:
    """The date of the person's last entry into China on record by ``on`` (for the forms to suggest)."""
    async with sessions() as s:
        day = (
            await s.execute(
                select(func.max(Movement.on)).where(
                    Movement.person_id == person_id, Movement.direction == "entry", Movement.on <= on
                )
            )
        ).scalar()
    return day.isoformat() if day else None


async def list_cases(sessions: Sessions, actor: Actor) -> list[dict[str, Any]]:
    """The cases of the people the actor may follow, newest first."""
    ids = people_for(actor)
    if not ids:
        return []
    async with sessions() as s:
        rows = (
            await s.execute(
                select(Case)
                .where(Case.person_id.in_(sorted(ids)))
                .order_by(Case.created_at.desc(), Case.id.desc())
                .limit(500)
            )
        ).scalars()
        return [
            {
                "case_id": c.id,
                "number": c.number,
                "person_id": c.person_id,
                "office_id": c.office_id,
                "matter": c.matter,
                "state": c.state,
                "version": c.version,
                "receipt_number": c.receipt_number,
                "receipt_valid_until": c.receipt_valid_until.isoformat() if c.receipt_valid_until else None,
                "created_at": c.created_at.isoformat(),
                "updated_at": c.updated_at.isoformat(),
            }
            for c in rows
        ]


async def documents(
    sessions: Sessions, registry: Registry, actor: Actor, on: dt.date
) -> list[dict[str, Any]]:
    """The visas and permits of each person the actor may follow, as of ``on``."""
    ids = people_for(actor)
    info = await people(sessions, set(ids))
    return [
        {"person": info.get(pid, {"id": pid}), "documents": await registry.documents_of(pid, on)}
        for pid in sorted(ids)
    ]
