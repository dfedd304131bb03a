"""The officers' search: by case number, passport number or name, over the cases of the officer's office and
the people who have a case there. Every search is audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select

from cnvisa.cases import audit
from cnvisa.cases.errors import BadInput
from cnvisa.cases.queries.escalation import NEAR_WORKING_DAYS
from cnvisa.cases.queries.office_case import deadline_flag
from cnvisa.cases.service import Actor, CaseService, caseless_event
from cnvisa.store.tables import Case, Person, TravelDocument

SEARCH_LIMIT = 50


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_view(
    cases: CaseService, actor: Actor, office_id: int, q: str, near: int = NEAR_WORKING_DAYS
) -> dict[str, Any]:
    """Cases of the officer's office by case number, passport number (travel_documents.number) or name;
    people only when they have a case in the office. Every search is audited."""
    q = " ".join("".join(ch for ch in q if ch.isprintable()).split())[:100]
    if len(q) < 2:
        raise BadInput("q", "at least 2 characters")
    terms = q.upper().split()
    in_office = select(Case.person_id).where(Case.office_id == office_id)
    by_name = and_(
        *(
            or_(
                func.upper(Person.surname).like(_like(t), escape="\\"),
                func.upper(Person.given_names).like(_like(t), escape="\\"),
            )
            for t in terms
        )
    )
    by_passport = Person.id.in_(
        select(TravelDocument.person_id).where(
            func.upper(TravelDocument.number) == q.upper().replace(" ", "")
        )
    )
    async with cases.sessions() as s, s.begin():
        people = (
            (
                await s.execute(
                    select(Person)
                    .where(Person.id.in_(in_office), or_(by_name, by_passport))
                    .order_by(Person.surname, Person.given_names, Person.id)
                    .limit(SEARCH_LIMIT)
                )
            )
            .scalars()
            .all()
        )
        person_ids = [x.id for x in people]
        case_rows = (
            await s.execute(
                select(Case.id, Case.number, Case.state, Case.matter, Case.deadline, Case.person_id)
                .where(
                    Case.office_id == office_id,
                    or_(
                        func.upper(Case.number).like(_like(q.upper().replace(" ", "")), escape="\\"),
                        Case.receipt_number == q.upper(),
                        Case.person_id.in_(person_ids),
                    ),
                )
                .order_by(Case.id.desc())
                .limit(SEARCH_LIMIT * 4)
            )
        ).all()
        extra = {r.person_id for r in case_rows} - set(person_ids)
        if extra:
            people = [
                *people,
                *(await s.execute(select(Person).where(Person.id.in_(extra)))).scalars().all(),
            ]
        docs = (
            await s.execute(
                select(TravelDocument.person_id, TravelDocument.number, TravelDocument.issuing_state).where(
                    TravelDocument.person_id.in_([x.id for x in people])
                )
            )
        ).all()
        found = {"q": q, "cases": len(case_rows), "people": len(people)}
        await audit.append(s, **caseless_event(actor, cases.now(), "search", found, office_id))
    names = {x.id: f"{x.surname} {x.given_names}" for x in people}
    today = cases.today()
    cases_out = []
    for r in case_rows:
        left, flag = deadline_flag(r.state, r.deadline, today, near)
        cases_out.append(
            {
                "case_id": r.id,
                "number": r.number,
                "state": r.state,
                "matter": r.matter,
                "deadline": r.deadline.isoformat() if r.deadline else None,
                "working_days_left": left,
                "flag": flag,
                "person_id": r.person_id,
                "applicant": names.get(r.person_id, ""),
            }
        )
    return {
        "q": q,
        "cases": cases_out,
        "people": [
            {
                "id": x.id,
                "surname": x.surname,
                "given_names": x.given_names,
                "birth_date": x.birth_date.isoformat(),
                "nationality": x.nationality,
                "passports": [f"{d.issuing_state} {d.number}" for d in docs if d.person_id == x.id],
                "cases": [c["case_id"] for c in cases_out if c["person_id"] == x.id],
            }
            for x in people
        ],
    }
