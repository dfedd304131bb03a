"""Pages of joint applications (一口受理、并联审批、同时发证, issue 10 §1): the employer's form (one submission, one
material set for both branches) and list; the progress page of the foreigner, the agent and the employer (both
branches, both clocks, which branch is waiting, the one notice to supplement, withdrawal); the exit-entry
officer's single-window page (the one notice, the one acceptance with one receipt, issue together, collect
together, settle). Thin over ``JointService`` (as the API, ``cnvisa.api.joint``); the work-permit desk's pages
are ``cnvisa.web.pages.joint_desk``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from cnvisa.cases.appointments import office_dict
from cnvisa.cases.errors import BadInput, GuardFailed
from cnvisa.cases.passport_check import CollectionSlot
from cnvisa.cases.queries import applications
from cnvisa.cases.workflow import Role
from cnvisa.http.applicant import read_files
from cnvisa.http.deps import Platform, PlatformDep, Principal, check_csrf, require
from cnvisa.http.i18n import negotiate
from cnvisa.http.joint import JOINT_CODES, submit_joint
from cnvisa.http.office import passport_shown
from cnvisa.http.problems import Problem, as_problem
from cnvisa.law import one_stop
from cnvisa.store.tables import Office
from cnvisa.web import pdf
from cnvisa.web.form_errors import Errors
from cnvisa.web.pages import office_passport
from cnvisa.web.pages.office_passport import GUARD_MESSAGES, REASON_LABELS
from cnvisa.web.pages.render import form_errors, page, t

router = APIRouter(include_in_schema=False)

ApplicantSide = Annotated[Principal, Depends(require(Role.APPLICANT, Role.AGENT, Role.ORG_STAFF))]
Employer = Annotated[Principal, Depends(require(Role.ORG_STAFF))]
Window = Annotated[Principal, Depends(require(Role.OFFICER, Role.SUPERVISOR))]


def _(message: str) -> str:
    """Marks a message for the catalogs; translated where it is shown."""
    return message


FIELDS: Final = {
    "person_id": ("person_id", _("The foreigner")),
    "office_id": ("office_id", _("Single window (exit-entry administration)")),
    "category": ("category", _("Work-permit category")),
    "position": ("position", _("Position")),
    "work_region": ("work_region", _("Work region (six-digit division code)")),
    "contract_until": ("contract_until", _("Employment contract ends on")),
    "entry_date": ("entry_date", _("Date of the last entry into China")),
    "visa_category": ("visa_category", _("Visa held")),
    "validity_days": ("validity_days", _("Residence permit validity asked for (days)")),
    "files": ("files", _("Materials")),
    "version": ("files", _("Materials")),
}
MESSAGES: Final = {
    "person_id": _("Choose the foreigner you apply for."),
    "office_id": _("Choose the single window office."),
    "category": _("Choose category A, B or C."),
    "position": _("Give the position, 1 to 200 characters."),
    "work_region": _("Give the six-digit division code of the work place, for example 310115."),
    "contract_until": _("Give the last day of the employment contract."),
    "entry_date": _("Give the date of the last entry into China."),
    "visa_category": _("Choose the visa held: a work-type residence permit follows a Z visa."),
    "validity_days": _("Give the validity asked for in days, from 1."),
    "files": _(
        "Choose a PDF, JPEG or PNG for each material you hand in; the photo must meet the photo rules."
    ),
}
VISAS: Final = ("Z", "R")
"""The visas a first work-type residence permit follows (Law Art 30; talents: R)."""
COMMANDS: Final = ("issue_notice", "accept", "issue_together", "collect_together", "settle")


def _key_of(field: str) -> str:
    """A core or API field name → the form's key (``work_permit.position`` → ``position``)."""
    base = field.removeprefix("application.").removeprefix("work_permit.").removeprefix("inputs.")
    if base.startswith(("files", "photo")):
        return "files"
    if base.startswith("requested"):
        return "validity_days"
    if base.startswith("visa"):
        return "visa_category"
    return base if base in FIELDS else "position"


def _found(request: Request, field: str) -> tuple[tuple[str, str], ...]:
    key = _key_of(field)
    return ((key, t(request, MESSAGES.get(key, MESSAGES["files"]))),)


