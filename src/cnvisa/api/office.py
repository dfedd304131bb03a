"""The officers' side: the queue by statutory deadline, a case with its checklist and history, the commands
of the procedure, and search — each limited to the officer's own office.

- Queue: open cases by the receipt's end (Regulations Art 13 para 1, Art 18 para 1; Art 36 para 2 counts it in
  working days); a case with at most 2 working days left is flagged ``near``, one past its deadline ``overdue``.
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

from fastapi import APIRouter, Depends, Header, Path, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import and_, func, or_, select

from cnvisa.cases import audit
from cnvisa.cases.clock import SHANGHAI
from cnvisa.cases.errors import NotFound
from cnvisa.cases.service import SERVICE_INPUTS, caseless_event
from cnvisa.cases.workflow import GUARD_ARTICLES, OPEN_FOR_DEADLINE, Command, Role, State, allowed_commands
from cnvisa.http.deps import Platform, PlatformDep, Principal, check_csrf, require
from cnvisa.http.problems import Problem
from cnvisa.law import assess
from cnvisa.law import calendar as workdays
from cnvisa.law.errors import LawError
from cnvisa.law.refusals import grounds_for
from cnvisa.law.verification import VERIFICATION_CITATIONS, VERIFICATION_METHODS
from cnvisa.store.tables import (
    Account,
    AuditEvent,
    Case,
    CaseFile,
    Office,
    Person,
    TravelDocument,
    Verification,
)
from cnvisa.web import pdf

router = APIRouter(tags=["office"])
OfficeStaff = Annotated[Principal, Depends(require(Role.OFFICER, Role.SUPERVISOR))]
RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="A row id (64-bit)")]

NEAR_WORKING_DAYS = 2
"""A case with this many working days or fewer before its statutory deadline is flagged ``near``."""
COMMANDS = (
    Command.ISSUE_NOTICE,
    Command.ACCEPT,
    Command.REQUEST_VERIFICATION,
    Command.RECORD_VERIFICATION,
    Command.APPROVE,
    Command.PROPOSE_REFUSAL,
    Command.CONFIRM_REFUSAL,
    Command.REVOKE_REFUSAL_PROPOSAL,
    Command.ISSUE,
    Command.COLLECT,
)
OUTCOMES = ("confirmed", "not_confirmed", "no_show")
SEARCH_LIMIT = 50


def _office_of(who: Principal) -> int:
    if who.actor.office_id is None:
        raise Problem(403, "Forbidden", "this account belongs to no office", code="no_office")
    return who.actor.office_id


def deadline_flag(
    state: str, deadline: dt.date | str | None, today: dt.date
) -> tuple[int | None, str | None]:
    """(working days left, flag): ``overdue`` past the deadline, ``near`` with ≤ 2 working days left; the
    deadline runs only while the case is accepted, under verification or a refusal is proposed."""
    if deadline is None or state not in {str(s) for s in OPEN_FOR_DEADLINE}:
        return None, None
    day = dt.date.fromisoformat(deadline) if isinstance(deadline, str) else deadline
    try:
        left = (
            workdays.working_days_between(today, day)
            if today <= day
            else -workdays.working_days_between(day, today)
        )
    except LawError:  # a year without a loaded holiday notice: the count is unknown, not guessed
        left = None
    if day < today:
        return left, "overdue"
    if left is not None and left <= NEAR_WORKING_DAYS:
        return left, "near"
    return left, None


async def _names(p: Platform, case_ids: list[int]) -> dict[int, str]:
    if not case_ids:
        return {}
    async with p.sessions() as s:
        rows = await s.execute(
            select(Case.id, Person.surname, Person.given_names)
            .join(Person, Person.id == Case.person_id)
            .where(Case.id.in_(case_ids))
        )
        return {r.id: f"{r.surname} {r.given_names}" for r in rows}


# ----------------------------------------------------------------------------------------------- queue
async def queue_view(p: Platform, who: Principal, limit: int = 50) -> dict[str, Any]:
    """The API's queue: open cases by deadline, cases awaiting acceptance last (CaseService.queue)."""
    office_id = _office_of(who)
    today = p.today()
    items = await p.cases.queue(office_id, limit=limit, actor=who.actor)
    names = await _names(p, [i["case_id"] for i in items])
    for item in items:
        item["working_days_left"], item["flag"] = deadline_flag(item["state"], item["deadline"], today)
        item["applicant"] = names.get(item["case_id"], "")
    return {"office_id": office_id, "today": today.isoformat(), "items": items}


