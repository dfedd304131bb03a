"""Pages of employers and schools (Regulations Art 26): our people and their documents, reporting an event, our
reports; and the office's list of the reports routed to it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cnvisa.cases.errors import BadInput, NotFound
from cnvisa.cases.org_reports import OrgReports, events_for
from cnvisa.cases.workflow import Role
from cnvisa.http.deps import PlatformDep, Principal, check_csrf, require
from cnvisa.http.i18n import format_instant, negotiate
from cnvisa.http.office import RowId
from cnvisa.law.citations import REGULATIONS
from cnvisa.law.reports import EVENTS
from cnvisa.web.pages.render import form_errors, page, t

router = APIRouter(include_in_schema=False)

OrgStaff = Annotated[Principal, Depends(require(Role.ORG_STAFF))]
OfficeStaff = Annotated[Principal, Depends(require(Role.OFFICER, Role.SUPERVISOR))]

GROUPS = (
    ("employee", "Employees — Regulations Art 26(1)"),
    ("student", "Students — Regulations Art 26(2)"),
    ("both", "Employees, students and invitees — Regulations Art 26(3)-(4)"),
)


def when(request: Request, value: str | dt.datetime | None) -> str:
    """An instant in Beijing time, formatted for the reader's locale."""
    return format_instant(value, negotiate(request))


_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1-99 in Chinese numerals (二十六, 十一)."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
    return head + (_DIGITS[ones] if ones or not head else "")


def rule_label(request: Request, code: str) -> str:
    """The Art 26 item of an event, cited in the reader's language (《条例》第二十六条第（一）项)."""
    c = EVENTS[code].citation
    if negotiate(request) != "zh_CN" or c.instrument != REGULATIONS or not c.article.isdigit():
        return c.cite
    out = f"《条例》第{chinese_number(int(c.article))}条"
    if c.paragraph is not None:
        out += f"第{chinese_number(c.paragraph)}款"
    if c.item is not None:
        out += f"第（{chinese_number(c.item)}）项"
    return out


def event_label(request: Request, code: str) -> str:
    e = EVENTS[code]
    return e.zh if negotiate(request) == "zh_CN" else e.en


def event_groups(request: Request) -> list[dict[str, Any]]:
    """The Art 26 events for the form, grouped by whom they concern."""
    employee = {e.code for e in events_for("employee")}
    student = {e.code for e in events_for("student")}
    out: list[dict[str, Any]] = []
    for key, label in GROUPS:
        codes = (
            [c for c in EVENTS if c in employee and c not in student]
            if key == "employee"
            else [c for c in EVENTS if c in student and c not in employee]
            if key == "student"
            else [c for c in EVENTS if c in employee and c in student]
        )
        out.append(
            {
                "label": t(request, label),
                "events": [
                    {"code": c, "label": event_label(request, c), "rule": EVENTS[c].citation.cite}
                    for c in codes
                ],
            }
        )
    return out


def error_message(request: Request, exc: BadInput, event: str) -> str:
    messages = {
        "person_id": "Choose one of your organisation's invitees, employees or students.",
        "event": "This event cannot be reported for this person's relation to your organisation.",
        "occurred_on": "Give the date the event occurred; it cannot be in the future.",
        "note": "Describe the circumstance (at most 2000 characters).",
    }
    text = t(request, messages.get(exc.field, "Check this field."))
    rule = getattr(exc, "rule", None)
    if rule and event in EVENTS:
        rule = rule_label(request, event)
    return f"{text} ({rule})" if rule else text


def _service(p: PlatformDep) -> OrgReports:
    return OrgReports(p.sessions, p.cases.clock)


@router.get("/org/people", response_class=HTMLResponse)
async def people(request: Request, who: OrgStaff, p: PlatformDep) -> HTMLResponse:
    rows = await _service(p).people(who.actor)
    return page(request, "org/people.html", who, people=rows, today=p.today())


async def _form(
    request: Request,
    who: Principal,
    p: PlatformDep,
    status: int = 200,
    found: tuple[tuple[str, str], ...] = (),
    **values: Any,
) -> HTMLResponse:
    people = await _service(p).people(who.actor)
    people.sort(key=lambda r: r["name"])
    return page(
        request,
        "org/report_form.html",
        who,
        status=status,
        people=people,
        groups=event_groups(request),
        today=p.today().isoformat(),
        values=values,
        errors=form_errors(request, REPORT_FIELDS, *found),
    )


REPORT_FIELDS = {
    "person_id": ("person_id", "Foreign national"),
    "event": ("event", "Event"),
    "occurred_on": ("occurred_on", "Date it occurred"),
    "note": ("note", "Circumstances"),
}


