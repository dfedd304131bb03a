"""Employers and schools (Regulations Art 26): their people's documents, their reports; the office's view of
the reports routed to it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from cnvisa.cases.org_reports import OrgReports, RuleRefused, events_for
from cnvisa.cases.workflow import Role
from cnvisa.http.deps import PlatformDep, Principal, check_csrf, require
from cnvisa.http.office import RowId
from cnvisa.http.params import IsoDate
from cnvisa.http.problems import Problem

router = APIRouter(tags=["organisations (Art 26)"])

OrgStaff = Annotated[Principal, Depends(require(Role.ORG_STAFF))]
OfficeStaff = Annotated[Principal, Depends(require(Role.OFFICER, Role.SUPERVISOR))]


async def service(p: PlatformDep) -> OrgReports:  # async: no thread-pool hop (cnvisa.http.deps.platform)
    return OrgReports(p.sessions, p.cases.clock)


Service = Annotated[OrgReports, Depends(service)]


class Document(BaseModel):
    kind: str
    number: str
    category: str | None
    valid_from: dt.date
    valid_until: dt.date
    status: str = Field(description="valid | expired | void | cancelled on today's date")
    days_left: int | None
    expiring_soon: bool = Field(description="valid and ending within 30 days (Law Art 32)")


class OrgPersonOut(BaseModel):
    person_id: int
    name: str
    nationality: str
    birth_date: dt.date
    relation: str = Field(description="employee | student | invitee")
    since: dt.date
    nearest_expiry: dt.date | None
    days_left: int | None
    expiring_soon: bool
    no_valid_document: bool
    documents: list[Document]


class ReportIn(BaseModel):
    person_id: int = Field(ge=1, le=2**63 - 1)
    event: str = Field(
        max_length=40, description="an event code of Regulations Art 26 (see GET /org/report-events)"
    )
    occurred_on: IsoDate
    note: str | None = Field(default=None, max_length=2000)


class ReportOut(BaseModel):
    id: int
    organisation_id: int
    organisation: str
    person_id: int
    person_name: str | None = None
    relation: str
    event: str
    event_en: str
    event_zh: str
    rule: str
    occurred_on: dt.date
    note: str | None
    office_id: int | None
    office_code: str | None
    reported_at: dt.datetime


class EventOut(BaseModel):
    code: str
    en: str
    zh: str
    rule: str
    relations: list[str]


def refused(exc: RuleRefused) -> Problem:
    return Problem(422, "Invalid input", exc.message, field=exc.field, rule=exc.rule, code="bad_input")


@router.get("/org/people", response_model=list[OrgPersonOut], summary="Our invitees, employees and students")
async def people(who: OrgStaff, svc: Service) -> list[OrgPersonOut]:
    return [OrgPersonOut.model_validate(r) for r in await svc.people(who.actor)]


@router.get("/org/report-events", response_model=list[EventOut], summary="The events of Regulations Art 26")
async def report_events(who: OrgStaff) -> list[EventOut]:
    out: dict[str, EventOut] = {}
    for relation in ("employee", "student", "invitee"):
        for e in events_for(relation):
            item = out.setdefault(
                e.code, EventOut(code=e.code, en=e.en, zh=e.zh, rule=e.citation.cite, relations=[])
            )
            item.relations.append(relation)
    return list(out.values())


@router.post(
    "/org/reports",
    response_model=ReportOut,
    status_code=201,
    summary="Report an event (Regulations Art 26)",
    responses={422: {"description": "problem+json naming the field and the rule"}},
)
async def file_report(body: ReportIn, request: Request, who: OrgStaff, svc: Service) -> ReportOut:
    await check_csrf(request, who)
    try:
        out = await svc.file(
            who.actor,
            person_id=body.person_id,
            event=body.event,
            occurred_on=body.occurred_on,
            note=body.note,
        )
    except RuleRefused as exc:
        raise refused(exc) from None
    return ReportOut.model_validate(out)


class EndIn(BaseModel):
    on: IsoDate = Field(
        description="the last day of the employment, studies or invitation (within a year ahead)"
    )


@router.post(
    "/org/people/{person_id}/end",
    summary="Record that a person's employment, studies or invitation ends (starts the Art 26 report's duty)",
    responses={422: {"description": "problem+json naming the field"}},
)
async def end_relation(
    person_id: RowId, body: EndIn, request: Request, who: OrgStaff, svc: Service
) -> dict[str, Any]:
    """The roster's end, audited (``org_person_ended``). For an employee or a student the answer says when the
    report of Regulations Art 26 items (1)-(2) is due — a day count that is an office rule
    (``CNVISA_EMPLOYER_REPORT_DAYS``; the Regulations say promptly) — and which events report it; the duty appears
    among the organisation's obligations once the day has come. Sent again with the same day: unchanged."""
    await check_csrf(request, who)
    return await svc.end(who.actor, person_id=person_id, on=body.on)


@router.get("/org/reports", response_model=list[ReportOut], summary="Our reports (Regulations Art 26)")
async def org_reports(who: OrgStaff, svc: Service) -> list[ReportOut]:
    return [ReportOut.model_validate(r) for r in await svc.reports(who.actor)]


@router.get(
    "/office/reports", response_model=list[ReportOut], summary="Reports of organisations routed to my office"
)
async def office_reports(who: OfficeStaff, svc: Service) -> list[ReportOut]:
    return [ReportOut.model_validate(r) for r in await svc.reports(who.actor)]
