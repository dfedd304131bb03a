"""The applicant side: applicants and agents acting for someone (亲友帮办, Regulations Art 19).

- "What do I need?": the in-country matters, the questions each asks, and the law engine's cited answer.
- Online appointments (NIA measures 2024-03-20: 在线预约办证).
- Online application with uploads, supplements to a one-time notice, withdrawal.
- Progress (在线查询办证进度) and one's own visas and permits (在线查询本人签证证件信息).

Who may see what: an applicant their own person; an agent the people they hold a mandate for (the case service's
rule); anyone else is refused. The questions, the contract builder and the progress texts live here and are
shared with the pages (``cnvisa.web.pages.applicant``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Body, Depends, File, Form, Header, Path, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import bindparam, func, select
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from cnvisa.cases.appointments import (
    IN_COUNTRY_MATTERS,
    AlreadyBooked,
    AppointmentPast,
    Appointments,
    NotBookable,
    SlotFull,
    may_act_for,
    office_dict,
    people_for,
)
from cnvisa.cases.photo import PhotoRejected, require_photo
from cnvisa.cases.records import FileIn, sniff
from cnvisa.cases.service import Actor
from cnvisa.cases.workflow import OPEN_FOR_DEADLINE, Role, State
from cnvisa.law import assess
from cnvisa.law import calendar as workdays
from cnvisa.law.application import InCountryMatter
from cnvisa.law.categories import CATEGORIES
from cnvisa.law.errors import CalendarYearNotLoaded, InvalidInput
from cnvisa.law.materials import CATALOGUE
from cnvisa.law.residence import PERMIT_TYPES
from cnvisa.store.fast import FastQuery
from cnvisa.store.tables import Case, Holding, Mandate, Movement, Office, Person
from cnvisa.web.deps import Platform, PlatformDep, Principal, check_csrf, require
from cnvisa.web.i18n import gettext
from cnvisa.web.problems import Problem

router = APIRouter(tags=["applicant"])

ApplicantSide = Annotated[Principal, Depends(require(Role.APPLICANT, Role.AGENT))]
MAX_ID: Final = 2**63 - 1
"""Identifiers are 64-bit: larger numbers are refused before they reach the database."""
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
UPLOAD_MEDIA: Final = frozenset({"application/pdf", "image/jpeg", "image/png"})
RESERVED_INPUTS: Final = frozenset({"matter", "on", "accepted_on", "materials", "submitted_by"})
"""Inputs the platform sets itself (the matter, the date, the materials handed in, who submits)."""


def _(message: str) -> str:
    """Marks a message for the catalogs; translated where it is shown."""
    return message


# =============================================================================================== questions


@dataclass(frozen=True)
class Option:
    value: str
    en: str


@dataclass(frozen=True)
class Question:
    """One input of the law contract (``name`` is its dotted path) as a form asks it."""

    name: str
    kind: Literal["visa_category", "permit_type", "choice", "date", "int", "bool", "yesno"]
    en: str
    required: bool = False
    options: tuple[Option, ...] = ()
    when: tuple[str, tuple[str, ...]] | None = None
    """Asked only when another answer is one of these values (e.g. purpose only for S2)."""
    hint: str | None = None
    proxy: bool = False
    """An Art 19 question: who submits and whether they may."""

    def applies(self, values: Mapping[str, Any]) -> bool:
        if self.when is None:
            return True
        other, allowed = self.when
        return str(values.get(other) or "").strip().upper() in {a.upper() for a in allowed}


ENTRIES = (
    Option("zero", _("No entries (zero-entry)")),
    Option("single", _("Single entry")),
    Option("double", _("Double entry")),
    Option("multiple", _("Multiple entries")),
)
S2_PURPOSES = (
    Option("family_visit", _("Visiting family members")),
    Option("private_affairs", _("Private or humanitarian matters")),
)
RP_PURPOSES = (
    Option("family_visit", _("Family reunion or long-term family visit")),
    Option("foster_care", _("Foster care or similar")),
    Option("private_affairs", _("Other private affairs")),
)
SUBMITTERS = (
    Option("self", _("The applicant in person")),
    Option("relative", _("A relative of the applicant")),
    Option("inviting_entity", _("The inviting entity")),
    Option("inviting_person", _("The inviting individual")),
    Option("service_agency", _("A specialised service agency")),
)
LOSS = (Option("lost", _("Lost")), Option("stolen", _("Stolen")), Option("robbed", _("Robbed")))

Q = Question
_ENTRY_DATE = Q("entry_date", "date", _("Date of this entry into China"), True)
_VISA_CATEGORY = Q("visa.category", "visa_category", _("Category of the visa held"), True)
_VISA_ENTRIES = Q("visa.entries", "choice", _("Entries of the visa"), options=ENTRIES)
_VISA_USED = Q("visa.entries_used", "int", _("Entries already made with the visa"))
_VISA_UNTIL = Q("visa.valid_until", "date", _("Last day of the visa's entry validity"))
_VISA_STAY = Q("visa.stay_days", "int", _("Duration of stay stated on the visa (days)"), True)
_RP_TYPE = Q("residence_permit.type", "permit_type", _("Type of the residence permit held"), True)
_RP_UNTIL = Q("residence_permit.valid_until", "date", _("Last day of the residence permit held"), True)
_VALIDITY = Q("requested.validity_days", "int", _("Validity requested (days)"))
_HEALTH = Q(
    "health_certificate_issued_on",
    "date",
    _("Date the health certificate was issued"),
    hint=_("Needed for a permit valid one year or more (Regulations Art 16)."),
)
_TALENT = Q("applicant.talent", "bool", _("Foreign high-level talent or urgently needed specialised talent"))

QUESTIONS: Final[dict[str, tuple[Question, ...]]] = {
    "visa_extension": (
        _VISA_CATEGORY,
        _VISA_ENTRIES,
        _VISA_STAY,
        Q("visa.extended_days", "int", _("Days already extended for this entry")),
        _ENTRY_DATE,
        Q(
            "purpose",
            "choice",
            _("Purpose of the stay"),
            options=S2_PURPOSES,
            when=("visa.category", ("S2",)),
        ),
        Q("visa.group", "bool", _("Entered with a group visa"), when=("visa.category", ("L",))),
        Q("requested.extension_days", "int", _("Extension requested (days)")),
    ),
    "visa_replacement": (
        Q(
            "ground",
            "choice",
            _("Reason for the replacement"),
            True,
            (
                Option("change_of_purpose", _("Change of the purpose of stay")),
                Option("entry_facilitation", _("Entry facilitation")),
                Option("new_passport", _("A new passport")),
                Option("leave_group", _("Leaving a tourist group")),
                Option("add_accompanying_person", _("Adding an accompanying person")),
            ),
        ),
        _ENTRY_DATE,
        Q("visa.category", "visa_category", _("Category of the visa held")),
        _VISA_ENTRIES,
        _VISA_USED,
        _VISA_UNTIL,
        Q("visa.stay_days", "int", _("Duration of stay stated on the visa (days)")),
        Q("visa.group", "bool", _("Entered with a group visa"), when=("ground", ("leave_group",))),
        Q(
            "requested.category",
            "visa_category",
            _("Visa category wanted"),
            when=("ground", ("change_of_purpose", "entry_facilitation")),
        ),
        Q(
            "purpose",
            "choice",
            _("Purpose of the stay"),
            options=S2_PURPOSES,
            when=("requested.category", ("S2",)),
        ),
        Q("requested.entries", "choice", _("Entries wanted"), options=ENTRIES),
        Q("requested.entry_validity_days", "int", _("Entry validity wanted (days)")),
        Q("requested.stay_days", "int", _("Duration of stay wanted (days)")),
    ),
    "visa_reissue": (
        Q(
            "ground",
            "choice",
            _("What happened to the visa"),
            True,
            (
                *LOSS,
                Option("damaged", _("Damaged")),
                Option("group_visa", _("A group visa was lost, stolen or damaged")),
            ),
        ),
        _VISA_CATEGORY,
        _VISA_ENTRIES,
        _VISA_USED,
        _VISA_UNTIL,
        Q("visa.stay_days", "int", _("Duration of stay stated on the visa (days)")),
        Q("entry_date", "date", _("Date of this entry into China")),
    ),
    "stay_permit": (
        Q("entry_date", "date", _("Date of this entry into China")),
        Q("visa.category", "visa_category", _("Category of the visa held")),
        Q("visa.stay_days", "int", _("Duration of stay stated on the visa (days)")),
        _VALIDITY,
    ),
    "residence_permit": (
        Q(
            "requested.permit_type",
            "permit_type",
            _("Residence permit type"),
            hint=_("Left empty, it follows from the visa category (Regulations Art 15)."),
        ),
        Q("entry_date", "date", _("Date of this entry into China")),
        Q("visa.category", "visa_category", _("Category of the visa you entered with")),
        Q("visa.stay_days", "int", _("Duration of stay stated on the visa (days)")),
        _VALIDITY,
        _HEALTH,
        Q(
            "purpose",
            "choice",
            _("Reason for residing"),
            options=RP_PURPOSES,
            when=("requested.permit_type", ("family_reunion", "private_affairs")),
        ),
        _TALENT,
    ),
    "residence_permit_extension": (
        _RP_TYPE,
        _RP_UNTIL,
        _VALIDITY,
        _HEALTH,
        Q(
            "purpose",
            "choice",
            _("Reason for residing"),
            options=RP_PURPOSES,
            when=("residence_permit.type", ("family_reunion", "private_affairs")),
        ),
        _TALENT,
    ),
    "residence_permit_replacement": (
        Q(
            "ground",
            "choice",
            _("Reason for the replacement"),
            True,
            (
                Option("particulars_changed", _("Registered particulars changed")),
                Option("new_passport", _("A new passport")),
                Option("damaged", _("Damaged")),
            ),
        ),
        _RP_TYPE,
        _RP_UNTIL,
        Q(
            "particulars_changed_on",
            "date",
            _("Date the particulars changed"),
            when=("ground", ("particulars_changed",)),
        ),
    ),
    "residence_permit_reissue": (
        Q("ground", "choice", _("What happened to the residence permit"), True, LOSS),
        _RP_TYPE,
        _RP_UNTIL,
    ),
    "study_work_annotation": (_RP_TYPE, _RP_UNTIL),
    "exit_without_passport": (
        Q(
            "ground",
            "choice",
            _("What happened to the passport"),
            True,
            (*LOSS, Option("damaged", _("Damaged")), Option("other", _("Another reason"))),
        ),
    ),
}

_PARA1 = frozenset({"visa_extension", "visa_replacement", "visa_reissue", "stay_permit"})
_PARA2 = frozenset(
    {
        "residence_permit",
        "residence_permit_extension",
        "residence_permit_replacement",
        "residence_permit_reissue",
        "study_work_annotation",
    }
)


def proxy_questions(matter: str, *, with_submitter: bool = True) -> tuple[Question, ...]:
    """Regulations Art 19: who submits, and the facts that allow someone else to (para 1 or para 2)."""
    if matter not in _PARA1 | _PARA2:
        return ()
    qs: list[Question] = []
    if with_submitter:
        qs.append(
            Q("submitted_by", "choice", _("Who submits the application"), options=SUBMITTERS, proxy=True)
        )
    qs += [
        Q("applicant.birth_date", "date", _("Applicant's date of birth"), proxy=True),
        Q(
            "applicant.mobility_impaired",
            "bool",
            _("Difficulty moving due to illness or similar"),
            proxy=True,
        ),
    ]
    if matter in _PARA1:
        qs += [
            Q(
                "applicant.first_entry",
                "yesno",
                _("Is this the applicant's first entry into China?"),
                proxy=True,
            ),
            Q("applicant.good_record", "yesno", _("Good record of stay and residence in China"), proxy=True),
            Q(
                "inviter_covers_expenses",
                "bool",
                _("The inviter guarantees the expenses of the stay"),
                proxy=True,
            ),
        ]
    elif not any(q.name == "applicant.talent" for q in QUESTIONS[matter]):
        qs.append(Q(_TALENT.name, "bool", _TALENT.en, proxy=True))
    return tuple(qs)


MATTER_LABELS: Final[dict[str, str]] = {
    "visa_extension": _("Visa extension"),
    "visa_replacement": _("Visa replacement"),
    "visa_reissue": _("Visa reissue"),
    "stay_permit": _("Stay permit"),
    "residence_permit": _("Residence permit"),
    "residence_permit_extension": _("Residence permit extension"),
    "residence_permit_replacement": _("Residence permit replacement"),
    "residence_permit_reissue": _("Residence permit reissue"),
    "study_work_annotation": _("Off-campus work or internship annotation"),
    "exit_without_passport": _("Exit without a valid passport"),
}
MATTER_HELP: Final[dict[str, str]] = {
    "visa_extension": _("Stay longer on the visa you entered with (Regulations Art 12-14; Guide VI(II))."),
    "visa_replacement": _(
        "A new visa for a changed purpose, a new passport, leaving a group or adding an accompanying person "
        "(Regulations Art 10; Guide VI(III))."
    ),
    "visa_reissue": _("Your visa was lost, stolen, robbed or damaged (Regulations Art 11; Guide VI(IV))."),
    "stay_permit": _(
        "A stay permit of up to 180 days (Regulations Art 12-13; Exit and Entry Administration Law Art 34)."
    ),
    "residence_permit": _(
        "Work, study, journalist, family-reunion or private-affairs residence, within 30 days of entry "
        "(Regulations Art 15-16; Exit and Entry Administration Law Art 30)."
    ),
    "residence_permit_extension": _(
        "Extend your residence permit at least 30 days before it expires (Regulations Art 17; "
        "Exit and Entry Administration Law Art 32)."
    ),
    "residence_permit_replacement": _(
        "Changed particulars, a new passport or a damaged permit (Regulations Art 17; Exit and Entry "
        "Administration Law Art 33)."
    ),
    "residence_permit_reissue": _("Your residence permit was lost, stolen or robbed (Regulations Art 17)."),
    "study_work_annotation": _(
        "Students: off-campus part-time work or internship added to the permit (Regulations Art 22)."
    ),
    "exit_without_passport": _(
        "Leave China when your passport cannot be replaced in time (Regulations Art 23)."
    ),
}
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


def questions(matter: str, *, proxy: bool = True, with_submitter: bool = True) -> tuple[Question, ...]:
    if matter not in QUESTIONS:
        raise InvalidInput("matter", f"one of {', '.join(IN_COUNTRY_MATTERS)}")
    return QUESTIONS[matter] + (proxy_questions(matter, with_submitter=with_submitter) if proxy else ())


def pick(label: Mapping[str, str] | None, locale: str) -> str:
    """A law label ``{"en": …, "zh": …}`` in the reader's language."""
    if not label:
        return ""
    return label.get("zh" if locale == "zh_CN" else "en") or label.get("en") or ""


