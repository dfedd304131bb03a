"""The applicant side's HTTP plumbing the API and the pages share: who is on the applicant side, the labels
of states, steps and documents in both languages, the progress view, idempotency keys, uploads read and checked,
and the online application's JSON part and submission.

Who may see what: an applicant their own person; an agent the people they hold a mandate for (the case service's
rule); anyone else is refused.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

from fastapi import Depends, Path
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from cnvisa.cases.appointments import (
    AlreadyBooked,
    AppointmentPast,
    NotBookable,
    SlotFull,
    TooManyAppointments,
    may_act_for,
    people_for,
)
from cnvisa.cases.photo import PhotoRejected, PhotoRules, require_photo
from cnvisa.cases.queries import applications
from cnvisa.cases.records import FileIn, sniff
from cnvisa.cases.service import Actor
from cnvisa.cases.uploads import UploadRejected, UploadRules, inspect_upload
from cnvisa.cases.workflow import OPEN_FOR_DEADLINE, Role, State
from cnvisa.http.deps import Platform, Principal, require
from cnvisa.http.i18n import gettext
from cnvisa.http.problems import Problem
from cnvisa.law import calendar as workdays
from cnvisa.law.application import InCountryMatter
from cnvisa.law.errors import CalendarYearNotLoaded
from cnvisa.law.materials import CATALOGUE
from cnvisa.law.questionnaire import MATTER_HELP, MATTER_LABELS, Question, _, choices, questions

ApplicantSide = Annotated[Principal, Depends(require(Role.APPLICANT, Role.AGENT))]
MAX_ID: Final = 2**63 - 1
"""Identifiers are 64-bit: larger numbers are refused before they reach the database."""
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
UPLOAD_MEDIA: Final = frozenset({"application/pdf", "image/jpeg", "image/png"})
RESERVED_INPUTS: Final = frozenset({"matter", "on", "accepted_on", "materials", "submitted_by"})
"""Inputs the platform sets itself (the matter, the date, the materials handed in, who submits)."""


STATE_LABELS: Final[dict[str, str]] = {
    "draft": _("Draft"),
    "submitted": _("Submitted"),
    "deficient": _("Awaiting your supplement"),
    "accepted": _("Accepted"),
    "under_verification": _("Under verification"),
    "refusal_proposed": _("Being decided"),
    "approved": _("Approved"),
    "refused": _("Refused"),
    "issued": _("Ready for collection"),
    "collected": _("Collected"),
    "withdrawn": _("Withdrawn"),
    "lapsed": _("Lapsed"),
}
NEXT_STEPS: Final[dict[str, tuple[str | None, str]]] = {
    "draft": ("applicant", _("Complete and submit the application.")),
    "submitted": (
        "office",
        _(
            "The office checks the application: it accepts it with a receipt, or tells you at one time "
            "everything to supplement (Regulations Art 13 para 2, Art 18 para 2)."
        ),
    ),
    "deficient": (
        "applicant",
        _(
            "Supplement every item of the one-time notice below by the date given; the application lapses "
            "if the notice is not answered in time."
        ),
    ),
    "accepted": (
        "office",
        _(
            "The office decides within the validity of the acceptance receipt. While your passport is kept, "
            "the receipt is your proof of lawful stay (Regulations Art 13 para 3, Art 18 para 3)."
        ),
    ),
    "under_verification": (
        "office",
        _(
            "The office verifies the reasons for the application by interview, telephone or visit; please "
            "cooperate (Regulations Art 20)."
        ),
    ),
    "refusal_proposed": ("office", _("The office is deciding on the application.")),
    "approved": (
        "office",
        _("Approved: the document is being issued. You will collect it in person (Guide X)."),
    ),
    "issued": (
        "applicant",
        _("Collect the document in person at the office with the receipt and your passport (Guide X)."),
    ),
    "collected": (None, _("The document has been collected. Nothing more to do.")),
    "refused": (
        None,
        _(
            "The application was refused (Regulations Art 21). The decision is final (Exit and Entry "
            "Administration Law Art 36)."
        ),
    ),
    "withdrawn": (None, _("The application was withdrawn.")),
    "lapsed": (
        None,
        _("The application lapsed: it was not completed or the notice was not answered in time."),
    ),
}
WITHDRAWABLE: Final = frozenset({"draft", "submitted", "deficient", "accepted", "under_verification"})
ITEM_PREFIXES: Final[dict[str, str]] = {
    "consular_legalisation": _("Consular legalisation of: %(item)s"),
    "apostille": _("Apostille for: %(item)s"),
    "translation": _("Chinese translation of: %(item)s"),
}
KIND_LABELS: Final[dict[str, str]] = {
    "visa": _("Visa"),
    "stay_permit": _("Stay permit"),
    "residence_permit": _("Residence permit"),
    "exit_permit": _("Exit permit"),
}
DOC_STATUS: Final[dict[str, str]] = {
    "valid": _("Valid"),
    "expired": _("Expired"),
    "void": _("Void"),
    "cancelled": _("Cancelled"),
}


def pick(label: Mapping[str, str] | None, locale: str) -> str:
    """A law label ``{"en": …, "zh": …}`` in the reader's language."""
    if not label:
        return ""
    return label.get("zh" if locale == "zh_CN" else "en") or label.get("en") or ""


