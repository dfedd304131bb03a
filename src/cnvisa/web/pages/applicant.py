"""Pages of the applicant side: what do I need, appointments, apply, my applications, my documents.

Applicants act for themselves; agents (亲友帮办, Regulations Art 19) for the people they hold a mandate for.
The questions are the law's (``cnvisa.law.questionnaire``), the reads the core's
(``cnvisa.cases.queries.applications``), the labels and uploads shared with the API (``cnvisa.http.applicant``);
these pages only ask and show.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cnvisa.cases.appointments import (
    IN_COUNTRY_MATTERS,
    AlreadyBooked,
    AppointmentPast,
    Appointments,
    NotBookable,
    SlotFull,
    office_dict,
    people_for,
)
from cnvisa.cases.errors import CaseError
from cnvisa.cases.queries import applications
from cnvisa.cases.workflow import Role
from cnvisa.http import applicant as side
from cnvisa.http.deps import OptionalPrincipalDep, Platform, PlatformDep, Principal, check_csrf, require
from cnvisa.http.problems import Problem
from cnvisa.law import assess, questionnaire
from cnvisa.law.errors import InvalidInput, LawError
from cnvisa.law.materials import CATALOGUE
from cnvisa.store.tables import Office
from cnvisa.web.pages import kept_files
from cnvisa.web.pages.applicant_view import error_of, field_views, on_date, view
from cnvisa.web.pages.render import t

router = APIRouter(include_in_schema=False)
_ = questionnaire._  # marks a message for the catalogs
ApplicantSide = Annotated[Principal, Depends(require(Role.APPLICANT, Role.AGENT))]

HOLDING_KINDS = {
    "visa_extension": ("visa",),
    "visa_replacement": ("visa",),
    "visa_reissue": ("visa",),
    "stay_permit": ("visa",),
    "residence_permit_extension": ("residence_permit",),
    "residence_permit_replacement": ("residence_permit",),
    "residence_permit_reissue": ("residence_permit",),
    "study_work_annotation": ("residence_permit",),
}
"""The document a matter acts on, offered to choose from (and to fill in the answers from)."""
CONTROL = frozenset({"person", "matter", "office", "step", "key", "csrf", "holding_number", "on", "lang"})


# ------------------------------------------------------------------------------------------------ what do I need


@router.get("/what-do-i-need", response_class=HTMLResponse)
async def need_matters(request: Request, who: OptionalPrincipalDep) -> HTMLResponse:
    return view(request, "applicant/need_matters.html", who, matters=IN_COUNTRY_MATTERS)


@router.get("/what-do-i-need/{matter}", response_class=HTMLResponse)
async def need_form(request: Request, who: OptionalPrincipalDep, p: PlatformDep, matter: str) -> HTMLResponse:
    if matter not in IN_COUNTRY_MATTERS:
        raise Problem(404, "Not found", f"no matter {matter!r}", field="matter", code="not_found")
    values = dict(request.query_params)
    today = p.today()
    qs = questionnaire.questions(matter)
    result = error = None
    status = 200
    on = today
    if values.get("check"):
        try:
            on = on_date(values, today)
            inputs = questionnaire.build_inputs(matter, values, qs)
            result = assess({"matter": matter, "on": on.isoformat(), **inputs})
        except (InvalidInput, LawError) as exc:
            error = error_of(request, exc)
            status = 422
    return view(
        request,
        "applicant/need_form.html",
        who,
        status=status,
        matter=matter,
        fields=field_views(request, qs, values, on),
        on=values.get("on") or today.isoformat(),
        result=result,
        error=error,
    )


# ------------------------------------------------------------------------------------------------ appointments


async def _appointments_page(
    request: Request,
    who: Principal,
    p: Platform,
    values: Mapping[str, Any],
    *,
    error: dict[str, Any] | None = None,
    status: int = 200,
    booked: int | None = None,
) -> HTMLResponse:
    svc = Appointments(p.sessions, p.cases.clock)
    all_offices = await svc.offices()
    office: Office | None = None
    try:
        office_id = int(values.get("office") or 0)
    except ValueError:
        office_id = 0
    office = next((o for o in all_offices if o.id == office_id), None)
    days: list[dt.date] = svc.bookable_days(office) if office else []
    day: dt.date | None = None
    slots: list[dict[str, Any]] = []
    if office is not None and values.get("day"):
        try:
            day = dt.date.fromisoformat(str(values["day"]))
            slots = (await svc.slots(office.id, day))["slots"]
        except ValueError:
            error = error or {
                "field": "day",
                "message": t(request, "Choose a day from the list."),
                "rule": None,
            }
            status = 422
        except (NotBookable, CaseError) as exc:
            error = error or error_of(request, exc)
            status = max(status, 422)
    mine = await svc.of(who.actor)
    persons = await applications.people(p.sessions, set(people_for(who.actor)))
    return view(
        request,
        "applicant/appointments.html",
        who,
        status=status,
        offices=[office_dict(o) for o in all_offices],
        office=office_dict(office) if office else None,
        days=days,
        day=day,
        slots=slots,
        mine=mine,
        persons=persons,
        matters=IN_COUNTRY_MATTERS,
        values=values,
        error=error,
        booked=booked,
    )


@router.get("/appointments", response_class=HTMLResponse)
async def appointments(request: Request, who: ApplicantSide, p: PlatformDep) -> HTMLResponse:
    values = dict(request.query_params)
    booked = values.get("booked")
    return await _appointments_page(
        request, who, p, values, booked=int(booked) if booked and booked.isdigit() else None
    )


@router.post("/appointments", response_model=None)
async def book(request: Request, who: ApplicantSide, p: PlatformDep) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        person = int(values.get("person") or 0) or None
        day = dt.date.fromisoformat(values.get("day", ""))
        out = await Appointments(p.sessions, p.cases.clock).book(
            who.actor,
            person_id=side.default_person(who.actor, person),
            office_id=int(values.get("office") or 0),
            day=day,
            slot=values.get("slot", ""),
            matter=values.get("matter", ""),
            per_person=p.settings.appointments_per_person,
        )
    except ValueError:
        err: dict[str, Any] = {
            "field": "day",
            "message": t(request, "Choose an office, a day and a time."),
            "rule": None,
        }
        return await _appointments_page(request, who, p, values, error=err, status=422)
    except (NotBookable, SlotFull, AlreadyBooked, AppointmentPast, CaseError, Problem) as exc:
        err = error_of(request, exc)
        return await _appointments_page(request, who, p, values, error=err, status=err["status"])
    return RedirectResponse(f"/appointments?booked={out['id']}", status_code=303)


@router.post("/appointments/{appointment_id}/cancel", response_model=None)
async def cancel(
    request: Request, who: ApplicantSide, p: PlatformDep, appointment_id: side.PathId
) -> Response:
    await check_csrf(request, who)
    try:
        await Appointments(p.sessions, p.cases.clock).cancel(who.actor, appointment_id)
    except AppointmentPast as exc:
        raise side.problem_of(exc) from None
    return RedirectResponse("/appointments?cancelled=1", status_code=303)


# ------------------------------------------------------------------------------------------------ apply


def _prefill(
    values: dict[str, Any],
    holding: Mapping[str, Any] | None,
    qs: tuple[questionnaire.Question, ...],
    entry_date: str | None,
) -> None:
    """Answers taken from the chosen visa or permit (and the last entry), where the form leaves them empty."""
    if not holding:
        return
    if holding["kind"] == "visa":
        pairs = {
            "visa.category": holding.get("category"),
            "visa.entries": holding.get("entries"),
            "visa.entries_used": holding.get("entries_used"),
            "visa.valid_until": holding.get("valid_until"),
            "visa.stay_days": holding.get("stay_days"),
            "visa.extended_days": holding.get("extended_days"),
        }
    else:
        pairs = {
            "residence_permit.type": holding.get("category"),
            "residence_permit.valid_until": holding.get("valid_until"),
        }
    if entry_date and "entry_date" in {q.name for q in qs}:
        pairs["entry_date"] = entry_date
    for k, v in pairs.items():
        if not str(values.get(k) or "").strip() and v is not None:
            values[k] = v


async def _apply_context(
    request: Request, who: Principal, p: Platform, values: dict[str, Any]
) -> dict[str, Any] | None:
    """Person, matter, questions and the person's documents for the apply form; None when still to choose."""
    candidates = await applications.people(p.sessions, set(people_for(who.actor)))
    matter = str(values.get("matter") or "")
    raw_person = str(values.get("person") or "")
    if not raw_person and len(candidates) == 1:
        raw_person = str(next(iter(candidates)))
    if matter not in IN_COUNTRY_MATTERS or not raw_person.isdigit():
        return None
    person_id = int(raw_person)
    if person_id not in candidates:
        raise Problem(403, "Forbidden", "you do not act for this person", field="person", code="forbidden")
    submitter = await applications.submitter_for(p.sessions, who.actor, person_id, p.today())
    qs = tuple(
        q
        for q in questionnaire.questions(matter, proxy=submitter != "self", with_submitter=False)
        if q.name != "applicant.birth_date"  # the record's, not the form's (Art 19 para 1(1))
    )
    person = candidates[person_id]
    kinds = HOLDING_KINDS.get(matter, ())
    holdings = [
        h
        for h in await p.registry.documents_of(person_id, p.today())
        if h["kind"] in kinds and h["status"] == "valid"
    ]
    number = str(values.get("holding_number") or "")
    chosen = next((h for h in holdings if h["number"] == number), None)
    if chosen is not None:
        _prefill(
            values,
            chosen,
            qs,
            await applications.last_entry(p.sessions, person_id, p.today())
            if chosen["kind"] == "visa"
            else None,
        )
    return {
        "matter": matter,
        "person": person,
        "submitter": submitter,
        "qs": qs,
        "holdings": holdings,
        "holding_number": chosen["number"] if chosen else "",
    }


