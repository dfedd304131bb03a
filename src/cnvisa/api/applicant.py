"""The applicant side's API: applicants and agents acting for someone (亲友帮办, Regulations Art 19).

- "What do I need?": the in-country matters, the questions each asks (``cnvisa.law.questionnaire``), and the law
  engine's cited answer.
- Online appointments (NIA measures 2024-03-20: 在线预约办证).
- Online application with uploads, supplements to a one-time notice, withdrawal.
- Progress (在线查询办证进度) and one's own visas and permits (在线查询本人签证证件信息).

The handlers parse, call the core and answer; what the pages share with them is ``cnvisa.http.applicant``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Header, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from cnvisa.cases.appointments import (
    IN_COUNTRY_MATTERS,
    AlreadyBooked,
    AppointmentPast,
    Appointments,
    NotBookable,
    SlotFull,
    TooManyAppointments,
    office_dict,
)
from cnvisa.cases.queries import applications
from cnvisa.http.applicant import (
    MAX_ID,
    RESERVED_INPUTS,
    STATE_LABELS,
    ApplicantSide,
    PathId,
    both,
    default_person,
    matter_spec,
    namespaced_key,
    parse_application,
    problem_of,
    read_case,
    read_files,
    submit_application,
)
from cnvisa.http.deps import PlatformDep, check_csrf
from cnvisa.http.params import IsoDate
from cnvisa.http.problems import Problem
from cnvisa.law import assess

router = APIRouter(tags=["applicant"])


@router.get("/matters", summary="The in-country matters and the inputs each asks (public)")
async def get_matters(p: PlatformDep) -> list[dict[str, Any]]:
    on = p.today()
    return [matter_spec(m, on) for m in IN_COUNTRY_MATTERS]


@router.post("/assess", summary="Assess an application under the law: checklist, limits, problems (public)")
async def post_assess(
    p: PlatformDep,
    body: Annotated[
        dict[str, Any],
        Body(
            description="The law contract (cnvisa assess --schema): matter, on (default: today in Beijing), "
            "the answers, the materials provided",
            examples=[
                {
                    "matter": "visa_extension",
                    "on": "2025-11-20",
                    "entry_date": "2025-10-20",
                    "visa": {"category": "L", "entries": "single", "stay_days": 30},
                    "requested": {"extension_days": 30},
                }
            ],
        ),
    ],
) -> dict[str, Any]:
    body = dict(body)
    body.setdefault("on", p.today().isoformat())
    return assess(body)


class SlotOut(BaseModel):
    slot: str
    capacity: int
    taken: int
    free: int


class SlotsOut(BaseModel):
    office_id: int
    day: dt.date
    slots: list[SlotOut]


class AppointmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    office_id: int = Field(..., ge=1, le=MAX_ID)
    day: IsoDate
    slot: str = Field(..., pattern=r"^\d{2}:\d{2}$", description="HH:MM, as listed by the slots")
    matter: str = Field(..., description="One of the in-country matters (GET /api/v1/matters)")
    person_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Default: yourself (an agent names the person)"
    )
    case_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="The application it is for (default: the person's only open one)"
    )


@router.get("/offices", summary="The exit-entry administrations (public)")
async def get_offices(p: PlatformDep) -> list[dict[str, Any]]:
    svc = Appointments(p.sessions, p.cases.clock)
    out = []
    for o in await svc.offices():
        d = office_dict(o)
        d["bookable_days"] = [day.isoformat() for day in svc.bookable_days(o)]
        out.append(d)
    return out


@router.get(
    "/offices/{office_id}/slots", response_model=SlotsOut, summary="Free seats per slot on a day (public)"
)
async def get_slots(
    p: PlatformDep, office_id: PathId, day: Annotated[IsoDate, Query(description="YYYY-MM-DD")]
) -> dict[str, Any]:
    try:
        return await Appointments(p.sessions, p.cases.clock).slots(office_id, day)
    except (NotBookable, SlotFull, AlreadyBooked, AppointmentPast) as exc:
        raise problem_of(exc) from None


@router.post("/appointments", status_code=201, summary="Book a seat in a slot")
async def post_appointment(
    request: Request, p: PlatformDep, who: ApplicantSide, body: AppointmentIn, response: Response
) -> dict[str, Any]:
    await check_csrf(request, who)
    try:
        out = await Appointments(p.sessions, p.cases.clock).book(
            who.actor,
            person_id=default_person(who.actor, body.person_id),
            office_id=body.office_id,
            day=body.day,
            slot=body.slot,
            matter=body.matter,
            case_id=body.case_id,
            per_person=p.settings.appointments_per_person,
        )
    except (NotBookable, SlotFull, AlreadyBooked, AppointmentPast, TooManyAppointments) as exc:
        raise problem_of(exc) from None
    response.headers["Location"] = f"/api/v1/appointments/{out['id']}"
    return out


@router.get("/appointments", summary="My appointments (and those of the people I act for)")
async def get_appointments(
    p: PlatformDep, who: ApplicantSide, past: Annotated[bool, Query(description="include past days")] = False
) -> list[dict[str, Any]]:
    return await Appointments(p.sessions, p.cases.clock).of(who.actor, past=past)


@router.delete("/appointments/{appointment_id}", status_code=204, summary="Cancel an appointment")
async def delete_appointment(
    request: Request, p: PlatformDep, who: ApplicantSide, appointment_id: PathId
) -> Response:
    await check_csrf(request, who)
    try:
        await Appointments(p.sessions, p.cases.clock).cancel(who.actor, appointment_id)
    except AppointmentPast as exc:
        raise problem_of(exc) from None
    return Response(status_code=204)


@router.post(
    "/cases", status_code=201, summary="Apply online: the application (JSON) and files by material code"
)
async def post_case(
    request: Request,
    p: PlatformDep,
    who: ApplicantSide,
    response: Response,
    application: Annotated[
        str,
        Form(
            description="JSON: {person_id?, office_id, matter, inputs, submitted_by?}. Every other part of the "
            "multipart body is a file named by its material code (e.g. photo, passport); PDF, JPEG or PNG."
        ),
    ],
    photo: Annotated[
        UploadFile | None,
        File(description="The application photo (JPEG); every other material is a part named by its code"),
    ] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    await check_csrf(request, who)
    key = namespaced_key(who, idempotency_key)
    app = parse_application(application)
    files = await read_files(p, await request.form(), skip=frozenset({"application", "csrf"}))
    out = await submit_application(p, who, app, files, key)
    if out.get("replayed"):
        response.status_code = 200
    response.headers["Location"] = f"/api/v1/cases/{out['case_id']}"
    return out


@router.post("/cases/{case_id}/supplement", summary="Supplement the one-time notice: files by material code")
async def post_supplement(
    request: Request,
    p: PlatformDep,
    who: ApplicantSide,
    case_id: PathId,
    version: Annotated[int, Form(ge=1, le=2**31 - 1, description="The case version the supplement answers")],
    inputs: Annotated[str | None, Form(description="JSON: corrected inputs of the law contract")] = None,
    photo: Annotated[
        UploadFile | None,
        File(description="A new photo (JPEG); every other material is a part named by its code"),
    ] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    await check_csrf(request, who)
    corrected: dict[str, Any] | None = None
    if inputs:
        try:
            corrected = json.loads(inputs)
        except ValueError:
            corrected = None
        if not isinstance(corrected, dict):
            raise Problem(422, "Invalid input", "a JSON object", field="inputs", code="bad_input")
        bad = sorted(RESERVED_INPUTS & set(corrected))
        if bad:
            raise Problem(
                422, "Invalid input", "set by the platform", field=f"inputs.{bad[0]}", code="bad_input"
            )
    files = await read_files(p, await request.form(), skip=frozenset({"version", "inputs", "csrf"}))
    key = namespaced_key(who, idempotency_key or f"supplement:{case_id}:{version}")
    return await p.cases.supplement(who.actor, case_id, version, key=key, files=files, inputs=corrected)


class WithdrawIn(BaseModel):
    version: int = Field(..., ge=1, le=2**31 - 1)


@router.post("/cases/{case_id}/withdraw", summary="Withdraw an application")
async def post_withdraw(
    request: Request,
    p: PlatformDep,
    who: ApplicantSide,
    case_id: PathId,
    body: WithdrawIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    await check_csrf(request, who)
    key = namespaced_key(who, idempotency_key or f"withdraw:{case_id}:{body.version}")
    return await p.cases.withdraw(who.actor, case_id, body.version, key=key)


@router.get("/cases", summary="My applications and those of the people I act for")
async def get_cases(p: PlatformDep, who: ApplicantSide) -> list[dict[str, Any]]:
    rows = await applications.list_cases(p.sessions, who.actor)
    for r in rows:
        r["state_label"] = both(STATE_LABELS.get(r["state"], r["state"]))
    return rows


@router.get("/cases/{case_id}", summary="An application's progress")
async def get_case(p: PlatformDep, who: ApplicantSide, case_id: PathId) -> dict[str, Any]:
    return await read_case(p, who, case_id)


@router.get("/me/documents", summary="My visas and permits (and those of the people I act for)")
async def get_documents(p: PlatformDep, who: ApplicantSide) -> dict[str, Any]:
    return {
        "people": await applications.documents(p.sessions, p.registry, who.actor, p.today()),
        "checks": "/my/checks",
    }
