"""Obligations (issue 12): the duties with a deadline that the records start (Law Art 29, 30, 32), as the daily
sweep keeps them — for the holder (and the people an agent acts for) and for an organisation's staff (their
current people's open and late duties). Read only: the sweep and officers change them (cnvisa.cases.obligations)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from cnvisa.cases.workflow import Role
from cnvisa.http.applicant import ApplicantSide
from cnvisa.http.deps import PlatformDep, Principal, require

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
