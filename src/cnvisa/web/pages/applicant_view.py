"""What the applicant pages share: their labels and helpers for the templates, the questions as a form draws
them, and errors explained in the reader's language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from cnvisa.cases.errors import BadInput
from cnvisa.http import applicant as side
from cnvisa.http.deps import Principal
from cnvisa.http.i18n import format_instant, negotiate
from cnvisa.http.problems import as_problem, page_text
from cnvisa.law import questionnaire
from cnvisa.law.errors import InvalidInput
from cnvisa.law.materials import CATALOGUE
from cnvisa.law.residence import PERMIT_TYPES
from cnvisa.web.form_errors import Errors, Form, Found, build, from_law
from cnvisa.web.pages.render import page, t
from cnvisa.web.pdf import cite_text

_ = questionnaire._  # marks a message for the catalogs
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
    "multiple_entry_max_validity_days": _("Longest entry validity of a multiple-entry visa (days)"),
    "max_stay_days": _("Longest stay (days)"),
    "permit_type": _("Residence permit type"),
    "min_validity_days": _("Shortest validity (days)"),
    "max_validity_days": _("Longest validity (days)"),
}


def helpers(request: Request) -> dict[str, Any]:
    """What templates need beyond gettext: labels in the reader's language and citations."""
    loc = negotiate(request)

    def label(value: Mapping[str, str] | None) -> str:
        return side.pick(value, loc)

    def cite(c: Mapping[str, Any] | str) -> str:
        return c if isinstance(c, str) else cite_text(dict(c), loc)

    return {
        "L": label,
        "cite": cite,
        "dtfmt": lambda v: format_instant(v, loc),
        "matter_labels": questionnaire.MATTER_LABELS,
        "matter_help": questionnaire.MATTER_HELP,
        "state_labels": side.STATE_LABELS,
        "kind_labels": side.KIND_LABELS,
        "doc_status": side.DOC_STATUS,
        "item_label": side.item_label,
        "proxy_grounds": PROXY_GROUNDS,
        "issuable_labels": ISSUABLE,
        "entry_labels": {o.value: o.en for o in questionnaire.ENTRIES},
        "permit_labels": {code: {"en": pt.name_en, "zh": pt.name_zh} for code, pt in PERMIT_TYPES.items()},
        "submitter_labels": {o.value: o.en for o in questionnaire.SUBMITTERS},
    }


def view(
    request: Request, template: str, who: Principal | None, status: int = 200, **context: Any
) -> HTMLResponse:
    return page(request, template, who, status, **helpers(request), **context)


def field_views(
    request: Request, qs: tuple[questionnaire.Question, ...], values: Mapping[str, Any], on: dt.date
) -> list[dict[str, Any]]:
    """The questions as the form template draws them."""
    by_name = {q.name: q for q in qs}
    out = []
    for q in qs:
        only_if = None
        if q.when:
            other = by_name.get(q.when[0])
            names = [
                side.pick(label, negotiate(request))
                for v, label in (side.options_of(other, on) if other else [])
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
                "options": side.options_of(q, on),
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
    "appointment.per_person": _(
        "Office rule: one person may hold at most %(per_person)s upcoming appointments at a time. Cancel one "
        "to book another."
    ),
    "upload.max_bytes": _("The file is too large."),
    "upload.media_type": _("Files must be PDF, JPEG or PNG."),
    "upload.pixels": _("The image has too many pixels: scan or save it at a lower resolution."),
    "upload.unreadable": _("The file cannot be read whole: it may be damaged or cut short. Save it again."),
    "upload.pdf_pages": _("The PDF has too many pages: hand in only the pages asked for."),
    "upload.pdf_encrypted": _("The PDF is password-protected: save it again without a password."),
    "upload.active_content": _("The file contains web page code: save it again as a plain PDF, JPEG or PNG."),
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


def error_of(request: Request, exc: Exception) -> dict[str, Any]:
    """An error for a page: the message, the field and rule it concerns, and a translated explanation."""
    exc = side.problem_of(exc)
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
        "per_person": request.app.state.platform.settings.appointments_per_person,
    }
    rules = [f["rule"] for f in p.extra.get("faults", [])] or ([p.rule] if p.rule else [])
    explain = [t(request, RULE_TEXTS[r], **params) for r in rules if r in RULE_TEXTS]
    if p.code in CODE_TEXTS:
        explain.append(t(request, CODE_TEXTS[p.code]))
    return {"field": p.field, "message": p.detail, "rule": p.rule, "status": p.status, "explain": explain}


def on_date(values: Mapping[str, Any], today: dt.date) -> dt.date:
    raw = str(values.get("on") or "").strip()
    try:
        return dt.date.fromisoformat(raw) if raw else today
    except ValueError:
        raise InvalidInput("on", "must be a date (YYYY-MM-DD)", kind="date_parsing") from None


GROUPS = {
    "visa": _("The visa held"),
    "residence_permit": _("The residence permit held"),
    "requested": _("What is applied for"),
    "applicant": _("The applicant"),
}
"""The labels of the law contract's groups of answers, for an error about a whole group (``visa`` is required)."""
_PREFIXES = ("application.inputs.", "inputs.", "application.")


def questions_form(
    request: Request, fields: list[dict[str, Any]], before: Mapping[str, tuple[str, str]], materials: Any = ()
) -> Form:
    """The questionnaire's form (``field_views``) for errors: the controls ``before`` the questions, the questions,
    then a file control for each material."""
    loc = negotiate(request)
    files = {
        f"files.{code}": (f"file-{code}", m.zh if loc == "zh_CN" else m.en)
        for code in materials
        if (m := CATALOGUE.get(code)) is not None
    }
    table = {**before, **{f["name"]: (f["id"], f["label"]) for f in fields}, **files}
    return Form(table, GROUPS, fallback=next(iter(table.values()))[0] if table else "main")


def found_of(request: Request, exc: Exception) -> tuple[list[Found], int]:
    """What an exception found wrong, each thing naming its key, and the page's status."""
    if isinstance(exc, InvalidInput):
        return from_law(exc), 422
    law = exc.__context__  # the core wraps the law's InvalidInput as BadInput("inputs.<field>")
    if isinstance(exc, BadInput) and isinstance(law, InvalidInput) and exc.field.startswith("inputs."):
        return from_law(law), 422
    e = error_of(request, exc)
    key = e["field"] or ""
    for prefix in _PREFIXES:
        key = key.removeprefix(prefix)
    text = " ".join(e["explain"])
    if not text and not key:
        text = t(
            request,
            page_text(as_problem(side.problem_of(exc)))
            or "Something went wrong on our side: please try again later.",
        )
    return [Found(key, "invalid", text=text, detail="" if e["explain"] else e["message"])], e["status"]


def errors_of(request: Request, form: Form, found: list[Found]) -> Errors:
    return build(negotiate(request), form, found)
