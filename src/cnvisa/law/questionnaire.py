"""The guided questionnaire "What do I need?": the questions each in-country matter asks, as a form asks them,
and the law engine's input built from the answers. The same questions serve the checklist, the online
application and the API (``GET /api/v1/matters``).

Each question is one input of the law contract (``cnvisa.law.application``), named by its dotted path; the
Art 19 questions (who submits and whether they may, Regulations Art 19) are added by ``proxy_questions``.
Labels are English message ids, translated where they are shown (the catalogs of ``cnvisa.web``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from cnvisa.law.application import IN_COUNTRY_MATTERS, RESIDENCE_MATTERS, VISA_AND_STAY_MATTERS
from cnvisa.law.categories import CATEGORIES
from cnvisa.law.errors import InvalidInput
from cnvisa.law.office_choice import office_rule
from cnvisa.law.residence import PERMIT_TYPES


def _(message: str) -> str:
    """Marks a message for the catalogs; translated where it is shown."""
    return message


@dataclass(frozen=True)
class Option:
    value: str
    en: str


@dataclass(frozen=True)
class Question:
    """One input of the law contract (``name`` is its dotted path) as a form asks it."""

    name: str
    kind: Literal["visa_category", "permit_type", "choice", "date", "int", "bool", "yesno", "text"]
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
_PLACE = Q(
    "place_of_stay",
    "text",
    _("Where you stay: administrative division code (6 digits)"),
    hint=_(
        "As on your accommodation registration, e.g. 310104. Before 2024-01-11, and for purposes other than "
        "business, visits, investment, family visits and tourism, only the office of the place of stay (or "
        "residence) may accept (Exit and Entry Administration Law Art 29; Regulations Art 10, 11, 16)."
    ),
)
"""停留地/居留地: which offices may accept (``cnvisa.law.office_choice``)."""
_TALENT = Q("applicant.talent", "bool", _("Foreign high-level talent or urgently needed specialised talent"))
FIVE_YEAR_ROLES = (
    Option("manager", _("Manager")),
    Option("professional_technical", _("Professional or technical staff")),
    Option("other", _("Other staff")),
)


def _five_year(permit_field: str) -> tuple[Question, ...]:
    """The questions of a residence permit of up to five years (NIA measures 2024-03-20, seed 001 l.16;
    ``cnvisa.law.five_year``), asked of a work-type permit only: the two most recent work-type permits, the
    role and employer, a research team, and the work permit's and passport's ends that bound the answer. The
    permits' dates become ``five_year.permits`` (``build_inputs``)."""
    when = (permit_field, ("work",))
    return (
        Q(
            "five_year.permits.0.valid_from",
            "date",
            _("Five-year permit: first day of your earlier work-type residence permit"),
            when=when,
            hint=_(
                "Two work-type residence permits of one year or more held in a row may allow a permit of up "
                "to five years (NIA measures 2024-03-20)."
            ),
        ),
        Q("five_year.permits.0.valid_until", "date", _("Last day of the earlier permit"), when=when),
        Q(
            "five_year.permits.1.valid_from",
            "date",
            _("First day of your latest work-type residence permit"),
            when=when,
        ),
        Q("five_year.permits.1.valid_until", "date", _("Last day of the latest permit"), when=when),
        Q("five_year.role", "choice", _("Your role at the employer"), options=FIVE_YEAR_ROLES, when=when),
        Q(
            "five_year.employer_code",
            "text",
            _("Employer's unified social credit code"),
            when=when,
            hint=_("18 characters, on the business licence."),
        ),
        Q("five_year.research_team_member", "bool", _("Member of a research and innovation team"), when=when),
        Q("five_year.work_permit_valid_until", "date", _("Last day of your work permit"), when=when),
        Q("five_year.passport_valid_until", "date", _("Last day of your passport"), when=when),
    )


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
        Q(
            "visa.port_visa",
            "bool",
            _("A port visa (issued at the port of entry)"),
            hint=_(
                "Its extensions total at most the stay it states (Exit and Entry Administration Law Art 29; "
                "Regulations Art 14)."
            ),
        ),
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
        *_five_year("requested.permit_type"),
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
        *_five_year("residence_permit.type"),
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

