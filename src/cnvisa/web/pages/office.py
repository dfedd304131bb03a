"""The officers' pages: queue, case (checklist, files, notices, receipt, verification, decision, history and
the command forms), search, and the download of a case's files. Every form carries the CSRF token, the case
version and a fresh idempotency key; the case core's refusals are shown on the case page, naming the rule."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cnvisa.cases.errors import BadInput, CaseError
from cnvisa.cases.queries.office_case import COMMANDS, OUTCOMES, case_view, load_file, queue_page_view
from cnvisa.cases.queries.office_search import search_view
from cnvisa.cases.queries.overstay import overstay_view
from cnvisa.cases.records import ACCEPTED_MEDIA
from cnvisa.http.deps import PlatformDep, check_csrf
from cnvisa.http.i18n import negotiate
from cnvisa.http.office import OfficeStaff, RowId, Supervisor, office_of, run_command
from cnvisa.http.problems import Problem, as_problem
from cnvisa.law.errors import LawError
from cnvisa.law.verification import VERIFICATION_METHODS
from cnvisa.web import pdf
from cnvisa.web.form_errors import NO_ERRORS, Errors
from cnvisa.web.form_errors import _ as _
from cnvisa.web.pages import office_passport
from cnvisa.web.pages.render import form_errors, page, t

router = APIRouter(include_in_schema=False)

COMMAND_LABELS = {
    "issue_notice": "Issue one-time notice",
    "accept": "Accept and issue receipt",
    "request_verification": "Request verification",
    "record_verification": "Record verification outcome",
    "approve": "Approve",
    "propose_refusal": "Propose refusal",
    "confirm_refusal": "Confirm refusal",
    "revoke_refusal_proposal": "Withdraw refusal proposal",
    "issue": "Issue document",
    "collect": "Record collection",
}
ACTION_LABELS = {
    **COMMAND_LABELS,
    "create": "Draft created",
    "apply": "Application submitted",
    "submit": "Submitted",
    "supplement": "Supplemented",
    "withdraw": "Withdrawn",
    "lapse": "Lapsed",
    "read": "Case read",
    "read_file": "File downloaded",
    "reevaluate": "Re-evaluated",
    "recompute_deadline": "Deadline recomputed",
    "read_records_used": "Records used read",
    "evidence_lookup": "Shared records looked up",
}
GUARD_MESSAGES = {
    "second_officer": "A refusal must be confirmed by a second officer, not by the officer who proposed it.",
    "application_complete": "The application is not complete: issue a one-time notice of what is missing.",
    "notice_repeats_nothing": "Nothing new to notify: a notice lists only what is missing and not yet asked for.",
    "passport_presented": "The applicant collects in person and must present the passport.",
    "refusal_grounds_valid": "Choose at least one refusal ground that applies to this application.",
    "conflict": "The case was changed meanwhile: the page now shows its current version. Check it and try again.",
    "invalid_command": "This step is not possible in the case's current state.",
    **office_passport.GUARD_MESSAGES,
}
_DATETIME_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")


def _ctx(request: Request) -> dict[str, Any]:
    return {
        **pdf.helpers(negotiate(request)),
        "command_labels": COMMAND_LABELS,
        "action_labels": ACTION_LABELS,
        "guard_messages": GUARD_MESSAGES,
        "methods": VERIFICATION_METHODS,
        "outcomes": OUTCOMES,
        "new_key": lambda: secrets.token_urlsafe(18),
        "reason_labels": office_passport.REASON_LABELS,
    }


@router.get("/office", response_model=None)
async def office_home() -> Response:
    return RedirectResponse("/office/queue", status_code=303)


@router.get("/office/queue", response_class=HTMLResponse)
async def queue_page(request: Request, who: OfficeStaff, p: PlatformDep, limit: int = 50) -> HTMLResponse:
    if not 1 <= limit <= 500:
        raise Problem(422, "Invalid input", "between 1 and 500", field="limit", code="bad_input")
    view = await queue_page_view(
        p.cases, who.actor, office_of(who), limit, p.settings.escalation_working_days
    )
    return page(request, "office/queue.html", who, view=view, **_ctx(request))


@router.get("/office/escalations", response_class=HTMLResponse)
async def escalations_page(
    request: Request, who: Supervisor, p: PlatformDep, limit: int = 50
) -> HTMLResponse:
    """The supervisor's escalations: overdue cases and those near their deadline (issue 12)."""
    if not 1 <= limit <= 500:
        raise Problem(422, "Invalid input", "between 1 and 500", field="limit", code="bad_input")
    view = await p.cases.escalations(
        office_of(who), p.settings.escalation_working_days, actor=who.actor, limit=limit
    )
    return page(request, "office/escalations.html", who, view=view, limit=limit, **_ctx(request))


