"""Escalation (issue 12): the cases of an office near their statutory deadline and those past it, for the
office's supervisor, and the count of both per office for the administration.

The deadline is the acceptance receipt's last day (Regulations Art 13 para 1, Art 18 para 1), counted in working
days (Regulations Art 36 para 2). "Near" is an office rule, not law: at most ``near_working_days`` working days
left (``CNVISA_ESCALATION_WORKING_DAYS``, 2 by default) — the law sets the deadline, not when to warn of it.

A case is near when ``working_days_between(today, deadline) <= N`` and the deadline is not past: every deadline
before the (N+1)-th working day after today. Overdue: the deadline is before today. Both are ranges of the
partial index ``ix_cases_deadline_open`` (office, deadline), read a page at a time; the counts are separate
COUNTs over the same ranges. A year whose holiday notice is not loaded leaves "near" unknown (never guessed):
only the overdue list is given and ``near_known`` is false.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import func, select, text

from cnvisa.cases.actor import Actor
from cnvisa.cases.queries.reader import Reader
from cnvisa.law import calendar as workdays
from cnvisa.law.errors import LawError
from cnvisa.store.tables import DEADLINE_PREDICATE, Case, Office, Person

NEAR_WORKING_DAYS: Final = 2
"""Office rule (the law sets no warning period): a case with this many working days or fewer before its
statutory deadline is near it, and escalated."""
CITATIONS: Final = ("Regulations Art 13 para 1", "Regulations Art 18 para 1", "Regulations Art 36 para 2")


def near_cutoff(today: dt.date, near_working_days: int) -> dt.date | None:
    """The last deadline that is near on ``today``: the day before the (N+1)-th working day after today
    (so ``working_days_between(today, d) <= N`` for every d up to it). None when the calendar does not reach."""
    if type(near_working_days) is not int or near_working_days < 0:
        raise ValueError(f"near_working_days must be an integer ≥ 0, got {near_working_days!r}")
    try:
        return workdays.add_working_days(today, near_working_days + 1) - dt.timedelta(days=1)
    except LawError:
        return None


def _open(office_id: int | None) -> Any:
    q = select(Case.id).where(text(DEADLINE_PREDICATE))  # literal: the partial index
    return q if office_id is None else q.where(Case.office_id == office_id)


class EscalationQueries(Reader):
    async def escalations(
        self,
        office_id: int,
        near_working_days: int = NEAR_WORKING_DAYS,
        actor: Actor | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """The office's overdue cases (oldest deadline first) and those near their deadline, each at most
        ``limit`` with its count; one audited staff read."""
        await self._audit_read(
            actor, "read_escalations", {"office": office_id, "near": near_working_days}, office_id
        )
        today = self.today()
        cutoff = near_cutoff(today, near_working_days)
        ranges: dict[str, tuple[dt.date | None, dt.date]] = {"overdue": (None, today - dt.timedelta(days=1))}
        if cutoff is not None:
            ranges["near"] = (today, cutoff)
        out: dict[str, Any] = {
            "office_id": office_id,
            "today": today.isoformat(),
            "near_working_days": near_working_days,
            "near_until": cutoff.isoformat() if cutoff else None,
            "near_known": cutoff is not None,
            "rule": "office rule",
            "citations": list(CITATIONS),
        }
        async with self.sessions() as s:
            for name, (low, high) in ranges.items():
                where = [Case.deadline <= high] + ([Case.deadline >= low] if low else [])
                count = (
                    await s.execute(
                        select(func.count()).select_from(_open(office_id).where(*where).subquery())
                    )
                ).scalar_one()
                rows = (
                    await s.execute(
                        select(
                            Case.id,
                            Case.number,
                            Case.state,
                            Case.matter,
                            Case.deadline,
                            Person.surname,
                            Person.given_names,
                        )
                        .join(Person, Person.id == Case.person_id)
                        .where(Case.id.in_(_open(office_id).where(*where)))
                        .order_by(Case.deadline, Case.id)
                        .limit(limit)
                    )
                ).all()
                out[name] = {
                    "count": count,
                    "more": count > len(rows),
                    "items": [
                        {
                            "case_id": r.id,
                            "number": r.number,
                            "state": r.state,
                            "matter": r.matter,
                            "deadline": r.deadline.isoformat(),
                            "working_days_left": _left(today, r.deadline),
                            "applicant": f"{r.surname} {r.given_names}",
                        }
                        for r in rows
                    ],
                }
        out.setdefault("near", None)
        return out

    async def escalation_counts(self, near_working_days: int = NEAR_WORKING_DAYS) -> list[dict[str, Any]]:
        """Per office (every office, by code): how many open cases are overdue and how many near their deadline
        (None when the calendar does not reach). For the administration and ``cnvisa db escalations``."""
        today = self.today()
        cutoff = near_cutoff(today, near_working_days)
        overdue = func.count().filter(Case.deadline < today)
        near = func.count().filter(Case.deadline >= today, Case.deadline <= cutoff) if cutoff else None
        columns = [Case.office_id, overdue.label("overdue")] + (
            [near.label("near")] if near is not None else []
        )
        async with self.sessions() as s:
            counts = {
                r.office_id: r
                for r in await s.execute(
                    select(*columns).where(text(DEADLINE_PREDICATE)).group_by(Case.office_id)
                )
            }
            offices = (await s.execute(select(Office.id, Office.code).order_by(Office.code))).all()
        return [
            {
                "office": o.code,
                "overdue": counts[o.id].overdue if o.id in counts else 0,
                "near": (counts[o.id].near if o.id in counts else 0) if cutoff else None,
            }
            for o in offices
        ]


def _left(today: dt.date, deadline: dt.date) -> int | None:
    """Working days from today to the deadline, negative when past it; None where the calendar does not reach."""
    try:
        if deadline >= today:
            return workdays.working_days_between(today, deadline)
        return -workdays.working_days_between(deadline, today)
    except LawError:
        return None
