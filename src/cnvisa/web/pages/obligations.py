"""Obligations pages (issue 12): the holder's (and an agent's people's) at /my/obligations, an organisation's
people's open and late ones at /org/obligations — over the same reads as the API (cnvisa.api.obligations)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from cnvisa.cases.workflow import Role
from cnvisa.http.applicant import ApplicantSide
from cnvisa.http.deps import PlatformDep, Principal, require
from cnvisa.http.i18n import negotiate
from cnvisa.web import pdf
from cnvisa.web.pages.render import page

router = APIRouter(include_in_schema=False)
OrgStaff = Annotated[Principal, Depends(require(Role.ORG_STAFF))]


@router.get("/my/obligations", response_class=HTMLResponse)
async def mine(request: Request, who: ApplicantSide, p: PlatformDep) -> HTMLResponse:
    groups = await p.obligations.of_people(who.actor)
    return page(
        request,
        "obligations/mine.html",
        who,
        groups=groups,
        today=p.today(),
        **pdf.helpers(negotiate(request)),
    )


@router.get("/org/obligations", response_class=HTMLResponse)
async def organisation(request: Request, who: OrgStaff, p: PlatformDep) -> HTMLResponse:
    items = await p.obligations.of_organisation(who.actor)
    return page(
        request,
        "obligations/organisation.html",
        who,
        items=items,
        today=p.today(),
        **pdf.helpers(negotiate(request)),
    )