async def queue_page_view(p: Platform, who: Principal, limit: int) -> dict[str, Any]:
    """The queue page: decisions due by deadline (near and overdue flagged), and applications awaiting
    acceptance (CaseService.queue_page)."""
    office_id = _office_of(who)
    today = p.today()
    view = await p.cases.queue_page(office_id, limit, who.actor)
    for item in view["due"]:
        item["working_days_left"], item["flag"] = deadline_flag(item["state"], item["deadline"], today)
    overdue = sum(1 for i in view["due"] if i["flag"] == "overdue")
    return {"office_id": office_id, "today": today.isoformat(), "limit": limit, "overdue": overdue, **view}


@router.get("/office/queue", response_model=dict[str, Any], summary="The office's open cases by deadline")
async def queue(who: OfficeStaff, p: PlatformDep, limit: int = 50) -> dict[str, Any]:
    if not 1 <= limit <= 500:
        raise Problem(422, "Invalid input", "between 1 and 500", field="limit", code="bad_input")
    return await queue_view(p, who, limit)


@router.get(
    "/office/overdue", response_model=dict[str, Any], summary="The office's cases past their deadline"
)
async def overdue(who: OfficeStaff, p: PlatformDep, limit: int = 50) -> dict[str, Any]:
    """The oldest ``limit`` overdue cases; ``more`` says whether there are others (an office can have tens of
    thousands: the list is read a page at a time, like the queue)."""
    if not 1 <= limit <= 500:
        raise Problem(422, "Invalid input", "between 1 and 500", field="limit", code="bad_input")
    office_id = _office_of(who)
    today = p.today()
    items = await p.cases.overdue(office_id, actor=who.actor, limit=limit + 1)
    more = len(items) > limit
    items = items[:limit]
    names = await _names(p, [o["case_id"] for o in items])
    for o in items:
        o["working_days_left"], _ = deadline_flag(o["state"], o["deadline"], today)
        o["applicant"] = names.get(o["case_id"], "")
    return {"office_id": office_id, "today": today.isoformat(), "items": items, "more": more}


# ----------------------------------------------------------------------------------------------- a case
def assess_case(case: Case, materials: list[str], on: dt.date) -> dict[str, Any]:
    """The law engine on the case's inputs and the materials handed in (as the case core asks it)."""
    inputs = dict(case.inputs)
    inputs["matter"] = case.matter
    inputs["on"] = on.isoformat()
    inputs["submitted_by"] = case.submitted_by
    inputs["materials"] = sorted(set(materials) | set(inputs.get("materials", [])))
    inputs.pop("accepted_on", None)
    for key in SERVICE_INPUTS:
        inputs.pop(key, None)
    try:
        return assess(inputs)
    except LawError as exc:
        return {"error": {"field": getattr(exc, "field", None), "detail": str(exc)}}