def materials() -> list[dict[str, Any]]:
    """The one material set (category A: every material any category asks), each once with its branches."""
    return [
        {"code": m.code, "en": m.en, "zh": m.zh, "required_by": sorted(m.required_by)}
        for m in one_stop.joint_materials(category="A", validity_days=730)
        if m.satisfied_by == "upload"
    ]


async def _offices(p: Platform) -> list[dict[str, Any]]:
    async with p.sessions() as s:
        rows = (await s.execute(select(Office).order_by(Office.code))).scalars().all()
    return [office_dict(o) for o in rows]


# ------------------------------------------------------------------------------------------- the employer
async def _form(
    request: Request,
    who: Principal,
    p: Platform,
    status: int = 200,
    found: tuple[tuple[str, str], ...] = (),
    **values: Any,
) -> HTMLResponse:
    values.setdefault("key", uuid.uuid4().hex)
    values.setdefault("category", "A")
    values.setdefault("visa_category", "Z")
    values.setdefault("validity_days", "730")
    people = await applications.people(p.sessions, who.actor.represents)
    return page(
        request,
        "joint/form.html",
        who,
        status=status,
        people=list(people.values()),
        offices=await _offices(p),
        materials=materials(),
        values=values,
        errors=form_errors(request, FIELDS, *found),
    )


@router.get("/joint-applications", response_class=HTMLResponse)
async def listing(request: Request, who: ApplicantSide, p: PlatformDep) -> HTMLResponse:
    rows = await p.joint.joint_list(who.actor)
    return page(request, "joint/list.html", who, rows=rows, for_org=who.role is Role.ORG_STAFF)


@router.get("/joint-applications/new", response_class=HTMLResponse)
async def new(request: Request, who: Employer, p: PlatformDep) -> HTMLResponse:
    return await _form(request, who, p)


@router.post("/joint-applications", response_model=None)
async def submit(request: Request, who: Employer, p: PlatformDep) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    names = ("person_id", "office_id", "category", "position", "work_region", "contract_until", "entry_date",
             "visa_category", "validity_days", "key")  # fmt: skip
    values: dict[str, Any] = {k: str(form.get(k) or "").strip() for k in names}
    try:
        for k in ("person_id", "office_id", "validity_days"):
            if not values[k].isdigit() or int(values[k]) < 1:
                raise BadInput(k, "a choice")
        if not values["entry_date"]:
            raise BadInput("entry_date", "a date")
        if values["visa_category"] not in VISAS:
            raise BadInput("visa_category", "Z or R")
        files = await read_files(p, form, skip=frozenset({"csrf", *names}), extra=JOINT_CODES)
        out = await submit_joint(
            p,
            who,
            key=f"page:{who.account.id}:joint:{values['key']}"[:64],
            person_id=int(values["person_id"]),
            office_id=int(values["office_id"]),
            employer_organisation_id=None,
            work_permit={
                "category": values["category"],
                "position": values["position"],
                "work_region": values["work_region"],
                "contract_until": values["contract_until"],
            },
            inputs={
                "entry_date": values["entry_date"],
                "visa": {"category": values["visa_category"], "entries": "single", "stay_days": 30},
                "requested": {"permit_type": "work", "validity_days": int(values["validity_days"])},
            },
            files=files,
            field_prefix="",
        )
    except BadInput as exc:
        return await _form(request, who, p, 422, _found(request, exc.field), **values)
    except Problem as exc:
        if exc.status not in (413, 415, 422):
            raise
        return await _form(request, who, p, exc.status, _found(request, exc.field or "files"), **values)
    return RedirectResponse(f"/joint-applications/{out['joint_id']}?sent=1", status_code=303)


# ------------------------------------------------------------------------------------------- progress
async def _progress(
    request: Request, who: Principal, p: Platform, joint_id: int, status: int = 200, **context: Any
) -> HTMLResponse:
    j = await p.joint.joint_progress(who.actor, joint_id)
    case = await p.cases.read(who.actor, int(j["residence_branch"]["case_id"]))
    labels = {m["code"]: m for m in materials()}
    notice = case["notices"][-1] if case["notices"] else None
    context.setdefault("errors", form_errors(request, FIELDS))
    return page(
        request,
        "joint/progress.html",
        who,
        status=status,
        j=j,
        case=case,
        notice=notice,
        labels=labels,
        dtfmt=_dtfmt(request),
        **context,
    )