def options_of(q: Question, on: dt.date | None = None) -> list[tuple[str, dict[str, str]]]:
    """(value, {"en","zh"} label) of a question's choices; visa categories and permit types named by the law."""
    return [(v, {"en": en, "zh": zh} if zh is not None else both(en)) for v, en, zh in choices(q, on)]


def both(message: str) -> dict[str, str]:
    return {"en": gettext("en", message), "zh": gettext("zh_CN", message)}


def matter_spec(matter: str, on: dt.date) -> dict[str, Any]:
    def q_dict(q: Question) -> dict[str, Any]:
        return {
            "name": q.name,
            "kind": q.kind,
            "label": both(q.en),
            "required": q.required,
            "options": [{"value": v, "label": label} for v, label in options_of(q, on)] or None,
            "when": {"field": q.when[0], "in": list(q.when[1])} if q.when else None,
            "hint": both(q.hint) if q.hint else None,
            "art19": q.proxy,
        }

    return {
        "matter": matter,
        "label": both(MATTER_LABELS[matter]),
        "summary": both(MATTER_HELP[matter]),
        "inputs": [q_dict(q) for q in questions(matter)],
    }


def problem_of(exc: Exception) -> Exception:
    """The applicant side's own errors as problems naming the field and the rule."""
    if isinstance(exc, PhotoRejected):
        return Problem(
            422,
            "Photo does not meet the requirements",
            exc.message,
            field=exc.field,
            rule=exc.rule,
            code="photo_rejected",
            faults=[{"rule": f.rule, "message": f.message} for f in exc.faults],
        )
    if isinstance(exc, UploadRejected):
        title = "Unsupported file type" if exc.status == 415 else "File refused"
        code = "unsupported_media_type" if exc.status == 415 else "file_rejected"
        return Problem(exc.status, title, exc.message, field=exc.field, rule=exc.rule, code=code)
    if isinstance(exc, NotBookable):
        return Problem(422, "Not bookable", exc.message, field=exc.field, rule=exc.rule, code="not_bookable")
    if isinstance(exc, SlotFull):
        return Problem(
            409, "Slot full", str(exc), field="slot", rule="appointment.capacity", code="slot_full"
        )
    if isinstance(exc, AlreadyBooked):
        return Problem(
            409,
            "Already booked",
            str(exc),
            field="slot",
            rule="appointment.one_per_slot",
            code="double_booking",
        )
    if isinstance(exc, TooManyAppointments):
        return Problem(
            409, "Too many appointments", str(exc), field="person_id", rule=exc.rule, code=exc.code
        )
    if isinstance(exc, AppointmentPast):
        return Problem(409, "Too late to cancel", str(exc), code="appointment_past")
    return exc


def namespaced_key(who: Principal, key: str | None, field: str = "Idempotency-Key") -> str:
    """Idempotency keys are the client's, kept apart per account (a key never replays another's result)."""
    if key is None or not key.strip():
        raise Problem(422, "Invalid input", "an idempotency key is required", field=field, code="bad_input")
    key = key.strip()
    if len(key) > 64:
        raise Problem(422, "Invalid input", "at most 64 characters", field=field, code="bad_input")
    return f"a{who.account.id}:{key}"


def default_person(actor: Actor, person_id: int | None) -> int:
    if person_id is not None:
        return person_id
    mine = people_for(actor)
    if actor.role is Role.APPLICANT and actor.person_id is not None:
        return actor.person_id
    if len(mine) == 1:
        return next(iter(mine))
    raise Problem(422, "Invalid input", "choose the person you act for", field="person_id", code="bad_input")


