"""Pages of the applicant side: what do I need, appointments, apply, my applications, my documents.

Applicants act for themselves; agents (亲友帮办, Regulations Art 19) for the people they hold a mandate for.
The rules, the questions and the authorisation are the API module's (``cnvisa.api.applicant``); these pages
only ask and show.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cnvisa.api import applicant as api
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
from cnvisa.cases.workflow import Role
from cnvisa.law import assess
from cnvisa.law.errors import InvalidInput, LawError
from cnvisa.law.materials import CATALOGUE
from cnvisa.law.residence import PERMIT_TYPES
from cnvisa.store.tables import Office
from cnvisa.web.deps import OptionalPrincipalDep, Platform, PlatformDep, Principal, check_csrf, require
from cnvisa.web.i18n import negotiate
from cnvisa.web.pages import kept_files
from cnvisa.web.pages.render import page, t
from cnvisa.web.pdf import cite_text
from cnvisa.web.problems import Problem, as_problem

router = APIRouter(include_in_schema=False)
_ = api._  # marks a message for the catalogs
ApplicantSide = Annotated[Principal, Depends(require(Role.APPLICANT, Role.AGENT))]

PROXY_GROUNDS = {
    "art19_1": _(
        "The applicant is under 16, 60 or over, or has difficulty moving (Regulations Art 19 para 1(1))."
    ),
    "art19_2": _(
        "Not the first entry, with a good record of stay and residence (Regulations Art 19 para 1(2))."
    ),
    "art19_3": _("The inviter guarantees the expenses of the stay (Regulations Art 19 para 1(3))."),
    "art19_talent": _("A foreign high-level or urgently needed talent (Regulations Art 19 para 2)."),
}
ISSUABLE = {
    "category": _("Visa category"),
    "entries": _("Entries"),
    "max_entry_validity_days": _("Longest entry validity (days)"),
    "max_stay_days": _("Longest stay (days)"),
    "permit_type": _("Residence permit type"),
    "min_validity_days": _("Shortest validity (days)"),
    "max_validity_days": _("Longest validity (days)"),
}
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


# ------------------------------------------------------------------------------------------------ helpers


def helpers(request: Request) -> dict[str, Any]:
    """What templates need beyond gettext: labels in the reader's language and citations."""
    loc = negotiate(request)

    def label(value: Mapping[str, str] | None) -> str:
        return api.pick(value, loc)

    def cite(c: Mapping[str, Any] | str) -> str:
        return c if isinstance(c, str) else cite_text(dict(c), loc)

    return {
        "L": label,
        "cite": cite,
        "matter_labels": api.MATTER_LABELS,
        "matter_help": api.MATTER_HELP,
        "state_labels": api.STATE_LABELS,
        "kind_labels": api.KIND_LABELS,
        "doc_status": api.DOC_STATUS,
        "item_label": api.item_label,
        "proxy_grounds": PROXY_GROUNDS,
        "issuable_labels": ISSUABLE,
        "entry_labels": {o.value: o.en for o in api.ENTRIES},
        "permit_labels": {code: {"en": pt.name_en, "zh": pt.name_zh} for code, pt in PERMIT_TYPES.items()},
        "submitter_labels": {o.value: o.en for o in api.SUBMITTERS},
    }


def view(
    request: Request, template: str, who: Principal | None, status: int = 200, **context: Any
) -> HTMLResponse:
    return page(request, template, who, status, **helpers(request), **context)


def field_views(
    request: Request, qs: tuple[api.Question, ...], values: Mapping[str, Any], on: dt.date
) -> list[dict[str, Any]]:
    """The questions as the form template draws them."""
    by_name = {q.name: q for q in qs}
    out = []
    for q in qs:
        only_if = None
        if q.when:
            other = by_name.get(q.when[0])
            names = [
                api.pick(label, negotiate(request))
                for v, label in (api.options_of(other, on) if other else [])
                if v in q.when[1]
            ] or list(q.when[1])
            only_if = t(
                request,
                "Only if “%(question)s” is %(values)s.",
                question=t(request, other.en) if other else q.when[0],
                values=" / ".join(names),
            )
        out.append(
            {
                "name": q.name,
                "id": "f-" + q.name.replace(".", "-").replace("_", "-"),
                "kind": q.kind,
                "label": q.en,
                "required": q.required,
                "options": api.options_of(q, on),
                "hint": q.hint,
                "only_if": only_if,
                "proxy": q.proxy,
                "value": "" if values.get(q.name) is None else str(values.get(q.name)),
            }
        )
    return out


