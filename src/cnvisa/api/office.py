"""The officers' side: the queue by statutory deadline, a case with its checklist and history, the commands
of the procedure, and search — each limited to the officer's own office.

- Queue: open cases by the receipt's end (Regulations Art 13 para 1, Art 18 para 1; Art 36 para 2 counts it in
  working days); a case with at most N working days left (an office rule, CNVISA_ESCALATION_WORKING_DAYS, 2
  by default) is flagged ``near``, one past its deadline ``overdue``. Escalation: the supervisor's list of both.
- Case: the case core's ``read`` (authorised: staff of the case's office only; every read audited), the law
  engine's checklist for the case's inputs against what was handed in, the notices, receipt, verifications,
  decision and the case's audit history.
- Commands: each names the case ``version`` it acts on and carries an idempotency key (body
  ``idempotency_key`` or header ``Idempotency-Key``); the case core enforces the rules (a refusal is confirmed
  by a second officer, etc.) and its refusals come back as problem+json naming the guard and its article.
- Search: by case number, passport number or name, over the cases of the officer's office and the people who
  have a case there. Searches are audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cnvisa.cases.queries import office_case, office_search
from cnvisa.cases.queries.overstay import overstay_view
from cnvisa.cases.workflow import Command
from cnvisa.http.deps import Platform, PlatformDep, Principal, check_csrf
from cnvisa.http.office import OfficeStaff, RowId, Supervisor, office_of, run_command
from cnvisa.http.params import Instant, IsoDate
from cnvisa.http.problems import Problem
from cnvisa.law.passport_retention import RetentionReason

router = APIRouter(tags=["office"])
Limit = Annotated[int, Query(ge=1, le=500, description="how many cases at most")]


# ----------------------------------------------------------------------------------------------- queue


@router.get("/office/queue", response_model=dict[str, Any], summary="The office's open cases by deadline")
async def queue(who: OfficeStaff, p: PlatformDep, limit: Limit = 50) -> dict[str, Any]:
    if not 1 <= limit <= 500:
        raise Problem(422, "Invalid input", "between 1 and 500", field="limit", code="bad_input")
    return await office_case.queue_view(
        p.cases, who.actor, office_of(who), limit, p.settings.escalation_working_days
    )


@router.get(
    "/office/overdue", response_model=dict[str, Any], summary="The office's cases past their deadline"
)
async def overdue(who: OfficeStaff, p: PlatformDep, limit: Limit = 50) -> dict[str, Any]:
    """The oldest ``limit`` overdue cases; ``more`` says whether there are others (an office can have tens of
    thousands: the list is read a page at a time, like the queue)."""
    if not 1 <= limit <= 500:
        raise Problem(422, "Invalid input", "between 1 and 500", field="limit", code="bad_input")
    return await office_case.overdue_view(p.cases, who.actor, office_of(who), limit)


@router.get(
    "/office/escalations",
    response_model=dict[str, Any],
    summary="The office's cases near or past their statutory deadline (supervisor)",
)
async def escalations(who: Supervisor, p: PlatformDep, limit: Limit = 50) -> dict[str, Any]:
    """Overdue cases, oldest deadline first, and cases with at most N working days left (N an office rule:
    ``CNVISA_ESCALATION_WORKING_DAYS``), each list at most ``limit`` with its count and ``more``. Audited."""
    if not 1 <= limit <= 500:
        raise Problem(422, "Invalid input", "between 1 and 500", field="limit", code="bad_input")
    return await p.cases.escalations(
        office_of(who), p.settings.escalation_working_days, actor=who.actor, limit=limit
    )


@router.get(
    "/office/overstays",
    response_model=dict[str, Any],
    summary="People of the office's area in illegal residence today (Regulations Art 25; shown, never imposed)",
)
async def overstays(who: OfficeStaff, p: PlatformDep, limit: Limit = 200) -> dict[str, Any]:
    """Everyone the office answers for whose last lawful day is before today, longest first, with the days and
    the most Law Art 78 allows — never a penalty: that is an officer's decision after the person is heard.
    Audited."""
    if not 1 <= limit <= 500:
        raise Problem(422, "Invalid input", "between 1 and 500", field="limit", code="bad_input")
    return await overstay_view(p.cases, who.actor, limit)


# ----------------------------------------------------------------------------------------------- a case
@router.get(
    "/office/cases/{case_id}", response_model=dict[str, Any], summary="A case of the office (audited)"
)
async def get_case(case_id: RowId, who: OfficeStaff, p: PlatformDep) -> dict[str, Any]:
    return await office_case.case_view(
        p.cases, who.actor, case_id, p.settings.public_base_url, p.settings.escalation_working_days
    )


# ----------------------------------------------------------------------------------------------- commands
class CommandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(
        ..., ge=1, le=2**31 - 1, description="The case version the command acts on (stale: 409)"
    )
    idempotency_key: str | None = Field(
        None,
        min_length=1,
        max_length=80,
        pattern=r"^[\x21-\x7e]+$",
        description="A fresh key per intended command; a repeat returns the first result (or use the "
        "Idempotency-Key header)",
    )


_MRZ_LINE = r"^[A-Z0-9<]{30,44}$"


class PassportIn(BaseModel):
    """The passport at the window (passport not kept, 免留存护照): its two MRZ lines as read (ICAO Doc 9303
    Part 4), or the officer's confirmation that it is the current passport on record."""

    model_config = ConfigDict(extra="forbid")

    passport_mrz_line1: str | None = Field(
        None, pattern=_MRZ_LINE, description="The passport's first MRZ line (TD3: 44 characters)"
    )
    passport_mrz_line2: str | None = Field(
        None, pattern=_MRZ_LINE, description="The passport's second MRZ line (TD3: 44 characters)"
    )
    passport_on_record: bool = Field(
        False,
        description="The passport presented is the applicant's current passport on record: its stored MRZ is "
        "checked instead of lines read now",
    )