INLINE_UPLOAD_BYTES: Final = 256 * 1024
"""Uploads of a request up to this many bytes in all are checked on the event loop; more, in a worker thread."""


async def read_files(
    p: Platform,
    form: FormData,
    *,
    skip: frozenset[str] = frozenset(),
    extra: frozenset[str] = frozenset(),
) -> list[FileIn]:
    """Files named by material code: PDF, JPEG or PNG by their content, within the size limit, decoded within
    the pixel and page limits and kept without metadata (``cnvisa.cases.uploads``); the photo checked against
    the photo rules. Empty file inputs (nothing chosen) are skipped. ``extra``: codes accepted beyond the
    catalogue (a joint application's work-permit materials, ``cnvisa.law.one_stop.WORK_PERMIT_MATERIALS``)."""
    read: list[tuple[str, str, bytes]] = []
    limit = p.settings.max_upload_bytes
    for name, value in form.multi_items():
        if name in skip:
            continue
        if not isinstance(value, StarletteUpload):
            if (name in CATALOGUE or name in extra) and value:  # (an empty file input: an empty field)
                raise Problem(
                    422, "Invalid input", "expected a file", field=f"files.{name}", code="bad_input"
                )
            continue
        if not value.filename and (value.size or 0) == 0:
            continue  # a file input left empty
        field = f"files.{name}"
        material = CATALOGUE.get(name)
        if name not in extra and (material is None or material.kind != "material"):
            raise Problem(
                422,
                "Invalid input",
                f"{name!r} is not a material code of the catalogue (cnvisa.law.materials)",
                field=field,
                code="unknown_material",
            )
        content = await value.read(limit + 1)
        if len(content) > limit:
            raise Problem(
                413,
                "File too large",
                f"a file may be at most {limit} bytes",
                field=field,
                rule="upload.max_bytes",
                code="file_too_large",
            )
        if not content:
            raise Problem(422, "Invalid input", "the file is empty", field=field, code="bad_input")
        media = sniff(content)
        if media not in UPLOAD_MEDIA:
            raise Problem(
                415,
                "Unsupported file type",
                f"PDF, JPEG or PNG only (by content); this file is {media}",
                field=field,
                rule="upload.media_type",
                code="unsupported_media_type",
            )
        read.append((name, value.filename or name, content))
    # decoded and cleaned of metadata: small files here (≈ 1-2 ms for a joint submission's twelve: less than the
    # hop to a thread), larger ones off the event loop in ONE hop to the thread pool, so a big scan never holds
    # up the other requests
    if sum(len(content) for _, _, content in read) <= INLINE_UPLOAD_BYTES:
        return _inspect_all(read, p.settings.uploads, p.settings.photo)
    return await run_in_threadpool(_inspect_all, read, p.settings.uploads, p.settings.photo)


def _inspect_all(read: list[tuple[str, str, bytes]], uploads: UploadRules, photo: PhotoRules) -> list[FileIn]:
    """Each file checked by decoding, in the form's order (the first that fails is the one named); the photo
    rules then judge the image kept, their size rule the file as chosen (cnvisa.cases.photo.check_photo)."""
    out: list[FileIn] = []
    for name, filename, content in read:
        field = f"files.{name}"
        try:
            clean = inspect_upload(content, uploads, field)
            if name == "photo":
                require_photo(clean.content, photo, field, uploaded_bytes=len(content))
        except (UploadRejected, PhotoRejected) as exc:
            raise problem_of(exc) from None
        out.append(FileIn(name, filename, clean.content))
    return out


class ApplicationIn(BaseModel):
    """The JSON part (``application``) of an online application."""

    model_config = ConfigDict(extra="forbid")
    person_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="The person applied for; default: yourself"
    )
    office_id: int = Field(
        ..., ge=1, le=MAX_ID, description="The exit-entry administration applied to (GET /api/v1/offices)"
    )
    matter: InCountryMatter
    inputs: dict[str, Any] = Field(
        default_factory=dict,
        description="The law contract's inputs (see POST /api/v1/assess) without matter, on, materials and "
        "submitted_by; may name holding_number, the visa or permit the matter acts on",
    )
    submitted_by: (
        Literal["self", "inviting_entity", "inviting_person", "relative", "service_agency"] | None
    ) = Field(None, description="Default: self for an applicant, the mandate's capacity for an agent")


