"""The officer's lists: the queue (by statutory deadline, then the applications awaiting acceptance) and the
overdue cases. Staff readers are audited."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import bindparam, select, text

from cnvisa.cases.actor import Actor
from cnvisa.cases.queries.reader import Reader
from cnvisa.store.fast import FastQuery
from cnvisa.store.tables import DEADLINE_PREDICATE, QUEUE_PREDICATE, Case, Person

_QUEUE_ROW = (
    select(
        Case.id,
        Case.number,
        Case.state,
        Case.matter,
        Case.deadline,
        Case.version,
        Person.surname,
        Person.given_names,
    )
    .join(Person, Person.id == Case.person_id)
    .where(
        Case.office_id == bindparam("office_id"), text("cases." + QUEUE_PREDICATE)
    )  # literal: the partial index
)
QUEUE_DUE = FastQuery(
    _QUEUE_ROW.where(Case.deadline.is_not(None)).order_by(Case.deadline, Case.id).limit(bindparam("limit"))
)
"""The queue page's decisions due: open cases whose statutory deadline runs, by deadline (overdue first)."""
QUEUE_AWAITING = FastQuery(
    # ordered by (deadline, id) although every deadline here is NULL: the index's own order, so the planner
    # reads the first rows instead of sorting all of an office's waiting cases
    _QUEUE_ROW.where(Case.deadline.is_(None)).order_by(Case.deadline, Case.id).limit(bindparam("limit"))
)
"""The queue page's applications awaiting acceptance, oldest first."""


class QueueQueries(Reader):
    async def queue(
        self, office_id: int, limit: int = 50, actor: Actor | None = None
    ) -> list[dict[str, Any]]:
        """The officer queue: open cases of one office by statutory deadline, cases without one (awaiting
        acceptance) last — one range scan of the partial index ix_cases_queue. A staff reader is audited."""
        await self._audit_read(actor, "read_queue", {"office": office_id}, office_id)
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    select(Case.id, Case.number, Case.state, Case.matter, Case.deadline, Case.version)
                    .where(
                        Case.office_id == office_id, text(QUEUE_PREDICATE)
                    )  # literal: matches the partial index
                    .order_by(Case.deadline.asc().nulls_last(), Case.id)
                    .limit(limit)
                )
            ).all()
        return [
            {
                "case_id": r.id,
                "number": r.number,
                "state": r.state,
                "matter": r.matter,
                "deadline": r.deadline.isoformat() if r.deadline else None,
                "version": r.version,
            }
            for r in rows
        ]

    async def queue_page(self, office_id: int, limit: int, actor: Actor) -> dict[str, list[dict[str, Any]]]:
        """The officer's queue page under one audited read: ``due`` — open cases whose statutory deadline runs,
        by deadline (overdue first) — and ``awaiting`` — submitted applications not yet accepted, oldest first
        (no deadline runs before acceptance: Regulations Art 13, 18). Each at most ``limit``, with the
        applicant's name; both are range scans of the partial index ix_cases_queue, run as hot reads."""
        self._read_is_audited(actor, office_id)  # another office's queue: Forbidden before anything is read
        # the reads and the audit at once; the rows are returned only when the audit has committed
        _, due, awaiting = await asyncio.gather(
            self._audit_read(actor, "read_queue", {"office": office_id}, office_id),
            self.reads.all(QUEUE_DUE, office_id=office_id, limit=limit),
            self.reads.all(QUEUE_AWAITING, office_id=office_id, limit=limit),
        )
        return {
            name: [
                {
                    "case_id": r["id"],
                    "number": r["number"],
                    "state": r["state"],
                    "matter": r["matter"],
                    "deadline": r["deadline"].isoformat() if r["deadline"] else None,
                    "version": r["version"],
                    "applicant": f"{r['surname']} {r['given_names']}",
                }
                for r in rows
            ]
            for name, rows in (("due", due), ("awaiting", awaiting))
        }

    async def overdue(
        self, office_id: int | None = None, actor: Actor | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Open cases past their statutory deadline (the receipt's end), oldest first (at most ``limit``).
        A staff reader is audited."""
        await self._audit_read(actor, "read_overdue", {"office": office_id}, office_id)
        on = self.today()
        async with self.sessions() as s:
            q = select(Case.id, Case.number, Case.state, Case.deadline).where(
                text(DEADLINE_PREDICATE),
                Case.deadline < on,  # literal: matches the partial index
            )
            if office_id is not None:
                q = q.where(Case.office_id == office_id)
            q = q.order_by(Case.deadline, Case.id)
            if limit is not None:
                q = q.limit(limit)
            rows = (await s.execute(q)).all()
        return [
            {"case_id": r.id, "number": r.number, "state": r.state, "deadline": r.deadline.isoformat()}
            for r in rows
        ]
