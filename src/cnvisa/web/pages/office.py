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

from cnvisa.cases.errors import CaseError
from cnvisa.cases.queries.office_case import COMMANDS, OUTCOMES, case_view, load_file, queue_page_view
from cnvisa.cases.queries.office_search import search_view
from cnvisa.cases.records import ACCEPTED_MEDIA
from cnvisa.http.deps import PlatformDep, check_csrf
from cnvisa.http.i18n import negotiate
from cnvisa.http.office import OfficeStaff, RowId, office_of, run_command
from cnvisa.http.problems import Problem, as_problem
from cnvisa.law.errors import LawError
from cnvisa.law.verification import VERIFICATION_METHODS
from cnvisa.web import pdf
from cnvisa.web.pages.render import page

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
}
GUARD_MESSAGES = {
    "second_officer": "A refusal must be confirmed by a second officer, not by the officer who proposed it.",
    "application_complete": "The application is not complete: issue a one-time notice of what is missing.",
    "notice_repeats_nothing": "Nothing new to notify: a notice lists only what is missing and not yet asked for.",
    "passport_presented": "The applicant collects in person and must present the passport.",
    "refusal_grounds_valid": "Choose at least one refusal ground that applies to this application.",
    "conflict": "The case was changed meanwhile: the page now shows its current version. Check it and try again.",
    "invalid_command": "This step is not possible in the case's current state.",
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
    }


@router.get("/office", response_model=None)
async def office_home() -> Response:
    return RedirectResponse("/office/queue", status_code=303)


@router.get("/office/queue", response_class=HTMLResponse)
async def queue_page(request: Request, who: OfficeStaff, p: PlatformDep, limit: int = 50) -> HTMLResponse:
    if not 1 <= limit <= 500:
        raise Problem(422, "Invalid input", "between 1 and 500", field="limit", code="bad_input")
    view = await queue_page_view(p.cases, who.actor, office_of(who), limit)
    return page(request, "office/queue.html", who, view=view, **_ctx(request))


@router.get("/office/search", response_class=HTMLResponse)
async def search_page(request: Request, who: OfficeStaff, p: PlatformDep, q: str = "") -> HTMLResponse:
    result, error, status = None, None, 200
    if q.strip():
        try:
            result = await search_view(p.cases, who.actor, office_of(who), q)
        except Problem as exc:
            error, status = exc, exc.status
    return page(
        request, "office/search.html", who, status=status, q=q, result=result, error=error, **_ctx(request)
    )


async def _case_page(
    request: Request, who: Any, p: Any, case_id: int, status: int = 200, error: Problem | None = None
) -> HTMLResponse:
    view = await case_view(p.cases, who.actor, case_id, p.settings.public_base_url)
    done = request.query_params.get("done")
    return page(
        request,
        "office/case.html",
        who,
        status=status,
        view=view,
        error=error.body(request.url.path) if error else None,
        done=done if done in COMMAND_LABELS else None,
        **_ctx(request),
    )


@router.get("/office/cases/{case_id}", response_class=HTMLResponse)
async def case_page(case_id: RowId, request: Request, who: OfficeStaff, p: PlatformDep) -> HTMLResponse:
    return await _case_page(request, who, p, case_id)


def _form_body(command: str, form: Any) -> dict[str, Any]:
    """The command's fields from the form; a malformed field is a problem naming it."""

    def bad(field: str, detail: str) -> Problem:
        return Problem(422, "Invalid input", detail, field=field, code="bad_input")

    version = str(form.get("version") or "")
    if not version.isdigit():
        raise bad("version", "the case version is required")
    body: dict[str, Any] = {"version": int(version)}
    if command == "accept":
        body["passport_kept"] = form.get("passport") != "returned"
    elif command == "request_verification":
        method = str(form.get("method") or "")
        if method not in VERIFICATION_METHODS:
            raise bad("method", "choose interview, telephone inquiry or site visit (Regulations Art 20)")
        when = str(form.get("scheduled_for") or "")
        if when and not _DATETIME_LOCAL.match(when):
            raise bad("scheduled_for", "a date and time, e.g. 2025-11-24T10:00")
        body["method"] = method
        body["scheduled_for"] = dt.datetime.fromisoformat(when) if when else None
        if body["scheduled_for"] is not None and not 2000 <= body["scheduled_for"].year <= 2199:
            raise bad("scheduled_for", "between 2000 and 2199")
    elif command == "record_verification":
        outcome = str(form.get("outcome") or "")
        if outcome not in OUTCOMES:
            raise bad("outcome", "confirmed, not confirmed or no-show")
        body["outcome"] = outcome
        body["note"] = str(form.get("note") or "").replace("\x00", "")[:2000] or None
    elif command == "propose_refusal":
        grounds = [str(g) for g in form.getlist("grounds")]
        if not grounds:
            raise bad("grounds", "choose at least one ground (Regulations Art 21; Law Art 21, 31)")
        body["grounds"] = grounds
    elif command == "approve" and "validity_days" in form:
        days = str(form.get("validity_days") or "").strip()
        if not days.isdigit() or not 1 <= int(days) <= 36_600:
            raise bad("validity_days", "the validity granted, in days (Law Art 30 para 2)")
        body["validity_days"] = int(days)
    elif command == "collect":
        body["passport_presented"] = form.get("passport_presented") in ("on", "yes", "1", "true")
    return body


@router.post("/office/cases/{case_id}/{command}", response_model=None)
async def command_form(
    case_id: RowId, command: str, request: Request, who: OfficeStaff, p: PlatformDep
) -> Response:
    if command not in {str(c) for c in COMMANDS}:
        raise Problem(404, "Not found", f"no command {command}", field="command", code="unknown_command")
    await check_csrf(request, who)
    form = await request.form()
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
        return await _case_page(request, who, p, case_id, status=problem.status, error=problem)
    return RedirectResponse(f"/office/cases/{case_id}?done={command}#outcome", status_code=303)


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