@router.get("/office/overstays", response_class=HTMLResponse)
async def overstays_page(
    request: Request, who: OfficeStaff, p: PlatformDep, limit: int = 200
) -> HTMLResponse:
    """Illegal residence in the office's area today (Regulations Art 25; Law Art 78 — shown, never imposed)."""
    if not 1 <= limit <= 500:
        raise Problem(422, "Invalid input", "between 1 and 500", field="limit", code="bad_input")
    view = await overstay_view(p.cases, who.actor, limit)
    return page(request, "office/overstays.html", who, view=view, **_ctx(request))


@router.get("/office/search", response_class=HTMLResponse)
async def search_page(request: Request, who: OfficeStaff, p: PlatformDep, q: str = "") -> HTMLResponse:
    result, errors, status = None, NO_ERRORS, 200
    if q.strip():
        try:
            result = await search_view(
                p.cases, who.actor, office_of(who), q, p.settings.escalation_working_days
            )
        except (Problem, CaseError) as exc:
            message = t(request, "Enter at least 2 characters.")
            fields = {"q": ("q", "Case number, passport number or name")}
            errors, status = form_errors(request, fields, ("q", message)), as_problem(exc).status
    return page(
        request, "office/search.html", who, status=status, q=q, result=result, errors=errors, **_ctx(request)
    )


FIELD_TEXTS = {
    "method": _("Choose the method: interview, telephone inquiry or site visit (Regulations Art 20)."),
    "scheduled_for": _("Give the date and time of the verification, for example 2025-11-24 10:00."),
    "outcome": _("Choose the outcome of the verification."),
    "grounds": _("Choose at least one refusal ground (Regulations Art 21; Law Art 21, 31)."),
    "validity_days": _("Give the validity granted in days, within the range shown (Law Art 30 para 2)."),
}
"""What each decision form's field says when it is wrong, in the reader's language."""


def _decision_errors(request: Request, view: Any, problem: Problem) -> Errors:
    fields = {
        "method": ("method", "Method"),
        "scheduled_for": ("scheduled_for", "Date and time (Beijing time)"),
        **{f"outcome.{o}": (f"outcome-{o}", "Outcome") for o in OUTCOMES},
        **{
            f"grounds.{g['code']}": (f"ground-{g['code']}", "Refusal grounds")
            for g in view.get("refusal_grounds_available") or []
        },
        "validity_days": ("validity_days", "Validity granted (days)"),
    }
    bad = [f for f, _d in problem.extra.get("fields", [])] or [problem.field]
    found = [(f, t(request, FIELD_TEXTS[f])) for f in bad if f in FIELD_TEXTS]
    return form_errors(request, fields, *found) if found else NO_ERRORS


async def _case_page(
    request: Request,
    who: Any,
    p: Any,
    case_id: int,
    status: int = 200,
    error: Problem | None = None,
    command: str = "",
    field_errors: Errors | None = None,
) -> HTMLResponse:
    view = await case_view(
        p.cases, who.actor, case_id, p.settings.public_base_url, p.settings.escalation_working_days
    )
    done = request.query_params.get("done")
    passport = office_passport.errors(request, command, error) if error else None
    errors = field_errors or passport or (_decision_errors(request, view, error) if error else NO_ERRORS)
    return page(
        request,
        "office/case.html",
        who,
        status=status,
        view=view,
        form=office_passport.refill(command, getattr(request.state, "form", None)) if error else {},
        # a field's error is shown by the summary and beside the field; others (a rule's guard) in the box —
        # a passport guard in both (its article and what the check found)
        error=error.body(request.url.path)
        if error and (not errors or error.code in office_passport.GUARD_MESSAGES)
        else None,
        errors=errors,
        done=done if done in COMMAND_LABELS else None,
        joint=await p.joint.joint_of_case(case_id),
        **_ctx(request),
    )


@router.get("/office/cases/{case_id}", response_class=HTMLResponse)
async def case_page(case_id: RowId, request: Request, who: OfficeStaff, p: PlatformDep) -> HTMLResponse:
    return await _case_page(request, who, p, case_id)


