"""The reads of post changes (issue 10 §3; ``cnvisa.cases.post_change`` files them): the employer's staff see
their organisation's, the holder (or the agent acting for them) their own, the officers those of the office that
is, or was, responsible for the holder (the office's read is audited, as the Art 26 reports' is). Each row has
what is still due, the Art 26 report filed with it and, when referred, what to apply for instead — as the law
engine answered when it was filed."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from cnvisa.cases import audit
from cnvisa.cases.actor import Actor, caseless_event
from cnvisa.cases.appointments import people_for
from cnvisa.cases.errors import Forbidden
from cnvisa.cases.registry import holding_status
from cnvisa.cases.workflow import STAFF, Role
from cnvisa.store.post_change_tables import PostChange
from cnvisa.store.tables import Holding, Office, Organisation, OrgPerson, Person

Sessions = async_sessionmaker[AsyncSession]
SHOWN: Final = 200
"""The newest post changes a list shows."""


def _name(p: Person) -> str:
    return f"{p.surname} {p.given_names}".strip()


def _row(
    pc: PostChange, person: Person, org: Organisation, from_o: Office | None, to_o: Office | None
) -> dict[str, Any]:
    answer = pc.answer or {}
    due = [
        {**item, "done": item.get("code") == "employer_report_work_location" and pc.org_report_id is not None}
        for item in answer.get("due", [])
    ]
    return {
        "id": pc.id,
        "state": pc.state,
        "person_id": pc.person_id,
        "person_name": _name(person),
        "organisation_id": org.id,
        "organisation": org.name,
        "holding_id": pc.holding_id,
        "kind": pc.kind,
        "from_region": pc.from_region,
        "to_region": pc.to_region,
        "position": pc.position,
        "work_location": pc.work_location,
        "effective_on": pc.effective_on,
        "filed_at": pc.filed_at,
        "from_office": from_o.code if from_o else None,
        "responsible_office": to_o.code if to_o and pc.state == "acknowledged" else None,
        "org_report_id": pc.org_report_id,
        "why": answer.get("why"),
        "referred_reason": pc.referred_reason,
        "due": due,
        "instead": answer.get("instead", []),
        "citations": answer.get("citations", []),
    }


async def listing(sessions: Sessions, actor: Actor, now: dt.datetime) -> list[dict[str, Any]]:
    """The post changes ``actor`` may see, newest first (rule in the module docstring)."""
    from_o, to_o = aliased(Office), aliased(Office)
    q = (
        select(PostChange, Person, Organisation, from_o, to_o)
        .join(Person, Person.id == PostChange.person_id)
        .join(Organisation, Organisation.id == PostChange.organisation_id)
        .outerjoin(from_o, from_o.id == PostChange.from_office_id)
        .outerjoin(to_o, to_o.id == PostChange.to_office_id)
        .order_by(PostChange.filed_at.desc(), PostChange.id.desc())
        .limit(SHOWN)
    )
    if actor.role is Role.ORG_STAFF:
        if actor.organisation_id is None:
            raise Forbidden("an organisation's staff account without an organisation")
        q = q.where(PostChange.organisation_id == actor.organisation_id)
    elif actor.role in (Role.APPLICANT, Role.AGENT):
        q = q.where(PostChange.person_id.in_(sorted(people_for(actor)) or [0]))
    elif actor.role in STAFF and actor.office_id is not None:
        q = q.where(
            or_(PostChange.to_office_id == actor.office_id, PostChange.from_office_id == actor.office_id)
        )
    else:
        raise Forbidden(f"a {actor.role} does not see post changes")
    async with sessions() as s:
        rows = [_row(*r) for r in (await s.execute(q)).all()]
    if actor.role in STAFF:
        async with sessions() as s, s.begin():
            await audit.append(
                s, **caseless_event(actor, now, "read_post_changes", {"count": len(rows)}, actor.office_id)
            )
    return rows


async def candidates(sessions: Sessions, actor: Actor, today: dt.date) -> list[dict[str, Any]]:
    """The organisation's employees holding a residence permit valid today: whom a post change may be filed
    for, each with the permit (``holding_id``) it keeps."""
    if actor.role is not Role.ORG_STAFF or actor.organisation_id is None:
        raise Forbidden("only the employer's staff file a post change")
    async with sessions() as s:
        rows = (
            await s.execute(
                select(Person, Holding)
                .join(OrgPerson, OrgPerson.person_id == Person.id)
                .join(Holding, Holding.person_id == Person.id)
                .where(
                    OrgPerson.organisation_id == actor.organisation_id,
                    OrgPerson.relation == "employee",
                    or_(OrgPerson.until.is_(None), OrgPerson.until >= today),
                    Holding.kind == "residence_permit",
                )
                .order_by(Person.surname, Person.given_names, Holding.valid_until.desc())
            )
        ).all()
    out = []
    for person, h in rows:
        if holding_status(h, today) == "valid":
            out.append(
                {
                    "person_id": person.id,
                    "name": _name(person),
                    "holding_id": h.id,
                    "number": h.number,
                    "category": h.category,
                    "valid_until": h.valid_until,
                }
            )
    return out
