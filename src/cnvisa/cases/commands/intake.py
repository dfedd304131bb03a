"""Intake: opening and submitting an application, the one-time notice and its supplement, acceptance with a
receipt (Regulations Art 12-13, 17-19)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases import evidence, passport_check
from cnvisa.cases.actor import Actor
from cnvisa.cases.errors import BadInput, CaseError, Forbidden
from cnvisa.cases.grants import refuse_officer_inputs
from cnvisa.cases.joint_link import refuse_if_joint
from cnvisa.cases.new_rows import insert_case
from cnvisa.cases.passport_check import CollectionSlot, PassportShown
from cnvisa.cases.queries.case import receipt, summary
from cnvisa.cases.records import FileIn, case_number, receipt_number
from cnvisa.cases.runner import Runner, file_rows, guard
from cnvisa.cases.workflow import Command, Role, State
from cnvisa.law import calendar as workdays
from cnvisa.law.acceptance import receipt_valid_until
from cnvisa.store.tables import Case, Notice, Office

NOTICE_REPLY_WORKING_DAYS = 15
"""Office rule: the applicant has 15 working days to answer a one-time notice before the case lapses."""


def _blocking(result: dict[str, Any]) -> list[str]:
    return [p["code"] for p in result["problems"] if p["severity"] == "blocking"]


class IntakeCommands(Runner):
    async def _papers(
        self,
        s: AsyncSession,
        actor: Actor,
        case: Case,
        result: dict[str, Any],
        handed_in: list[str],
        purpose: str,
    ) -> evidence.Papers:
        """The papers a shared record may replace: looked up, waived or back in the notice (cases.evidence)."""
        required = [m["code"] for m in result["required_materials"]]
        return await evidence.papers(
            s, actor, case, required=required, handed_in=handed_in, purpose=purpose, now=self.now()
        )

    def _draft(
        self,
        office_code: str,
        actor: Actor,
        person_id: int,
        office_id: int,
        matter: str,
        inputs: dict[str, Any],
        submitted_by: str,
    ) -> Case:
        """A new case in draft (not yet added to the session)."""
        now = self.now()
        return Case(
            number=case_number(office_code, self.today()),
            person_id=person_id,
            office_id=office_id,
            matter=matter,
            inputs=dict(inputs),
            state=str(State.DRAFT),
            submitted_by=submitted_by,
            submitter_account_id=actor.account_id,
            proxy_grounds=[],
            refusal_grounds=[],
            created_at=now,
            updated_at=now,
        )

    @staticmethod
    def _may_open(actor: Actor, person_id: int, submitted_by: str) -> None:
        if actor.role not in (Role.APPLICANT, Role.AGENT, Role.ORG_STAFF):
            raise Forbidden(f"a {actor.role} does not open applications")
        if actor.role is Role.APPLICANT and actor.person_id != person_id:
            raise Forbidden("an applicant applies for themself; acting for another needs a mandate")
        if actor.role in (Role.AGENT, Role.ORG_STAFF) and person_id not in actor.represents:
            raise Forbidden("no mandate to act for this person")
        if actor.role is Role.APPLICANT and submitted_by != "self":
            raise BadInput("submitted_by", "an applicant's own application is submitted by self")

    def _check_proxy(self, case: Case, result: dict[str, Any]) -> None:
        if case.submitted_by != "self":
            guard(
                bool(result["proxy_allowed"]),
                "submitter_may_apply",
                "none of the grounds of Regulations Art 19 allows submission by "
                f"{case.submitted_by.replace('_', ' ')}",
            )
            case.proxy_grounds = list(result.get("proxy_grounds") or [])

    async def create(
        self,
        actor: Actor,
        *,
        key: str,
        person_id: int,
        office_id: int,
        matter: str,
        inputs: dict[str, Any],
        submitted_by: str = "self",
        files: Sequence[FileIn] = (),
    ) -> dict[str, Any]:
        """A new case in draft. The inputs are the law contract's (``cnvisa assess --schema``)."""
        self._may_open(actor, person_id, submitted_by)
        refuse_officer_inputs(inputs)

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            code = await self._office_code(s, office_id)
            case = self._draft(code, actor, person_id, office_id, matter, inputs, submitted_by)
            self._assess(case, [])  # validates matter and inputs: BadInput names the field
            s.add(case)
            await s.flush()
            await self._store_files(s, case, files)
            await self._audit(
                s, actor, case, "create", None, {"matter": matter, "submitted_by": submitted_by}
            )
            return case, summary(case)

        return await self._run(
            key,
            "create",
            body,
            actor,
            request={
                "person_id": person_id,
                "office_id": office_id,
                "matter": matter,
                "inputs": inputs,
                "submitted_by": submitted_by,
                "files": files,
            },
            replay_first=False,  # only new records: a repeated key ends at its unique key
        )

    async def apply(
        self,
        actor: Actor,
        *,
        key: str,
        person_id: int,
        office_id: int,
        matter: str,
        inputs: dict[str, Any],
        submitted_by: str = "self",
        files: Sequence[FileIn] = (),
        same_form: bool = False,
    ) -> dict[str, Any]:
        """Open and submit an application in one command (what a completed online form does): the draft
        and the submission are one transaction with one audit event."""
        self._may_open(actor, person_id, submitted_by)
        refuse_officer_inputs(inputs)

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            code = await self._office_code(s, office_id)
            case = self._draft(code, actor, person_id, office_id, matter, inputs, submitted_by)
            result = self._assess(case, [f.material_code for f in files])
            self._check_proxy(case, result)
            self._authorise(actor, case, Command.SUBMIT)
            case.state = str(State.SUBMITTED)
            case.version = 1
            # Core INSERTs, one statement on PostgreSQL: the submission's hot path (cnvisa.cases.new_rows)
            await insert_case(s, case, file_rows(None, files, self.now()))
            await self._audit(
                s,
                actor,
                case,
                "apply",
                None,
                {"matter": matter, "submitted_by": submitted_by, "files": len(files)},
            )
            return case, summary(case)

        return await self._run(
            key,
            "apply",
            body,
            actor,
            request={
                "person_id": person_id,
                "office_id": office_id,
                "matter": matter,
                "inputs": inputs,
                "submitted_by": submitted_by,
                # a page's form key names the form: its re-post (a browser drops file inputs on going back)
                # returns the case it made; the API's key names the request, files included
                "files": () if same_form else files,
            },
            replay_first=False,  # only new records: a repeated key ends at its unique key
        )

    async def submit(
        self, actor: Actor, case_id: int, version: int, *, key: str, files: Sequence[FileIn] = ()
    ) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.SUBMIT)
            await self._store_files(s, case, files)
            await s.flush()
            self._check_proxy(case, self._assess(case, await self._materials(s, case)))
            return case, await self._step(s, actor, case, Command.SUBMIT, {"files": len(files)})

        return await self._run(
            key, "submit", body, actor, case_id, request={"version": version, "files": files}
        )

    async def issue_notice(self, actor: Actor, case_id: int, version: int, *, key: str) -> dict[str, Any]:
        """The one-time notice: every missing material and procedure the law engine finds, at once."""

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.ISSUE_NOTICE)
            await refuse_if_joint(
                s, case, "issue the one-time notice of"
            )  # one notice, one acceptance for both branches
            handed_in = await self._materials(s, case)
            result = self._assess(case, handed_in, office=await s.get(Office, case.office_id))
            paper = used[0] = await self._papers(s, actor, case, result, handed_in, "notice")
            items = [m for m in result["missing_materials"] if m not in paper.waived] + [
                m for m in paper.missing if m not in result["missing_materials"]
            ]
            blocking = _blocking(result)
            guard(bool(items), "notice_repeats_nothing", "nothing is missing: accept or refuse instead")
            earlier = (
                await s.execute(select(Notice).where(Notice.case_id == case.id).order_by(Notice.seq))
            ).scalars()
            earlier_list = list(earlier)
            already = {code for n in earlier_list for code in [*n.required, *n.items]}
            repeated = [i for i in items if i in already]
            guard(
                not repeated,
                "notice_repeats_nothing",
                f"a later notice may only list what the supplement made necessary; already required: "
                f"{', '.join(repeated)}",
            )
            respond_by = workdays.add_working_days(self.today(), NOTICE_REPLY_WORKING_DAYS)
            notice = Notice(
                case_id=case.id,
                seq=len(earlier_list) + 1,
                items=items,
                issued_at=self.now(),
                issued_by=actor.account_id,
                respond_by=respond_by,
                required=[m["code"] for m in result["required_materials"]] + paper.asked,
            )
            s.add(notice)
            out = await self._step(
                s,
                actor,
                case,
                Command.ISSUE_NOTICE,
                {
                    "items": items,
                    "problems": blocking,
                    "respond_by": respond_by.isoformat(),
                    **({"evidence": paper.audit_detail()} if paper.asked else {}),
                },
            )
            return case, {
                **out,
                "notice": {
                    "seq": notice.seq,
                    "items": items,
                    "respond_by": respond_by.isoformat(),
                    "citations": [c for c in result["citations"] if c["article"] in ("13", "18", "VII(II)")],
                    **({"waived": paper.waived, "paper_needed": paper.reasons} if paper.asked else {}),
                },
            }

        used: list[evidence.Papers | None] = [None]
        try:
            return await self._run(key, "issue_notice", body, actor, case_id, request={"version": version})
        except CaseError:
            await evidence.keep_when_refused(self.sessions, actor, case_id, used[0], self.now())
            raise

    async def supplement(
        self,
        actor: Actor,
        case_id: int,
        version: int,
        *,
        key: str,
        files: Sequence[FileIn] = (),
        inputs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        refuse_officer_inputs(inputs)

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.SUPPLEMENT)
            await refuse_if_joint(s, case, "supplement")  # one notice, one acceptance for both branches
            if inputs:
                merged = {**case.inputs, **inputs}
                probe = Case(matter=case.matter, inputs=merged, submitted_by=case.submitted_by)
                self._assess(probe, [])
                case.inputs = merged
            await self._store_files(s, case, files)
            return case, await self._step(
                s,
                actor,
                case,
                Command.SUPPLEMENT,
                {"files": [f.material_code for f in files], "inputs": sorted(inputs or {})},
            )

        return await self._run(
            key,
            "supplement",
            body,
            actor,
            case_id,
            request={"version": version, "files": files, "inputs": inputs},
        )

    async def accept(
        self,
        actor: Actor,
        case_id: int,
        version: int,
        *,
        key: str,
        passport_kept: bool = True,
        passport: PassportShown | None = None,
        retention_reason: str | None = None,
        retention_note: str | None = None,
        collection: CollectionSlot | None = None,
    ) -> dict[str, Any]:
        """Acceptance with a receipt (Art 13 para 1, Art 18 para 1); the law and calendar versions are fixed.
        A residence document's passport: checked on the spot and returned, or kept with a reason
        (``cnvisa.cases.passport_check``)."""

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.ACCEPT)
            await refuse_if_joint(s, case, "accept")  # one notice, one acceptance for both branches
            handed_in = await self._materials(s, case)
            office = await s.get(Office, case.office_id)
            assert office is not None
            result = self._assess(case, handed_in, office=office)  # within this office's area (Guide VII(II))
            paper = used[0] = await self._papers(s, actor, case, result, handed_in, "acceptance")
            missing = [m for m in result["missing_materials"] if m not in paper.waived] + [
                m for m in paper.missing if m not in result["missing_materials"]
            ]
            blocking = _blocking(result)
            guard(
                not missing and not blocking,
                "application_complete",
                "missing: "
                + ", ".join([*missing, *blocking])
                + "".join(f"; {code}: {why}" for code, why in paper.reasons.items()),
            )
            on = self.today()
            until = receipt_valid_until(case.matter, on)
            # the passport's part first, while the case is unchanged: its rows are flushed, and a flush of a changed
            # case would count as a second version of one command
            checked = await passport_check.at_acceptance(
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
                receipt_last_day=until,
            )
            case.accepted_on = on
            case.law_version = result["law_version"]
            case.calendar_version = workdays.calendar_version()
            case.receipt_valid_until = until
            case.deadline = case.receipt_valid_until
            case.receipt_number = receipt_number(office.code, on, case.id)
            case.receipt_issued_at = self.now()
            case.passport_kept = passport_kept
            out = await self._step(
                s,
                actor,
                case,
                Command.ACCEPT,
                {
                    "receipt_number": case.receipt_number,
                    "receipt_valid_until": case.receipt_valid_until.isoformat()
                    if case.receipt_valid_until
                    else None,
                    "law_version": case.law_version,
                    "calendar_version": case.calendar_version,
                    "passport_kept": passport_kept,
                    **({"passport_check": checked} if checked else {}),
                    **({"evidence": paper.audit_detail()} if paper.asked else {}),
                },
            )
            shown = await passport_check.receipt_passport(s, case) if checked else None
            return case, {**out, "receipt": receipt(case, shown)}

        request: dict[str, Any] = {
            "version": version,
            **passport_check.acceptance_request(
                passport_kept, passport, retention_reason, retention_note, collection
            ),
        }
        used: list[evidence.Papers | None] = [None]
        try:
            return await self._run(key, "accept", body, actor, case_id, request=request)
        except CaseError:
            await evidence.keep_when_refused(self.sessions, actor, case_id, used[0], self.now())
            raise
