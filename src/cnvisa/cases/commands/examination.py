"""Examination and decision: verification (Regulations Art 20), approval, and refusal — proposed with its
grounds, confirmed by a second officer or revoked (Regulations Art 21)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases.actor import Actor
from cnvisa.cases.errors import BadInput, InvalidCommand
from cnvisa.cases.runner import Runner, guard
from cnvisa.cases.workflow import Command
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

        return await self._run(key, "request_verification", body, actor, case_id)

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

        return await self._run(key, "record_verification", body, actor, case_id)

    async def approve(self, actor: Actor, case_id: int, version: int, *, key: str) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            case.decided_by = actor.account_id
            return case, await self._step(s, actor, case, Command.APPROVE, {"decision": "approve"})

        return await self._run(key, "approve", body, actor, case_id)

    async def propose_refusal(
        self, actor: Actor, case_id: int, version: int, *, key: str, grounds: list[str]
    ) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.PROPOSE_REFUSAL)
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

        return await self._run(key, "propose_refusal", body, actor, case_id)

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

        return await self._run(key, "confirm_refusal", body, actor, case_id)

    async def revoke_refusal_proposal(
        self, actor: Actor, case_id: int, version: int, *, key: str
    ) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.REVOKE_REFUSAL_PROPOSAL)
            case.refusal_grounds, case.refusal_proposed_by = [], None
            return case, await self._step(s, actor, case, Command.REVOKE_REFUSAL_PROPOSAL)

        return await self._run(key, "revoke_refusal_proposal", body, actor, case_id)
