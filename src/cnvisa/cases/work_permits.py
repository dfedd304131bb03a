"""The work-permit register as cnvisa keeps it (``WorkPermit``, granted at the desk or by the authority's system
through a joint application): a person's work permit on a date, the five-year answer bounded by it, the record a
post change updates, and the register's lookup for a waived paper (``cnvisa.cases.evidence.LOOKUPS``).

Reading (issue 10 §1-§3): where the register holds an active work permit of the person, its validity is the
work-permit bound of the five-year answer (Law Art 41, 43; seed 001 l.16) — the authority's act, not what the
application states; a stated date that differs is replaced and the difference shown."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases.actor import Actor
from cnvisa.cases.errors import BadInput, Forbidden
from cnvisa.cases.queries.reader import Reader
from cnvisa.cases.workflow import STAFF, Role
from cnvisa.law.errors import InvalidInput
from cnvisa.law.five_year import five_year_permit
from cnvisa.store.joint_tables import WorkPermit
from cnvisa.store.tables import Organisation

ACTIVE = "active"


async def work_permit_on(
    s: AsyncSession, person_id: int, on: dt.date, *, employer_organisation_id: int | None = None
) -> WorkPermit | None:
    """The person's active work permit covering ``on`` (of that employer, if named): the one lasting longest."""
    q = (
        select(WorkPermit)
        .where(
            WorkPermit.person_id == person_id,
            WorkPermit.status == ACTIVE,
            WorkPermit.valid_from <= on,
            WorkPermit.valid_until >= on,
        )
        .order_by(WorkPermit.valid_until.desc(), WorkPermit.id.desc())
        .limit(1)
    )
    if employer_organisation_id is not None:
        q = q.where(WorkPermit.employer_organisation_id == employer_organisation_id)
    return (await s.execute(q)).scalar_one_or_none()


async def latest_work_permit(
    s: AsyncSession, person_id: int, *, employer_uscc: str | None = None
) -> WorkPermit | None:
    """The person's latest work permit in any status (of that employer, if named): what a lookup that matched
    nothing shows why."""
    q = select(WorkPermit).where(WorkPermit.person_id == person_id)
    if employer_uscc is not None:
        q = q.join(Organisation, Organisation.id == WorkPermit.employer_organisation_id).where(
            Organisation.uscc == employer_uscc
        )
    q = q.order_by(WorkPermit.valid_until.desc(), WorkPermit.id.desc()).limit(1)
    return (await s.execute(q)).scalar_one_or_none()


async def register_record(s: AsyncSession, permit: WorkPermit) -> dict[str, Any]:
    """The fields of a work permit a waiver's match needs (``cnvisa.law.shared_records.match_record``)."""
    org = await s.get(Organisation, permit.employer_organisation_id)
    return {
        "number": permit.number,
        "person_id": permit.person_id,
        "employer_uscc": org.uscc if org else None,
        "status": permit.status,
        "valid_from": permit.valid_from.isoformat(),
        "valid_until": permit.valid_until.isoformat(),
    }


async def five_year_answer(s: AsyncSession, person_id: int, facts: dict[str, Any]) -> dict[str, Any]:
    """``cnvisa.law.five_year.five_year_permit`` for a person, its work-permit bound taken from the register when
    the person has an active work permit on ``facts["on"]`` (the module's Reading). The answer carries
    ``work_permit_bound`` ({source: register|stated|none, number, valid_until, stated})."""
    if not isinstance(facts, dict):
        raise BadInput("facts", "an object (cnvisa.law.five_year facts)")
    try:
        on = dt.date.fromisoformat(str(facts.get("on")))
    except ValueError:
        raise BadInput("facts.on", "a date, YYYY-MM-DD") from None
    stated = facts.get("work_permit_valid_until")
    permit = await work_permit_on(s, person_id, on)
    asked = dict(facts)
    bound: dict[str, Any] = {"source": "stated" if stated else "none", "number": None, "valid_until": stated}
    if permit is not None:
        asked["work_permit_valid_until"] = permit.valid_until.isoformat()
        bound = {"source": "register", "number": permit.number, "valid_until": permit.valid_until.isoformat()}
    bound["stated"] = stated
    try:
        answer = five_year_permit(asked)
    except InvalidInput as exc:
        raise BadInput(f"facts.{exc.field}", exc.message) from None
    return {**answer, "work_permit_bound": bound}


class WorkPermitQueries(Reader):
    """``WorkPermitQueries(sessions, clock=None, reads=None)``: the register's reads for the HTTP layers."""

    async def five_year(self, actor: Actor, person_id: int, facts: dict[str, Any]) -> dict[str, Any]:
        """``five_year_answer`` for ``person_id``, ``facts.on`` defaulting to today (Beijing): the person
        themself, an agent or employer staff representing them, or staff (their read is audited)."""
        if actor.role is Role.APPLICANT and actor.person_id != person_id:
            raise Forbidden("another person's work permit")
        if actor.role in (Role.AGENT, Role.ORG_STAFF) and person_id not in actor.represents:
            raise Forbidden("not a person you represent")
        if actor.role not in (Role.APPLICANT, Role.AGENT, Role.ORG_STAFF, *STAFF):
            raise Forbidden(f"a {actor.role} does not ask the five-year answer")
        asked = {"on": self.today().isoformat(), **facts} if isinstance(facts, dict) else facts
        async with self.sessions() as s:
            out = await five_year_answer(s, person_id, asked)
        await self._audit_read(actor, "five_year_answer", {"person_id": person_id}, None)
        return out