async def _apply_page(
    request: Request,
    who: Principal,
    p: Platform,
    values: dict[str, Any],
    *,
    error: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    ctx = await _apply_context(request, who, p, values)
    candidates = await applications.people(p.sessions, set(people_for(who.actor)))
    if ctx is None:
        return view(
            request,
            "applicant/apply_start.html",
            who,
            status=status,
            candidates=candidates,
            matters=IN_COUNTRY_MATTERS,
            values=values,
            error=error,
        )
    today = p.today()
    result = None
    if values.get("step") == "check":
        try:
            person = ctx["person"]
            inputs = applications.record_facts(
                questionnaire.build_inputs(ctx["matter"], values, ctx["qs"]),
                dt.date.fromisoformat(person["birth_date"]),
                person["nationality"],
            )
            result = assess(
                {"matter": ctx["matter"], "on": today.isoformat(), "submitted_by": ctx["submitter"], **inputs}
            )
            if not str(values.get("office") or "").isdigit():
                raise InvalidInput("office", "choose the office you apply to")
        except (InvalidInput, LawError) as exc:
            if error is None:
                error, status = error_of(request, exc), 422
    # a refused form keeps its key, and with it the files it accepted (kept_files)
    form_key = str(values.get("key") or "").strip()[:64] or secrets.token_urlsafe(18)
    hidden = {
        q.name: str(values[q.name])
        for q in ctx["qs"]
        if values.get(q.name) not in (None, "") and q.applies(values)
    }
    return view(
        request,
        "applicant/apply_form.html",
        who,
        status=status,
        ctx=ctx,
        fields=field_views(request, ctx["qs"], values, today),
        offices=[office_dict(o) for o in await Appointments(p.sessions, p.cases.clock).offices()],
        values=values,
        hidden=hidden,
        result=result,
        error=error,
        key=form_key,
        kept=await kept_files.kept(p, who, form_key),
        max_upload=p.settings.max_upload_bytes,
        photo=p.settings.photo,
    )


@router.get("/apply", response_class=HTMLResponse)
async def apply_form(request: Request, who: ApplicantSide, p: PlatformDep) -> HTMLResponse:
    return await _apply_page(request, who, p, dict(request.query_params))


@router.post("/apply", response_model=None)
async def apply(request: Request, who: ApplicantSide, p: PlatformDep) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values["step"] = "check"
    try:
        ctx = await _apply_context(request, who, p, dict(values))
        if ctx is None:
            raise Problem(
                422, "Invalid input", "choose the person and the matter", field="matter", code="bad_input"
            )
        key = side.namespaced_key(who, str(values.get("key") or ""), field="key")
        skip = frozenset(CONTROL | {q.name for q in ctx["qs"]})
        # the files first: those accepted are kept even when the answers below are refused
        files = await kept_files.gather(p, who, str(values["key"]).strip(), form, skip)
        inputs = questionnaire.build_inputs(ctx["matter"], values, ctx["qs"])
        if ctx["holding_number"]:
            inputs["holding_number"] = ctx["holding_number"]
        office = str(values.get("office") or "")
        if not office.isdigit() or not 1 <= int(office) <= side.MAX_ID:
            raise Problem(
                422, "Invalid input", "choose the office you apply to", field="office", code="bad_input"
            )
        app = side.ApplicationIn(
            person_id=ctx["person"]["id"], office_id=int(office), matter=ctx["matter"], inputs=inputs
        )
        out = await side.submit_application(p, who, app, files, key, same_form=True)
    except (Problem, CaseError, LawError) as exc:
        err = error_of(request, exc)
        return await _apply_page(request, who, p, values, error=err, status=err["status"])
    await kept_files.forget(p, who, str(values["key"]).strip())
    return RedirectResponse(f"/my/cases/{out['case_id']}?submitted=1", status_code=303)


# ------------------------------------------------------------------------------------------------ progress


@router.get("/my/cases", response_class=HTMLResponse)
async def my_cases(request: Request, who: ApplicantSide, p: PlatformDep) -> HTMLResponse:
    rows = await applications.list_cases(p.sessions, who.actor)
    persons = await applications.people(p.sessions, set(people_for(who.actor)))
    return view(
        request, "applicant/cases.html", who, cases=rows, persons=persons, agent=who.role is Role.AGENT
    )


async def _case_page(
    request: Request,
    who: Principal,
    p: Platform,
    case_id: int,
    *,
    error: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    case = await side.read_case(p, who, case_id)
    persons = await applications.people(p.sessions, {case["person_id"]})
    async with p.sessions() as s:
        office = await s.get(Office, case["office_id"])
    latest = case["notices"][-1] if case["notices"] else None
    uploadable = []
    if latest:
        for item in latest["items"]:
            base = item.split(":")[-1]
            m = CATALOGUE.get(base)
            if m is not None and m.kind == "material" and base not in uploadable:
                uploadable.append(base)
    return view(
        request,
        "applicant/case.html",
        who,
        status=status,
        case=case,
        person=persons.get(case["person_id"]),
        office=office_dict(office) if office else None,
        uploadable=uploadable,
        error=error,
        key=secrets.token_urlsafe(18),
        submitted=request.query_params.get("submitted"),
    )


@router.get("/my/cases/{case_id}", response_class=HTMLResponse)
async def my_case(request: Request, who: ApplicantSide, p: PlatformDep, case_id: side.PathId) -> HTMLResponse:
    return await _case_page(request, who, p, case_id)


@router.post("/my/cases/{case_id}/supplement", response_model=None)
async def supplement(request: Request, who: ApplicantSide, p: PlatformDep, case_id: side.PathId) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    try:
        version = int(str(form.get("version") or ""))
        key = side.namespaced_key(who, str(form.get("key") or ""), field="key")
        files = await side.read_files(p, form, skip=frozenset({"version", "key", "csrf"}))
        if not files:
            raise Problem(422, "Invalid input", "choose at least one file", field="files", code="bad_input")
        await p.cases.supplement(who.actor, case_id, version, key=key, files=files)
    except ValueError:
        err: dict[str, Any] = {
            "field": "version",
            "message": t(request, "The form is out of date: reload the page."),
            "rule": None,
        }
        return await _case_page(request, who, p, case_id, error=err, status=422)
    except (Problem, CaseError) as exc:
        err = error_of(request, exc)
        if err["status"] in (401, 403, 404):
            raise
        return await _case_page(request, who, p, case_id, error=err, status=err["status"])
    return RedirectResponse(f"/my/cases/{case_id}?supplemented=1", status_code=303)


@router.post("/my/cases/{case_id}/withdraw", response_model=None)
async def withdraw(request: Request, who: ApplicantSide, p: PlatformDep, case_id: side.PathId) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    try:
        version = int(str(form.get("version") or ""))
        key = side.namespaced_key(who, str(form.get("key") or ""), field="key")
        if form.get("confirm") != "yes":
            raise Problem(
                422,
                "Invalid input",
                t(request, "Tick the box to confirm the withdrawal."),
                field="confirm",
                code="bad_input",
            )
        await p.cases.withdraw(who.actor, case_id, version, key=key)
    except ValueError:
        err: dict[str, Any] = {
            "field": "version",
            "message": t(request, "The form is out of date: reload the page."),
            "rule": None,
        }
        return await _case_page(request, who, p, case_id, error=err, status=422)
    except (Problem, CaseError) as exc:
        err = error_of(request, exc)
        if err["status"] in (401, 403, 404):
            raise
        return await _case_page(request, who, p, case_id, error=err, status=err["status"])
    return RedirectResponse(f"/my/cases/{case_id}?withdrawn=1", status_code=303)


# ------------------------------------------------------------------------------------------------ documents


@router.get("/my/documents", response_class=HTMLResponse)
async def my_documents(request: Request, who: ApplicantSide, p: PlatformDep) -> HTMLResponse:
    return view(
        request,
        "applicant/documents.html",
        who,
        groups=await applications.documents(p.sessions, p.registry, who.actor, p.today()),
    )