async def case_view(p: Platform, who: Principal, case_id: int) -> dict[str, Any]:
    """Everything the case page shows. Authorised and audited by the case core's ``read``."""
    core = await p.cases.read(who.actor, case_id)
    async with p.sessions() as s:
        case = await s.get(Case, case_id)
        if case is None:
            raise NotFound(f"case {case_id}")
        person = await s.get(Person, case.person_id)
        office = await s.get(Office, case.office_id)
        passports = (
            (
                await s.execute(
                    select(TravelDocument)
                    .where(TravelDocument.person_id == case.person_id)
                    .order_by(TravelDocument.current.desc(), TravelDocument.id.desc())
                )
            )
            .scalars()
            .all()
        )
        files = (
            await s.execute(
                select(
                    CaseFile.id,
                    CaseFile.material_code,
                    CaseFile.filename,
                    CaseFile.size,
                    CaseFile.media_type,
                    CaseFile.sha256,
                    CaseFile.uploaded_at,
                )
                .where(CaseFile.case_id == case_id)
                .order_by(CaseFile.id)
            )
        ).all()
        verifications = (
            (
                await s.execute(
                    select(Verification).where(Verification.case_id == case_id).order_by(Verification.id)
                )
            )
            .scalars()
            .all()
        )
        events = (
            await s.execute(
                select(AuditEvent, Account.display_name, Account.username)
                .outerjoin(Account, Account.id == AuditEvent.actor_account_id)
                .where(AuditEvent.case_id == case_id)
                .order_by(AuditEvent.seq)
            )
        ).all()
        people = {
            a.id: a.display_name
            for a in (
                await s.execute(
                    select(Account.id, Account.display_name).where(
                        Account.id.in_([x for x in (case.refusal_proposed_by, case.decided_by) if x])
                    )
                )
            ).all()
        }
    file_list = [
        {
            "id": f.id,
            "material_code": f.material_code,
            "filename": f.filename,
            "size": f.size,
            "media_type": f.media_type,
            "sha256": f.sha256,
            "uploaded_at": f.uploaded_at,
            "url": f"/office/cases/{case_id}/files/{f.id}",
        }
        for f in files
    ]
    provided = sorted({f["material_code"] for f in file_list})
    result = assess_case(case, provided, case.accepted_on or p.today())
    checklist = []
    if "error" not in result:
        for req in result["required_materials"]:
            mine = [f for f in file_list if f["material_code"] == req["code"]]
            checklist.append(
                {
                    **req,
                    "provided": bool(mine) or req["code"] in (case.inputs.get("materials") or []),
                    "files": mine,
                }
            )
    required_codes = {c["code"] for c in checklist}
    days_left, flag = deadline_flag(case.state, case.deadline, p.today())
    state = State(case.state)
    return {
        "case": {
            **core,
            "created_at": case.created_at,
            "updated_at": case.updated_at,
            "passport_kept": case.passport_kept,
            "refusal_proposed_by": people.get(case.refusal_proposed_by or 0),
            "decided_by": people.get(case.decided_by or 0),
            "flag": flag,
            "working_days_left": days_left,
        },
        "person": None
        if person is None
        else {
            "id": person.id,
            "surname": person.surname,
            "given_names": person.given_names,
            "birth_date": person.birth_date,
            "sex": person.sex,
            "nationality": person.nationality,
            "passports": [
                {
                    "number": d.number,
                    "issuing_state": d.issuing_state,
                    "kind": d.kind,
                    "valid_until": d.valid_until,
                    "current": d.current,
                }
                for d in passports
            ],
        },
        "office": None
        if office is None
        else {"id": office.id, "code": office.code, "en": office.name_en, "zh": office.name_zh},
        "assessment": {
            "error": result.get("error"),
            "acceptable": result.get("acceptable"),
            "law_version": result.get("law_version"),
            "on": result.get("on"),
            "missing_materials": result.get("missing_materials", []),
            "problems": result.get("problems", []),
            "citations": result.get("citations", []),
            "receipt_valid_until": result.get("receipt_valid_until"),
            "fee_cny": result.get("fee_cny"),
        },
        "checklist": checklist,
        "files": file_list,
        "other_files": [f for f in file_list if f["material_code"] not in required_codes],
        "verifications": [
            {
                "id": v.id,
                "method": v.method,
                "method_label": dict(
                    zip(("en", "zh"), VERIFICATION_METHODS.get(v.method, (v.method,) * 2), strict=True)
                ),
                "scheduled_for": v.scheduled_for,
                "outcome": v.outcome,
                "note": v.note,
                "recorded_at": v.recorded_at,
            }
            for v in verifications
        ],
        "verification_citations": [c.as_dict() for c in VERIFICATION_CITATIONS],
        "documents": await pdf.case_documents(p, case),
        "history": [
            {
                "seq": e.seq,
                "at": e.at,
                "action": e.action,
                "actor": name or (username if username else e.role),
                "role": e.role,
                "state_before": e.state_before,
                "state_after": e.state_after,
                "detail": e.detail,
            }
            for e, name, username in events
        ],
        "commands": [str(c) for c in allowed_commands(state, who.role) if c in COMMANDS],
        "refusal_grounds_available": [
            {"code": g.code, "en": g.en, "zh": g.zh, "citation": g.citation.as_dict()}
            for g in grounds_for(case.matter, on=case.accepted_on or p.today())
        ],
        "guards": GUARD_ARTICLES,
    }