class AcceptIn(CommandIn, PassportIn):
    passport_kept: bool = Field(
        True,
        description="Passport kept for processing (false: returned after the on-site check — residence documents, "
        "NIA measures 2024-03-20; the MRZ or passport_on_record is then required)",
    )
    retention_reason: RetentionReason | None = Field(
        None,
        description="Why a residence document's passport is kept although the measure returns it "
        "(cnvisa.law.passport_retention.RETENTION_REASONS)",
    )
    retention_note: str | None = Field(
        None, max_length=2000, pattern=r"^[^\x00]*$", description="Required with the reason 'other'"
    )
    collection_day: IsoDate | None = Field(
        None,
        description="The collection appointment's day (passport returned): within the receipt's validity; "
        "absent: the first free slot of the receipt's last day",
    )
    collection_slot: str | None = Field(
        None, pattern=r"^\d{2}:\d{2}$", description="The slot's start (HH:MM), with collection_day"
    )


class ApproveIn(CommandIn):
    validity_days: int | None = Field(
        None,
        ge=1,
        le=36_600,
        description="The validity granted, in days: required when approving a residence-permit extension, "
        "within the bounds the case page shows (Law Art 30 para 2; the new permit must end later than the "
        "one it replaces, Law Art 32); absent for every other matter",
    )


class VerificationIn(CommandIn):
    method: Literal["interview", "telephone", "site_visit", "other"] = Field(
        ..., description="Regulations Art 20"
    )
    scheduled_for: Instant | None = Field(
        None, description="When (ISO 8601; without an offset: Beijing time), between 2000 and 2199"
    )

    @field_validator("scheduled_for")
    @classmethod
    def _sane(cls, when: dt.datetime | None) -> dt.datetime | None:
        if when is not None and not 2000 <= when.year <= 2199:
            raise ValueError("must be between 2000 and 2199")
        return when