@router.get("/joint-applications/{joint_id}", response_class=HTMLResponse)
async def progress(
    request: Request, joint_id: int, who: ApplicantSide, p: PlatformDep, sent: int | None = None
) -> HTMLResponse:
    return await _progress(request, who, p, joint_id, sent=sent)


@router.post("/joint-applications/{joint_id}/supplement", response_model=None)
async def supplement(request: Request, joint_id: int, who: ApplicantSide, p: PlatformDep) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    version = str(form.get("version") or "")
    try:
        files = await read_files(p, form, skip=frozenset({"csrf", "version"}), extra=JOINT_CODES)
        if not files:
            raise BadInput("files", "at least one file")
        await p.joint.joint_supplement(
            who.actor,
            joint_id,
            int(version) if version.isdigit() else 0,
            key=f"page:{who.account.id}:joint-supplement:{joint_id}:{version}",
            files=files,
        )
    except (BadInput, Problem) as exc:
        if isinstance(exc, Problem) and exc.status not in (413, 415, 422):
            raise
        errors = form_errors(request, FIELDS, *_found(request, "files"))
        return await _progress(request, who, p, joint_id, 422, errors=errors)
    return RedirectResponse(f"/joint-applications/{joint_id}", status_code=303)


@router.post("/joint-applications/{joint_id}/withdraw", response_model=None)
async def withdraw(request: Request, joint_id: int, who: ApplicantSide, p: PlatformDep) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    version = str(form.get("version") or "")
    await p.joint.joint_withdraw(
        who.actor,
        joint_id,
        int(version) if version.isdigit() else 0,
        key=f"page:{who.account.id}:joint-withdraw:{joint_id}:{version}",
    )
    return RedirectResponse(f"/joint-applications/{joint_id}", status_code=303)


# ------------------------------------------------------------------------------------------- the single window
WINDOW_FIELDS: Final = {
    "passport": ("passport-returned", _("The passport at acceptance")),
    "passport_presented": ("passport_presented", _("Collected in person with the passport and the receipt")),
}


WINDOW_MESSAGES: Final = {
    "passport": _(
        "The passport on record could not be checked: keep the passport with a reason, or check it at the case page."
    ),
    "passport_presented": _("Both permits are handed over in person against the passport and the receipt."),
}

_PASSPORT_COMMAND: Final = {"accept": "accept", "collect_together": "collect"}
"""The window's commands with a passport part, and the case page's command whose form part they share
(``cnvisa.web.pages.office_passport``)."""


async def _window(
    request: Request, who: Principal, p: Platform, joint_id: int, status: int = 200, **context: Any
) -> HTMLResponse:
    j = await p.joint.joint_progress(who.actor, joint_id)
    case_id = int(j["residence_branch"]["case_id"])
    case = await p.cases.read(who.actor, case_id)
    labels = {m["code"]: m for m in materials()}
    context.setdefault("errors", form_errors(request, WINDOW_FIELDS))
    context.setdefault("form", {})
    passport = await p.joint.window_passport(case_id) if j["state"] in ("submitted", "issued") else None
    return page(
        request,
        "joint/window.html",
        who,
        status=status,
        j=j,
        case=case,
        labels=labels,
        passport=passport,
        reason_labels=REASON_LABELS,
        dtfmt=_dtfmt(request),
        **context,
    )


@router.get("/office/joint-applications", response_class=HTMLResponse)
async def window_queue(request: Request, who: Window, p: PlatformDep) -> HTMLResponse:
    rows = await p.joint.window_queue(who.actor)
    return page(request, "joint/window_queue.html", who, rows=rows, today=p.today())


@router.get("/office/joint-applications/{joint_id}", response_class=HTMLResponse)
async def window(
    request: Request, joint_id: int, who: Window, p: PlatformDep, done: str | None = None
) -> HTMLResponse:
    return await _window(request, who, p, joint_id, done=done if done in COMMANDS else None)


