"""Revision under new law or calendar data: an undecided case judged again on request, and the open cases'
statutory deadlines recomputed after a holiday-data change. Both audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from cnvisa.cases import audit
from cnvisa.cases.actor import SYSTEM, Actor
from cnvisa.cases.errors import Conflict, Forbidden, InvalidCommand
from cnvisa.cases.queries.case import summary
from cnvisa.cases.runner import Runner
from cnvisa.cases.workflow import OPEN_FOR_DEADLINE, TERMINAL, Role, State
from cnvisa.law import calendar as workdays
from cnvisa.law.acceptance import receipt_valid_until
from cnvisa.store.tables import CalendarState, Case

DECIDED_OR_CLOSED = TERMINAL | {State.APPROVED, State.ISSUED}
"""States after the decision (or the end of the case without one): nothing is re-judged there."""


class RevisionCommands(Runner):
    async def reevaluate(self, actor: Actor, case_id: int, version: int, *, key: str) -> dict[str, Any]:
        """Judge an undecided case again under the law and calendar versions now in force — explicit and
        audited. A decided or closed case keeps the versions it was decided or closed under: its record says
        which law it was judged by."""

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            if not actor.is_staff and actor.role is not Role.ADMIN:
                raise Forbidden("only staff re-evaluate a case")
            self._may_touch(actor, case)
            if State(case.state) in DECIDED_OR_CLOSED:
                raise InvalidCommand(f"a case that is {case.state} is not re-evaluated")
            on = case.accepted_on or self.today()
            result = self._assess(case, await self._materials(s, case), on)
            before = {"law_version": case.law_version, "calendar_version": case.calendar_version}
            case.law_version = result["law_version"]
            case.calendar_version = workdays.calendar_version()
            if case.accepted_on is not None:
                case.receipt_valid_until = receipt_valid_until(case.matter, case.accepted_on)
                case.deadline = case.receipt_valid_until
            case.updated_at = self.now()
            await self._audit(
                s,
                actor,
                case,
                "reevaluate",
                case.state,
                {
                    "before": before,
                    "after": {"law_version": case.law_version, "calendar_version": case.calendar_version},
                },
            )
            return case, summary(case)

        return await self._run(key, "reevaluate", body, actor, case_id, request={"version": version})

    async def recompute_deadlines(self, attempts: int = 5) -> list[dict[str, Any]]:
        """After holiday data changes: recompute every open deadline; each change is written to the audit log.

        All case rows are updated (in id order), then the calendar's row, before any audit chain's head is
        locked — the heads last, in one ``audit.append_many`` (ascending chain order), as every command takes
        them — so a command running at the same time cannot deadlock with the sweep; a case changed under the
        sweep makes it start again."""
        for _ in range(attempts):
            try:
                return await self._recompute_deadlines()
            except StaleDataError:
                continue
        raise Conflict("open cases kept changing while their deadlines were recomputed: try again")

    async def _recompute_deadlines(self) -> list[dict[str, Any]]:
        version = workdays.calendar_version()
        changes: list[tuple[Case, dict[str, Any]]] = []
        async with self.sessions() as s, s.begin():
            state = await s.get(CalendarState, 1)
            if state is not None and state.version == version:
                return []
            cases = (
                (
                    await s.execute(
                        select(Case)
                        .where(
                            Case.state.in_([str(x) for x in OPEN_FOR_DEADLINE]), Case.accepted_on.is_not(None)
                        )
                        .order_by(Case.id)
                    )
                )
                .scalars()
                .all()
            )
            for case in cases:
                assert case.accepted_on is not None
                new = receipt_valid_until(case.matter, case.accepted_on)
                if new != case.receipt_valid_until:
                    old = case.receipt_valid_until
                    case.receipt_valid_until = case.deadline = new
                    case.calendar_version = version
                    change = {
                        "case": case.number,
                        "from": old.isoformat() if old else None,
                        "to": new.isoformat() if new else None,
                        "calendar_version": version,
                    }
                    changes.append((case, change))
            await s.flush()  # every case row first (StaleDataError: changed meanwhile), then the chain heads
            if state is None:
                s.add(CalendarState(id=1, version=version))
            else:
                state.version = version
            await s.flush()  # the calendar's row too: no row is locked after a chain's head
            # the events collected (``_audit``) and written in one group: each head locked once, in chain order
            async with audit.last(s):
                for case, change in changes:
                    await self._audit(s, SYSTEM, case, "recompute_deadline", case.state, change)
        return [change for _, change in changes]