def _form_body(command: str, form: Any) -> dict[str, Any]:
    """The command's fields from the form; malformed fields are one problem naming the first, with all of them
    in ``fields`` (each shown at once, WCAG 3.3.1)."""
    errs: list[tuple[str, str]] = []

    def bad(field: str, detail: str) -> None:
        errs.append((field, detail))

    version = str(form.get("version") or "")
    if not version.isdigit():
        raise Problem(422, "Invalid input", "the case version is required", field="version", code="bad_input")
    body: dict[str, Any] = {"version": int(version)}
    if command in ("accept", "collect"):
        body |= office_passport.body(command, form, bad)
    if command == "request_verification":
        method = str(form.get("method") or "")
        if method not in VERIFICATION_METHODS:
            bad("method", "choose interview, telephone inquiry or site visit (Regulations Art 20)")
        when = str(form.get("scheduled_for") or "")
        if when and not _DATETIME_LOCAL.match(when):
            bad("scheduled_for", "a date and time, e.g. 2025-11-24T10:00")
            when = ""
        body["method"] = method
        body["scheduled_for"] = dt.datetime.fromisoformat(when) if when else None
        if body["scheduled_for"] is not None and not 2000 <= body["scheduled_for"].year <= 2199:
            bad("scheduled_for", "between 2000 and 2199")
    elif command == "record_verification":
        outcome = str(form.get("outcome") or "")
        if outcome not in OUTCOMES:
            bad("outcome", "confirmed, not confirmed or no-show")
        body["outcome"] = outcome
        body["note"] = str(form.get("note") or "").replace("\x00", "")[:2000] or None
    elif command == "propose_refusal":
        grounds = [str(g) for g in form.getlist("grounds")]
        if not grounds:
            bad("grounds", "choose at least one ground (Regulations Art 21; Law Art 21, 31)")
        body["grounds"] = grounds
    elif command == "approve" and "validity_days" in form:
        days = str(form.get("validity_days") or "").strip()
        if not days.isdigit() or not 1 <= int(days) <= 36_600:
            bad("validity_days", "the validity granted, in days (Law Art 30 para 2)")
        else:
            body["validity_days"] = int(days)
    elif command == "collect":
        body["passport_presented"] = form.get("passport_presented") in ("on", "yes", "1", "true")
    if errs:
        field, detail = errs[0]
        raise Problem(422, "Invalid input", detail, field=field, code="bad_input", fields=errs)
    return body


@router.post("/office/cases/{case_id}/{command}", response_model=None)
async def command_form(
    case_id: RowId, command: str, request: Request, who: OfficeStaff, p: PlatformDep
) -> Response:
    if command not in {str(c) for c in COMMANDS}:
        raise Problem(404, "Not found", f"no command {command}", field="command", code="unknown_command")
    await check_csrf(request, who)
    form = await request.form()
    request.state.form = form
    try:
        body = _form_body(command, form)
        key = str(form.get("key") or "")
        if not re.fullmatch(r"[\x21-\x7e]{1,80}", key):
            raise Problem(422, "Invalid input", "a fresh form key is required", field="key", code="bad_input")
        await run_command(p, who, case_id, command, key, body)
    except (CaseError, LawError, Problem) as exc:
        problem = as_problem(exc)
        if problem.status in (401, 403, 404):
            raise problem from None
        return await _case_page(
            request, who, p, case_id, status=problem.status, error=problem, command=command
        )
    return RedirectResponse(f"/office/cases/{case_id}?done={command}#outcome", status_code=303)


@router.post("/office/obligations/{obligation_id}/waive", response_model=None)
async def waive_form(obligation_id: RowId, request: Request, who: OfficeStaff, p: PlatformDep) -> Response:
    """From the case page: record that one of the applicant's duties no longer binds, with the reason (issue 12);
    back to the case, or the case again with the error beside the reason."""
    await check_csrf(request, who)
    form = await request.form()
    case_id = str(form.get("case_id") or "")
    if not re.fullmatch(r"[1-9][0-9]{0,17}", case_id):
        raise Problem(422, "Invalid input", "the case to return to", field="case_id", code="bad_input")
    try:
        await p.obligations.waive(who.actor, obligation_id, str(form.get("reason") or ""))
    except BadInput as exc:
        control = f"waive-reason-{obligation_id}"
        text = (
            t(request, "Say why the duty no longer binds, in 3 to 500 characters.")
            if exc.field == "reason"
            else t(request, "This duty is met or waived already: nothing was changed.")
        )
        errors = form_errors(request, {"reason": (control, "Why it no longer binds")}, ("reason", text))
        return await _case_page(request, who, p, int(case_id), status=422, field_errors=errors)
    return RedirectResponse(f"/office/cases/{case_id}#obligations-h", status_code=303)


@router.get("/office/cases/{case_id}/files/{file_id}", response_model=None)
async def download_file(case_id: RowId, file_id: RowId, who: OfficeStaff, p: PlatformDep) -> Response:
    f = await load_file(p.cases, who.actor, office_of(who), case_id, file_id)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", f.filename)[:100] or f"file-{f.id}"
    # ASVS 4.0 V12.5.1, V12.6: the type found by decoding at upload (never the uploader's claim; anything else
    # as bytes), a download never rendered in the platform's origin, and no sniffing into HTML
    media = f.media_type if f.media_type in ACCEPTED_MEDIA else "application/octet-stream"
    return Response(
        f.content,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{safe}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )
