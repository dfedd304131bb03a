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
from cnvisa.cases.queries.accepting_offices import accepting_offices
from cnvisa.cases.runner import office_facts
from cnvisa.cases.workflow import Role
from cnvisa.http import applicant as side
from cnvisa.http.deps import OptionalPrincipalDep, Platform, PlatformDep, Principal, check_csrf, require
from cnvisa.http.problems import Problem
from cnvisa.law import assess, questionnaire
from cnvisa.law.errors import InvalidInput, LawError
from cnvisa.law.materials import CATALOGUE
from cnvisa.store.tables import Office
from cnvisa.web.form_errors import Form, Found, from_law
from cnvisa.web.pages import kept_files
from cnvisa.web.pages.applicant_view import (
    errors_of,
    field_views,
    found_of,
    on_date,
    questions_form,
    view,
)
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
    result = None
    found: list[Found] = []
    on = today
    if values.get("check"):
        try:
            on = on_date(values, today)
        except InvalidInput as exc:
            found += from_law(exc)
        try:
            inputs = questionnaire.build_inputs(matter, values, qs)
        except InvalidInput as exc:
            found += from_law(exc)
        if (
            not found
        ):  # the rules are asked only about well-formed answers; all malformed ones are shown at once
            try:
                result = assess({"matter": matter, "on": on.isoformat(), **inputs})
            except (InvalidInput, LawError) as exc:
                found += found_of(request, exc)[0]
    offices = await accepting_offices(p.sessions, result.get("office_choice") if result else None)
    fields = field_views(request, qs, values, on)
    errors = errors_of(
        request, questions_form(request, fields, {"on": ("f-on", "Date of application")}), found
    )
    return view(
        request,
        "applicant/need_form.html",
        who,
        status=422 if errors else 200,
        matter=matter,
        fields=fields,
        on=values.get("on") or today.isoformat(),
        result=result,
        errors=errors,
        accepting=offices,
    )


# ------------------------------------------------------------------------------------------------ appointments


async def _appointments_page(
    request: Request,
    who: Principal,
    p: Platform,
    values: Mapping[str, Any],
    *,
    found: list[Found] | None = None,
    status: int = 200,
    booked: int | None = None,
) -> HTMLResponse:
    found = list(found or [])
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
            found.append(Found("day", text=t(request, "Choose a day from the list.")))
            status = 422
        except (NotBookable, CaseError) as exc:
            found += found_of(request, exc)[0]
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
        errors=errors_of(request, Form(_booking_fields(office is not None, slots), fallback="office"), found),
        booked=booked,
        # the language links carry the choices (office, day, time, person, matter: no personal data)
        lang_query=[
            (k, str(v)) for k, v in values.items() if k in ("office", "day", "slot", "person", "matter")
        ],
    )


def _booking_fields(office: bool, slots: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """The booking form's controls as the page draws them: the day once an office is chosen, the times, the
    person and the matter once there are times."""
    fields = {"office": ("office", "1. Office")}
    if office:
        fields["day"] = ("day", "2. Day")
    if slots:
        free = {
            f"slot.{s['slot']}": (f"slot-{s['slot'].replace(':', '')}", "Time") for s in slots if s["free"]
        }
        fields.update({**free, "person": ("person", "Person"), "matter": ("matter", "Matter")})
    return fields


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
        # every missing choice at once (WCAG 3.3.1)
        # each choice the page offers and is missing, at once (WCAG 3.3.1): the day once there is an office, the
        # time once there is a day
        offered = [
            "office",
            *(["day"] if values.get("office") else []),
            *(["slot"] if values.get("day") else []),
        ]
        missing = [k for k in offered if not values.get(k)] or ["day"]
        text = {
            "office": t(request, "Choose an office."),
            "day": t(request, "Choose a day from the list."),
            "slot": t(request, "Choose a time."),
        }
        found = [Found(k, text=text[k]) for k in missing]
        return await _appointments_page(request, who, p, values, found=found, status=422)
    except (NotBookable, SlotFull, AlreadyBooked, AppointmentPast, CaseError, Problem) as exc:
        found, status = found_of(request, exc)
        return await _appointments_page(request, who, p, values, found=found, status=status)
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
        if any("port_visa" in a for a in holding.get("annotations") or [] if isinstance(a, dict)):
            pairs["visa.port_visa"] = (
                "true"  # issued at a port (cnvisa.cases.port_visa): Law Art 29, Reg Art 14
            )
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
    found: list[Found] | None = None,
    status: int = 200,
) -> HTMLResponse:
    ctx = await _apply_context(request, who, p, values)
    candidates = await applications.people(p.sessions, set(people_for(who.actor)))
    if ctx is None:
        start = {"person": ("person", "Applicant"), "matter": ("matter", "Matter")}
        return view(
            request,
            "applicant/apply_start.html",
            who,
            status=status,
            candidates=candidates,
            matters=IN_COUNTRY_MATTERS,
            values=values,
            errors=errors_of(request, questions_form(request, [], start), found or []),
        )
    today = p.today()
    result = None
    found = list(found or [])
    offices = await Appointments(p.sessions, p.cases.clock).offices()
    chosen_office = next((o for o in offices if str(o.id) == str(values.get("office") or "")), None)
    if values.get("step") == "check":
        check: list[Found] = []
        try:
            person = ctx["person"]
            inputs = applications.record_facts(
                questionnaire.build_inputs(ctx["matter"], values, ctx["qs"]),
                dt.date.fromisoformat(person["birth_date"]),
                person["nationality"],
            )
            facts = office_facts(chosen_office)  # may the office chosen accept it (cnvisa.law.office_choice)
            result = assess(
                {
                    "matter": ctx["matter"],
                    "on": today.isoformat(),
                    "submitted_by": ctx["submitter"],
                    **inputs,
                    **({"office": facts} if facts else {}),
                }
            )
        except (InvalidInput, LawError) as exc:
            check += found_of(request, exc)[0]
        if not str(values.get("office") or "").isdigit():
            check.append(Found("office", "missing"))
        if check and not found:
            found, status = check, 422
    # a refused form keeps its key, and with it the files it accepted (kept_files)
    form_key = str(values.get("key") or "").strip()[:64] or secrets.token_urlsafe(18)
    hidden = {
        q.name: str(values[q.name])
        for q in ctx["qs"]
        if values.get(q.name) not in (None, "") and q.applies(values)
    }
    fields = field_views(request, ctx["qs"], values, today)
    before = {
        "office": ("f-office", "Office"),
        "holding_number": ("f-holding", "The visa or permit this application concerns"),
    }
    materials = [m["code"] for m in result["required_materials"]] if result else []
    return view(
        request,
        "applicant/apply_form.html",
        who,
        status=status,
        ctx=ctx,
        fields=fields,
        offices=[office_dict(o) for o in offices],
        values=values,
        hidden=hidden,
        result=result,
        errors=errors_of(request, questions_form(request, fields, before, materials), found),
        key=form_key,
        kept=await kept_files.kept(p, who, form_key),
        max_upload=p.settings.max_upload_bytes,
        photo=p.settings.photo,
        # the language links carry the answers (never a file, the CSRF token or a passport number)
        lang_query=[(k, v) for k, v in values.items() if k in CONTROL or k in hidden],
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
    found: list[Found] = []
    try:
        ctx = await _apply_context(request, who, p, dict(values))
        if ctx is None:  # choose the person and the matter
            return await _apply_page(request, who, p, values, found=[Found("matter", "missing")], status=422)
        key = side.namespaced_key(who, str(values.get("key") or ""), field="key")
        skip = frozenset(CONTROL | {q.name for q in ctx["qs"]})
        # the files first: those accepted are kept even when the answers below are refused
        files = await kept_files.gather(p, who, str(values["key"]).strip(), form, skip)
        try:
            inputs = questionnaire.build_inputs(ctx["matter"], values, ctx["qs"])
        except InvalidInput as exc:
            found, inputs = from_law(exc), {}
        office = str(values.get("office") or "")
        if not office.isdigit() or not 1 <= int(office) <= side.MAX_ID:
            found.append(Found("office", "missing"))
        if found:  # every malformed answer at once (WCAG 3.3.1), not the first only
            return await _apply_page(request, who, p, values, found=found, status=422)
        if ctx["holding_number"]:
            inputs["holding_number"] = ctx["holding_number"]
        app = side.ApplicationIn(
            person_id=ctx["person"]["id"], office_id=int(office), matter=ctx["matter"], inputs=inputs
        )
        out = await side.submit_application(p, who, app, files, key, same_form=True)
    except (Problem, CaseError, LawError) as exc:
        found, status = found_of(request, exc)
        return await _apply_page(request, who, p, values, found=found, status=status)
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
    found: list[Found] | None = None,
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
        errors=errors_of(request, _case_form(request, uploadable), found or []),
        key=secrets.token_urlsafe(18),
        submitted=request.query_params.get("submitted"),
    )


def _case_form(request: Request, uploadable: list[str]) -> Form:
    form = questions_form(request, [], {}, uploadable)
    files = {k: ("sup-" + k.removeprefix("files."), label) for k, (_id, label) in form.fields.items()}
    fields = {**files, "confirm": ("withdraw-confirm", "I want to withdraw this application.")}
    return Form(fields, fallback="main")


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
        found = [Found("version", text=t(request, "The form is out of date: reload the page."))]
        return await _case_page(request, who, p, case_id, found=found, status=422)
    except (Problem, CaseError) as exc:
        found, status = found_of(request, exc)
        if status in (401, 403, 404):
            raise
        return await _case_page(request, who, p, case_id, found=found, status=status)
    return RedirectResponse(f"/my/cases/{case_id}?supplemented=1", status_code=303)


@router.post("/my/cases/{case_id}/withdraw", response_model=None)
async def withdraw(request: Request, who: ApplicantSide, p: PlatformDep, case_id: side.PathId) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    try:
        version = int(str(form.get("version") or ""))
        key = side.namespaced_key(who, str(form.get("key") or ""), field="key")
        if form.get("confirm") != "yes":
            found = [Found("confirm", text=t(request, "Tick the box to confirm the withdrawal."))]
            return await _case_page(request, who, p, case_id, found=found, status=422)
        await p.cases.withdraw(who.actor, case_id, version, key=key)
    except ValueError:
        found = [Found("version", text=t(request, "The form is out of date: reload the page."))]
        return await _case_page(request, who, p, case_id, found=found, status=422)
    except (Problem, CaseError) as exc:
        found, status = found_of(request, exc)
        if status in (401, 403, 404):
            raise
        return await _case_page(request, who, p, case_id, found=found, status=status)
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
