"""Examination and decision: verification (Regulations Art 20), approval, and refusal — proposed with its
grounds, confirmed by a second officer or revoked (Regulations Art 21)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases.actor import Actor
from cnvisa.cases.commands.issuance import guard_ends_later, replaced_holding
from cnvisa.cases.errors import BadInput, InvalidCommand
from cnvisa.cases.grants import GRANTED_VALIDITY, GRANTS_VALIDITY, ValidityBounds, validity_bounds
from cnvisa.cases.joint_link import refuse_if_joint
from cnvisa.cases.runner import Runner, guard
from cnvisa.cases.workflow import Command, State
from cnvisa.law.refusals import check_refusal
from cnvisa.law.verification import VERIFICATION_METHODS
from cnvisa.store.tables import Case, Verification

OUTCOMES = ("confirmed", "not_confirmed", "no_show")


class ExaminationCommands(Runner):
    async def request_verification(
        self,
        actor: Actor,
        case_id: int,
        version: int,
        *,
        key: str,
        method: str,
        scheduled_for: dt.datetime | None = None,
    ) -> dict[str, Any]:
        if method not in VERIFICATION_METHODS:
            raise BadInput("method", f"one of {', '.join(VERIFICATION_METHODS)} (Regulations Art 20)")

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.REQUEST_VERIFICATION)
            s.add(Verification(case_id=case.id, method=method, scheduled_for=scheduled_for))
            return case, await self._step(s, actor, case, Command.REQUEST_VERIFICATION, {"method": method})

        return await self._run(
            key,
            "request_verification",
            body,
            actor,
            case_id,
            request={"version": version, "method": method, "scheduled_for": scheduled_for},
        )

    async def record_verification(
        self, actor: Actor, case_id: int, version: int, *, key: str, outcome: str, note: str | None = None
    ) -> dict[str, Any]:
        if outcome not in OUTCOMES:
            raise BadInput(
                "outcome", "confirmed, not_confirmed or no_show (Regulations Art 20; Guide VII(III))"
            )

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.RECORD_VERIFICATION)
            v = (
                (
                    await s.execute(
                        select(Verification)
                        .where(Verification.case_id == case.id, Verification.outcome.is_(None))
                        .order_by(Verification.id.desc())
                    )
                )
                .scalars()
                .first()
            )
            if v is None:
                raise InvalidCommand("no open verification to record")
            v.outcome, v.note, v.recorded_at = outcome, note, self.now()
            return case, await self._step(s, actor, case, Command.RECORD_VERIFICATION, {"outcome": outcome})

        return await self._run(
            key,
            "record_verification",
            body,
            actor,
            case_id,
            request={"version": version, "outcome": outcome, "note": note},
        )

    async def approve(
        self, actor: Actor, case_id: int, version: int, *, key: str, validity_days: int | None = None
    ) -> dict[str, Any]:
        """Approve the application. For a matter whose approval decides the validity (a residence-permit
        extension: ``GRANTS_VALIDITY``), ``validity_days`` is the validity granted — required, within the law
        engine's bounds (``validity_bounds``), and ending later than the permit it replaces; other matters
        take none."""

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            detail: dict[str, Any] = {"decision": "approve"}
            if case.matter in GRANTS_VALIDITY:
                self._authorise(actor, case, Command.APPROVE)  # the state and role before the field
                detail["validity_days"] = await self._grant_validity(s, case, validity_days)
            elif validity_days is not None:
                raise BadInput("validity_days", f"the approval of a {case.matter} grants no validity")
            case.decided_by = actor.account_id
            return case, await self._step(s, actor, case, Command.APPROVE, detail)

        return await self._run(
            key, "approve", body, actor, case_id, request={"version": version, "validity_days": validity_days}
        )

    async def _grant_validity(self, s: AsyncSession, case: Case, days: int | None) -> int:
        bounds = self._bounds(case.matter, case.inputs, case.submitted_by)
        granted = bounds.check(days)
        guard_ends_later(bounds.on + dt.timedelta(days=granted), await replaced_holding(s, case), case.inputs)
        case.inputs = {**case.inputs, GRANTED_VALIDITY: granted}  # a new dict: the JSON column is rewritten
        return granted

    def _bounds(self, matter: str, inputs: dict[str, Any], submitted_by: str) -> ValidityBounds:
        on = self.today()
        probe = Case(matter=matter, inputs=inputs, submitted_by=submitted_by)
        return validity_bounds(self._assess(probe, [], on), inputs, on)

    def validity_bounds(self, case: Mapping[str, Any]) -> dict[str, Any] | None:
        """For the approval form, beside the validity field: the bounds of the validity the officer grants for
        a case as ``read`` returned it (already authorised and audited there; no query) — ``field``,
        ``min_days``, ``max_days``, ``rule``, ``on``, ``requested_days``, ``replaces_valid_until`` — or None
        when the case's approval grants no validity."""
        if case["matter"] not in GRANTS_VALIDITY:
            return None
        return self._bounds(case["matter"], case["inputs"], case["submitted_by"]).as_dict()

    async def propose_refusal(
        self, actor: Actor, case_id: int, version: int, *, key: str, grounds: list[str]
    ) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.PROPOSE_REFUSAL)
            if (
                case.state == State.SUBMITTED
            ):  # before the joint acceptance: the joint application's own commands
                await refuse_if_joint(s, case, "refuse")
            # judged under the law in force at acceptance, as the rest of the case (Regulations Art 13, 18)
            check = check_refusal(case.matter, grounds, on=case.accepted_on or self.today())
            guard(check.valid, "refusal_grounds_valid", "; ".join(check.errors))
            case.refusal_grounds = list(grounds)
            case.refusal_proposed_by = actor.account_id
            return case, await self._step(
                s,
                actor,
                case,
                Command.PROPOSE_REFUSAL,
                {
                    "grounds": grounds,
                    "citations": [c.cite for c in check.citations],
                    "final": check.final,
                    "reasons_may_be_withheld": check.reasons_may_be_withheld,
                },
            )

        return await self._run(
            key, "propose_refusal", body, actor, case_id, request={"version": version, "grounds": grounds}
        )

    async def confirm_refusal(self, actor: Actor, case_id: int, version: int, *, key: str) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.CONFIRM_REFUSAL)
            guard(
                actor.account_id is not None and actor.account_id != case.refusal_proposed_by,
                "second_officer",
                "the refusal must be confirmed by an officer other than the one who proposed it",
            )
            case.decided_by = actor.account_id
            return case, await self._step(
                s, actor, case, Command.CONFIRM_REFUSAL, {"grounds": case.refusal_grounds}
            )

        return await self._run(key, "confirm_refusal", body, actor, case_id, request={"version": version})

    async def revoke_refusal_proposal(
        self, actor: Actor, case_id: int, version: int, *, key: str
    ) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.REVOKE_REFUSAL_PROPOSAL)
            case.refusal_grounds, case.refusal_proposed_by = [], None
            return case, await self._step(s, actor, case, Command.REVOKE_REFUSAL_PROPOSAL)

        return await self._run(
            key, "revoke_refusal_proposal", body, actor, case_id, request={"version": version}
        )
