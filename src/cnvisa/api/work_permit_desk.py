"""The work-permit authority's desk in the platform (issue 10 §1): its officers (role ``work_permit_officer``, at the
single window office) see the open work-permit branches of joint applications, the earliest due first, take one
under review, extend it once, grant it with the work permit's particulars (and, optionally, the points facts:
``cnvisa law work-permit-points``) or refuse it with reasons. Thin over ``JointService``'s desk commands
(``cnvisa.cases.joint.desk``), the same entry point the external authority's messages use. Every command names the
branch's version (stale: 409) and carries an Idempotency-Key; sessions send the CSRF token."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from cnvisa.api.joint import COMMAND, JOINT_STATES, KeyHeader, Version, key_of
from cnvisa.cases.workflow import Role
from cnvisa.http.deps import PlatformDep, Principal, check_csrf, require
from cnvisa.http.params import IsoDate

router = APIRouter(tags=["work-permit desk (joint applications)"])
Desk = Annotated[Principal, Depends(require(Role.WORK_PERMIT_OFFICER))]
Reference = Annotated[
    str,
    Path(
        min_length=3,
        max_length=40,
        pattern=r"^WP[A-Z0-9]+$",
        description="The work-permit branch's reference (the correlation id, given at acceptance)",
    ),
]


class DeskRow(BaseModel):
    joint_id: int
    number: str
    person_id: int
    category: str | None
    position: str | None
    reference: str
    state: Literal["accepted", "under_review"]
    version: int
    statutory_due: str | None
    service_commitment_due: str | None
    jurisdiction: str | None
    extended: bool
    due: str | None = Field(description="The earlier of the statutory and the service-commitment due")


class DeskOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    joint_id: int
    joint_number: str
    joint_state: JOINT_STATES
    branch: dict[str, Any]
    work_permit: dict[str, Any] | None
    residence_case: dict[str, Any]
    join: dict[str, Any]


class BranchCommandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: Version = Field(description="The work-permit branch's version as last read (stale: 409)")
    idempotency_key: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")


class ExtendIn(BranchCommandIn):
    reason: str = Field(min_length=1, max_length=500, description="Told to the applicant (ALL Art 42 para 1)")


class GrantIn(BranchCommandIn):
    category: Literal["A", "B", "C"] | None = Field(
        None, description="With facts: must agree with the law's category or carry category_reason"
    )
    position: str = Field(min_length=1, max_length=200)
    work_region: str = Field(pattern=r"^[0-9]{6}$")
    valid_from: IsoDate
    valid_until: IsoDate
    number: str | None = Field(None, min_length=1, max_length=40)
    facts: dict[str, Any] | None = Field(
        None, description="The points facts (cnvisa law work-permit-points --schema); on defaults to today"
    )
    category_reason: str | None = Field(None, min_length=1, max_length=500)


class RefuseIn(BranchCommandIn):
    grounds: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        min_length=1, max_length=10, description="The reasons (ALL Art 38 para 2)"
    )


@router.get(
    "/work-permit-desk",
    response_model=list[DeskRow],
    summary="The work-permit desk's queue: open branches of its single window, the earliest due first (audited)",
)
async def desk_queue(
    who: Desk, p: PlatformDep, limit: Annotated[int, Query(ge=1, le=200, description="how many at most")] = 50
) -> list[DeskRow]:
    return [DeskRow.model_validate(r) for r in await p.joint.work_permit_desk_queue(who.actor, limit=limit)]


@router.post(
    "/work-permit-desk/branches/{reference}/take",
    response_model=DeskOut,
    summary="Take the work-permit branch under review",
    responses=COMMAND,
)
async def take(
    reference: Reference,
    body: BranchCommandIn,
    request: Request,
    who: Desk,
    p: PlatformDep,
    key: KeyHeader = None,
) -> DeskOut:
    await check_csrf(request, who)
    out = await p.joint.take_work_permit_branch(
        who.actor, reference, body.version, key=key_of(who, body.idempotency_key, key)
    )
    return DeskOut.model_validate(out)


@router.post(
    "/work-permit-desk/branches/{reference}/extend",
    response_model=DeskOut,
    summary="Extend the decision period once by 10 working days (ALL Art 42 para 1), within the receipt",
    responses=COMMAND,
)
async def extend(
    reference: Reference, body: ExtendIn, request: Request, who: Desk, p: PlatformDep, key: KeyHeader = None
) -> DeskOut:
    await check_csrf(request, who)
    out = await p.joint.extend_work_permit_branch(
        who.actor, reference, body.version, key=key_of(who, body.idempotency_key, key), reason=body.reason
    )
    return DeskOut.model_validate(out)


@router.post(
    "/work-permit-desk/branches/{reference}/grant",
    response_model=DeskOut,
    summary="Grant the work permit with its particulars (and the points facts: points and category recorded)",
    responses=COMMAND,
)
async def grant(
    reference: Reference, body: GrantIn, request: Request, who: Desk, p: PlatformDep, key: KeyHeader = None
) -> DeskOut:
    await check_csrf(request, who)
    out = await p.joint.grant_work_permit_branch(
        who.actor,
        reference,
        body.version,
        key=key_of(who, body.idempotency_key, key),
        category=body.category,
        position=body.position,
        work_region=body.work_region,
        valid_from=body.valid_from.isoformat(),
        valid_until=body.valid_until.isoformat(),
        number=body.number,
        facts=body.facts,
        category_reason=body.category_reason,
    )
    return DeskOut.model_validate(out)


@router.post(
    "/work-permit-desk/branches/{reference}/refuse",
    response_model=DeskOut,
    summary="Refuse the work permit with reasons: the residence branch ends not issuable (Law Art 41)",
    responses=COMMAND,
)
async def refuse(
    reference: Reference, body: RefuseIn, request: Request, who: Desk, p: PlatformDep, key: KeyHeader = None
) -> DeskOut:
    await check_csrf(request, who)
    out = await p.joint.refuse_work_permit_branch(
        who.actor, reference, body.version, key=key_of(who, body.idempotency_key, key), grounds=body.grounds
    )
    return DeskOut.model_validate(out)