_PARA1 = VISA_AND_STAY_MATTERS  # Regulations Art 19 para 1
_PARA2 = RESIDENCE_MATTERS  # Art 19 para 2


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


def questions(matter: str, *, proxy: bool = True, with_submitter: bool = True) -> tuple[Question, ...]:
    if matter not in QUESTIONS:
        raise InvalidInput("matter", f"one of {', '.join(IN_COUNTRY_MATTERS)}")
    place = (_PLACE,) if office_rule(matter, dt.date.max, None) is not None else ()
    return (
        QUESTIONS[matter] + place + (proxy_questions(matter, with_submitter=with_submitter) if proxy else ())
    )


def choices(q: Question, on: dt.date | None = None) -> list[tuple[str, str, str | None]]:
    """(value, English, Chinese) of a question's choices: visa categories (those in force on ``on``) and permit
    types with the law's own names; the other options with their English message id only (Chinese: None)."""
    if q.kind == "visa_category":
        return [
            (c.code, c.name_en, c.name_zh) for c in CATEGORIES.values() if on is None or on >= c.in_force_from
        ]
    if q.kind == "permit_type":
        return [(p.code, p.name_en, p.name_zh) for p in PERMIT_TYPES.values()]
    if q.kind == "yesno":
        return [("yes", _("Yes"), None), ("no", _("No"), None)]
    return [(o.value, o.en, None) for o in q.options]


def _set(out: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    d = out
    for p in parents:
        d = d.setdefault(p, {})
    d[leaf] = value


def build_inputs(matter: str, values: Mapping[str, Any], qs: tuple[Question, ...]) -> dict[str, Any]:
    """The law contract's inputs (without ``matter`` and ``on``) from flat form answers keyed by dotted path.
    Unanswered questions are left out; malformed answers are one ``InvalidInput`` naming the first field, with
    the others in ``also``."""
    out: dict[str, Any] = {}
    bad: list[InvalidInput] = []
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
        try:
            _set(out, q.name, _answer(q, text))
        except InvalidInput as exc:
            bad.append(exc)
    if "five_year" in out:
        bad += _five_year_permits(out["five_year"])
    if bad:
        raise InvalidInput(bad[0].field, bad[0].message, kind=bad[0].kind, params=bad[0].params, also=bad[1:])
    return out


def _five_year_permits(facts: dict[str, Any]) -> list[InvalidInput]:
    """The permits' dates answered (``five_year.permits.N.valid_from`` / ``valid_until``) as the list of
    work-type permits ``cnvisa.law.five_year`` reads; a permit with one date only names the other."""
    answered = facts.pop("permits", {})
    permits, bad = [], []
    for n in sorted(answered, key=int):
        dates = answered[n]
        for end in ("valid_from", "valid_until"):
            if end not in dates:
                bad.append(InvalidInput(f"five_year.permits.{n}.{end}", "give both days of the permit"))
        if len(dates) == 2:
            permits.append({"type": "work", **dates})
    if permits:
        facts["permits"] = permits
    return bad


def _answer(q: Question, text: str) -> Any:
    if q.kind == "int":
        try:
            value = int(text)
        except ValueError:
            raise InvalidInput(q.name, "must be a whole number", kind="int_parsing") from None
        if value < 0:
            raise InvalidInput(q.name, "must not be negative", kind="greater_than_equal", params={"ge": 0})
        return value
    if q.kind == "date":
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise InvalidInput(q.name, "must be a date (YYYY-MM-DD)", kind="date_parsing") from None
    if q.kind == "text":
        if len(text) > 40 or any(ord(ch) < 32 for ch in text):
            raise InvalidInput(q.name, "one line of at most 40 characters", kind="string_too_long")
        return text
    if q.kind == "yesno":
        if text not in ("yes", "no"):
            raise InvalidInput(q.name, "yes or no", kind="bool_parsing")
        return text == "yes"
    allowed = [v for v, _en, _zh in choices(q)]
    choice = text.upper() if q.kind == "visa_category" else text
    if choice not in allowed:
        raise InvalidInput(q.name, f"one of {', '.join(allowed)}", kind="enum")
    return choice