def _passport_body(command: str, form: Any) -> dict[str, Any]:
    """The passport part of the accept or collect form, as the case page reads it (malformed fields: one problem
    naming the first, with all of them)."""
    errs: list[tuple[str, str]] = []
    body = office_passport.body(command, form, lambda field, detail: errs.append((field, detail)))
    if errs:
        field, detail = errs[0]
        raise Problem(422, "Invalid input", detail, field=field, code="bad_input", fields=errs)
    return body


@router.post("/office/joint-applications/{joint_id}/{command}", response_model=None)
async def window_command(
    request: Request, joint_id: int, command: str, who: Window, p: PlatformDep
) -> Response:
    await check_csrf(request, who)
    form = await request.form()
    raw = str(form.get("version") or "")
    version = int(raw) if raw.isdigit() else 0
    key = f"page:{who.account.id}:{command}:{joint_id}:{version}"[:64]
    svc, actor = p.joint, who.actor
    try:
        if command == "issue_notice":
            await svc.joint_issue_notice(actor, joint_id, version, key=key)
        elif command == "accept":
            # the passport read on the spot (the one on record or its MRZ) and returned with a collection
            # appointment, or kept with a reason: as at the case page (免留存护照, issue 10 §4)
            body = _passport_body("accept", form)
            day, slot = body.get("collection_day"), body.get("collection_slot")
            await svc.joint_accept(
                actor,
                joint_id,
                version,
                key=key,
                passport_kept=bool(body["passport_kept"]),
                passport=await passport_shown(p, who, await _case_of(p, who, joint_id), body),
                retention_reason=body.get("retention_reason"),
                retention_note=body.get("retention_note"),
                collection=CollectionSlot(day, slot) if day and slot else None,
            )
        elif command == "issue_together":
            await svc.joint_issue_together(actor, joint_id, version, key=key)
        elif command == "collect_together":
            # a passport returned at acceptance: the same one or the holder's new one, read and checked again
            body = _passport_body("collect", form)
            presented = form.get("passport_presented") == "yes"
            await svc.joint_collect_together(
                actor,
                joint_id,
                version,
                key=key,
                passport_presented=presented,
                passport=await passport_shown(p, who, await _case_of(p, who, joint_id), body)
                if presented
                else None,
            )
        elif command == "settle":
            await svc.joint_settle(actor, joint_id, version, key=key)
        else:
            raise Problem(404, "Not found", f"no command {command}", field="command", code="unknown_command")
    except (BadInput, GuardFailed, Problem) as exc:
        problem = as_problem(exc)
        if problem.status in (401, 403, 404):
            raise problem from None
        errors = _window_errors(request, command, exc, problem)
        if errors is None:
            raise  # a rule's refusal (its article named): the error page in the reader's language
        refill = office_passport.refill(_PASSPORT_COMMAND.get(command, ""), form)
        return await _window(request, who, p, joint_id, 422, errors=errors, form=refill, failed=command)
    return RedirectResponse(f"/office/joint-applications/{joint_id}?done={command}", status_code=303)


def _window_errors(request: Request, command: str, exc: Exception, problem: Problem) -> Errors | None:
    """The form's errors beside their fields (the passport's as the case page names them), or None: a rule's
    refusal, for the error page."""
    guard = exc.guard if isinstance(exc, GuardFailed) else ""
    if command in _PASSPORT_COMMAND and guard != "passport_presented":
        named = office_passport.errors(request, _PASSPORT_COMMAND[command], problem)
        if named is not None:
            return named
    if guard and guard != "passport_presented" and guard not in GUARD_MESSAGES:
        return None
    if isinstance(exc, Problem) and not guard and command not in _PASSPORT_COMMAND:
        return None
    key_ = (
        "passport_presented"
        if command == "collect_together" and guard == "passport_presented"
        else "passport"
    )
    text = GUARD_MESSAGES.get(guard, "")
    return form_errors(request, WINDOW_FIELDS, (key_, t(request, text or WINDOW_MESSAGES[key_])))


def _dtfmt(request: Request) -> Any:
    """An instant as the page's reader reads it (Beijing time), for the receipt's passport part."""
    return pdf.helpers(negotiate(request))["dtfmt"]


async def _case_of(p: Platform, who: Principal, joint_id: int) -> int:
    """The residence branch's case, read as the officer may (authorised and audited)."""
    j = await p.joint.joint_progress(who.actor, joint_id)
    return int(j["residence_branch"]["case_id"])
