"""Named reads of joint applications: the work-permit desk's queue and a joint application's progress (both
branches, both clocks, which branch is waiting)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases.actor import Actor
from cnvisa.cases.errors import Forbidden, NotFound
from cnvisa.cases.joint import parent_flow as pf
from cnvisa.cases.joint import work_permit_flow as wf
from cnvisa.cases.joint.decide import load_joint_parts, residence_decision, work_permit_decision
from cnvisa.cases.joint.external import route_of
from cnvisa.cases.joint.views import joint_view
from cnvisa.cases.queries import passport_view
from cnvisa.cases.queries.reader import Reader
from cnvisa.cases.workflow import Role
from cnvisa.law import calendar as workdays
from cnvisa.law import one_stop
from cnvisa.law.acceptance import RESIDENCE_RECEIPT_WORKING_DAYS
from cnvisa.law.errors import CalendarYearNotLoaded
from cnvisa.store.agency_tables import AgencyCorrelation
from cnvisa.store.joint_tables import JointApplication, WorkPermit, WorkPermitBranch
from cnvisa.store.tables import Case, Office, Person

DESK_QUEUE_LIMIT = 50

_EARLIER_DUE = sql_case(
    (
        JointApplication.commitment_due.is_not(None)
        & (JointApplication.commitment_due < WorkPermitBranch.statutory_due),
        JointApplication.commitment_due,
    ),
    else_=WorkPermitBranch.statutory_due,
)


class JointQueries(Reader):
    async def work_permit_desk_queue(
        self, actor: Actor, *, limit: int = DESK_QUEUE_LIMIT
    ) -> list[dict[str, Any]]:
        """The work-permit desk's queue at its single window office: the open work-permit branches, the one due
        first (the earlier of its statutory due and the service commitment's due) on top. The read is audited."""
        if actor.role is not Role.WORK_PERMIT_OFFICER or actor.office_id is None:
            raise Forbidden("the work-permit desk's queue is for work-permit officers")
        limit = max(1, min(int(limit), 200))
        q = (
            select(
                JointApplication.id,
                JointApplication.number,
                JointApplication.person_id,
                JointApplication.work_permit,
                JointApplication.commitment_due,
                JointApplication.jurisdiction,
                WorkPermitBranch.reference,
                WorkPermitBranch.state,
                WorkPermitBranch.version,
                WorkPermitBranch.statutory_due,
                WorkPermitBranch.extended,
                _EARLIER_DUE.label("due"),
            )
            .join(WorkPermitBranch, WorkPermitBranch.joint_id == JointApplication.id)
            .where(
                JointApplication.window_office_id == actor.office_id,
                JointApplication.state == str(pf.JState.ACCEPTED),  # an open branch's parent is accepted
                WorkPermitBranch.state.in_([str(s) for s in wf.OPEN]),
                # an external authority's branches are decided by its own system, not at the desk
                ~exists().where(AgencyCorrelation.correlation_id == WorkPermitBranch.reference),
            )
            # Reading (equivalent to ordering by ``_EARLIER_DUE``): an accepted joint application always has a
            # service commitment due before its statutory due — the acceptance guard (one_stop.receipt_covers)
            # admits it only when the commitment's due is within the 15-working-day receipt, which ends before
            # the statutory 20 working days, and an extension moves both by 10 — so the earlier due IS the
            # commitment's, and the queue is one ordered range scan of ix_joint_applications_desk_queue
            # (1,000,000 cases: ≈ 40 ms sorted, ≈ 3 ms by the index; benchmarks/RESULTS.md).
            .order_by(JointApplication.commitment_due, JointApplication.id)
            .limit(limit)
        )

        async def read() -> Sequence[Any]:
            async with self.sessions() as s:
                return (await s.execute(q)).all()

        # the read and its audit event at once; the rows are returned only when the event has committed
        _, rows = await asyncio.gather(
            self._audit_read(actor, "work_permit_desk_queue", {"limit": limit}, actor.office_id), read()
        )
        return [
            {
                "joint_id": r.id,
                "number": r.number,
                "person_id": r.person_id,
                "category": r.work_permit.get("category"),
                "position": r.work_permit.get("position"),
                "reference": r.reference,
                "state": r.state,
                "version": r.version,
                "statutory_due": r.statutory_due.isoformat() if r.statutory_due else None,
                "service_commitment_due": r.commitment_due.isoformat() if r.commitment_due else None,
                "jurisdiction": r.jurisdiction,
                "extended": r.extended,
                "due": r.due.isoformat() if r.due else None,
            }
            for r in rows
        ]

    async def joint_progress(self, actor: Actor, joint_id: int) -> dict[str, Any]:
        """A joint application as its reader may see it: both branches, both clocks, the join and which branch
        is waiting. The applicant side and the window office's staff see their own; a work-permit officer those
        of the single window the desk sits at. Staff's reads are audited."""
        async with self.sessions() as s:
            joint = await s.get(JointApplication, joint_id)
            if joint is None:
                raise NotFound(f"joint application {joint_id}")
            branch, case = await load_joint_parts(s, joint)
            self._may_read(actor, joint, case)
            permit = await _permit(s, branch)
            out = joint_view(joint, branch, case, permit, route=await route_of(s, branch.reference))
        await self._audit_read(actor, "joint_progress", {"joint": joint.number}, joint.window_office_id)
        return out

    async def joint_list(self, actor: Actor, *, limit: int = DESK_QUEUE_LIMIT) -> list[dict[str, Any]]:
        """The joint applications of the applicant side, latest first: an applicant's own, an agent's of the
        people they hold a mandate for, the employer's staff's of their organisation for the people they act for
        (the same people ``joint_progress`` lets them read: ``cnvisa.cases.actor.may_touch``)."""
        people = _people_of(actor)
        if people is None:
            raise Forbidden(f"a {actor.role} has no joint applications of their own")
        if not people:
            return []
        limit = max(1, min(int(limit), 200))
        q = (
            select(
                JointApplication.id,
                JointApplication.number,
                JointApplication.state,
                JointApplication.version,
                JointApplication.person_id,
                JointApplication.employer_organisation_id,
                JointApplication.work_permit,
                JointApplication.created_at,
                JointApplication.accepted_on,
                JointApplication.commitment_due,
                WorkPermitBranch.state.label("work_permit_state"),
                WorkPermitBranch.statutory_due,
                Case.state.label("residence_state"),
                Case.receipt_valid_until,
                Person.surname,
                Person.given_names,
            )
            .join(WorkPermitBranch, WorkPermitBranch.joint_id == JointApplication.id)
            .join(Case, Case.id == JointApplication.case_id)
            .join(Person, Person.id == JointApplication.person_id)
            .where(JointApplication.person_id.in_(sorted(people)))
            .order_by(JointApplication.created_at.desc(), JointApplication.id.desc())
            .limit(limit)
        )
        if actor.role is Role.ORG_STAFF:
            q = q.where(JointApplication.employer_organisation_id == actor.organisation_id)
        async with self.sessions() as s:
            rows = (await s.execute(q)).all()
        return [
            {
                "joint_id": r.id,
                "number": r.number,
                "state": r.state,
                "version": r.version,
                "person_id": r.person_id,
                "name": f"{r.surname} {r.given_names}".strip(),
                "employer_organisation_id": r.employer_organisation_id,
                "category": r.work_permit.get("category"),
                "position": r.work_permit.get("position"),
                "submitted_at": r.created_at,
                "accepted_on": r.accepted_on.isoformat() if r.accepted_on else None,
                "work_permit_state": r.work_permit_state,
                "residence_state": r.residence_state,
                "work_permit_statutory_due": r.statutory_due.isoformat() if r.statutory_due else None,
                "service_commitment_due": r.commitment_due.isoformat() if r.commitment_due else None,
                "residence_receipt_valid_until": (
                    r.receipt_valid_until.isoformat() if r.receipt_valid_until else None
                ),
            }
            for r in rows
        ]

    async def window_queue(self, actor: Actor, *, limit: int = DESK_QUEUE_LIMIT) -> list[dict[str, Any]]:
        """The single window's open joint applications (submitted, deficient, accepted, issued) at the officer's
        office, oldest first: both branches' states, both clocks (the statutory dues, the service commitment's due,
        the receipt's end) and which branch is waiting (issue 10 §1). The read is audited."""
        if actor.role not in (Role.OFFICER, Role.SUPERVISOR) or actor.office_id is None:
            raise Forbidden("the single window's joint applications are for its officers")
        limit = max(1, min(int(limit), 200))
        open_states = [str(pf.JState.SUBMITTED), str(pf.JState.DEFICIENT), str(pf.JState.ACCEPTED),
                       str(pf.JState.ISSUED)]  # fmt: skip
        q = (
            select(
                JointApplication.id,
                JointApplication.number,
                JointApplication.state,
                JointApplication.version,
                JointApplication.person_id,
                JointApplication.work_permit,
                JointApplication.created_at,
                JointApplication.commitment_due,
                WorkPermitBranch.state.label("work_permit_state"),
                WorkPermitBranch.statutory_due,
                Case.id.label("case_id"),
                Case.state.label("residence_state"),
                Case.receipt_valid_until,
                Person.surname,
                Person.given_names,
            )
            .join(WorkPermitBranch, WorkPermitBranch.joint_id == JointApplication.id)
            .join(Case, Case.id == JointApplication.case_id)
            .join(Person, Person.id == JointApplication.person_id)
            .where(
                JointApplication.window_office_id == actor.office_id, JointApplication.state.in_(open_states)
            )
            .order_by(JointApplication.created_at, JointApplication.id)
            .limit(limit)
        )
        async with self.sessions() as s:
            rows = (await s.execute(q)).all()
        await self._audit_read(actor, "joint_window_queue", {"rows": len(rows)}, actor.office_id)
        out = []
        for r in rows:
            join = one_stop.join_outcome(
                work_permit_decision(r.work_permit_state), residence_decision(r.residence_state)
            )
            out.append(
                {
                    "joint_id": r.id,
                    "number": r.number,
                    "state": r.state,
                    "version": r.version,
                    "person_id": r.person_id,
                    "name": f"{r.surname} {r.given_names}".strip(),
                    "category": r.work_permit.get("category"),
                    "position": r.work_permit.get("position"),
                    "submitted_at": r.created_at,
                    "case_id": r.case_id,
                    "work_permit_state": r.work_permit_state,
                    "residence_state": r.residence_state,
                    "work_permit_statutory_due": r.statutory_due.isoformat() if r.statutory_due else None,
                    "service_commitment_due": r.commitment_due.isoformat() if r.commitment_due else None,
                    "residence_receipt_valid_until": (
                        r.receipt_valid_until.isoformat() if r.receipt_valid_until else None
                    ),
                    "join": join.outcome,
                    "waiting_for": list(join.waiting_for),
                }
            )
        return out

    async def joint_of_case(self, case_id: int) -> dict[str, Any] | None:
        """The joint application a residence case is the branch of (its id and number), or None. For a page
        that has already read the case as its reader may (the officer's case page links the single window)."""
        async with self.sessions() as s:
            row = (
                await s.execute(
                    select(JointApplication.id, JointApplication.number).where(
                        JointApplication.case_id == case_id
                    )
                )
            ).first()
        return {"joint_id": row.id, "number": row.number} if row else None

    async def window_passport(self, case_id: int) -> dict[str, Any]:
        """The passport part of the single window's acceptance and collection forms, as the case page's
        (``passport_view.passport_options``: the passport on record, the reasons to keep it, the free collection
        slots within the receipt — the one accepted today would end on its 15th working day, Regulations Art 18
        para 1). For a page that has already read the joint application as its reader may."""
        async with self.sessions() as s:
            case = await s.get(Case, case_id)
            if case is None:
                raise NotFound(f"case {case_id}")
            office = await s.get(Office, case.office_id)
            assert office is not None
            today, last = self.today(), case.receipt_valid_until
            if last is None:
                try:
                    last = workdays.add_working_days(today, RESIDENCE_RECEIPT_WORKING_DAYS)
                except CalendarYearNotLoaded:
                    last = None
            return await passport_view.passport_options(s, case, office, today, last)

    def _may_read(self, actor: Actor, joint: JointApplication, case: Any) -> None:
        if actor.role is Role.WORK_PERMIT_OFFICER:
            if actor.office_id != joint.window_office_id:
                raise Forbidden("the joint application belongs to another single window")
            return
        self._may_touch(actor, case)


def _people_of(actor: Actor) -> frozenset[int] | None:
    """Whose joint applications an applicant-side actor follows (None: not the applicant side)."""
    if actor.role is Role.APPLICANT:
        return frozenset({actor.person_id}) if actor.person_id is not None else frozenset()
    if actor.role in (Role.AGENT, Role.ORG_STAFF):
        return actor.represents
    return None


async def _permit(s: AsyncSession, branch: WorkPermitBranch) -> WorkPermit | None:
    return await s.get(WorkPermit, branch.work_permit_id) if branch.work_permit_id else None