RULE_TEXTS = {
    "photo.format": _("The photo must be a JPEG file."),
    "photo.size": _("The photo file must be %(min_kb)s to %(max_kb)s KB."),
    "photo.width": _("The photo must be %(min_w)s to %(max_w)s pixels wide."),
    "photo.height": _("The photo must be %(min_h)s to %(max_h)s pixels high."),
    "photo.ratio": _("The photo's width and height must be in the proportion 3 to 4."),
    "appointment.window": _("Appointments can be booked from tomorrow up to 30 days ahead."),
    "appointment.working_day": _(
        "The office receives applicants on working days only, not at weekends or on public holidays."
    ),
    "appointment.opening_hours": _("Choose a time within the office's opening hours."),
    "appointment.capacity": _("This time is fully booked: please choose another."),
    "appointment.one_per_slot": _("This person already has an appointment at this time."),
    "upload.max_bytes": _("The file is too large."),
    "upload.media_type": _("Files must be PDF, JPEG or PNG."),
}
CODE_TEXTS = {
    "forbidden": _("You may not do this for this person or application."),
    "conflict": _("The application was changed meanwhile: reload the page and try again."),
    "submitter_may_apply": _(
        "Someone else may submit this application only on a ground of Regulations Art 19; "
        "otherwise the applicant applies in person."
    ),
    "invalid_command": _("This is not possible in the application's present state."),
    "unknown_material": _("Upload each file under a material of the checklist."),
}


def _error(request: Request, exc: Exception) -> dict[str, Any]:
    """An error for a page: the message, the field and rule it concerns, and a translated explanation."""
    exc = api.problem_of(exc)
    if isinstance(exc, InvalidInput):
        return {"field": exc.field, "message": exc.message, "rule": None, "status": 422, "explain": []}
    p = as_problem(exc)
    spec = request.app.state.platform.settings.photo
    params = {
        "min_kb": spec.min_bytes // 1024,
        "max_kb": spec.max_bytes // 1024,
        "min_w": spec.min_width,
        "max_w": spec.max_width,
        "min_h": spec.min_height,
        "max_h": spec.max_height,
    }
    rules = [f["rule"] for f in p.extra.get("faults", [])] or ([p.rule] if p.rule else [])
    explain = [t(request, RULE_TEXTS[r], **params) for r in rules if r in RULE_TEXTS]
    if p.code in CODE_TEXTS:
        explain.append(t(request, CODE_TEXTS[p.code]))
    return {"field": p.field, "message": p.detail, "rule": p.rule, "status": p.status, "explain": explain}


def _on(values: Mapping[str, Any], today: dt.date) -> dt.date:
    raw = str(values.get("on") or "").strip()
    try:
        return dt.date.fromisoformat(raw) if raw else today
    except ValueError:
        raise InvalidInput("on", "must be a date (YYYY-MM-DD)") from None


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
    qs = api.questions(matter)
    result = error = None
    status = 200
    on = today
    if values.get("check"):
        try:
            on = _on(values, today)
            inputs = api.build_inputs(matter, values, qs)
            result = assess({"matter": matter, "on": on.isoformat(), **inputs})
        except (InvalidInput, LawError) as exc:
            error = _error(request, exc)
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
            error = error or _error(request, exc)
            status = max(status, 422)
    mine = await svc.of(who.actor)
    persons = await api.people(p, set(people_for(who.actor)))
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
            person_id=api.default_person(who.actor, person),
            office_id=int(values.get("office") or 0),
            day=day,
            slot=values.get("slot", ""),
            matter=values.get("matter", ""),
        )
    except ValueError:
        err: dict[str, Any] = {
            "field": "day",
            "message": t(request, "Choose an office, a day and a time."),
            "rule": None,
        }
        return await _appointments_page(request, who, p, values, error=err, status=422)
    except (NotBookable, SlotFull, AlreadyBooked, AppointmentPast, CaseError, Problem) as exc:
        err = _error(request, exc)
        return await _appointments_page(request, who, p, values, error=err, status=err["status"])
    return RedirectResponse(f"/appointments?booked={out['id']}", status_code=303)


@router.post("/appointments/{appointment_id}/cancel", response_model=None)
async def cancel(
    request: Request, who: ApplicantSide, p: PlatformDep, appointment_id: api.PathId
) -> Response:
    await check_csrf(request, who)
    try:
        await Appointments(p.sessions, p.cases.clock).cancel(who.actor, appointment_id)
    except AppointmentPast as exc:
        raise api.problem_of(exc) from None
    return RedirectResponse("/appointments?cancelled=1", status_code=303)


# ------------------------------------------------------------------------------------------------ apply