def parse_application(raw: str) -> ApplicationIn:
    try:
        return ApplicationIn.model_validate_json(raw)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise Problem(
            422,
            "Invalid input",
            str(err["msg"]),
            field="application" + (f".{loc}" if loc else ""),
            code="bad_input",
        ) from None


async def submit_application(
    p: Platform, who: Principal, app: ApplicationIn, files: list[FileIn], key: str, same_form: bool = False
) -> dict[str, Any]:
    """Open and submit an application (CaseService.apply) for oneself or a mandated person, assessed with the
    facts on record (``cnvisa.cases.queries.applications.application_facts``)."""
    actor = who.actor
    person_id = default_person(actor, app.person_id)
    may_act_for(actor, person_id)
    bad = sorted(RESERVED_INPUTS & set(app.inputs))
    if bad:
        raise Problem(
            422,
            "Invalid input",
            "set by the platform, not by the applicant",
            field=f"application.inputs.{bad[0]}",
            code="bad_input",
        )
    inputs = json.loads(json.dumps(app.inputs))
    inputs = await applications.application_facts(p.reads, p.sessions, person_id, app.office_id, inputs)
    submitted_by = app.submitted_by or await applications.submitter_for(
        p.sessions, actor, person_id, p.today()
    )
    return await p.cases.apply(
        actor,
        key=key,
        person_id=person_id,
        office_id=app.office_id,
        matter=app.matter,
        inputs=inputs,
        submitted_by=submitted_by,
        files=files,
        same_form=same_form,
    )


def item_label(code: str) -> dict[str, str]:
    """A notice item's label in both languages: a catalogue material, or what a foreign document still needs
    (``translation:kinship_proof``)."""
    prefix, _sep, base = code.partition(":") if ":" in code else ("", "", code)
    m = CATALOGUE.get(base)
    inner = {"en": m.en, "zh": m.zh} if m else {"en": base, "zh": base}
    if prefix in ITEM_PREFIXES:
        msg = ITEM_PREFIXES[prefix]
        return {
            "en": gettext("en", msg, item=inner["en"]),
            "zh": gettext("zh_CN", msg, item=inner["zh"]),
        }
    return inner


def progress(case: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """What the applicant needs beyond the record: the next step, the receipt's working days left, the
    one-time notice items with their labels and the notice's PDF."""
    state = case["state"]
    who, step = NEXT_STEPS.get(state, (None, ""))
    left = None
    until = case.get("receipt_valid_until")
    if until and State(state) in OPEN_FOR_DEADLINE:
        end = dt.date.fromisoformat(until)
        try:
            left = (
                workdays.working_days_between(today, end)
                if today <= end
                else -workdays.working_days_between(end, today)
            )
        except CalendarYearNotLoaded:
            left = None
    notices = [
        {**n, "labelled": [{"code": c, "label": item_label(c)} for c in n.get("items", [])]}
        for n in case.get("notices", [])
    ]
    return {
        **case,
        "state_label": both(STATE_LABELS.get(state, state)),
        "next_step": {"by": who, "text": both(step)} if step else None,
        "receipt_working_days_left": left,
        "notices": notices,
        "notice_pdf": f"/cases/{case['case_id']}/notice.pdf" if notices else None,
        "receipt_pdf": f"/cases/{case['case_id']}/receipt.pdf" if case.get("receipt_number") else None,
        "decision_pdf": f"/cases/{case['case_id']}/decision.pdf"
        if state in ("approved", "issued", "collected", "refused")
        else None,
        "withdrawable": state in WITHDRAWABLE,
        "supplement_due": state == "deficient",
    }


async def read_case(p: Platform, who: Principal, case_id: int) -> dict[str, Any]:
    """The case as its applicant sees it (``progress``), with the records used instead of paper (信息共享免交;
    ``cnvisa.cases.evidence``) and, on each notice item that a register could not replace, the reason the paper
    is back (``paper_needed``)."""
    out = progress(await p.cases.read(who.actor, case_id), p.today())
    used = await p.cases.records_used(who.actor, case_id)
    back = {r["material"]: r for r in used if not r["used_instead_of_paper"]}
    for n in out["notices"]:
        for item in n["labelled"]:
            r = back.get(str(item["code"]).split(":")[-1])
            item["paper_needed"] = (
                {k: r[k] for k in ("register", "found", "matched_fields", "reason")} if r else None
            )
    return {**out, "records_used": used}