class OutcomeIn(CommandIn):
    outcome: Literal["confirmed", "not_confirmed", "no_show"]
    note: str | None = Field(None, max_length=2000, pattern=r"^[^\x00]*$")


class RefusalIn(CommandIn):
    grounds: list[str] = Field(
        ...,
        min_length=1,
        description="Ground codes of cnvisa.law.refusals (Regulations Art 21; Law Art 21, 31)",
    )


class CollectIn(CommandIn, PassportIn):
    passport_presented: bool = Field(False, description="The applicant presented the passport (Guide X)")


IdempotencyHeader = Annotated[
    str | None, Header(alias="Idempotency-Key", max_length=80, pattern=r"^[\x21-\x7e]+$")
]


async def _api_command(
    request: Request,
    who: Principal,
    p: Platform,
    case_id: int,
    command: Command,
    body: CommandIn,
    header_key: str | None,
) -> dict[str, Any]:
    await check_csrf(request, who)
    key = body.idempotency_key or header_key or ""
    return await run_command(p, who, case_id, str(command), key, body.model_dump())


# The commands of the procedure, one route each (its body model and summary in the API document); every route
# is the same: CSRF, the idempotency key (body or header), the case core's command (``run_command``).
COMMAND_ROUTES: list[tuple[Command, type[CommandIn], str]] = [
    (
        Command.ISSUE_NOTICE,
        CommandIn,
        "One-time notice of everything missing (Regulations Art 13 para 2, Art 18 para 2)",
    ),
    (Command.ACCEPT, AcceptIn, "Accept with a receipt (Regulations Art 13 para 1, Art 18 para 1)"),
    (
        Command.REQUEST_VERIFICATION,
        VerificationIn,
        "Verify the reasons: interview, telephone, site visit (Regulations Art 20)",
    ),
    (
        Command.RECORD_VERIFICATION,
        OutcomeIn,
        "Record the verification's outcome (Regulations Art 20; Guide VII(III))",
    ),
    (Command.APPROVE, ApproveIn, "Approve"),
    (
        Command.PROPOSE_REFUSAL,
        RefusalIn,
        "Propose a refusal on cited grounds (Regulations Art 21; Law Art 21, 31)",
    ),
    (
        Command.CONFIRM_REFUSAL,
        CommandIn,
        "Confirm a proposed refusal (a second officer: guard second_officer)",
    ),
    (Command.REVOKE_REFUSAL_PROPOSAL, CommandIn, "Withdraw a refusal proposal (back to accepted)"),
    (Command.ISSUE, CommandIn, "Issue the document"),
    (Command.COLLECT, CollectIn, "Record collection in person with the passport (Guide X)"),
]


def _command_route(command: Command, body_model: type[CommandIn], summary: str) -> None:
    async def endpoint(
        case_id: RowId,
        body: CommandIn,
        request: Request,
        who: OfficeStaff,
        p: PlatformDep,
        key: IdempotencyHeader = None,
    ) -> dict[str, Any]:
        return await _api_command(request, who, p, case_id, command, body, key)

    # the route's own body model (its schema in the API document), and the name its operation id is made from
    endpoint.__annotations__ = {**endpoint.__annotations__, "body": body_model}
    endpoint.__name__ = endpoint.__qualname__ = str(command)
    router.add_api_route(
        "/office/cases/{case_id}/" + str(command),
        endpoint,
        methods=["POST"],
        response_model=dict[str, Any],
        summary=summary,
    )


for _command, _body, _summary in COMMAND_ROUTES:
    _command_route(_command, _body, _summary)


# ----------------------------------------------------------------------------------------------- search
@router.get(
    "/office/search",
    response_model=dict[str, Any],
    summary="Search the office's cases by case number, passport number or name (audited)",
)
async def search(q: str, who: OfficeStaff, p: PlatformDep) -> dict[str, Any]:
    return await office_search.search_view(
        p.cases, who.actor, office_of(who), q, p.settings.escalation_working_days
    )
