"""The officer's lists: the queue (by statutory deadline, then the applications awaiting acceptance) and the
overdue cases. Staff readers are audited.

A case that is a joint application's residence branch (issue 10 §1) carries the joint application's second clock
(the jurisdiction's service commitment) and which branch is waiting, read in the same statement: two left joins
by unique keys (``joint_applications.case_id``, ``work_permit_branches.joint_id``) on the page's rows only."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, select, text

from cnvisa.cases.actor import Actor
from cnvisa.cases.joint.decide import residence_decision, work_permit_decision
from cnvisa.cases.queries.reader import Reader
from cnvisa.law import one_stop
from cnvisa.store.fast import FastQuery
from cnvisa.store.joint_tables import JointApplication, WorkPermitBranch
from cnvisa.store.tables import DEADLINE_PREDICATE, QUEUE_PREDICATE, Case, Person

_CASE_COLUMNS = (Case.id, Case.number, Case.state, Case.matter, Case.deadline, Case.version)
_JOINT_COLUMNS = (
    JointApplication.id.label("joint_id"),
    JointApplication.number.label("joint_number"),
    JointApplication.commitment_due,
    WorkPermitBranch.state.label("work_permit_state"),
    WorkPermitBranch.statutory_due.label("work_permit_due"),
)


_S = TypeVar("_S", bound=Select[Any, *tuple[Any, ...]])


def _with_joint(q: _S) -> _S:
    """The queue's rows with their joint application, if any: each row at most one more index probe per table."""
    return q.outerjoin(JointApplication, JointApplication.case_id == Case.id).outerjoin(
        WorkPermitBranch, WorkPermitBranch.joint_id == JointApplication.id
    )


_QUEUE_ROW = _with_joint(
    select(*_CASE_COLUMNS, Person.surname, Person.given_names, *_JOINT_COLUMNS)
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
        acceptance) last — one range scan of the partial index ix_cases_queue. A staff reader is audited: another
        office's queue is Forbidden before anything is read; the read and its audit event run at once, and the rows
        are returned only when the event has committed (as ``queue_page``)."""
        self._read_is_audited(actor, office_id)

        async def read() -> Sequence[Any]:
            async with self.sessions() as s:
                return (
                    await s.execute(
                        _with_joint(select(*_CASE_COLUMNS, *_JOINT_COLUMNS))
                        .where(
                            Case.office_id == office_id, text("cases." + QUEUE_PREDICATE)
                        )  # literal: matches the partial index
                        .order_by(Case.deadline.asc().nulls_last(), Case.id)
                        .limit(limit)
                    )
                ).all()

        _, rows = await asyncio.gather(
            self._audit_read(actor, "read_queue", {"office": office_id}, office_id), read()
        )
        return [
            {
                "case_id": r.id,
                "number": r.number,
                "state": r.state,
                "matter": r.matter,
                "deadline": r.deadline.isoformat() if r.deadline else None,
                "version": r.version,
                "joint": joint_part(r._mapping),
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
                    "joint": joint_part(r),
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


def joint_part(r: Mapping[Any, Any]) -> dict[str, Any] | None:
    """A queue row's joint application (None: a case of its own): its number, the service commitment's due (the
    second clock; None where the jurisdiction has none), the work-permit branch's state and statutory due, and
    which branch the join is waiting for, or its outcome when it waits for none (``cnvisa.law.one_stop.join_outcome``;
    issue 10 §1)."""
    if r["joint_id"] is None:
        return None
    wp_state = r["work_permit_state"]
    join = one_stop.join_outcome(work_permit_decision(wp_state), residence_decision(r["state"]))
    due, wp_due = r["commitment_due"], r["work_permit_due"]
    return {
        "joint_id": r["joint_id"],
        "number": r["joint_number"],
        "service_commitment_due": due.isoformat() if due else None,
        "work_permit_state": wp_state,
        "work_permit_statutory_due": wp_due.isoformat() if wp_due else None,
        "waiting_for": list(join.waiting_for),
        "join": join.outcome,
    }