def options_of(q: Question, on: dt.date | None = None) -> list[tuple[str, dict[str, str]]]:
    """(value, {"en","zh"} label) of a question's choices; visa categories and permit types from the law."""
    if q.kind == "visa_category":
        return [
            (c.code, {"en": c.name_en, "zh": c.name_zh})
            for c in CATEGORIES.values()
            if on is None or on >= c.in_force_from
        ]
    if q.kind == "permit_type":
        return [(p.code, {"en": p.name_en, "zh": p.name_zh}) for p in PERMIT_TYPES.values()]
    if q.kind == "yesno":
        return [("yes", _both(_("Yes"))), ("no", _both(_("No")))]
    return [(o.value, _both(o.en)) for o in q.options]


def _both(message: str) -> dict[str, str]:
    return {"en": gettext("en", message), "zh": gettext("zh_CN", message)}


def _set(out: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    d = out
    for p in parents:
        d = d.setdefault(p, {})
    d[leaf] = value


def build_inputs(matter: str, values: Mapping[str, Any], qs: tuple[Question, ...]) -> dict[str, Any]:
    """The law contract's inputs (without ``matter`` and ``on``) from flat form answers keyed by dotted path.
    Unanswered questions are left out; a malformed answer is ``InvalidInput`` naming the field."""
    out: dict[str, Any] = {}
    for q in qs:
        raw = values.get(q.name)
        text = "" if raw is None else str(raw).strip()
        if not q.applies(values):
            continue
        if q.kind == "bool":
            if text.lower() in ("1", "true", "on", "yes"):
                _set(out, q.name, True)
            continue
        if not text:
            continue
        value: Any
        if q.kind == "int":
            try:
                value = int(text)
            except ValueError:
                raise InvalidInput(q.name, "must be a whole number") from None
            if value < 0:
                raise InvalidInput(q.name, "must not be negative")
        elif q.kind == "date":
            try:
                value = dt.date.fromisoformat(text).isoformat()
            except ValueError:
                raise InvalidInput(q.name, "must be a date (YYYY-MM-DD)") from None
        elif q.kind == "yesno":
            if text not in ("yes", "no"):
                raise InvalidInput(q.name, "yes or no")
            value = text == "yes"
        else:
            allowed = [v for v, _label in options_of(q)]
            value = text.upper() if q.kind == "visa_category" else text
            if value not in allowed:
                raise InvalidInput(q.name, f"one of {', '.join(allowed)}")
        _set(out, q.name, value)
    return out


def matter_spec(matter: str, on: dt.date) -> dict[str, Any]:
    def q_dict(q: Question) -> dict[str, Any]:
        return {
            "name": q.name,
            "kind": q.kind,
            "label": _both(q.en),
            "required": q.required,
            "options": [{"value": v, "label": label} for v, label in options_of(q, on)] or None,
            "when": {"field": q.when[0], "in": list(q.when[1])} if q.when else None,
            "hint": _both(q.hint) if q.hint else None,
            "art19": q.proxy,
        }

    return {
        "matter": matter,
        "label": _both(MATTER_LABELS[matter]),
        "summary": _both(MATTER_HELP[matter]),
        "inputs": [q_dict(q) for q in questions(matter)],
    }


# =============================================================================================== helpers


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


async def people(p: Platform, ids: frozenset[int] | set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    async with p.sessions() as s:
        rows = (
            await s.execute(select(Person).where(Person.id.in_(sorted(ids))).order_by(Person.id))
        ).scalars()
        return {
            r.id: {
                "id": r.id,
                "name": f"{r.surname}, {r.given_names}".strip(", "),
                "birth_date": r.birth_date.isoformat(),
                "nationality": r.nationality,
            }
            for r in rows
        }


async def submitter_for(p: Platform, actor: Actor, person_id: int) -> str:
    """Who submits: the applicant themself, or the agent in the capacity of their mandate (Art 19)."""
    if actor.role is Role.APPLICANT and actor.person_id == person_id:
        return "self"
    on = p.today()
    async with p.sessions() as s:
        capacity = (
            await s.execute(
                select(Mandate.capacity)
                .where(
                    Mandate.agent_account_id == actor.account_id,
                    Mandate.person_id == person_id,
                    Mandate.valid_from <= on,
                    (Mandate.valid_until.is_(None)) | (Mandate.valid_until >= on),
                )
                .order_by(Mandate.id)
            )
        ).scalar()
    return str(capacity or "relative")


async def holdings_of(p: Platform, person_id: int) -> list[dict[str, Any]]:
    return await p.registry.documents_of(person_id, p.today())


async def last_entry(p: Platform, person_id: int) -> str | None:
    """The date of the person's last entry into China on record (for the forms to suggest)."""
    async with p.sessions() as s:
        on = (
            await s.execute(
                select(func.max(Movement.on)).where(
                    Movement.person_id == person_id, Movement.direction == "entry", Movement.on <= p.today()
                )
            )
        ).scalar()
    return on.isoformat() if on else None


async def offices(p: Platform) -> list[Office]:
    return await Appointments(p.sessions, p.cases.clock).offices()


def default_person(actor: Actor, person_id: int | None) -> int:
    if person_id is not None:
        return person_id
    mine = people_for(actor)
    if actor.role is Role.APPLICANT and actor.person_id is not None:
        return actor.person_id
    if len(mine) == 1:
        return next(iter(mine))
    raise Problem(422, "Invalid input", "choose the person you act for", field="person_id", code="bad_input")


async def read_files(p: Platform, form: FormData, *, skip: frozenset[str] = frozenset()) -> list[FileIn]:
    """Files named by material code: PDF, JPEG or PNG by their content, within the size limit; the photo
    checked against the photo rules. Empty file inputs (nothing chosen) are skipped."""
    out: list[FileIn] = []
    limit = p.settings.max_upload_bytes
    for name, value in form.multi_items():
        if name in skip:
            continue
        if not isinstance(value, StarletteUpload):
            if name in CATALOGUE and value:  # (an empty file input may arrive as an empty field)
                raise Problem(
                    422, "Invalid input", "expected a file", field=f"files.{name}", code="bad_input"
                )
            continue
        if not value.filename and (value.size or 0) == 0:
            continue  # a file input left empty
        field = f"files.{name}"
        material = CATALOGUE.get(name)
        if material is None or material.kind != "material":
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
        if name == "photo":
            try:
                require_photo(content, p.settings.photo, field)
            except PhotoRejected as exc:
                raise problem_of(exc) from None
        out.append(FileIn(name, value.filename or name, content))
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


APPLY_FACTS = FastQuery(
    select(
        select(Office.id).where(Office.id == bindparam("office_id")).scalar_subquery().label("office_id"),
        select(Person.birth_date)
        .where(Person.id == bindparam("person_id"))
        .scalar_subquery()
        .label("birth_date"),
        select(Person.nationality)
        .where(Person.id == bindparam("person_id"))
        .scalar_subquery()
        .label("nationality"),
    )
)
"""What an application needs from the records before it is opened — whether the office exists, and the
applicant's birth date and nationality — in one hot read."""


async def submit_application(
    p: Platform, who: Principal, app: ApplicationIn, files: list[FileIn], key: str
) -> dict[str, Any]:
    """Open and submit an application (CaseService.apply) for oneself or a mandated person."""
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
    found = await p.reads.first(APPLY_FACTS, person_id=person_id, office_id=app.office_id)
    if found is None or found["office_id"] is None:
        raise Problem(
            422,
            "Invalid input",
            f"no office {app.office_id}",
            field="application.office_id",
            code="bad_input",
        )
    number = inputs.get("holding_number")
    if number:
        async with p.sessions() as s:
            held = (
                await s.execute(
                    select(Holding.id).where(Holding.number == str(number), Holding.person_id == person_id)
                )
            ).first()
        if held is None:
            raise Problem(
                422,
                "Invalid input",
                "not a visa or permit of this person",
                field="application.inputs.holding_number",
                code="bad_input",
            )
    if found["birth_date"] is not None and isinstance(inputs.setdefault("applicant", {}), dict):
        # the record, not the form, says how old the applicant is (Art 19 para 1(1)) and of which nationality
        inputs["applicant"]["birth_date"] = found["birth_date"].isoformat()
        inputs["applicant"]["nationality"] = found["nationality"]
    submitted_by = app.submitted_by or await submitter_for(p, actor, person_id)
    return await p.cases.apply(
        actor,
        key=key,
        person_id=person_id,
        office_id=app.office_id,
        matter=app.matter,
        inputs=inputs,
        submitted_by=submitted_by,
        files=files,
    )


async def list_cases(p: Platform, actor: Actor) -> list[dict[str, Any]]:
    """The cases of the people the actor may follow, newest first."""
    ids = people_for(actor)
    if not ids:
        return []
    async with p.sessions() as s:
        rows = (
            await s.execute(
                select(Case)
                .where(Case.person_id.in_(sorted(ids)))
                .order_by(Case.created_at.desc(), Case.id.desc())
                .limit(500)
            )
        ).scalars()
        return [
            {
                "case_id": c.id,
                "number": c.number,
                "person_id": c.person_id,
                "office_id": c.office_id,
                "matter": c.matter,
                "state": c.state,
                "version": c.version,
                "receipt_number": c.receipt_number,
                "receipt_valid_until": c.receipt_valid_until.isoformat() if c.receipt_valid_until else None,
                "created_at": c.created_at.isoformat(),
                "updated_at": c.updated_at.isoformat(),
            }
            for c in rows
        ]


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
        "state_label": _both(STATE_LABELS.get(state, state)),
        "next_step": {"by": who, "text": _both(step)} if step else None,
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
    return progress(await p.cases.read(who.actor, case_id), p.today())


async def documents(p: Platform, actor: Actor) -> list[dict[str, Any]]:
    ids = people_for(actor)
    info = await people(p, set(ids))
    return [
        {"person": info.get(pid, {"id": pid}), "documents": await p.registry.documents_of(pid, p.today())}
        for pid in sorted(ids)
    ]


# =============================================================================================== endpoints


@router.get("/matters", summary="The in-country matters and the inputs each asks (public)")
async def get_matters(p: PlatformDep) -> list[dict[str, Any]]:
    on = p.today()
    return [matter_spec(m, on) for m in IN_COUNTRY_MATTERS]


@router.post("/assess", summary="Assess an application under the law: checklist, limits, problems (public)")
async def post_assess(
    p: PlatformDep,
    body: Annotated[
        dict[str, Any],
        Body(
            description="The law contract (cnvisa assess --schema): matter, on (default: today in Beijing), "
            "the answers, the materials provided",
            examples=[
                {
                    "matter": "visa_extension",
                    "on": "2025-11-20",
                    "entry_date": "2025-10-20",
                    "visa": {"category": "L", "entries": "single", "stay_days": 30},
                    "requested": {"extension_days": 30},
                }
            ],
        ),
    ],
) -> dict[str, Any]:
    body = dict(body)
    body.setdefault("on", p.today().isoformat())
    return assess(body)


class SlotOut(BaseModel):
    slot: str
    capacity: int
    taken: int
    free: int


class SlotsOut(BaseModel):
    office_id: int
    day: dt.date
    slots: list[SlotOut]


class AppointmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    office_id: int = Field(..., ge=1, le=MAX_ID)
    day: dt.date
    slot: str = Field(..., pattern=r"^\d{2}:\d{2}$", description="HH:MM, as listed by the slots")
    matter: str = Field(..., description="One of the in-country matters (GET /api/v1/matters)")
    person_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Default: yourself (an agent names the person)"
    )
    case_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="The application it is for (default: the person's only open one)"
    )