def _prefill(
    values: dict[str, Any],
    holding: Mapping[str, Any] | None,
    qs: tuple[api.Question, ...],
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
    candidates = await api.people(p, set(people_for(who.actor)))
    matter = str(values.get("matter") or "")
    raw_person = str(values.get("person") or "")
    if not raw_person and len(candidates) == 1:
        raw_person = str(next(iter(candidates)))
    if matter not in IN_COUNTRY_MATTERS or not raw_person.isdigit():
        return None
    person_id = int(raw_person)
    if person_id not in candidates:
        raise Problem(403, "Forbidden", "you do not act for this person", field="person", code="forbidden")
    submitter = await api.submitter_for(p, who.actor, person_id)
    qs = tuple(
        q
        for q in api.questions(matter, proxy=submitter != "self", with_submitter=False)
        if q.name != "applicant.birth_date"  # the record's, not the form's (Art 19 para 1(1))
    )
    person = candidates[person_id]
    kinds = HOLDING_KINDS.get(matter, ())
    holdings = [
        h for h in await api.holdings_of(p, person_id) if h["kind"] in kinds and h["status"] == "valid"
    ]
    number = str(values.get("holding_number") or "")
    chosen = next((h for h in holdings if h["number"] == number), None)
    if chosen is not None:
        _prefill(values, chosen, qs, await api.last_entry(p, person_id) if chosen["kind"] == "visa" else None)
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
    candidates = await api.people(p, set(people_for(who.actor)))
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
            inputs = api.build_inputs(ctx["matter"], values, ctx["qs"])
            result = assess(
                {"matter": ctx["matter"], "on": today.isoformat(), "submitted_by": ctx["submitter"], **inputs}
            )
            if not str(values.get("office") or "").isdigit():
                raise InvalidInput("office", "choose the office you apply to")
        except (InvalidInput, LawError) as exc:
            if error is None:
                error, status = _error(request, exc), 422
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
        offices=[office_dict(o) for o in await api.offices(p)],
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
        key = api.namespaced_key(who, str(values.get("key") or ""), field="key")
        skip = frozenset(CONTROL | {q.name for q in ctx["qs"]})
        # the files first: those accepted are kept even when the answers below are refused
        files = await kept_files.gather(p, who, str(values["key"]).strip(), form, skip)
        inputs = api.build_inputs(ctx["matter"], values, ctx["qs"])
        if ctx["holding_number"]:
            inputs["holding_number"] = ctx["holding_number"]
        office = str(values.get("office") or "")
        if not office.isdigit() or not 1 <= int(office) <= api.MAX_ID:
            raise Problem(
                422, "Invalid input", "choose the office you apply to", field="office", code="bad_input"
            )
        app = api.ApplicationIn(
            person_id=ctx["person"]["id"], office_id=int(office), matter=ctx["matter"], inputs=inputs
        )
        out = await api.submit_application(p, who, app, files, key)
    except (Problem, CaseError, LawError) as exc:
        err = _error(request, exc)
        return await _apply_page(request, who, p, values, error=err, status=err["status"])
    await kept_files.forget(p, who, str(values["key"]).strip())
    return RedirectResponse(f"/my/cases/{out['case_id']}?submitted=1", status_code=303)


# ------------------------------------------------------------------------------------------------ progress


@router.get("/my/cases", response_class=HTMLResponse)
async def my_cases(request: Request, who: ApplicantSide, p: PlatformDep) -> HTMLResponse:
    rows = await api.list_cases(p, who.actor)
    persons = await api.people(p, set(people_for(who.actor)))
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
    case = await api.read_case(p, who, case_id)
    persons = await api.people(p, {case["person_id"]})
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
async def my_case(request: Request, who: ApplicantSide, p: PlatformDep, case_id: api.PathId) -> HTMLResponse:
    return await _case_page(request, who, p, case_id)


@router.post("/my/cases/{case_id}/supplement", response_model=None)
async def supplement(request: Request, who: ApplicantSide, p: PlatformDep, case_id: api.PathId) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    try:
        version = int(str(form.get("version") or ""))
        key = api.namespaced_key(who, str(form.get("key") or ""), field="key")
        files = await api.read_files(p, form, skip=frozenset({"version", "key", "csrf"}))
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
        err = _error(request, exc)
        if err["status"] in (401, 403, 404):
            raise
        return await _case_page(request, who, p, case_id, error=err, status=err["status"])
    return RedirectResponse(f"/my/cases/{case_id}?supplemented=1", status_code=303)


@router.post("/my/cases/{case_id}/withdraw", response_model=None)
async def withdraw(request: Request, who: ApplicantSide, p: PlatformDep, case_id: api.PathId) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    try:
        version = int(str(form.get("version") or ""))
        key = api.namespaced_key(who, str(form.get("key") or ""), field="key")
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
        err = _error(request, exc)
        if err["status"] in (401, 403, 404):
            raise
        return await _case_page(request, who, p, case_id, error=err, status=err["status"])
    return RedirectResponse(f"/my/cases/{case_id}?withdrawn=1", status_code=303)


# ------------------------------------------------------------------------------------------------ documents


@router.get("/my/documents", response_class=HTMLResponse)
async def my_documents(request: Request, who: ApplicantSide, p: PlatformDep) -> HTMLResponse:
    return view(request, "applicant/documents.html", who, groups=await api.documents(p, who.actor))
