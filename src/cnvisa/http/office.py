"""The officers' HTTP plumbing the API and the case page share: who is staff, the office they belong to, and
the dispatch of one command to the case core."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Path

from cnvisa.cases.clock import SHANGHAI
from cnvisa.cases.workflow import Command, Role
from cnvisa.http.deps import Platform, Principal, require
from cnvisa.http.problems import Problem

OfficeStaff = Annotated[Principal, Depends(require(Role.OFFICER, Role.SUPERVISOR))]
RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="A row id (64-bit)")]


def office_of(who: Principal) -> int:
    if who.actor.office_id is None:
        raise Problem(403, "Forbidden", "this account belongs to no office", code="no_office")
    return who.actor.office_id


def beijing_utc(when: dt.datetime | None) -> dt.datetime | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=SHANGHAI)
    return when.astimezone(dt.UTC)


async def run_command(
    p: Platform, who: Principal, case_id: int, command: str, key: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Dispatch one officer command to the case core (shared by the API and the case page)."""
    cases, actor, version = p.cases, who.actor, int(body["version"])
    if command == Command.ISSUE_NOTICE:
        return await cases.issue_notice(actor, case_id, version, key=key)
    if command == Command.ACCEPT:
        return await cases.accept(actor, case_id, version, key=key, passport_kept=bool(body["passport_kept"]))
    if command == Command.REQUEST_VERIFICATION:
        return await cases.request_verification(
            actor,
            case_id,
            version,
            key=key,
            method=str(body["method"]),
            scheduled_for=beijing_utc(body.get("scheduled_for")),
        )
    if command == Command.RECORD_VERIFICATION:
        return await cases.record_verification(
            actor, case_id, version, key=key, outcome=str(body["outcome"]), note=body.get("note") or None
        )
    if command == Command.APPROVE:
        days = body.get("validity_days")
        return await cases.approve(actor, case_id, version, key=key, validity_days=days)
    if command == Command.PROPOSE_REFUSAL:
        return await cases.propose_refusal(actor, case_id, version, key=key, grounds=list(body["grounds"]))
    if command == Command.CONFIRM_REFUSAL:
        return await cases.confirm_refusal(actor, case_id, version, key=key)
    if command == Command.REVOKE_REFUSAL_PROPOSAL:
        return await cases.revoke_refusal_proposal(actor, case_id, version, key=key)
    if command == Command.ISSUE:
        return await cases.issue(actor, case_id, version, key=key)
    if command == Command.COLLECT:
        return await cases.collect(
            actor, case_id, version, key=key, passport_presented=bool(body["passport_presented"])
        )
    raise Problem(404, "Not found", f"no command {command}", field="command", code="unknown_command")
