"""Post changes without a new residence permit (issue 10 §3; NIA measures 2024-03-20, seed 001 l.16): the
employer's staff file one for an employee (``cnvisa.cases.post_change``), and the employer, the holder and the
responsible office read them (``cnvisa.cases.queries.post_changes``). Filing is a command with an
Idempotency-Key: the same request with the same key returns the first answer and changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from cnvisa.cases.post_change import PostChanges
from cnvisa.cases.queries import post_changes
from cnvisa.cases.workflow import Role
from cnvisa.http.applicant import namespaced_key
from cnvisa.http.deps import PlatformDep, Principal, check_csrf, require
from cnvisa.http.params import IsoDate
from cnvisa.law.post_change import Particular

router = APIRouter(tags=["post changes (NIA 2024)"])

OrgStaff = Annotated[Principal, Depends(require(Role.ORG_STAFF))]
Holder = Annotated[Principal, Depends(require(Role.APPLICANT, Role.AGENT))]
OfficeStaff = Annotated[Principal, Depends(require(Role.OFFICER, Role.SUPERVISOR))]
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class PostChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: RowId = Field(description="One of your organisation's employees (GET /org/people)")
    holding_id: RowId = Field(
        description="The residence permit the employee holds; it stays valid if covered"
    )
    kind: Literal["post_change", "study"] = Field(
        "post_change",
        description="post_change: a new post or work region within the employer; study: a degree or continuing "
        "education at a Chinese university while working (seed 001 l.16)",
    )
    to_region: str = Field(
        pattern=r"^[0-9]{6}$", description="The new work region: GB/T 2260 administrative division code"
    )
    position: str = Field(min_length=1, max_length=200)
    work_location: str = Field(min_length=1, max_length=300, description="The new work address")
    effective_on: IsoDate = Field(description="The day the change took effect (not a future date)")
    role: Literal["manager", "professional_technical", "other"] = Field(
        description="The measure covers managers and professional-technical staff (经营管理和专业技术人员)"
    )
    organisation: Literal["same", "branch", "subsidiary_or_affiliate", "other"] = Field(
        "same", description="The new post's employer against the current one: same or a branch is covered"
    )
    printed_changes: list[Particular] = Field(
        default_factory=list,
        max_length=9,
        description="Particulars printed on the permit that changed (Law Art 33: a change within 10 days)",
    )


class DueItem(BaseModel):
    code: str
    who: str = Field(description="employer | holder")
    what: str
    by: dt.date | None
    when: str
    citations: list[str]
    label: str = Field(description="law, or Office rule")
    done: bool = Field(False, description="Already done with the filing (the Art 26 report)")


class Instead(BaseModel):
    code: str
    who: str
    what: str
    by: dt.date | None
    when: str
    citations: list[str]
    label: str


class PostChangeOut(BaseModel):
    id: int
    state: Literal["acknowledged", "referred"]
    person_id: int
    holding_id: int
    kind: str
    from_region: str
    to_region: str
    position: str
    work_location: str
    effective_on: dt.date
    from_office: str | None
    responsible_office: str | None = Field(description="The office responsible for the holder now")
    org_report_id: int | None = Field(description="The Regulations Art 26(1) report filed with it")
    referred_reason: str | None
    due: list[DueItem]
    instead: list[Instead] = Field(description="When referred: what to apply for instead")
    citations: list[str]


class PostChangeRow(PostChangeOut):
    person_name: str
    organisation_id: int
    organisation: str
    why: str | None
    filed_at: dt.datetime


class Candidate(BaseModel):
    person_id: int
    name: str
    holding_id: int
    number: str
    category: str | None
    valid_until: dt.date


def _out(row: dict[str, Any]) -> PostChangeOut:
    due = [
        {
            **d,
            "done": d.get("code") == "employer_report_work_location" and row.get("org_report_id") is not None,
        }
        for d in row["due"]
    ]
    return PostChangeOut.model_validate({**row, "due": due})


@router.post(
    "/org/post-changes",
    response_model=PostChangeOut,
    status_code=201,
    summary="Notify a post change without a new residence permit (NIA measures 2024-03-20)",
    responses={
        200: {"description": "a repeat of a request already answered (same Idempotency-Key)"},
        422: {"description": "problem+json naming the field (and the rule)"},
    },
)
async def file_post_change(
    body: PostChangeIn,
    request: Request,
    response: Response,
    who: OrgStaff,
    p: PlatformDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> PostChangeOut:
    await check_csrf(request, who)
    key = namespaced_key(who, idempotency_key)
    out = await PostChanges(p.sessions, p.cases.clock).file(
        who.actor, idempotency_key=key, **body.model_dump()
    )
    if out.get("replayed"):
        response.status_code = 200
    return _out(out)


@router.get(
    "/org/post-changes/candidates",
    response_model=list[Candidate],
    summary="Our employees holding a residence permit valid today: whom a post change may be filed for",
)
async def candidates(who: OrgStaff, p: PlatformDep) -> list[Candidate]:
    rows = await post_changes.candidates(p.sessions, who.actor, p.today())
    return [Candidate.model_validate(r) for r in rows]


@router.get(
    "/org/post-changes", response_model=list[PostChangeRow], summary="Our post changes (NIA measures 2024)"
)
async def org_post_changes(who: OrgStaff, p: PlatformDep) -> list[PostChangeRow]:
    rows = await post_changes.listing(p.sessions, who.actor, p.cases.clock.now())
    return [PostChangeRow.model_validate(r) for r in rows]


@router.get(
    "/me/post-changes",
    response_model=list[PostChangeRow],
    summary="My post changes and what is still due (NIA measures 2024)",
)
async def my_post_changes(who: Holder, p: PlatformDep) -> list[PostChangeRow]:
    rows = await post_changes.listing(p.sessions, who.actor, p.cases.clock.now())
    return [PostChangeRow.model_validate(r) for r in rows]


@router.get(
    "/office/post-changes",
    response_model=list[PostChangeRow],
    summary="Post changes of the holders my office is (or was) responsible for",
)
async def office_post_changes(who: OfficeStaff, p: PlatformDep) -> list[PostChangeRow]:
    rows = await post_changes.listing(p.sessions, who.actor, p.cases.clock.now())
    return [PostChangeRow.model_validate(r) for r in rows]
