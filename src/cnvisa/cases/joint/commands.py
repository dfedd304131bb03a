"""The joint application's commands at the single window: one submission, ONE one-time notice for both
branches, the supplement, ONE acceptance with ONE receipt, the issue of both permits together and their
collection, the withdrawal that ends both, and the settling of a partial outcome. Each command is one
transaction with its audit events and an idempotency key (``cnvisa.cases.runner``); the residence branch moves
along its own table (``cnvisa.cases.workflow``), the work-permit branch along its own
(``cnvisa.cases.joint.work_permit_flow``), the parent along ``cnvisa.cases.joint.parent_flow``.

Readings adopted from reforms.md §1 [A] (each beside its rule below):
- Reading: ONE acceptance covers both branches: the residence case's receipt (Regulations Art 18 para 1) is the
  joint application's receipt; the work-permit branch is accepted in the same transaction (ALL Art 32(5)).
- Reading: ONE one-time notice lists every missing material of both branches, each once; a later notice may
  not repeat an item (Regulations Art 18 para 2; ALL Art 32(4)); the notices are the residence case's.
- Reading: the work permit refused ends the residence branch as not issuable (Law Art 41; Regulations Art
  16(1)), not a discretionary refusal (cnvisa.cases.joint.decide).
- Reading: withdrawal ends both branches, in any open state before the join.
- Office rule: the work-permit desk sits at the single window office (its officers' office is the window's).
- Reading (Law Art 41, 43): the residence permit issued together is not valid beyond the work permit.
- Office rule + seed 001 l.20: the papers the window office asks beyond the checklist (``OfficePaper``) are looked
  up in the shared registers at the notice and the acceptance (``cnvisa.cases.evidence``), the employer's licence
  by the employer the application names; a paper no record replaces is in the one notice for the residence branch.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases import evidence, passport_check
from cnvisa.cases.actor import SYSTEM, Actor
from cnvisa.cases.commands.intake import NOTICE_REPLY_WORKING_DAYS
from cnvisa.cases.errors import BadInput, CaseError, Forbidden, InvalidCommand
from cnvisa.cases.grants import refuse_officer_inputs
from cnvisa.cases.joint import parent_flow as pf
from cnvisa.cases.joint import work_permit_flow as wf
from cnvisa.cases.joint.base import JointBase, guard
from cnvisa.cases.joint.decide import (
    carry_out_join,
    join_of,
    record,
)
from cnvisa.cases.joint.external import (
    EXTERNAL,
    open_external,
    record_withdrawal,
    route_of,
)
from cnvisa.cases.joint.inserts import insert_joint
from cnvisa.cases.joint.requests import check_work_permit_request, joint_materials_for
from cnvisa.cases.passport_check import CollectionSlot, PassportShown
from cnvisa.cases.queries.case import receipt
from cnvisa.cases.records import FileIn, case_number, receipt_number
from cnvisa.cases.runner import file_rows
from cnvisa.cases.workflow import GUARD_ARTICLES, Command, Role, State
from cnvisa.law import calendar as workdays
from cnvisa.law import one_stop
from cnvisa.store.joint_tables import JointApplication, WorkPermit, WorkPermitBranch
from cnvisa.store.tables import Case, CaseFile, Notice


class JointCommands(JointBase):
    """The single window's commands on joint applications (see the module docstring)."""

    # -- submission ----------------------------------------------------------------------------------------
    async def apply_joint(
        self,
        actor: Actor,
        *,
        key: str,
        person_id: int,
        office_id: int,
        employer_organisation_id: int,
        work_permit: dict[str, Any],
        inputs: dict[str, Any],
        submitted_by: str = "self",
        files: Sequence[FileIn] = (),
        office_asks: Collection[str] | None = None,
    ) -> dict[str, Any]:
        """Open and submit a joint application (one command, one transaction): the employer's staff or the
        foreigner, or an agent under a mandate (the existing mandate checks, Regulations Art 19). ``inputs``: the
        residence branch's law-contract inputs (``matter`` residence_permit, ``requested.permit_type`` work);
        ``work_permit``: ``check_work_permit_request``; ``files``: the one material set (``cnvisa.law.one_stop``
        codes), each handed in once; ``office_asks``: the window office's own papers for a residence permit when
        the caller has read them already (``applications.application_facts_and_papers``), else read here."""
        self._may_open(actor, person_id, submitted_by)
        if actor.role is Role.ORG_STAFF and actor.organisation_id != employer_organisation_id:
            raise Forbidden("employer staff apply for their own organisation's foreigners")
        refuse_officer_inputs(inputs)
        wp = check_work_permit_request(work_permit)
        if (inputs.get("requested") or {}).get("permit_type") != "work":
            raise BadInput(
                "inputs.requested.permit_type", "a joint application is for a work-type residence permit"
            )
        required = joint_materials_for(wp, inputs)
        known = {m.code for m in required if m.satisfied_by == "upload"}

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            code = await self._office_code(s, office_id)
            case = self._draft(code, actor, person_id, office_id, "residence_permit", inputs, submitted_by)
            # and the window office's own papers
            papers = await evidence.office_papers(s, case) if office_asks is None else office_asks
            asked = known | set(papers)
            for f in files:
                if f.material_code not in asked:
                    raise BadInput(f"files[{f.material_code}]", "not a material of this joint application")
            rp_codes = [f.material_code for f in files if one_stop.RESIDENCE_PERMIT in _branches(required, f)]
            self._check_proxy(case, self._assess(case, rp_codes))
            self._authorise(actor, case, Command.SUBMIT)
            case.state, case.version = str(State.SUBMITTED), 1
            now = self.now()
            stored = file_rows(None, files, now)  # each file checked before anything is written
            joint = JointApplication(
                number=case_number("J" + code, self.today()),
                person_id=person_id,
                employer_organisation_id=employer_organisation_id,
                window_office_id=office_id,
                state=str(pf.JState.SUBMITTED),
                version=1,
                work_permit=wp,
                submitter_account_id=actor.account_id,
                created_at=now,
                updated_at=now,
            )
            branch = WorkPermitBranch(
                state=str(wf.WState.SUBMITTED), extended=False, grounds=[], version=1, updated_at=now
            )
            await insert_joint(s, case, joint, branch, stored)  # one statement on PostgreSQL
            await self._audit(s, actor, case, "apply", None, {"matter": case.matter, "joint": joint.number})
            await record(
                s,
                now=now,
                actor=actor,
                case_id=case.id,
                office_id=office_id,
                action="joint_apply",
                before=None,
                after=joint.state,
                detail={
                    "joint": joint.number,
                    "employer_organisation_id": employer_organisation_id,
                    "work_permit": wp,
                    "files": [f.material_code for f in files],
                },
            )
            return case, await self._view(s, joint, branch, case)

        return await self._run(
            key,
            "joint_apply",
            body,
            actor,
            request={
                "person_id": person_id,
                "office_id": office_id,
                "employer_organisation_id": employer_organisation_id,
                "work_permit": work_permit,
                "inputs": inputs,
                "submitted_by": submitted_by,
                "files": files,
            },
            replay_first=False,  # only new records: a repeated key ends at its unique key
        )

    async def _provided(self, s: AsyncSession, case: Case) -> set[str]:
        rows = await s.execute(select(CaseFile.material_code).where(CaseFile.case_id == case.id))
        return {r[0] for r in rows}

    # -- the one-time notice and the supplement --------------------------------------------------------------
    async def joint_issue_notice(
        self, actor: Actor, joint_id: int, version: int, *, key: str
    ) -> dict[str, Any]:
        """ONE one-time notice for both branches: every missing material, each once, with the branches that
        need it; a later notice lists only what the supplement made necessary (Regulations Art 18 para 2;
        ALL Art 32(4))."""

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            joint, branch, case = await self._load_joint(s, joint_id, version, actor)
            self._authorise_joint(actor, joint, pf.JCommand.ISSUE_NOTICE)
            self._authorise(actor, case, Command.ISSUE_NOTICE)
            required = joint_materials_for(joint.work_permit, case.inputs)
            provided = await self._provided(s, case)
            items = one_stop.missing_materials(required, provided)
            paper = used[0] = await self._joint_papers(s, actor, case, required, provided, "notice")
            items += [c for c in paper.missing if c not in items]  # the office's papers no record replaced
            guard(bool(items), "joint_notice_repeats_nothing", "nothing is missing: accept instead")
            earlier = list(
                (
                    await s.execute(select(Notice).where(Notice.case_id == case.id).order_by(Notice.seq))
                ).scalars()
            )
            already = {c for n in earlier for c in [*n.required, *n.items]}
            repeated = [i for i in items if i in already]
            guard(
                not repeated,
                "joint_notice_repeats_nothing",
                "a later notice may only list what the supplement made necessary; already required: "
                + ", ".join(repeated),
            )
            respond_by = workdays.add_working_days(self.today(), NOTICE_REPLY_WORKING_DAYS)
            notice = Notice(
                case_id=case.id,
                seq=len(earlier) + 1,
                items=items,
                issued_at=self.now(),
                issued_by=actor.account_id,
                respond_by=respond_by,
                required=[m.code for m in required if m.satisfied_by == "upload"],
            )
            s.add(notice)
            by_code = {m.code: sorted(m.required_by) for m in required}
            listed = [  # an office paper is asked for the residence branch, with why no record replaced it
                {"code": i, "required_by": by_code.get(i, [one_stop.RESIDENCE_PERMIT])}
                | ({"paper_needed": paper.reasons[i]} if i in paper.reasons else {})
                for i in items
            ]
            detail: dict[str, Any] = {"items": items, "joint": joint.number}
            if paper.asked:
                detail["evidence"] = paper.audit_detail()
            await self._step(s, actor, case, Command.ISSUE_NOTICE, detail)
            await self._joint_step(s, actor, joint, pf.JCommand.ISSUE_NOTICE, {"items": listed})
            out = await self._view(s, joint, branch, case)
            return case, {
                **out,
                "notice": {
                    "seq": notice.seq,
                    "items": listed,
                    "respond_by": respond_by.isoformat(),
                    "citations": [c.cite for c in one_stop.NOTICE_CITATIONS],
                },
            }

        used: list[evidence.Papers | None] = [None]
        try:
            return await self._run(
                key, "joint_issue_notice", body, actor, request={"joint_id": joint_id, "version": version}
            )
        except CaseError:  # the lookups made stay on record (as for a single case)
            await self._keep_lookups(actor, used[0])
            raise

    async def joint_supplement(
        self, actor: Actor, joint_id: int, version: int, *, key: str, files: Sequence[FileIn] = ()
    ) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            joint, branch, case = await self._load_joint(s, joint_id, version, actor)
            self._authorise_joint(actor, joint, pf.JCommand.SUPPLEMENT)
            known = {m.code for m in joint_materials_for(joint.work_permit, case.inputs)}
            # and what a notice asked beyond the joint checklist (an office's paper no record replaced)
            known |= {
                i
                for n in (await s.execute(select(Notice.items).where(Notice.case_id == case.id))).scalars()
                for i in n
            }
            for f in files:
                if f.material_code not in known:
                    raise BadInput(f"files[{f.material_code}]", "not a material of this joint application")
            await self._store_files(s, case, files)
            await self._step(s, actor, case, Command.SUPPLEMENT, {"files": [f.material_code for f in files]})
            await self._joint_step(
                s, actor, joint, pf.JCommand.SUPPLEMENT, {"files": [f.material_code for f in files]}
            )
            return case, await self._view(s, joint, branch, case)

        return await self._run(
            key,
            "joint_supplement",
            body,
            actor,
            request={"joint_id": joint_id, "version": version, "files": files},
        )

    # -- acceptance --------------------------------------------------------------------------------------------
    async def joint_accept(
        self,
        actor: Actor,
        joint_id: int,
        version: int,
        *,
        key: str,
        passport_kept: bool = True,
        passport: PassportShown | None = None,
        retention_reason: str | None = None,
        retention_note: str | None = None,
        collection: CollectionSlot | None = None,
    ) -> dict[str, Any]:
        """ONE acceptance, ONE receipt: the residence case's receipt (Regulations Art 18 para 1) and the
        work-permit branch accepted in the same transaction, its reference (the correlation id the authority's
        messages name) generated; both clocks pinned; refused with nothing written when a material is missing or
        the receipt would end before the work-permit decision is due (``cnvisa.law.one_stop.receipt_covers``).
        The passport: checked on the spot and returned with a collection appointment, or kept with a reason, as
        for any work-type residence permit (``cnvisa.cases.passport_check``)."""

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            # one joined read: the joint application, both branches, the window office and the officer's account
            joint, branch, case, office, officer_name = await self._load_joint_at(s, joint_id, version, actor)
            assert office is not None
            self._authorise_joint(actor, joint, pf.JCommand.ACCEPT)
            self._authorise(actor, case, Command.ACCEPT)
            required = joint_materials_for(joint.work_permit, case.inputs)
            provided, office_asks = await evidence.handed_in_and_office_papers(s, case)
            missing = one_stop.missing_materials(required, provided)
            paper = used[0] = await self._joint_papers(
                s, actor, case, required, provided, "acceptance", office_asks
            )
            missing += [c for c in paper.missing if c not in missing]
            # the residence branch's own rules; its work permit comes from the sibling branch (Reading, one_stop)
            rp_codes = [c for c in one_stop.codes_for(one_stop.RESIDENCE_PERMIT, required) if c in provided]
            result = self._assess(case, [*rp_codes, "work_permit"])
            blocking = [p["code"] for p in result["problems"] if p["severity"] == "blocking"]
            guard(
                not missing and not blocking,
                "joint_complete",
                "missing: "
                + ", ".join([*missing, *blocking])
                + "".join(f"; {code}: {why}" for code, why in paper.reasons.items()),
            )
            on = self.today()
            commitment = one_stop.service_commitment(office.region, on, joint.work_permit["category"])
            clocks = one_stop.clocks(on, commitment)
            answer = one_stop.receipt_covers(clocks)
            guard(
                answer.ok,
                "receipt_covers_work_permit",
                answer.detail + ": apply for the work permit first and the residence permit with it "
                "(Regulations Art 16(1))",
            )
            checked = await passport_check.at_acceptance(  # before the case changes (as in IntakeCommands)
                s,
                actor,
                case,
                office,
                now=self.now(),
                on=on,
                passport_kept=passport_kept,
                shown=passport,
                reason=retention_reason,
                note=retention_note,
                collection=collection,
                receipt_last_day=clocks.receipt_valid_until,
            )
            case.accepted_on = on
            case.law_version = result["law_version"]
            case.calendar_version = workdays.calendar_version()
            case.receipt_valid_until = clocks.receipt_valid_until
            case.deadline = case.receipt_valid_until
            case.receipt_number = receipt_number(office.code, on, case.id)
            case.receipt_issued_at = self.now()
            case.passport_kept = passport_kept
            joint.accepted_on = on
            joint.law_version, joint.calendar_version = case.law_version, case.calendar_version
            if commitment is not None:
                joint.jurisdiction = commitment.jurisdiction
                joint.commitment_working_days = commitment.working_days
                joint.commitment_source = commitment.source
                joint.commitment_due = clocks.commitment_due
            branch.reference = f"WP{office.code}{on:%y%m%d}{joint.id:08d}"
            branch.statutory_due = clocks.statutory_due
            route = self.routing.route(office.code, joint.jurisdiction)
            if route == EXTERNAL:  # the correlation and the submission in this transaction (the outbox)
                await open_external(
                    s, joint=joint, branch=branch, case=case, office=office, actor=actor, now=self.now()
                )
            # the three rows move first and are written by ONE flush (one UPDATE each); the audit events stay
            # the case's, the branch's and the parent's, in that order
            branch_before = self._move_branch(branch, wf.WCommand.ACCEPT, actor)
            joint_before = self._move_joint(actor, joint, pf.JCommand.ACCEPT)
            await self._step(
                s,
                actor,
                case,
                Command.ACCEPT,
                {
                    "receipt_number": case.receipt_number,
                    "joint": joint.number,
                    "passport_kept": passport_kept,
                    **({"passport_check": checked} if checked else {}),
                    **({"evidence": paper.audit_detail()} if paper.asked else {}),
                },
            )
            await self._record_branch(s, branch, wf.WCommand.ACCEPT, actor, joint, branch_before)
            await self._record_joint(
                s,
                actor,
                joint,
                pf.JCommand.ACCEPT,
                joint_before,
                {
                    "receipt_number": case.receipt_number,
                    "reference": branch.reference,
                    "clocks": clocks.as_dict(),
                    "work_permit_route": route,
                },
            )
            out = await self._view(s, joint, branch, case, route=route)
            shown = passport_check.receipt_of_check_made(checked, officer_name) if checked else None
            return case, {
                **out,
                "receipt": {**(receipt(case, shown) or {}), "covers": list(one_stop.BRANCHES)},
            }

        request = passport_check.acceptance_request(
            passport_kept, passport, retention_reason, retention_note, collection
        )
        used: list[evidence.Papers | None] = [None]
        try:
            out = await self._run(
                key,
                "joint_accept",
                body,
                actor,
                request={"joint_id": joint_id, "version": version, **request},
            )
        except CaseError:
            await self._keep_lookups(actor, used[0])
            raise
        return await self._after_commit(out, actor, "work_permit_submission")

    # -- issue and collection -------------------------------------------------------------------------------
    async def joint_issue_together(
        self, actor: Actor, joint_id: int, version: int, *, key: str
    ) -> dict[str, Any]:
        """Both granted (the join, computed from the branches): the residence permit issued and the work permit
        made active in ONE transaction. Reading: the residence permit is not valid beyond the work permit it rests
        on (Law Art 41, 43): its end is capped at the work permit's."""

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            joint, branch, case = await self._load_joint(s, joint_id, version, actor)
            self._authorise_joint(actor, joint, pf.JCommand.ISSUE_TOGETHER)
            join = join_of(branch, case)
            guard(join.outcome == "issue_together", "join_issue_together", join.note)
            self._authorise(actor, case, Command.ISSUE)
            permit = await s.get(WorkPermit, branch.work_permit_id)
            assert permit is not None
            holding, voided = await self._make_document(s, case)
            capped = holding.valid_until > permit.valid_until
            if capped:
                holding.valid_until = permit.valid_until
            case.issued_holding_id = holding.id
            permit.status = "active"
            await self._step(
                s,
                actor,
                case,
                Command.ISSUE,
                {"document": holding.number, "kind": holding.kind, "voided": voided, "joint": joint.number},
            )
            await self._joint_step(
                s,
                actor,
                joint,
                pf.JCommand.ISSUE_TOGETHER,
                {
                    "residence_permit": holding.number,
                    "work_permit": permit.number,
                    "residence_permit_valid_until": holding.valid_until.isoformat(),
                    "capped_at_work_permit": capped,
                },
            )
            return case, await self._view(s, joint, branch, case)

        return await self._run(
            key, "joint_issue_together", body, actor, request={"joint_id": joint_id, "version": version}
        )

    async def joint_collect_together(
        self,
        actor: Actor,
        joint_id: int,
        version: int,
        *,
        key: str,
        passport_presented: bool,
        passport: PassportShown | None = None,
    ) -> dict[str, Any]:
        """Both permits collected together, in person. A passport returned at acceptance: the same passport, or
        the holder's new one checked again (``cnvisa.cases.passport_check.at_collection``)."""

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            joint, branch, case = await self._load_joint(s, joint_id, version, actor)
            self._authorise_joint(actor, joint, pf.JCommand.COLLECT_TOGETHER)
            guard(
                passport_presented, "passport_presented", "collected in person with the passport and receipt"
            )
            self._authorise(actor, case, Command.COLLECT)
            checked = await passport_check.at_collection(
                s, actor, case, now=self.now(), on=self.today(), shown=passport
            )
            detail: dict[str, Any] = {"passport_presented": True, "joint": joint.number}
            if checked:
                detail["passport_check"] = checked
            await self._step(s, actor, case, Command.COLLECT, detail)
            await self._joint_step(
                s, actor, joint, pf.JCommand.COLLECT_TOGETHER, {"passport_presented": True}
            )
            return case, await self._view(s, joint, branch, case)

        request: dict[str, Any] = {
            "joint_id": joint_id,
            "version": version,
            "passport_presented": passport_presented,
        }
        if passport is not None:
            request["passport"] = passport.as_request()
        return await self._run(key, "joint_collect_together", body, actor, request=request)

    # -- withdrawal and settling ---------------------------------------------------------------------------
    async def joint_withdraw(self, actor: Actor, joint_id: int, version: int, *, key: str) -> dict[str, Any]:
        """Withdrawal ends both branches, in any open state before the join (a granted but not yet issued work
        permit is cancelled with it)."""

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            joint, branch, case = await self._load_joint(s, joint_id, version, actor)
            self._authorise_joint(actor, joint, pf.JCommand.WITHDRAW)
            if joint.state == pf.JState.ACCEPTED:
                join = join_of(branch, case)
                guard(join.outcome == "pending", "join_pending", f"the join is already {join.outcome}")
            # the residence branch by the system-only command of the joint application (an ordinary case's
            # withdraw stops at approved / refusal_proposed): the applicant who withdrew is the one audited
            before = case.state
            case.state = str(self._authorise(SYSTEM, case, Command.WITHDRAW_WITH_JOINT))
            case.updated_at = self.now()
            await self._audit(
                s,
                actor,
                case,
                str(Command.WITHDRAW_WITH_JOINT),
                before,
                {"joint": joint.number, "rule": GUARD_ARTICLES["joint_withdrawal"]},
            )
            notify = joint.state == pf.JState.ACCEPTED and await route_of(s, branch.reference) == EXTERNAL
            await self._branch_step(s, branch, wf.WCommand.WITHDRAW, SYSTEM, joint)
            if notify:  # the authority told, through the outbox (recorded here, sent after the commit)
                assert branch.reference is not None
                await record_withdrawal(
                    s, reference=branch.reference, joint_number=joint.number, actor=actor, now=self.now()
                )
            if branch.work_permit_id is not None:
                permit = await s.get(WorkPermit, branch.work_permit_id)
                if permit is not None:
                    permit.status = "cancelled"
            await self._joint_step(s, actor, joint, pf.JCommand.WITHDRAW)
            return case, await self._view(s, joint, branch, case)

        out = await self._run(
            key, "joint_withdraw", body, actor, request={"joint_id": joint_id, "version": version}
        )
        return await self._after_commit(out, actor, "work_permit_withdrawal_notice")

    async def joint_settle(self, actor: Actor, joint_id: int, version: int, *, key: str) -> dict[str, Any]:
        """Carry out the join when the residence branch was decided after the work permit (the residence
        refusal is the exit-entry office's own command, cnvisa.cases.commands.examination): work permit granted
        and residence refused → partial. Refused when the join has nothing to carry out."""

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            joint, branch, case = await self._load_joint(s, joint_id, version, actor)
            if actor.role not in (Role.OFFICER, Role.SUPERVISOR, Role.SYSTEM):
                raise Forbidden(f"a {actor.role} does not settle a joint application")
            join = join_of(branch, case)
            if (
                join.outcome not in ("partial", "not_issuable", "refused_both")
                or joint.state != pf.JState.ACCEPTED
            ):
                raise InvalidCommand(
                    f"nothing to settle: the join is {join.outcome}, the application {joint.state}"
                )
            await carry_out_join(s, joint=joint, branch=branch, case=case, by=actor, now=self.now())
            return case, await self._view(s, joint, branch, case)

        return await self._run(
            key, "joint_settle", body, actor, request={"joint_id": joint_id, "version": version}
        )


def _branches(required: tuple[one_stop.JointMaterial, ...], f: FileIn) -> frozenset[str]:
    for m in required:
        if m.code == f.material_code:
            return m.required_by
    return frozenset()
