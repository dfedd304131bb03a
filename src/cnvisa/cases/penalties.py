"""Penalty decisions for illegal residence (issue 12): the platform lists illegal residence and the most the law
allows, and imposes nothing; an officer records the decision made after the person was heard, with its articles
(the rules: ``cnvisa.law.penalties``). Only an officer or supervisor of an office whose overstay list names the
person today; the illegal residence is the register's, not the officer's word (its last lawful day from the
records, ``cases.queries.presence.last_lawful``). One decision per spell (Administrative Penalty Law Art 29): the
same decision sent again is answered as it stands, another one is refused. Every decision and every read audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases import audit
from cnvisa.cases.actor import Actor, caseless_event
from cnvisa.cases.clock import Clocked
from cnvisa.cases.errors import BadInput, Conflict, Forbidden, NotFound
from cnvisa.cases.queries.overstay import _as_date, _office_scope
from cnvisa.cases.queries.presence import last_lawful
from cnvisa.cases.workflow import STAFF
from cnvisa.law import penalties as rules
from cnvisa.law.errors import InvalidInput
from cnvisa.law.obligations import overstay
from cnvisa.store.penalty_tables import PenaltyDecision
from cnvisa.store.tables import Office, Person

STATEMENT_MAX = 4000
RECORDED = ("subject", "warning", "fine_cny", "detention_days", "serious", "authority", "heard_on")


class PenaltyRegister(Clocked):
    async def _staff_office(self, s: AsyncSession, actor: Actor, person_id: int, on: dt.date) -> Office:
        if actor.role not in STAFF or actor.office_id is None:
            raise Forbidden("an officer or supervisor records a penalty decision")
        office = await s.get(Office, actor.office_id)
        person = await s.get(Person, person_id)
        if office is None or person is None:
            raise NotFound(f"person {person_id}")
        listed = await s.execute(select(Person.id).where(Person.id == person_id, _office_scope(on, office)))
        if listed.first() is None:
            raise Forbidden("the person is not in this office's area")
        return office

    async def decide(self, actor: Actor, person_id: int, facts: dict[str, Any]) -> dict[str, Any]:
        """Record the decision ``facts`` (``subject``, ``warning``, ``fine_cny``, ``detention_days``, ``serious``,
        ``serious_reason``, ``authority``, ``decision_number``, ``heard_on``, ``statement``) about today's illegal
        residence of ``person_id``."""
        now, today = self.now(), self.today()
        statement = " ".join(str(facts.get("statement") or "").split()) or None
        if statement and len(statement) > STATEMENT_MAX:
            raise BadInput("statement", f"at most {STATEMENT_MAX} characters")
        async with self.sessions() as s, s.begin():
            await self._staff_office(s, actor, person_id, today)
            row = (await s.execute(last_lawful(today, [person_id]))).first()
            last = _as_date(row[2]) if row is not None else None
            if last is None or last >= today:
                raise BadInput(
                    "person_id", "not in illegal residence today on the records (Regulations Art 25)"
                )
            person = await s.get(Person, person_id)
            assert person is not None
            try:
                decision = rules.check(
                    rules.Facts(
                        subject=str(facts.get("subject", "person")),
                        last_lawful_day=last,
                        decided_on=today,
                        heard_on=facts["heard_on"],
                        authority=str(facts.get("authority", "")),
                        warning=bool(facts.get("warning")),
                        fine_cny=int(facts.get("fine_cny") or 0),
                        detention_days=int(facts.get("detention_days") or 0),
                        serious=bool(facts.get("serious")),
                        serious_reason=str(facts.get("serious_reason") or ""),
                        decision_number=str(facts.get("decision_number") or ""),
                        birth_date=person.birth_date,
                    )
                )
            except InvalidInput as exc:
                raise BadInput(exc.field, exc.message) from None
            earlier = (
                await s.execute(
                    select(PenaltyDecision).where(
                        PenaltyDecision.person_id == person_id,
                        PenaltyDecision.subject == str(facts.get("subject", "person")),
                        PenaltyDecision.last_lawful_day == last,
                    )
                )
            ).scalar_one_or_none()
            if earlier is not None:
                mine = _out(earlier)
                if all(mine[k] == _plain(facts.get(k, mine[k])) for k in RECORDED):
                    return mine  # sent again: answered as it stands
                raise Conflict(
                    "this illegal residence already has its penalty decision (Administrative Penalty Law Art 29)"
                )
            d = PenaltyDecision(
                person_id=person_id,
                office_id=actor.office_id,
                decided_by=actor.account_id,
                decided_on=today,
                decided_at=now,
                subject=str(facts.get("subject", "person")),
                last_lawful_day=last,
                days_overstayed=decision.days_overstayed,
                warning=bool(facts.get("warning")),
                fine_cny=int(facts.get("fine_cny") or 0),
                detention_days=int(facts.get("detention_days") or 0),
                serious=bool(facts.get("serious")),
                serious_reason=str(facts.get("serious_reason") or "").strip() or None,
                authority=str(facts["authority"]),
                decision_number=str(facts.get("decision_number") or "").strip() or None,
                heard_on=facts["heard_on"],
                statement=statement,
                payment_due=decision.payment_due,
                citations=[c.as_dict() for c in decision.citations],
            )
            s.add(d)
            await s.flush()
            detail = {"penalty": d.id, "person": person_id, **{k: _plain(getattr(d, k)) for k in RECORDED}}
            await audit.append(s, **caseless_event(actor, now, "penalty_decided", detail, actor.office_id))
            return {**_out(d), "max_fine_cny": decision.max_fine_cny}

    async def standing(self, actor: Actor, person_id: int) -> dict[str, Any]:
        """Who the person is and their illegal residence today on the records (days, the most Law Art 78 para 1
        allows), for the officer about to record a decision."""
        today = self.today()
        async with self.sessions() as s:
            await self._staff_office(s, actor, person_id, today)
            person = await s.get(Person, person_id)
            assert person is not None
            row = (await s.execute(last_lawful(today, [person_id]))).first()
        last = _as_date(row[2]) if row is not None else None
        o = overstay(last, today) if last is not None else None
        return {
            "person_id": person_id,
            "name": f"{person.surname} {person.given_names}",
            "nationality": person.nationality,
            "birth_date": person.birth_date.isoformat(),
            "last_lawful_day": last.isoformat() if last else None,
            "days_overstayed": o.days_overstayed if o else None,
            "max_fine_cny": o.max_fine_cny if o else None,
        }

    async def of_person(self, actor: Actor, person_id: int) -> list[dict[str, Any]]:
        """The person's decisions, newest first (staff of an office whose area has the person; audited)."""
        today = self.today()
        async with self.sessions() as s, s.begin():
            await self._staff_office(s, actor, person_id, today)
            rows = (
                await s.execute(
                    select(PenaltyDecision)
                    .where(PenaltyDecision.person_id == person_id)
                    .order_by(PenaltyDecision.decided_at.desc(), PenaltyDecision.id.desc())
                )
            ).scalars()
            out = [_out(r) for r in rows]
            detail = {"person": person_id, "decisions": [d["id"] for d in out]}
            await audit.append(
                s, **caseless_event(actor, self.now(), "read_penalties", detail, actor.office_id)
            )
        return out


def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


def _out(d: PenaltyDecision) -> dict[str, Any]:
    cols = [c.name for c in PenaltyDecision.__table__.columns]
    out = {c: _plain(getattr(d, c)) for c in cols if c not in ("decided_at",)}
    out["decided_at"] = d.decided_at.isoformat()
    out["imposed_by_the_platform"] = False
    return out
