"""The shared part of the joint application's commands (``cnvisa.cases.joint.commands``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases import evidence
from cnvisa.cases.actor import Actor
from cnvisa.cases.agencies import WorkPermitClient
from cnvisa.cases.commands.intake import IntakeCommands
from cnvisa.cases.commands.issuance import IssuanceCommands
from cnvisa.cases.errors import Conflict, Forbidden, GuardFailed, InvalidCommand, NotFound
from cnvisa.cases.joint import parent_flow as pf
from cnvisa.cases.joint import work_permit_flow as wf
from cnvisa.cases.joint.decide import pinned_clocks, record
from cnvisa.cases.joint.external import EXTERNAL, WorkPermitRouting, deliver, route_of
from cnvisa.cases.joint.views import joint_view
from cnvisa.law import one_stop
from cnvisa.store.joint_tables import JointApplication, WorkPermit, WorkPermitBranch
from cnvisa.store.tables import Account, Case, Office


def guard(ok: bool, name: str, detail: str) -> None:
    if not ok:
        raise GuardFailed(name, pf.GUARD_ARTICLES.get(name, ""), detail)


class JointBase(IntakeCommands, IssuanceCommands):
    """What the joint application's commands share: loading, authorising by the parent's table, the audited
    steps of the parent and the work-permit branch, the view, and sending to an external authority."""

    routing: WorkPermitRouting = WorkPermitRouting()
    """Which offices' work-permit branches go to an external authority (``cnvisa.cases.joint.external``)."""
    work_permit_client: WorkPermitClient | None = None
    """The external authority's client, when this process reaches it (else ``cnvisa agency poll`` sends)."""

    # -- loading -----------------------------------------------------------------------------------------
    async def _load_joint(
        self, s: AsyncSession, joint_id: int, version: int | None, actor: Actor
    ) -> tuple[JointApplication, WorkPermitBranch, Case]:
        joint, branch, case, _, _ = await self._load_joint_at(s, joint_id, version, actor, window=False)
        return joint, branch, case

    async def _load_joint_at(
        self, s: AsyncSession, joint_id: int, version: int | None, actor: Actor, *, window: bool = True
    ) -> tuple[JointApplication, WorkPermitBranch, Case, Office | None, str | None]:
        """The joint application, its work-permit branch and its residence case in ONE joined read; ``window``:
        the window office too (in the session: a later ``get`` of it reads nothing) and the acting account's name
        (the receipt names who checked the passport).

        The parent's row is locked here (FOR UPDATE; SQLite serialises writers anyway): two commands on one joint
        application — a retry racing its first try, two officers — otherwise both read it, then updated the parent,
        its branch and the case in turn while the other's inserts held the case (its unique receipt number makes
        the case's update a key update): PostgreSQL ended one with a deadlock, a 500. Now the second waits here,
        then meets the new version: a replay of the same key, or 409."""
        q = (
            select(JointApplication, WorkPermitBranch, Case)
            .join(WorkPermitBranch, WorkPermitBranch.joint_id == JointApplication.id)
            .join(Case, Case.id == JointApplication.case_id)
            .where(JointApplication.id == joint_id)
            .with_for_update(of=JointApplication)
        )
        if window:
            q = q.add_columns(Office).join(Office, Office.id == Case.office_id)
            if actor.account_id is not None:
                q = q.add_columns(Account.display_name).outerjoin(Account, Account.id == actor.account_id)
        row = (await s.execute(q)).first()
        if row is None:
            raise NotFound(f"joint application {joint_id}")
        cols: list[Any] = list(row)
        joint, branch, case = cols[0], cols[1], cols[2]
        self._may_touch(actor, case)  # before the version: a stranger learns nothing
        if version is not None and joint.version != version:
            raise Conflict(f"joint application {joint.number} is at version {joint.version}, not {version}")
        office = cols[3] if window else None
        name = cols[4] if window and actor.account_id is not None else None
        return joint, branch, case, office, name

    def _authorise_joint(self, actor: Actor, joint: JointApplication, command: pf.JCommand) -> pf.JState:
        t = pf.transition(pf.JState(joint.state), command)
        if t is None:
            raise InvalidCommand(f"{command} is not possible when the joint application is {joint.state}")
        if actor.role not in t.roles:
            raise Forbidden(f"a {actor.role} may not {command}")
        return t.next

    async def _joint_step(
        self,
        s: AsyncSession,
        actor: Actor,
        joint: JointApplication,
        command: pf.JCommand,
        detail: dict[str, Any] | None = None,
    ) -> None:
        before = self._move_joint(actor, joint, command)
        await self._record_joint(s, actor, joint, command, before, detail)

    def _move_joint(self, actor: Actor, joint: JointApplication, command: pf.JCommand) -> str:
        """The parent moved along its table (nothing written yet); its state before is returned."""
        before = joint.state
        joint.state = str(self._authorise_joint(actor, joint, command))
        joint.updated_at = self.now()
        return before

    async def _record_joint(
        self,
        s: AsyncSession,
        actor: Actor,
        joint: JointApplication,
        command: pf.JCommand,
        before: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await record(
            s,
            now=self.now(),
            actor=actor,
            case_id=joint.case_id,
            office_id=joint.window_office_id,
            action=str(command),
            before=before,
            after=joint.state,
            detail={"joint": joint.number, **(detail or {})},
        )

    async def _branch_step(
        self,
        s: AsyncSession,
        branch: WorkPermitBranch,
        command: wf.WCommand,
        actor: Actor,
        joint: JointApplication,
    ) -> None:
        before = self._move_branch(branch, command, actor)
        await self._record_branch(s, branch, command, actor, joint, before)

    def _move_branch(self, branch: WorkPermitBranch, command: wf.WCommand, actor: Actor) -> str:
        """The work-permit branch moved along its table (nothing written yet); its state before is returned."""
        t = wf.transition(wf.WState(branch.state), command)
        if t is None or actor.role not in t.roles:
            raise InvalidCommand(f"the work-permit branch cannot {command} when it is {branch.state}")
        before = branch.state
        branch.state, branch.updated_at = str(t.next), self.now()
        return before

    async def _record_branch(
        self,
        s: AsyncSession,
        branch: WorkPermitBranch,
        command: wf.WCommand,
        actor: Actor,
        joint: JointApplication,
        before: str,
    ) -> None:
        await record(
            s,
            now=self.now(),
            actor=actor,
            case_id=joint.case_id,
            office_id=joint.window_office_id,
            action=f"work_permit_{command}",
            before=before,
            after=branch.state,
            detail={"joint": joint.number, "reference": branch.reference},
        )

    async def _view(
        self,
        s: AsyncSession,
        joint: JointApplication,
        branch: WorkPermitBranch,
        case: Case,
        *,
        route: str | None = None,
    ) -> dict[str, Any]:
        """``route``: the route the command itself just pinned (else read: ``route_of``)."""
        await s.flush()
        permit = await s.get(WorkPermit, branch.work_permit_id) if branch.work_permit_id else None
        if route is None:
            route = await route_of(s, branch.reference)
        return joint_view(joint, branch, case, permit, route=route)

    async def _after_commit(self, out: dict[str, Any], actor: Actor, name: str) -> dict[str, Any]:
        """An external branch: send what the command put in the outbox, now that it is committed."""
        branch = out.get("work_permit_branch") or {}
        if branch.get("route") != EXTERNAL or not branch.get("reference"):
            return out
        sent = await deliver(
            self.sessions, self.work_permit_client, branch["reference"], actor=actor, clock=self.clock
        )
        return {**out, name: sent}

    def _pinned(self, joint: JointApplication, branch: WorkPermitBranch) -> one_stop.Clocks | None:
        return pinned_clocks(joint, extended=branch.extended) if joint.accepted_on else None

    async def _joint_papers(
        self,
        s: AsyncSession,
        actor: Actor,
        case: Case,
        required: tuple[one_stop.JointMaterial, ...],
        provided: set[str],
        purpose: str,
        extra: list[str] | None = None,
    ) -> evidence.Papers:
        """The papers the window office asks for beyond the joint checklist (office rule, ``OfficePaper``): a
        shared record may replace them (seed 001 l.20, ``cnvisa.law.shared_records``); looked up and recorded
        as for any residence case. The sibling-branch work permit is not a paper (``one_stop``): left out."""
        uploads = [m.code for m in required if m.satisfied_by == "upload"]
        return await evidence.papers(
            s,
            actor,
            case,
            required=uploads,
            handed_in=sorted(provided),
            purpose=purpose,
            now=self.now(),
            extra=extra,
        )

    async def _keep_lookups(self, actor: Actor, used: evidence.Papers | None) -> None:
        """A refused command's register lookups stay on record (``evidence.keep_when_refused``)."""
        if used is not None and used.rows:
            await evidence.keep_when_refused(self.sessions, actor, used.rows[0]["case_id"], used, self.now())
