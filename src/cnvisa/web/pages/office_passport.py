"""The passport part of the officer's acceptance and collection forms (passport not kept, 免留存护照; rules in
``cnvisa.law.passport_retention``, the check in ``cnvisa.cases.passport_check``): the form's fields turned into
the command's body, and the core's refusals named per field in the page's language (GOV.UK error summary,
``cnvisa.web.form_errors``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, Final

from starlette.requests import Request

from cnvisa.http.problems import Problem
from cnvisa.law.passport_retention import RETENTION_REASONS
from cnvisa.web.form_errors import Errors
from cnvisa.web.form_errors import _ as _
from cnvisa.web.pages.render import form_errors, t

_MRZ_LINE: Final = re.compile(r"^[A-Z0-9<]{30,44}$")
_SLOT: Final = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})$")

REASON_LABELS: Final = {
    "verification_art20": _(
        "The reasons for the application are being verified (interview, site visit, further materials)"
    ),
    "authenticity_doubt": _("The on-site check left the passport's authenticity or the holder in doubt"),
    "passport_expires_before_validity": _("The passport expires before the validity requested"),
    "applicant_request": _("The applicant asked the office to keep the passport"),
    "other": _("Another reason (write it in the note)"),
}
"""Each reason of ``RETENTION_REASONS`` as the officer reads it."""
assert set(REASON_LABELS) == set(RETENTION_REASONS)

GUARD_MESSAGES: Final = {
    "passport_checked_on_site": _(
        "The passport is returned only after the on-site check: the passport read must be valid and the "
        "applicant's own."
    ),
    "collect_with_checked_passport": _(
        "The passport was returned at acceptance: read the passport presented — the same one, or the holder's "
        "new passport."
    ),
}

FIELD_TEXTS: Final = {
    "passport.mrz": _(
        "Read the passport's two MRZ lines, or confirm the passport on record: the MRZ must read (ICAO Doc 9303 "
        "check digits) and be a passport's."
    ),
    "passport.surname": _("The passport's surname is not the applicant's."),
    "passport.given_names": _("The passport's given names are not the applicant's."),
    "passport.birth_date": _("The passport's date of birth is not the applicant's."),
    "passport.nationality": _("The passport's nationality is not the applicant's."),
    "passport.document_number": _("This passport is on record for another person."),
    "passport.expiry_date": _("The passport has expired."),
    "retention_reason": _(
        "Choose why the office keeps the passport: the measure returns it after the check."
    ),
    "retention_note": _("Write the reason for keeping the passport in the note."),
    "collection": _("Choose a collection slot within the receipt's validity from the list."),
}
"""What each passport field says when it is wrong, in the reader's language."""

_LABELS: Final = {
    "mrz": _("MRZ line 1"),
    "reason": _("Reason for keeping the passport"),
    "note": _("Note on the reason"),
    "collection": _("Collection appointment"),
}


def fields(command: str) -> dict[str, tuple[str, str]]:
    """The passport keys of ``command``'s form: each key's control id and label."""
    prefix = "collect_" if command == "collect" else ""
    mrz = (f"{prefix}passport_mrz_line1", _LABELS["mrz"])
    out = {key: mrz for key in FIELD_TEXTS if key.startswith("passport.")}
    if command == "accept":
        out |= {
            "retention_reason": ("retention_reason", _LABELS["reason"]),
            "retention_note": ("retention_note", _LABELS["note"]),
            "collection": ("collection", _LABELS["collection"]),
        }
    return out


def body(command: str, form: Any, bad: Callable[[str, str], None]) -> dict[str, Any]:
    """The passport fields of an ``accept`` or ``collect`` form as the command's body."""
    out: dict[str, Any] = {}
    prefix = "collect_" if command == "collect" else ""
    if str(form.get(f"{prefix}passport_source") or "") == "on_record":
        out["passport_on_record"] = True
    else:
        lines = [
            re.sub(r"\s+", "", str(form.get(f"{prefix}passport_mrz_line{n}") or "")).upper() for n in (1, 2)
        ]
        if any(lines):
            if not all(_MRZ_LINE.match(x) for x in lines):
                bad("passport.mrz", "two MRZ lines of 30 to 44 characters A-Z, 0-9 and < (ICAO Doc 9303)")
            out["passport_mrz_line1"], out["passport_mrz_line2"] = lines
    if command != "accept":
        return out
    kept = form.get("passport") != "returned"
    out["passport_kept"] = kept
    if kept:
        reason = str(form.get("retention_reason") or "")
        if reason and reason not in RETENTION_REASONS:
            bad("retention_reason", f"one of {', '.join(RETENTION_REASONS)}")
        out["retention_reason"] = reason or None
        out["retention_note"] = str(form.get("retention_note") or "").replace("\x00", "")[:2000] or None
        return out
    chosen = str(form.get("collection") or "")
    if chosen:
        m = _SLOT.match(chosen)
        try:
            out["collection_day"] = dt.date.fromisoformat(m.group(1)) if m else None
        except ValueError:
            out["collection_day"] = None
        if m is None or out["collection_day"] is None:
            bad("collection", "a day and slot from the list (YYYY-MM-DD HH:MM)")
        else:
            out["collection_slot"] = m.group(2)
    return out


def refill(command: str, form: Any) -> dict[str, str]:
    """What the officer typed into the acceptance or collection form's passport part, shown again beside its
    error (the case page's and the single window's)."""
    if form is None or command not in ("accept", "collect"):
        return {}
    keep: tuple[str, ...] = ("passport", "passport_source", "collect_passport_source", "collection")
    keep += ("retention_reason", "retention_note", "passport_mrz_line1", "passport_mrz_line2")
    keep += ("collect_passport_mrz_line1", "collect_passport_mrz_line2")
    return {k: str(form.get(k) or "")[:2000] for k in keep}


def _key(field: str) -> str:
    return "collection" if field.startswith("collection") else field


def errors(request: Request, command: str, problem: Problem) -> Errors | None:
    """The passport fields ``problem`` names (a BadInput's field, a page check's fields, or the ``passport.*``
    fields a passport guard lists in its detail), as the form's errors; None when it names none."""
    if command not in ("accept", "collect"):
        return None
    named = [f for f, _d in problem.extra.get("fields", [])] or ([problem.field] if problem.field else [])
    if problem.code in GUARD_MESSAGES:
        named += re.findall(r"(passport\.\w+):", problem.detail or "")
    keys = list(dict.fromkeys(_key(f) for f in named if _key(f) in FIELD_TEXTS))
    if not keys:
        return None
    return form_errors(request, fields(command), *[(k, t(request, FIELD_TEXTS[k])) for k in keys])
