"""Closure without a decision: the applicant's withdrawal and the system's lapse of stale drafts and unanswered
one-time notices (office rules)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases.actor import SYSTEM, Actor
from cnvisa.cases.errors import Conflict, InvalidCommand
from cnvisa.cases.joint_link import lapse_with_case, refuse_if_joint
from cnvisa.cases.runner import Runner
from cnvisa.cases.workflow import Command, State
from cnvisa.store.tables import Case, Notice

DRAFT_RETENTION_DAYS = 30
"""Office rule: a draft not submitted within 30 days lapses."""


class ClosureCommands(Runner):
    async def withdraw(self, actor: Actor, case_id: int, version: int, *, key: str) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.WITHDRAW)
            await refuse_if_joint(s, case, "withdraw")
            return case, await self._step(s, actor, case, Command.WITHDRAW)

        return await self._run(key, "withdraw", body, actor, case_id, request={"version": version})

    async def lapse_due(self) -> list[str]:
        """System sweep: drafts past retention and notices unanswered past their reply date lapse."""
        on = self.today()
        lapsed: list[str] = []
        async with self.sessions() as s:
            drafts = (
                await s.execute(
                    select(Case.id, Case.version).where(
                        Case.state == str(State.DRAFT),
                        Case.created_at < self.now() - dt.timedelta(days=DRAFT_RETENTION_DAYS),
                    )
                )
            ).all()
            deficient = (
                await s.execute(
                    select(Case.id, Case.version)
                    .join(Notice, Notice.case_id == Case.id)
                    .where(Case.state == str(State.DEFICIENT))
                    .group_by(Case.id, Case.version)
                    .having(func.max(Notice.respond_by) < on)
                )
            ).all()
        for case_id, version in [*drafts, *deficient]:

            async def body(
                s: AsyncSession, case_id: int = case_id, version: int = version
            ) -> tuple[Case, dict[str, Any]]:
                case = await self._load(s, case_id, version)
                out = await self._step(s, SYSTEM, case, Command.LAPSE)
                await lapse_with_case(s, case, self.now())  # a joint application lapses with its case
                return case, out

            try:
                out = await self._run(
                    f"lapse-{case_id}-{version}", "lapse", body, SYSTEM, case_id, request={"version": version}
                )
                lapsed.append(out["number"])
            except (Conflict, InvalidCommand):
                continue
        return lapsed