@router.get(
    "/office/cases/{case_id}", response_model=dict[str, Any], summary="A case of the office (audited)"
)
async def get_case(case_id: RowId, who: OfficeStaff, p: PlatformDep) -> dict[str, Any]:
    return await case_view(p, who, case_id)


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


class AcceptIn(CommandIn):
    passport_kept: bool = Field(
        True, description="Passport kept for processing (false: returned — passport-retention exemption)"
    )


class VerificationIn(CommandIn):
    method: Literal["interview", "telephone", "site_visit", "other"] = Field(
        ..., description="Regulations Art 20"
    )
    scheduled_for: dt.datetime | None = Field(
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


class CollectIn(CommandIn):
    passport_presented: bool = Field(False, description="The applicant presented the passport (Guide X)")


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
        return await cases.approve(actor, case_id, version, key=key)
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


@router.post(
    "/office/cases/{case_id}/issue_notice",
    response_model=dict[str, Any],
    summary="One-time notice of everything missing (Regulations Art 13 para 2, Art 18 para 2)",
)
async def issue_notice(
    case_id: RowId,
    body: CommandIn,
    request: Request,
    who: OfficeStaff,
    p: PlatformDep,
    key: IdempotencyHeader = None,
) -> dict[str, Any]:
    return await _api_command(request, who, p, case_id, Command.ISSUE_NOTICE, body, key)


@router.post(
    "/office/cases/{case_id}/accept",
    response_model=dict[str, Any],
    summary="Accept with a receipt (Regulations Art 13 para 1, Art 18 para 1)",
)
async def accept(
    case_id: RowId,
    body: AcceptIn,
    request: Request,
    who: OfficeStaff,
    p: PlatformDep,
    key: IdempotencyHeader = None,
) -> dict[str, Any]:
    return await _api_command(request, who, p, case_id, Command.ACCEPT, body, key)


@router.post(
    "/office/cases/{case_id}/request_verification",
    response_model=dict[str, Any],
    summary="Verify the reasons: interview, telephone, site visit (Regulations Art 20)",
)
async def request_verification(
    case_id: RowId,
    body: VerificationIn,
    request: Request,
    who: OfficeStaff,
    p: PlatformDep,
    key: IdempotencyHeader = None,
) -> dict[str, Any]:
    return await _api_command(request, who, p, case_id, Command.REQUEST_VERIFICATION, body, key)


@router.post(
    "/office/cases/{case_id}/record_verification",
    response_model=dict[str, Any],
    summary="Record the verification's outcome (Regulations Art 20; Guide VII(III))",
)
async def record_verification(
    case_id: RowId,
    body: OutcomeIn,
    request: Request,
    who: OfficeStaff,
    p: PlatformDep,
    key: IdempotencyHeader = None,
) -> dict[str, Any]:
    return await _api_command(request, who, p, case_id, Command.RECORD_VERIFICATION, body, key)


@router.post("/office/cases/{case_id}/approve", response_model=dict[str, Any], summary="Approve")
async def approve(
    case_id: RowId,
    body: CommandIn,
    request: Request,
    who: OfficeStaff,
    p: PlatformDep,
    key: IdempotencyHeader = None,
) -> dict[str, Any]:
    return await _api_command(request, who, p, case_id, Command.APPROVE, body, key)


@router.post(
    "/office/cases/{case_id}/propose_refusal",
    response_model=dict[str, Any],
    summary="Propose a refusal on cited grounds (Regulations Art 21; Law Art 21, 31)",
)
async def propose_refusal(
    case_id: RowId,
    body: RefusalIn,
    request: Request,
    who: OfficeStaff,
    p: PlatformDep,
    key: IdempotencyHeader = None,
) -> dict[str, Any]:
    return await _api_command(request, who, p, case_id, Command.PROPOSE_REFUSAL, body, key)


@router.post(
    "/office/cases/{case_id}/confirm_refusal",
    response_model=dict[str, Any],
    summary="Confirm a proposed refusal (a second officer: guard second_officer)",
)
async def confirm_refusal(
    case_id: RowId,
    body: CommandIn,
    request: Request,
    who: OfficeStaff,
    p: PlatformDep,
    key: IdempotencyHeader = None,
) -> dict[str, Any]:
    return await _api_command(request, who, p, case_id, Command.CONFIRM_REFUSAL, body, key)


@router.post(
    "/office/cases/{case_id}/revoke_refusal_proposal",
    response_model=dict[str, Any],
    summary="Withdraw a refusal proposal (back to accepted)",
)
async def revoke_refusal_proposal(
    case_id: RowId,
    body: CommandIn,
    request: Request,
    who: OfficeStaff,
    p: PlatformDep,
    key: IdempotencyHeader = None,
) -> dict[str, Any]:
    return await _api_command(request, who, p, case_id, Command.REVOKE_REFUSAL_PROPOSAL, body, key)


@router.post("/office/cases/{case_id}/issue", response_model=dict[str, Any], summary="Issue the document")
async def issue(
    case_id: RowId,
    body: CommandIn,
    request: Request,
    who: OfficeStaff,
    p: PlatformDep,
    key: IdempotencyHeader = None,
) -> dict[str, Any]:
    return await _api_command(request, who, p, case_id, Command.ISSUE, body, key)


@router.post(
    "/office/cases/{case_id}/collect",
    response_model=dict[str, Any],
    summary="Record collection in person with the passport (Guide X)",
)
async def collect(
    case_id: RowId,
    body: CollectIn,
    request: Request,
    who: OfficeStaff,
    p: PlatformDep,
    key: IdempotencyHeader = None,
) -> dict[str, Any]:
    return await _api_command(request, who, p, case_id, Command.COLLECT, body, key)


# ----------------------------------------------------------------------------------------------- search
def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_view(p: Platform, who: Principal, q: str) -> dict[str, Any]:
    """Cases of the officer's office by case number, passport number (travel_documents.number) or name;
    people only when they have a case in the office. Every search is audited."""
    office_id = _office_of(who)
    q = " ".join("".join(ch for ch in q if ch.isprintable()).split())[:100]
    if len(q) < 2:
        raise Problem(422, "Invalid input", "at least 2 characters", field="q", code="bad_input")
    terms = q.upper().split()
    in_office = select(Case.person_id).where(Case.office_id == office_id)
    by_name = and_(
        *(
            or_(
                func.upper(Person.surname).like(_like(t), escape="\\"),
                func.upper(Person.given_names).like(_like(t), escape="\\"),
            )
            for t in terms
        )
    )
    by_passport = Person.id.in_(
        select(TravelDocument.person_id).where(
            func.upper(TravelDocument.number) == q.upper().replace(" ", "")
        )
    )
    async with p.sessions() as s, s.begin():
        people = (
            (
                await s.execute(
                    select(Person)
                    .where(Person.id.in_(in_office), or_(by_name, by_passport))
                    .order_by(Person.surname, Person.given_names, Person.id)
                    .limit(SEARCH_LIMIT)
                )
            )
            .scalars()
            .all()
        )
        person_ids = [x.id for x in people]
        case_rows = (
            await s.execute(
                select(Case.id, Case.number, Case.state, Case.matter, Case.deadline, Case.person_id)
                .where(
                    Case.office_id == office_id,
                    or_(
                        func.upper(Case.number).like(_like(q.upper().replace(" ", "")), escape="\\"),
                        Case.receipt_number == q.upper(),
                        Case.person_id.in_(person_ids),
                    ),
                )
                .order_by(Case.id.desc())
                .limit(SEARCH_LIMIT * 4)
            )
        ).all()
        extra = {r.person_id for r in case_rows} - set(person_ids)
        if extra:
            people = [
                *people,
                *(await s.execute(select(Person).where(Person.id.in_(extra)))).scalars().all(),
            ]
        docs = (
            await s.execute(
                select(TravelDocument.person_id, TravelDocument.number, TravelDocument.issuing_state).where(
                    TravelDocument.person_id.in_([x.id for x in people])
                )
            )
        ).all()
        found = {"q": q, "cases": len(case_rows), "people": len(people)}
        await audit.append(s, **caseless_event(who.actor, p.cases.now(), "search", found, office_id))
    names = {x.id: f"{x.surname} {x.given_names}" for x in people}
    today = p.today()
    cases_out = []
    for r in case_rows:
        left, flag = deadline_flag(r.state, r.deadline, today)
        cases_out.append(
            {
                "case_id": r.id,
                "number": r.number,
                "state": r.state,
                "matter": r.matter,
                "deadline": r.deadline.isoformat() if r.deadline else None,
                "working_days_left": left,
                "flag": flag,
                "person_id": r.person_id,
                "applicant": names.get(r.person_id, ""),
            }
        )
    return {
        "q": q,
        "cases": cases_out,
        "people": [
            {
                "id": x.id,
                "surname": x.surname,
                "given_names": x.given_names,
                "birth_date": x.birth_date.isoformat(),
                "nationality": x.nationality,
                "passports": [f"{d.issuing_state} {d.number}" for d in docs if d.person_id == x.id],
                "cases": [c["case_id"] for c in cases_out if c["person_id"] == x.id],
            }
            for x in people
        ],
    }


@router.get(
    "/office/search",
    response_model=dict[str, Any],
    summary="Search the office's cases by case number, passport number or name (audited)",
)
async def search(q: str, who: OfficeStaff, p: PlatformDep) -> dict[str, Any]:
    return await search_view(p, who, q)


# ----------------------------------------------------------------------------------------------- files
async def load_file(p: Platform, who: Principal, case_id: int, file_id: int) -> CaseFile:
    """A material of a case, for staff of the case's office only; the download is audited."""
    office_id = _office_of(who)
    async with p.sessions() as s, s.begin():
        row = (
            await s.execute(
                select(CaseFile, Case.office_id, Case.state)
                .join(Case, Case.id == CaseFile.case_id)
                .where(CaseFile.id == file_id, CaseFile.case_id == case_id)
            )
        ).one_or_none()
        if row is None:
            raise NotFound(f"file {file_id} of case {case_id}")
        f, case_office, state = row
        if case_office != office_id:
            raise Problem(403, "Forbidden", "the case belongs to another office", code="forbidden")
        await audit.append(
            s,
            at=p.cases.now(),
            actor_account_id=who.actor.account_id,
            role=str(who.role),
            office_id=office_id,
            case_id=case_id,
            action="read_file",
            state_before=state,
            state_after=state,
            detail={"file": f.id, "material": f.material_code, "sha256": f.sha256},
        )
        return f
