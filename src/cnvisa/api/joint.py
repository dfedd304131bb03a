"""Joint applications (一口受理、并联审批、同时发证, issue 10 §1): one submission for a foreigner's work permit and
work-type residence permit, one one-time notice, one acceptance and receipt, the two branches decided in parallel
(the work permit at the work-permit authority's desk, the residence permit by the exit-entry office) and both
permits issued and collected together. Thin over ``cnvisa.cases.joint.service.JointService`` (docs/joint_applications.md).

- The applicant side (the foreigner, an agent under a mandate, the employer's staff for the people they act for):
  apply, list, read, supplement the one notice, withdraw.
- The single window (the exit-entry office's officers): the one notice, the one acceptance, issue together,
  collect together, settle a partial outcome.
- The work-permit desk (role ``work_permit_officer``, at the single window office): its queue, take, extend once,
  grant (with the points facts, optional), refuse.

Every command names the version it acts on (the joint application's; the desk: the work-permit branch's — stale:
409) and carries an Idempotency-Key (header, or ``idempotency_key`` in a JSON body): the same request with the
same key returns the first answer and changes nothing. Sessions send the CSRF token."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Header, Path, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cnvisa.cases.passport_check import CollectionSlot, PassportShown
from cnvisa.cases.workflow import Role
from cnvisa.http.applicant import MAX_ID, default_person, namespaced_key, read_files
from cnvisa.http.deps import Platform, PlatformDep, Principal, check_csrf, require
from cnvisa.http.joint import JOINT_CODES, submit_joint
from cnvisa.http.office import passport_shown
from cnvisa.http.params import IsoDate
from cnvisa.http.problems import Problem
from cnvisa.law.passport_retention import RetentionReason

router = APIRouter(tags=["joint applications (work permit + residence permit, one window)"])

ApplicantSide = Annotated[Principal, Depends(require(Role.APPLICANT, Role.AGENT, Role.ORG_STAFF))]
Reader = Annotated[
    Principal,
    Depends(
        require(
            Role.APPLICANT,
            Role.AGENT,
            Role.ORG_STAFF,
            Role.OFFICER,
            Role.SUPERVISOR,
            Role.WORK_PERMIT_OFFICER,
        )
    ),
]
Window = Annotated[Principal, Depends(require(Role.OFFICER, Role.SUPERVISOR))]
JointId = Annotated[int, Path(ge=1, le=MAX_ID, description="A joint application's id")]
KeyHeader = Annotated[str | None, Header(alias="Idempotency-Key", max_length=80, pattern=r"^[\x21-\x7e]+$")]
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]
JOINT_STATES = Literal[
    "submitted", "deficient", "accepted", "issued", "collected", "not_issuable", "partial",
    "withdrawn", "lapsed",
]  # fmt: skip
"""cnvisa.cases.joint.parent_flow.JState (a test keeps them equal)."""
FILE_PARTS = frozenset({"application", "csrf", "version"})


def key_of(who: Principal, body_key: str | None, header_key: str | None) -> str:
    return namespaced_key(who, body_key or header_key)


# ------------------------------------------------------------------------------------------------- models
class JointOut(BaseModel):
    """A joint application as its reader sees it: both branches, both clocks, the join and which branch is
    waiting (``cnvisa.cases.joint.views.joint_view``); a command's answer adds what it made (``notice``,
    ``receipt``, ``work_permit_submission``)."""

    model_config = ConfigDict(extra="allow")
    joint_id: int
    number: str
    state: JOINT_STATES
    version: int
    person_id: int
    employer_organisation_id: int
    office_id: int
    work_permit_request: dict[str, Any]
    residence_branch: dict[str, Any] = Field(description="The residence case: number, state, receipt")
    work_permit_branch: dict[str, Any] = Field(
        description="The work-permit branch: reference, state, statutory due, extended, decision, grounds, route"
    )
    work_permit: dict[str, Any] | None = Field(
        description="The work permit granted, as the registry holds it"
    )
    clocks: dict[str, Any] | None = Field(
        description="Both clocks as pinned at acceptance: the statutory deadlines (ALL Art 42 para 1; "
        "Regulations Art 18 para 1) and the jurisdiction's service commitment with its source"
    )
    join: dict[str, Any] = Field(description="The outcome computed from the branches, with its citations")
    waiting_for: list[str] = Field(description="The branches still to be decided")
    duties: list[dict[str, Any]]


class JointRow(BaseModel):
    joint_id: int
    number: str
    state: JOINT_STATES
    version: int
    person_id: int
    name: str
    employer_organisation_id: int
    category: str | None
    position: str | None
    submitted_at: Any
    accepted_on: str | None
    work_permit_state: str
    residence_state: str
    work_permit_statutory_due: str | None
    service_commitment_due: str | None
    residence_receipt_valid_until: str | None


class WorkPermitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: Literal["A", "B", "C"] = Field(description="外国人来华工作分类标准（试行）")
    position: str = Field(min_length=1, max_length=200)
    work_region: str = Field(pattern=r"^[0-9]{6}$", description="6-digit division code of the work place")
    contract_until: IsoDate = Field(description="The employment contract's last day")
    job_changer: bool | None = None
    in_china: bool | None = Field(None, description="Applying from inside China (default: true)")


class JointApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_id: int | None = Field(None, ge=1, le=MAX_ID, description="Default: yourself, or your only person")
    office_id: int = Field(
        ge=1, le=MAX_ID, description="The single window office (exit-entry administration)"
    )
    employer_organisation_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="The employer (the employer's staff: their organisation)"
    )
    work_permit: WorkPermitIn
    inputs: dict[str, Any] = Field(
        description="The residence branch's law contract (cnvisa assess --schema), requested.permit_type work"
    )
    submitted_by: (
        Literal["self", "inviting_entity", "inviting_person", "relative", "service_agency"] | None
    ) = Field(
        None, description="Default: self (the foreigner with the employer); an agent: its mandate's capacity"
    )


class CommandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: Version = Field(description="The joint application's version as last read (stale: 409)")
    idempotency_key: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=r"^[\x21-\x7e]+$",
        description="Or the Idempotency-Key header",
    )


_MRZ_LINE = r"^[A-Z0-9<]{30,44}$"


class PassportAtWindowIn(CommandIn):
    passport_mrz_line1: str | None = Field(None, pattern=_MRZ_LINE)
    passport_mrz_line2: str | None = Field(None, pattern=_MRZ_LINE)
    passport_on_record: bool = Field(
        False, description="The passport presented is the applicant's current passport on record"
    )


class AcceptIn(PassportAtWindowIn):
    passport_kept: bool = Field(
        True, description="false: checked on the spot and returned (seed 001 l.20), MRZ or passport_on_record"
    )
    retention_reason: RetentionReason | None = None
    retention_note: str | None = Field(None, max_length=2000, pattern=r"^[^\x00]*$")
    collection_day: IsoDate | None = Field(None, description="The collection appointment (passport returned)")
    collection_slot: str | None = Field(None, pattern=r"^\d{2}:\d{2}$")


class CollectIn(PassportAtWindowIn):
    passport_presented: bool = Field(description="Collected in person with the passport and the receipt")


COMMAND: dict[int | str, dict[str, Any]] = {
    200: {"description": "done, or a repeat of a request already answered (same Idempotency-Key)"},
    409: {"description": "problem+json: not in this state, a stale version, or a guard (its rule named)"},
    422: {"description": "problem+json naming the field (and the rule)"},
}


# ------------------------------------------------------------------------------------------------- the applicant side
def _application(raw: str) -> JointApplicationIn:
    try:
        return JointApplicationIn.model_validate_json(raw)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(x) for x in err["loc"])
        field = "application" + (f".{loc}" if loc else "")
        raise Problem(422, "Invalid input", str(err["msg"]), field=field, code="bad_input") from None


@router.post(
    "/joint-applications",
    status_code=201,
    response_model=JointOut,
    summary="Apply for a work permit and a work-type residence permit together (one submission)",
    responses={
        200: {"description": "a repeat of a request already answered (same Idempotency-Key)"},
        409: {
            "description": "problem+json: a guard (its rule named), e.g. who may submit (Regulations Art 19)"
        },
        422: {"description": "problem+json naming the field and the rule"},
    },
)
async def apply(
    request: Request,
    response: Response,
    who: ApplicantSide,
    p: PlatformDep,
    application: Annotated[
        str,
        Form(
            description="JSON: {person_id?, office_id, employer_organisation_id?, work_permit: {category, "
            "position, work_region, contract_until}, inputs, submitted_by?}. Every other part of the multipart "
            "body is a file named by its material code (cnvisa.law.one_stop: each handed in once for both "
            "branches); PDF, JPEG or PNG."
        ),
    ],
    photo: Annotated[UploadFile | None, File(description="The photo (JPEG), for both branches")] = None,
    idempotency_key: KeyHeader = None,
) -> JointOut:
    await check_csrf(request, who)
    key = namespaced_key(who, idempotency_key)
    app = _application(application)
    files = await read_files(p, await request.form(), skip=FILE_PARTS, extra=JOINT_CODES)
    out = await submit_joint(
        p,
        who,
        key=key,
        person_id=default_person(who.actor, app.person_id),
        office_id=app.office_id,
        employer_organisation_id=app.employer_organisation_id,
        work_permit=app.work_permit.model_dump(mode="json", exclude_none=True),
        inputs=app.inputs,
        files=files,
        submitted_by=app.submitted_by,
    )
    response.status_code = 200 if out.get("replayed") else 201
    response.headers["Location"] = f"/api/v1/joint-applications/{out['joint_id']}"
    return JointOut.model_validate(out)


@router.get(
    "/joint-applications",
    response_model=list[JointRow],
    summary="My joint applications (an agent's: of the people they act for; the employer's staff: of their "
    "organisation, for the people they act for)",
)
async def mine(
    who: ApplicantSide,
    p: PlatformDep,
    limit: Annotated[int, Query(ge=1, le=200, description="how many at most")] = 50,
) -> list[JointRow]:
    return [JointRow.model_validate(r) for r in await p.joint.joint_list(who.actor, limit=limit)]


@router.get(
    "/joint-applications/{joint_id}",
    response_model=JointOut,
    summary="A joint application's progress: both branches, both clocks, the join, which branch is waiting",
)
async def one(joint_id: JointId, who: Reader, p: PlatformDep) -> JointOut:
    return JointOut.model_validate(await p.joint.joint_progress(who.actor, joint_id))


@router.post(
    "/joint-applications/{joint_id}/supplement",
    response_model=JointOut,
    summary="Supplement the one-time notice (one for both branches): files by material code",
    responses=COMMAND,
)
async def supplement(
    joint_id: JointId,
    request: Request,
    who: ApplicantSide,
    p: PlatformDep,
    version: Annotated[int, Form(ge=1, le=2**31 - 1, description="The joint application's version")],
    photo: Annotated[UploadFile | None, File(description="A new photo (JPEG)")] = None,
    idempotency_key: KeyHeader = None,
) -> JointOut:
    await check_csrf(request, who)
    key = namespaced_key(who, idempotency_key or f"joint-supplement:{joint_id}:{version}")
    files = await read_files(p, await request.form(), skip=FILE_PARTS, extra=JOINT_CODES)
    out = await p.joint.joint_supplement(who.actor, joint_id, version, key=key, files=files)
    return JointOut.model_validate(out)


@router.post(
    "/joint-applications/{joint_id}/withdraw",
    response_model=JointOut,
    summary="Withdraw: both branches end (in any open state before the join)",
    responses=COMMAND,
)
async def withdraw(
    joint_id: JointId,
    body: CommandIn,
    request: Request,
    who: ApplicantSide,
    p: PlatformDep,
    key: KeyHeader = None,
) -> JointOut:
    await check_csrf(request, who)
    out = await p.joint.joint_withdraw(
        who.actor, joint_id, body.version, key=key_of(who, body.idempotency_key, key)
    )
    return JointOut.model_validate(out)


# ------------------------------------------------------------------------------------------------- the single window
@router.get(
    "/office/joint-applications",
    response_model=list[dict[str, Any]],
    summary="The single window's open joint applications: both branches, both clocks, which branch is waiting "
    "(audited)",
)
async def window_queue(
    who: Window,
    p: PlatformDep,
    limit: Annotated[int, Query(ge=1, le=200, description="how many at most")] = 50,
) -> list[dict[str, Any]]:
    return await p.joint.window_queue(who.actor, limit=limit)


async def _passport(
    p: Platform, who: Principal, joint_id: int, body: PassportAtWindowIn
) -> PassportShown | None:
    if body.passport_on_record:  # the residence case's person, authorised by the read
        view = await p.joint.joint_progress(who.actor, joint_id)
        return await passport_shown(p, who, int(view["residence_branch"]["case_id"]), body.model_dump())
    return await passport_shown(p, who, 0, body.model_dump())


@router.post(
    "/office/joint-applications/{joint_id}/issue_notice",
    response_model=JointOut,
    summary="ONE one-time notice for both branches: every missing material once (Regulations Art 18 para 2)",
    responses=COMMAND,
)
async def issue_notice(
    joint_id: JointId, body: CommandIn, request: Request, who: Window, p: PlatformDep, key: KeyHeader = None
) -> JointOut:
    await check_csrf(request, who)
    out = await p.joint.joint_issue_notice(
        who.actor, joint_id, body.version, key=key_of(who, body.idempotency_key, key)
    )
    return JointOut.model_validate(out)


@router.post(
    "/office/joint-applications/{joint_id}/accept",
    response_model=JointOut,
    summary="ONE acceptance and ONE receipt covering both branches; both clocks start (Regulations Art 18 para 1)",
    responses=COMMAND,
)
async def accept(
    joint_id: JointId, body: AcceptIn, request: Request, who: Window, p: PlatformDep, key: KeyHeader = None
) -> JointOut:
    await check_csrf(request, who)
    slot = (
        CollectionSlot(body.collection_day, body.collection_slot)
        if body.collection_day and body.collection_slot
        else None
    )
    out = await p.joint.joint_accept(
        who.actor,
        joint_id,
        body.version,
        key=key_of(who, body.idempotency_key, key),
        passport_kept=body.passport_kept,
        passport=await _passport(p, who, joint_id, body),
        retention_reason=body.retention_reason or None,
        retention_note=body.retention_note or None,
        collection=slot,
    )
    return JointOut.model_validate(out)


@router.post(
    "/office/joint-applications/{joint_id}/issue_together",
    response_model=JointOut,
    summary="Both granted: issue the residence permit with the work permit, in one transaction (Law Art 41, 43)",
    responses=COMMAND,
)
async def issue_together(
    joint_id: JointId, body: CommandIn, request: Request, who: Window, p: PlatformDep, key: KeyHeader = None
) -> JointOut:
    await check_csrf(request, who)
    out = await p.joint.joint_issue_together(
        who.actor, joint_id, body.version, key=key_of(who, body.idempotency_key, key)
    )
    return JointOut.model_validate(out)


@router.post(
    "/office/joint-applications/{joint_id}/collect_together",
    response_model=JointOut,
    summary="Both permits collected together, in person with the passport and the receipt",
    responses=COMMAND,
)
async def collect_together(
    joint_id: JointId, body: CollectIn, request: Request, who: Window, p: PlatformDep, key: KeyHeader = None
) -> JointOut:
    await check_csrf(request, who)
    out = await p.joint.joint_collect_together(
        who.actor,
        joint_id,
        body.version,
        key=key_of(who, body.idempotency_key, key),
        passport_presented=body.passport_presented,
        passport=await _passport(p, who, joint_id, body),
    )
    return JointOut.model_validate(out)


@router.post(
    "/office/joint-applications/{joint_id}/settle",
    response_model=JointOut,
    summary="Carry out a partial outcome (work permit granted, residence permit refused)",
    responses=COMMAND,
)
async def settle(
    joint_id: JointId, body: CommandIn, request: Request, who: Window, p: PlatformDep, key: KeyHeader = None
) -> JointOut:
    await check_csrf(request, who)
    out = await p.joint.joint_settle(
        who.actor, joint_id, body.version, key=key_of(who, body.idempotency_key, key)
    )
    return JointOut.model_validate(out)