@router.get("/offices", summary="The exit-entry administrations (public)")
async def get_offices(p: PlatformDep) -> list[dict[str, Any]]:
    svc = Appointments(p.sessions, p.cases.clock)
    out = []
    for o in await svc.offices():
        d = office_dict(o)
        d["bookable_days"] = [day.isoformat() for day in svc.bookable_days(o)]
        out.append(d)
    return out


@router.get(
    "/offices/{office_id}/slots", response_model=SlotsOut, summary="Free seats per slot on a day (public)"
)
async def get_slots(p: PlatformDep, office_id: PathId, day: Annotated[dt.date, Query()]) -> dict[str, Any]:
    try:
        return await Appointments(p.sessions, p.cases.clock).slots(office_id, day)
    except (NotBookable, SlotFull, AlreadyBooked, AppointmentPast) as exc:
        raise problem_of(exc) from None


@router.post("/appointments", status_code=201, summary="Book a seat in a slot")
async def post_appointment(
    request: Request, p: PlatformDep, who: ApplicantSide, body: AppointmentIn, response: Response
) -> dict[str, Any]:
    await check_csrf(request, who)
    try:
        out = await Appointments(p.sessions, p.cases.clock).book(
            who.actor,
            person_id=default_person(who.actor, body.person_id),
            office_id=body.office_id,
            day=body.day,
            slot=body.slot,
            matter=body.matter,
            case_id=body.case_id,
        )
    except (NotBookable, SlotFull, AlreadyBooked, AppointmentPast) as exc:
        raise problem_of(exc) from None
    response.headers["Location"] = f"/api/v1/appointments/{out['id']}"
    return out


