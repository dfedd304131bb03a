"""The work-permit authority's desk in the platform: its officers (role ``work_permit_officer``, at the single
window office) take a branch under review, extend it once, grant it with the work permit's particulars or refuse
it with reasons. Each is one transaction with an idempotency key, through ``decide_work_permit_branch`` with
``via="desk"`` — the same entry point the external system's messages use."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases.actor import Actor
from cnvisa.cases.joint.decide import decide_work_permit_branch
from cnvisa.cases.runner import Runner
from cnvisa.store.tables import Case


class WorkPermitDesk(Runner):
    async def _decide(
        self, actor: Actor, reference: str, version: int, kind: str, payload: dict[str, Any], key: str
    ) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case | None, dict[str, Any]]:
            out = await decide_work_permit_branch(
                s,
                correlation_id=reference,
                kind=kind,
                payload={**payload, "version": version},
                actor=actor,
                via="desk",
                now=self.now(),
            )
            return await s.get(Case, out["residence_case"]["case_id"]), out

        return await self._run(
            key,
            f"work_permit_{kind}",
            body,
            actor,
            request={"reference": reference, "version": version, **payload},
        )

    async def take_work_permit_branch(
        self, actor: Actor, reference: str, version: int, *, key: str
    ) -> dict[str, Any]:
        """Take the branch under review."""
        return await self._decide(actor, reference, version, "under_review", {}, key)

    async def extend_work_permit_branch(
        self, actor: Actor, reference: str, version: int, *, key: str, reason: str
    ) -> dict[str, Any]:
        """Extend the decision period once by 10 working days, the reason told to the applicant (Administrative
        Licensing Law Art 42 para 1); refused when it would outrun the residence receipt
        (``cnvisa.law.one_stop.receipt_covers``)."""
        return await self._decide(actor, reference, version, "extended", {"reason": reason}, key)

    async def grant_work_permit_branch(
        self,
        actor: Actor,
        reference: str,
        version: int,
        *,
        key: str,
        category: str | None = None,
        position: str,
        work_region: str,
        valid_from: str,
        valid_until: str,
        number: str | None = None,
        facts: dict[str, Any] | None = None,
        category_reason: str | None = None,
    ) -> dict[str, Any]:
        """Grant the work permit with its particulars (dates as YYYY-MM-DD). ``facts``: the points facts
        (``cnvisa law work-permit-points --schema``; ``on`` defaults to today): the points, category and table
        version are recorded, and a ``category`` given must agree with the law's or carry ``category_reason``
        (``cnvisa.cases.joint.decide.law_category``)."""
        payload: dict[str, Any] = {
            "position": position,
            "work_region": work_region,
            "valid_from": valid_from,
            "valid_until": valid_until,
        }
        if category is not None:
            payload["category"] = category
        if number is not None:
            payload["number"] = number
        if facts is not None:
            payload["facts"] = facts
        if category_reason is not None:
            payload["category_reason"] = category_reason
        return await self._decide(actor, reference, version, "granted", payload, key)

    async def refuse_work_permit_branch(
        self, actor: Actor, reference: str, version: int, *, key: str, grounds: list[str]
    ) -> dict[str, Any]:
        """Refuse the work permit with reasons (Administrative Licensing Law Art 38 para 2)."""
        return await self._decide(actor, reference, version, "refused", {"grounds": grounds}, key)
