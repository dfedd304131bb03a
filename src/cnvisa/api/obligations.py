"""Obligations (issue 12): the duties with a deadline that the records start (Law Art 29, 30, 32), as the daily
sweep keeps them — for the holder (and the people an agent acts for) and for an organisation's staff (their
current people's open and late duties); an officer may record that one no longer binds, with the reason
(cnvisa.cases.obligations)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from cnvisa.cases.workflow import Role
from cnvisa.http.applicant import ApplicantSide
from cnvisa.http.deps import PlatformDep, Principal, check_csrf, require
from cnvisa.http.office import OfficeStaff, RowId

router = APIRouter(tags=["obligations"])
OrgStaff = Annotated[Principal, Depends(require(Role.ORG_STAFF))]


@router.get("/me/obligations", summary="My obligations (and those of the people I act for)")
async def mine(p: PlatformDep, who: ApplicantSide) -> dict[str, Any]:
    """Each person's duties, nearest deadline first: open, met, late or waived, each with its citations."""
    return {"today": p.today().isoformat(), "people": await p.obligations.of_people(who.actor)}


@router.get("/org/obligations", summary="Our people's open and late obligations")
async def organisation(p: PlatformDep, who: OrgStaff) -> dict[str, Any]:
    """The organisation's current people's duties that are still open or late, nearest deadline first."""
    return {"today": p.today().isoformat(), "items": await p.obligations.of_organisation(who.actor)}


class WaiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(
        min_length=3,
        max_length=500,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="Why the duty no longer binds (e.g. left by another port; the exit record follows)",
    )


@router.post(
    "/office/obligations/{obligation_id}/waive",
    summary="Record that a duty no longer binds, with the reason (officer of an office the person has a case at)",
)
async def waive(
    obligation_id: RowId, body: WaiveIn, request: Request, who: OfficeStaff, p: PlatformDep
) -> dict[str, Any]:
    """The duty ends as ``waived`` with the reason, audited (``obligation_waived``); a met duty stays met. Sent
    again with the same reason it is answered as it stands."""
    await check_csrf(request, who)
    return await p.obligations.waive(who.actor, obligation_id, body.reason)