@router.get("/org/reports/new", response_class=HTMLResponse)
async def new_report(
    request: Request, who: OrgStaff, p: PlatformDep, person_id: int | None = None
) -> HTMLResponse:
    return await _form(request, who, p, person_id=person_id)


@router.post("/org/reports", response_model=None)
async def file_report(
    request: Request,
    who: OrgStaff,
    p: PlatformDep,
    person_id: Annotated[str, Form()] = "",
    event: Annotated[str, Form()] = "",
    occurred_on: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    await check_csrf(request, who)
    values: dict[str, Any] = {
        "person_id": person_id,
        "event": event,
        "occurred_on": occurred_on,
        "note": note,
    }
    bad = []  # every malformed answer at once (WCAG 3.3.1)
    if not person_id.isdigit() or len(person_id) > 18:
        bad.append(BadInput("person_id", "required"))
    if not event:
        bad.append(BadInput("event", "required"))
    try:
        on = dt.date.fromisoformat(occurred_on)
    except ValueError:
        bad.append(BadInput("occurred_on", "a date (YYYY-MM-DD)"))
    try:
        if not bad:
            report = await _service(p).file(
                who.actor, person_id=int(person_id), event=event, occurred_on=on, note=note
            )
    except BadInput as exc:
        bad.append(exc)
    if bad:
        found = tuple((exc.field, error_message(request, exc, event)) for exc in bad)
        return await _form(request, who, p, status=422, found=found, **values)
    return RedirectResponse(f"/org/reports?filed={report['id']}", status_code=303)


def _rows(request: Request, reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for r in reports:
        r["event_label"] = r["event_zh"] if negotiate(request) == "zh_CN" else r["event_en"]
        r["reported_when"] = when(request, r["reported_at"])
        r["rule_label"] = rule_label(request, r["event"])
    return reports


@router.get("/org/reports", response_class=HTMLResponse)
async def org_reports(
    request: Request, who: OrgStaff, p: PlatformDep, filed: int | None = None
) -> HTMLResponse:
    reports = _rows(request, await _service(p).reports(who.actor))
    return page(request, "org/reports.html", who, reports=reports, filed=filed, office_view=False)


@router.get("/office/reports", response_class=HTMLResponse)
async def office_reports(request: Request, who: OfficeStaff, p: PlatformDep) -> HTMLResponse:
    reports = _rows(request, await _service(p).reports(who.actor))
    return page(request, "org/reports.html", who, reports=reports, filed=None, office_view=True)


# ------------------------------------------------------------------ a person's employment or studies end
END_FIELDS = {"on": ("on", "Last day")}
END_MESSAGES = {
    "on": "Give the last day: not before the relationship began, at most a year ahead.",
    "person_id": "Not one of your organisation's current invitees, employees or students.",
}


async def _end_form(
    request: Request,
    who: Principal,
    p: PlatformDep,
    person_id: int,
    status: int = 200,
    found: tuple[tuple[str, str], ...] = (),
    on: str = "",
) -> HTMLResponse:
    person = next((r for r in await _service(p).people(who.actor) if r["person_id"] == person_id), None)
    if person is None:
        raise NotFound("not one of your organisation's current people")
    return page(
        request,
        "org/end_form.html",
        who,
        status=status,
        person=person,
        on=on or p.today().isoformat(),
        errors=form_errors(request, END_FIELDS, *found),
    )


@router.get("/org/people/{person_id}/end", response_class=HTMLResponse)
async def end_form(request: Request, person_id: RowId, who: OrgStaff, p: PlatformDep) -> HTMLResponse:
    return await _end_form(request, who, p, person_id)


@router.post("/org/people/{person_id}/end", response_model=None)
async def end_relation(
    request: Request, person_id: RowId, who: OrgStaff, p: PlatformDep, on: Annotated[str, Form()] = ""
) -> Response:
    """The roster's end (Regulations Art 26: the report it calls for then appears among the deadlines)."""
    await check_csrf(request, who)
    try:
        day = dt.date.fromisoformat(on)
    except ValueError:
        bad = BadInput("on", "a date (YYYY-MM-DD)")
    else:
        try:
            await _service(p).end(who.actor, person_id=person_id, on=day)
            return RedirectResponse("/org/obligations", status_code=303)
        except BadInput as exc:
            bad = exc
    message = t(request, END_MESSAGES.get(bad.field, "Check this field."))
    return await _end_form(request, who, p, person_id, 422, (("on", message),), on)
