"""Demo cases made by the workflow itself: each case is applied for and moved on by ``CaseService``'s own
commands (apply, issue_notice, supplement, accept, request_verification, approve, propose and confirm refusal,
issue, collect, withdraw, the lapse sweep), with the platform's clock set to the moment of each step. So the
notices, receipts, decisions, documents, audit events and dates are exactly what the workflow produces.

Steps fall on successive working days, between 09:30 and 16:30 Beijing time, all before the demo's day. A person
without an account applies at the counter (an applicant actor without an account)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.cases.errors import BadInput, GuardFailed
from cnvisa.cases.passport_check import on_record
from cnvisa.cases.records import FileIn
from cnvisa.cases.service import SERVICE_INPUTS, Actor, CaseService
from cnvisa.cases.workflow import Role, State
from cnvisa.law import assess
from cnvisa.law import calendar as workdays
from cnvisa.law.refusals import GROUNDS, check_refusal
from cnvisa.store.db import sessionmaker
from cnvisa.store.tables import Account

MATERIAL = b"%PDF-1.4\n% cnvisa demo material (a scanned document)\n%%EOF\n"
PATHS: dict[State, tuple[str, ...]] = {
    State.DRAFT: ("create",),
    State.SUBMITTED: ("apply",),
    State.DEFICIENT: ("apply_partly", "notice"),
    State.ACCEPTED: ("apply", "accept"),
    State.UNDER_VERIFICATION: ("apply", "accept", "verify"),
    State.REFUSAL_PROPOSED: ("apply", "accept", "propose"),
    State.APPROVED: ("apply", "accept", "approve"),
    State.REFUSED: ("apply", "accept", "propose", "confirm"),
    State.ISSUED: ("apply", "accept", "approve", "issue"),
    State.COLLECTED: ("apply", "accept", "approve", "issue", "collect"),
    State.WITHDRAWN: ("apply", "withdraw"),
    State.LAPSED: ("apply_partly", "notice", "lapse"),
}
"""The commands that bring a new case to each state (``apply_partly``: applied without two of the materials)."""
WITH_NOTICE_FIRST = ("apply_partly", "notice", "supplement")
"""How some accepted cases begin: a one-time notice answered by a supplement (Regulations Art 13 para 2)."""


@dataclass
class Plan:
    """One case to play: who applies as whom, where, for what, and the state it is to reach."""

    person_id: int
    applicant: Actor
    office_id: int
    matter: str
    inputs: dict[str, Any]
    target: State
    submitted_by: str = "self"
    notice_first: bool = False
    papers: tuple[str, ...] = ()
    """Papers handed in beyond the law's checklist (those the office asks for, an office rule); one not handed in
    is looked up in a shared register (``cnvisa.cases.evidence``)."""


@dataclass(frozen=True)
class Staff:
    """An office's officers: the first proposes and decides, the second confirms refusals."""

    office_id: int
    officer: int
    second: int

    def actor(self, second: bool = False) -> Actor:
        return Actor(self.second if second else self.officer, Role.OFFICER, office_id=self.office_id)


def steps(plan: Plan) -> tuple[str, ...]:
    path = PATHS[plan.target]
    if plan.notice_first and path[:2] == ("apply", "accept"):
        return WITH_NOTICE_FIRST + path[1:]
    return path


def schedule(path: Sequence[str], last_day: dt.date) -> list[dt.date]:
    """The working day of each step, the last on or before ``last_day``; a lapse comes the day after the notice's
    reply period (15 working days, an office rule) has run out."""
    gaps = [16 if step == "lapse" else 1 for step in path[1:]]
    start = last_day
    while True:
        days = [workdays.add_working_days(start - dt.timedelta(days=1), 1)]
        for gap in gaps:
            days.append(workdays.add_working_days(days[-1], gap))
        if days[-1] <= last_day:
            return days
        start -= dt.timedelta(days=(days[-1] - last_day).days)


def required(plan: Plan, on: dt.date) -> list[str] | None:
    """The materials the law asks of this application on ``on``; None when it could not be accepted then (a
    blocking problem: the plan does not fit that day)."""
    law_inputs = {k: v for k, v in plan.inputs.items() if k not in SERVICE_INPUTS}
    result = assess(
        {**law_inputs, "matter": plan.matter, "on": on.isoformat(), "submitted_by": plan.submitted_by}
    )
    if any(p["severity"] == "blocking" for p in result["problems"]):
        return None
    return [m["code"] for m in result["required_materials"]]


def refusal_ground(matter: str, on: dt.date) -> str:
    """A ground of refusal the law allows for the matter on that day (the demo's refusals are for materials
    not provided as required where that ground applies)."""
    for code in GROUNDS:
        if check_refusal(matter, [code], on=on).valid:
            return code
    raise LookupError(f"no refusal ground for {matter}")


def _files(codes: Sequence[str]) -> list[FileIn]:
    return [FileIn(code, f"{code}.pdf", MATERIAL) for code in codes]


async def play(
    service: CaseService, clock: ManualClock, plan: Plan, staff: Staff, days: list[dt.date]
) -> int:
    """Drive one case along its path, each step at its day and a time of that day; returns the case id."""
    path = steps(plan)
    materials = [*plan.papers, *(required(plan, days[0]) or [])]  # held back below: the law's last two
    held_back = materials[-2:] if path[0] == "apply_partly" else []
    case: dict[str, Any] = {}
    rng = random.Random(plan.person_id)
    for step, day in zip(path, days, strict=True):
        clock.set(
            dt.datetime.combine(day, dt.time(9, 30), tzinfo=SHANGHAI)
            + dt.timedelta(minutes=rng.randint(0, 420))
        )
        key = f"demo-{step}-{uuid.uuid4().hex[:16]}"
        at = (case.get("case_id", 0), case.get("version", 0))
        officer = staff.actor()
        if step in ("create", "apply", "apply_partly"):
            command = service.create if step == "create" else service.apply
            case = await command(
                plan.applicant,
                key=key,
                person_id=plan.person_id,
                office_id=plan.office_id,
                matter=plan.matter,
                inputs=plan.inputs,
                submitted_by=plan.submitted_by,
                files=_files([m for m in materials if m not in held_back]),
            )
        elif step == "notice":
            case = await service.issue_notice(officer, *at, key=key)
        elif step == "supplement":
            case = await service.supplement(plan.applicant, *at, key=key, files=_files(held_back))
        elif step == "accept":
            case = await _accept(service, officer, at, key, plan.person_id, keep=rng.random() < 0.3)
        elif step == "verify":
            case = await service.request_verification(officer, *at, key=key, method="interview")
        elif step == "approve":  # the officer reads the case and grants what a permit needs (cases.grants)
            bounds = service.validity_bounds(await service.read(officer, at[0]))
            granted = None
            if bounds is not None:
                granted = min(max(bounds["requested_days"] or 365, bounds["min_days"]), bounds["max_days"])
            case = await service.approve(officer, *at, key=key, validity_days=granted)
        elif step == "propose":
            ground = refusal_ground(plan.matter, day)
            case = await service.propose_refusal(officer, *at, key=key, grounds=[ground])
        elif step == "confirm":
            case = await service.confirm_refusal(staff.actor(second=True), *at, key=key)
        elif step == "issue":
            case = await service.issue(officer, *at, key=key)
        elif step == "collect":  # a passport returned at acceptance is read again at the window
            async with service.sessions() as s:
                shown = await on_record(s, plan.person_id)
            case = await service.collect(officer, *at, key=key, passport_presented=True, passport=shown)
        elif step == "withdraw":
            case = await service.withdraw(plan.applicant, *at, key=key)
        elif step == "lapse":  # the daily sweep, the day after the reply period ran out
            await service.lapse_due()
        else:  # pragma: no cover - PATHS names only the steps above
            raise ValueError(step)
    return int(case["case_id"])


async def _accept(
    service: CaseService, officer: Actor, at: tuple[int, int], key: str, person_id: int, *, keep: bool
) -> dict[str, Any]:
    """Acceptance as an officer makes it: a residence document's passport (passport not kept,
    ``cnvisa.cases.passport_check``) read from the passport on record and returned with a collection appointment,
    or — about one case in three, or when the check refuses it (e.g. the passport has expired) — kept with a
    reason; any other matter's passport kept or returned as before."""
    async with service.sessions() as s:
        shown = await on_record(s, person_id)
    if not keep:
        try:
            return await service.accept(officer, *at, key=key, passport_kept=False, passport=shown)
        except (GuardFailed, BadInput):
            pass
    return await service.accept(
        officer,
        *at,
        key=f"{key}-kept",
        passport_kept=True,
        passport=shown,
        retention_reason="verification_art20" if keep else "authenticity_doubt",
    )


async def office_staff(engine: AsyncEngine) -> dict[int, Staff]:
    """Each office's first two officers (by account id)."""
    officers: dict[int, list[int]] = {}
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(Account.office_id, Account.id).where(Account.role == "officer").order_by(Account.id)
        )
        for office_id, account_id in rows:
            if office_id is not None:
                officers.setdefault(office_id, []).append(account_id)
    return {o: Staff(o, ids[0], ids[1] if len(ids) > 1 else ids[0]) for o, ids in officers.items()}


def service_for(engine: AsyncEngine, today: dt.date) -> tuple[CaseService, ManualClock]:
    clock = ManualClock(today)
    return CaseService(sessionmaker(engine), clock), clock
