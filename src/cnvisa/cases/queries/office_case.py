"""The officers' reads of their office: the queue by statutory deadline, a case with its checklist and
history, and a case's files — each limited to the officer's own office (the caller names it).

- Queue: open cases by the receipt's end (Regulations Art 13 para 1, Art 18 para 1; Art 36 para 2 counts it in
  working days); a case with at most N working days left (an office rule, 2 unless configured:
  ``cnvisa.cases.queries.escalation``) is flagged ``near``, one past its deadline ``overdue``.
- Case: the case core's ``read`` (authorised: staff of the case's office only; every read audited), the law
  engine's checklist for the case's inputs against what was handed in, the notices, receipt, verifications,
  decision and the case's audit history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases import audit
from cnvisa.cases.errors import BadInput, Forbidden, NotFound
from cnvisa.cases.obligations import ObligationRegister
from cnvisa.cases.queries import documents, passport_view
from cnvisa.cases.queries.escalation import NEAR_WORKING_DAYS
from cnvisa.cases.runner import law_inputs
from cnvisa.cases.service import Actor, CaseService
from cnvisa.cases.workflow import GUARD_ARTICLES, OPEN_FOR_DEADLINE, Command, State, allowed_commands
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
    Verification,
)

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
"""The commands the case page and the API offer an officer."""
OUTCOMES = ("confirmed", "not_confirmed", "no_show")


def deadline_flag(
    state: str, deadline: dt.date | str | None, today: dt.date, near: int = NEAR_WORKING_DAYS
) -> tuple[int | None, str | None]:
    """(working days left, flag): ``overdue`` past the deadline, ``near`` with ≤ ``near`` working days left
    (an office rule: cnvisa.cases.queries.escalation); the deadline runs only while the case is accepted,
    under verification or a refusal is proposed."""
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
    if left is not None and left <= near:
        return left, "near"
    return left, None


async def names(sessions: async_sessionmaker[AsyncSession], case_ids: list[int]) -> dict[int, str]:
    """The applicant's name of each case."""
    if not case_ids:
        return {}
    async with sessions() as s:
        rows = await s.execute(
            select(Case.id, Person.surname, Person.given_names)
            .join(Person, Person.id == Case.person_id)
            .where(Case.id.in_(case_ids))
        )
        return {r.id: f"{r.surname} {r.given_names}" for r in rows}


# ----------------------------------------------------------------------------------------------- queue
async def queue_view(
    cases: CaseService, actor: Actor, office_id: int, limit: int = 50, near: int = NEAR_WORKING_DAYS
) -> dict[str, Any]:
    """The API's queue: open cases by deadline, cases awaiting acceptance last (CaseService.queue)."""
    today = cases.today()
    items = await cases.queue(office_id, limit=limit, actor=actor)
    applicants = await names(cases.sessions, [i["case_id"] for i in items])
    for item in items:
        item["working_days_left"], item["flag"] = deadline_flag(item["state"], item["deadline"], today, near)
        item["applicant"] = applicants.get(item["case_id"], "")
    return {"office_id": office_id, "today": today.isoformat(), "items": items}


async def queue_page_view(
    cases: CaseService, actor: Actor, office_id: int, limit: int, near: int = NEAR_WORKING_DAYS
) -> dict[str, Any]:
    """The queue page: decisions due by deadline (near and overdue flagged), and applications awaiting
    acceptance (CaseService.queue_page)."""
    today = cases.today()
    view = await cases.queue_page(office_id, limit, actor)
    for item in view["due"]:
        item["working_days_left"], item["flag"] = deadline_flag(item["state"], item["deadline"], today, near)
    overdue = sum(1 for i in view["due"] if i["flag"] == "overdue")
    return {
        "office_id": office_id,
        "today": today.isoformat(),
        "limit": limit,
        "overdue": overdue,
        "near_working_days": near,
        **view,
    }


