"""The officers' HTTP plumbing the API and the case page share: who is staff, the office they belong to, and
the dispatch of one command to the case core."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Path

from cnvisa.cases.clock import SHANGHAI
from cnvisa.cases.passport_check import CollectionSlot, PassportShown, on_record
from cnvisa.cases.workflow import Command, Role
from cnvisa.http.deps import Platform, Principal, require
from cnvisa.http.problems import Problem

OfficeStaff = Annotated[Principal, Depends(require(Role.OFFICER, Role.SUPERVISOR))]
Supervisor = Annotated[Principal, Depends(require(Role.SUPERVISOR))]
"""The office's supervisor: sees the escalations (cases near or past their statutory deadline)."""
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


async def passport_shown(
    p: Platform, who: Principal, case_id: int, body: dict[str, Any]
) -> PassportShown | None:
    """The passport at the window (passport not kept, cnvisa.cases.passport_check): the two MRZ lines read, or —
    ``passport_on_record`` — the MRZ of the applicant's current passport on record, confirmed by the officer
    (checked by the core all the same). None when neither is given."""
    line1, line2 = str(body.get("passport_mrz_line1") or ""), str(body.get("passport_mrz_line2") or "")
    if line1.strip() or line2.strip():
        return PassportShown(line1.strip(), line2.strip())
    if not body.get("passport_on_record"):
        return None
    core = await p.cases.read(who.actor, case_id)  # authorised (and audited) before anything is looked up
    async with p.sessions() as s:
        shown = await on_record(s, int(core["person_id"]))
    if shown is None:
        raise Problem(
            422,
            "Invalid input",
            "no passport with its MRZ is on record for the applicant: read the passport's MRZ",
            field="passport.mrz",
            code="bad_input",
        )
    return shown


async def run_command(
    p: Platform, who: Principal, case_id: int, command: str, key: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Dispatch one officer command to the case core (shared by the API and the case page)."""
    cases, actor, version = p.cases, who.actor, int(body["version"])
    if command == Command.ISSUE_NOTICE:
        return await cases.issue_notice(actor, case_id, version, key=key)
    if command == Command.ACCEPT:
        day, slot = body.get("collection_day"), body.get("collection_slot")
        return await cases.accept(
            actor,
            case_id,
            version,
            key=key,
            passport_kept=bool(body["passport_kept"]),
            passport=await passport_shown(p, who, case_id, body),
            retention_reason=body.get("retention_reason") or None,
            retention_note=body.get("retention_note") or None,
            collection=CollectionSlot(day, str(slot)) if day and slot else None,
        )
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
            actor,
            case_id,
            version,
            key=key,
            passport_presented=bool(body["passport_presented"]),
            passport=await passport_shown(p, who, case_id, body),
        )
    raise Problem(404, "Not found", f"no command {command}", field="command", code="unknown_command")
