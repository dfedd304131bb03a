"""Desk assignment over the API (the administrator; issue 11): which police station a police officer's desk serves,
which port a port-visa officer's desk serves, and the police stations with their areas. Every look and every
assignment is audited (``cnvisa.cases.desks``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from cnvisa.cases.desks import DeskAssignments
from cnvisa.cases.workflow import Role
from cnvisa.http.deps import Platform, PlatformDep, Principal, check_csrf, require

router = APIRouter(tags=["administration"])

Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
Username = Annotated[str, Field(min_length=3, max_length=80, pattern=r"^[a-z0-9][a-z0-9._-]{2,79}$")]


class PoliceDeskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username = Field(description="A police officer's account")
    station: str = Field(min_length=2, max_length=16, description="The police station's code")
    note: str | None = Field(None, max_length=300)


class PortDeskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username = Field(description="A port-visa officer's account")
    port: str = Field(min_length=2, max_length=64, description="A port's code (cnvisa law ports)")
    note: str | None = Field(None, max_length=300)


def _desks(p: Platform) -> DeskAssignments:
    return DeskAssignments(p.sessions, p.cases.clock)


@router.get("/admin/desks", summary="Police stations and their areas, ports, and who serves which desk")
async def desks(who: Admin, p: PlatformDep) -> dict[str, Any]:
    return await _desks(p).overview(who.actor)


@router.post("/admin/desks/police", summary="Assign a police officer's desk to a police station (audited)")
async def police_desk(body: PoliceDeskIn, request: Request, who: Admin, p: PlatformDep) -> dict[str, Any]:
    await check_csrf(request, who)
    return await _desks(p).assign_police(who.actor, body.username, body.station, body.note)


@router.post("/admin/desks/port-visa", summary="Assign a port-visa officer's desk to a port (audited)")
async def port_desk(body: PortDeskIn, request: Request, who: Admin, p: PlatformDep) -> dict[str, Any]:
    await check_csrf(request, who)
    return await _desks(p).assign_port(who.actor, body.username, body.port, body.note)