async def overdue_view(cases: CaseService, actor: Actor, office_id: int, limit: int) -> dict[str, Any]:
    """The oldest ``limit`` overdue cases; ``more`` says whether there are others (an office can have tens of
    thousands: the list is read a page at a time, like the queue)."""
    today = cases.today()
    items = await cases.overdue(office_id, actor=actor, limit=limit + 1)
    more = len(items) > limit
    items = items[:limit]
    applicants = await names(cases.sessions, [o["case_id"] for o in items])
    for o in items:
        o["working_days_left"], _ = deadline_flag(o["state"], o["deadline"], today)
        o["applicant"] = applicants.get(o["case_id"], "")
    return {"office_id": office_id, "today": today.isoformat(), "items": items, "more": more}


# ----------------------------------------------------------------------------------------------- a case
def assess_case(
    case: Case, materials: list[str], on: dt.date, office: Office | None = None
) -> dict[str, Any]:
    """The law engine on the case's inputs, the materials handed in and the office (as the case core asks it)."""
    inputs = law_inputs(case.matter, dict(case.inputs), case.submitted_by, materials, on, office)
    try:
        return assess(inputs)
    except LawError as exc:
        return {"error": {"field": getattr(exc, "field", None), "detail": str(exc)}}


async def case_view(
    cases: CaseService, actor: Actor, case_id: int, base: str, near: int = NEAR_WORKING_DAYS
) -> dict[str, Any]:
    """Everything the case page shows (check URLs under ``base``, the public address). Authorised and audited
    by the case core's ``read``."""
    core = await cases.read(actor, case_id)
    async with cases.sessions() as s:
        case = await s.get(Case, case_id)
        if case is None:
            raise NotFound(f"case {case_id}")
        person, office, passports = await documents.parties(s, case)
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
    result = assess_case(case, provided, case.accepted_on or cases.today(), office)
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
    days_left, flag = deadline_flag(case.state, case.deadline, cases.today(), near)
    state = State(case.state)
    commands = [str(c) for c in allowed_commands(state, actor.role) if c in COMMANDS]
    validity: dict[str, Any] | None = None
    if Command.APPROVE in commands:  # the bounds beside the officer's validity field (cases.grants)
        try:
            validity = cases.validity_bounds(core)
        except BadInput as exc:
            validity = {"field": exc.field, "error": exc.message}
    passport: dict[str, Any] | None = None
    if Command.ACCEPT in commands or Command.COLLECT in commands:  # the passport part of those two forms
        last = result.get("receipt_valid_until")
        async with cases.sessions() as s:
            here = await s.get(Office, case.office_id)
            assert here is not None
            passport = await passport_view.passport_options(
                s, case, here, cases.today(), dt.date.fromisoformat(str(last)) if last else None
            )
    # the applicant's duties with a deadline (issue 12): whether the application came in time (Law Art 29, 32)
    obligations = await ObligationRegister(cases.sessions, cases.clock).of_person(case.person_id)
    return {
        "obligations": obligations,
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
            "five_year": result.get("five_year"),  # cnvisa.law.five_year: "may be granted up to DATE"
            "office_choice": result.get("office_choice"),  # cnvisa.law.office_choice: may this office accept
            "business_multiple_entry": result.get("business_multiple_entry"),  # MPS 2023-08-03 ceiling
            "issuable": result.get("issuable"),
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
        "documents": await documents.case_documents(cases.sessions, case, base),
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
        "commands": commands,
        "validity": validity,
        "passport": passport,
        "records_used": await cases.records_used(actor, case_id, audited=False),  # audited by the read above
        "refusal_grounds_available": [
            {"code": g.code, "en": g.en, "zh": g.zh, "citation": g.citation.as_dict()}
            for g in grounds_for(case.matter, on=case.accepted_on or cases.today())
        ],
        "guards": GUARD_ARTICLES,
    }


# ----------------------------------------------------------------------------------------------- files
async def load_file(cases: CaseService, actor: Actor, office_id: int, case_id: int, file_id: int) -> CaseFile:
    """A material of a case, for staff of the case's office only; the download is audited."""
    async with cases.sessions() as s, s.begin():
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
            raise Forbidden("the case belongs to another office")
        await audit.append(
            s,
            at=cases.now(),
            actor_account_id=actor.account_id,
            role=str(actor.role),
            office_id=office_id,
            case_id=case_id,
            action="read_file",
            state_before=state,
            state_after=state,
            detail={"file": f.id, "material": f.material_code, "sha256": f.sha256},
        )
        return f