@router.get("/appointments", summary="My appointments (and those of the people I act for)")
async def get_appointments(
    p: PlatformDep, who: ApplicantSide, past: Annotated[bool, Query(description="include past days")] = False
) -> list[dict[str, Any]]:
    return await Appointments(p.sessions, p.cases.clock).of(who.actor, past=past)


@router.delete("/appointments/{appointment_id}", status_code=204, summary="Cancel an appointment")
async def delete_appointment(
    request: Request, p: PlatformDep, who: ApplicantSide, appointment_id: PathId
) -> Response:
    await check_csrf(request, who)
    try:
        await Appointments(p.sessions, p.cases.clock).cancel(who.actor, appointment_id)
    except AppointmentPast as exc:
        raise problem_of(exc) from None
    return Response(status_code=204)


@router.post(
    "/cases", status_code=201, summary="Apply online: the application (JSON) and files by material code"
)
async def post_case(
    request: Request,
    p: PlatformDep,
    who: ApplicantSide,
    response: Response,
    application: Annotated[
        str,
        Form(
            description="JSON: {person_id?, office_id, matter, inputs, submitted_by?}. Every other part of the "
            "multipart body is a file named by its material code (e.g. photo, passport); PDF, JPEG or PNG."
        ),
    ],
    photo: Annotated[
        UploadFile | None,
        File(description="The application photo (JPEG); every other material is a part named by its code"),
    ] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    await check_csrf(request, who)
    key = namespaced_key(who, idempotency_key)
    app = parse_application(application)
    files = await read_files(p, await request.form(), skip=frozenset({"application", "csrf"}))
    out = await submit_application(p, who, app, files, key)
    if out.get("replayed"):
        response.status_code = 200
    response.headers["Location"] = f"/api/v1/cases/{out['case_id']}"
    return out


@router.post("/cases/{case_id}/supplement", summary="Supplement the one-time notice: files by material code")
async def post_supplement(
    request: Request,
    p: PlatformDep,
    who: ApplicantSide,
    case_id: PathId,
    version: Annotated[int, Form(ge=1, le=2**31 - 1, description="The case version the supplement answers")],
    inputs: Annotated[str | None, Form(description="JSON: corrected inputs of the law contract")] = None,
    photo: Annotated[
        UploadFile | None,
        File(description="A new photo (JPEG); every other material is a part named by its code"),
    ] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    await check_csrf(request, who)
    corrected: dict[str, Any] | None = None
    if inputs:
        try:
            corrected = json.loads(inputs)
        except ValueError:
            corrected = None
        if not isinstance(corrected, dict):
            raise Problem(422, "Invalid input", "a JSON object", field="inputs", code="bad_input")
        bad = sorted(RESERVED_INPUTS & set(corrected))
        if bad:
            raise Problem(
                422, "Invalid input", "set by the platform", field=f"inputs.{bad[0]}", code="bad_input"
            )
    files = await read_files(p, await request.form(), skip=frozenset({"version", "inputs", "csrf"}))
    key = namespaced_key(who, idempotency_key or f"supplement:{case_id}:{version}")
    return await p.cases.supplement(who.actor, case_id, version, key=key, files=files, inputs=corrected)


class WithdrawIn(BaseModel):
    version: int = Field(..., ge=1, le=2**31 - 1)


@router.post("/cases/{case_id}/withdraw", summary="Withdraw an application")
async def post_withdraw(
    request: Request,
    p: PlatformDep,
    who: ApplicantSide,
    case_id: PathId,
    body: WithdrawIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    await check_csrf(request, who)
    key = namespaced_key(who, idempotency_key or f"withdraw:{case_id}:{body.version}")
    return await p.cases.withdraw(who.actor, case_id, body.version, key=key)


@router.get("/cases", summary="My applications and those of the people I act for")
async def get_cases(p: PlatformDep, who: ApplicantSide) -> list[dict[str, Any]]:
    rows = await list_cases(p, who.actor)
    for r in rows:
        r["state_label"] = _both(STATE_LABELS.get(r["state"], r["state"]))
    return rows


@router.get("/cases/{case_id}", summary="An application's progress")
async def get_case(p: PlatformDep, who: ApplicantSide, case_id: PathId) -> dict[str, Any]:
    return await read_case(p, who, case_id)


@router.get("/me/documents", summary="My visas and permits (and those of the people I act for)")
async def get_documents(p: PlatformDep, who: ApplicantSide) -> dict[str, Any]:
    return {"people": await documents(p, who.actor), "checks": "/my/checks"}
