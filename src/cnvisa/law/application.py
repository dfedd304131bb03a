"""The application as the law engine reads it: the public input contract of ``assess``.

Unknown keys are refused (a misspelt key would otherwise be ignored silently); every error names
the field by its dotted path. Types are strict: a date is a string written YYYY-MM-DD, a count is a
JSON integer, a flag is true or false — nothing is coerced (a number is never read as a timestamp,
"yes" never as true), and every count of days is bounded so no date computed from it can overflow.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cnvisa.law.categories import CATEGORIES
from cnvisa.law.divisions import check_division
from cnvisa.law.documents.countries import ICAO_SPECIAL_CODES, ISO_3166_ALPHA3
from cnvisa.law.errors import InvalidInput
from cnvisa.law.office_choice import OfficeLevel
from cnvisa.law.purposes import PURPOSES
from cnvisa.law.replacement import ENTRY_COUNTS
from cnvisa.law.vocabulary import ALL_GROUNDS, GROUNDS, grounds_error

Matter = Literal[
    "visa",
    "visa_extension",
    "visa_replacement",
    "visa_reissue",
    "stay_permit",
    "residence_permit",
    "residence_permit_extension",
    "residence_permit_replacement",
    "residence_permit_reissue",
    "study_work_annotation",
    "exit_without_passport",
    "port_visa",
]
InCountryMatter = Literal[
    "visa_extension",
    "visa_replacement",
    "visa_reissue",
    "stay_permit",
    "residence_permit",
    "residence_permit_extension",
    "residence_permit_replacement",
    "residence_permit_reissue",
    "study_work_annotation",
    "exit_without_passport",
]
"""The matters an exit-entry administration in China handles (Regulations Art 10-23): not the overseas visa, nor
the port visa (Law Art 20: a port visa authority, before entry)."""
IN_COUNTRY_MATTERS: tuple[str, ...] = get_args(InCountryMatter)
Entries = Literal["zero", "single", "double", "multiple"]
Submitter = Literal["self", "inviting_entity", "inviting_person", "relative", "service_agency"]
PermitTypeIn = Literal["work", "study", "journalist", "family_reunion", "private_affairs"]

VISA_MATTERS = frozenset({"visa_extension", "visa_replacement", "visa_reissue"})
VISA_AND_STAY_MATTERS = VISA_MATTERS | {"stay_permit"}
"""In-country visa matters and the stay permit: Regulations Art 13 para 1, Art 19 para 1."""
RESIDENCE_MATTERS = frozenset(
    {
        "residence_permit",
        "residence_permit_extension",
        "residence_permit_replacement",
        "residence_permit_reissue",
        # Art 22: the annotation is written on the residence permit, which is renewed to carry it —
        # a residence-permit matter (Art 18, Art 19 para 2).
        "study_work_annotation",
    }
)


EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)
MAX_DAYS = 3660
"""Longest period in days the contract takes (ten years and a leap day or two): bounds every count of
days that is added to a date, so no input can carry a date past the calendar's end."""
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _a_date(value: object) -> object:
    """A date is a JSON string written YYYY-MM-DD (or a ``datetime.date`` from Python) — never a number
    (which pydantic would read as a Unix timestamp), a date-time or another ISO 8601 form."""
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date written YYYY-MM-DD, got a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value.strip()!r} is not a calendar date") from None
    raise ValueError(f"expected a date written YYYY-MM-DD, got {type(value).__name__} {value!r}")


def _in_range(value: dt.date) -> dt.date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}")
    return value


LawDate = Annotated[dt.date, BeforeValidator(_a_date), AfterValidator(_in_range)]
"""A calendar date the rules can count with (periods of up to ten years are added to it)."""

FeeRowCode = Literal[
    "zero", "single", "double", "multiple_half_year", "multiple_one_year", "accompanying_person"
]
"""The rows of the Guide IX fee table (``data/fees.toml``)."""
FEE_ROW_CODES: tuple[str, ...] = get_args(FeeRowCode)


def _reciprocal_fees(value: object) -> object:
    """Guide IX7: null/false, true (reciprocal, no figure) or a mapping fee row → CNY (an integer ≥ 0)."""
    if value is None or isinstance(value, bool):
        return value
    if not isinstance(value, dict):
        raise ValueError(
            f"expected true, false, null or a mapping of fee row to CNY, got {type(value).__name__} {value!r}"
        )
    for row, cny in value.items():
        if row not in FEE_ROW_CODES:
            raise ValueError(f"{row!r} is not a row of the Guide IX fee table ({', '.join(FEE_ROW_CODES)})")
        if type(cny) is not int or cny < 0:
            raise ValueError(f"the fee for {row} must be a whole number of CNY ≥ 0, got {cny!r}")
    return value


def _category_code(value: str) -> str:
    """Regulations Art 6: the visa categories (case-insensitive, as the rules read them)."""
    if value.upper() not in CATEGORIES:
        raise ValueError(f"unknown visa category {value!r}; Art 6 lists {', '.join(CATEGORIES)}")
    return value.upper()


NATIONALITY_CODES: Final = ISO_3166_ALPHA3 | frozenset(ICAO_SPECIAL_CODES)
"""The codes a nationality is written in: ISO 3166-1 alpha-3 and ICAO Doc 9303 Part 3 §5's own codes."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _nationality(value: str) -> str:
    if value.upper() not in NATIONALITY_CODES:
        raise ValueError(f"unknown nationality code {value!r}: an ISO 3166-1 alpha-3 or ICAO Doc 9303 code")
    return value.upper()


def _purpose(value: str) -> str:
    if value not in PURPOSES:
        raise ValueError(f"must be one of {', '.join(PURPOSES)} (the purposes the rules read)")
    return value


CategoryCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2,
        description="Regulations Art 6 (read case-insensitively)",
        json_schema_extra={"enum": list(CATEGORIES)},
    ),
    AfterValidator(_category_code),
]
"""A visa category of Regulations Art 6 (K only from 2025-10-01: an earlier date gives a blocking problem)."""


class _Model(BaseModel):
    # Strict: a number is not a date, "yes" is not true, "30" and 30.0 are not 30, true is not 1.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        # NUL and other control characters are no part of any code or text of the contract (issue 13: "L\u0000")
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and _CONTROL.search(t) for t in texts):
            raise ValueError("must not contain control characters (NUL, line breaks, tabs …)")
        return value


class Applicant(_Model):
    birth_date: LawDate | None = None
    nationality: Annotated[str, AfterValidator(_nationality)] | None = Field(
        None, description="ICAO/ISO 3166-1 alpha-3 code", min_length=1, max_length=3
    )
    first_entry: bool | None = Field(
        None, description="Is this the applicant's first entry into China (Art 19(2))"
    )
    good_record: bool | None = Field(
        None, description="Good record of stay and residence in China (Art 19(2))"
    )
    mobility_impaired: bool = Field(
        False, description="Difficulty moving due to illness or similar (Art 19(1))"
    )
    talent: bool = Field(
        False,
        description="Foreign high-level or urgently needed specialised talent (Art 16(1), Art 19 para 2)",
    )
    reciprocal_fees: Annotated[
        bool | dict[FeeRowCode, Annotated[int, Field(ge=0)]] | None, BeforeValidator(_reciprocal_fees)
    ] = Field(
        None,
        description="Null/false: the Guide IX table applies. True: a reciprocal country with no configured figure "
        "(fee unknown). Mapping: the configured reciprocal fees in CNY by fee row (zero, single, double, "
        "multiple_half_year, multiple_one_year, accompanying_person).",
    )
    refused_entry_before: bool = Field(
        False, description="Record of refused entry or order to leave (Art 8(3))"
    )
    identity_needs_verification: bool = Field(False, description="Art 8(2)")


class Visa(_Model):
    category: CategoryCode
    entries: Entries | None = None
    entries_used: int = Field(
        0, ge=0, le=MAX_DAYS, description="Entries already made with this visa (Art 36 para 1(1))"
    )
    valid_until: LawDate | None = Field(None, description="Last day of the entry validity (Art 36 para 1(2))")
    stay_days: int | None = Field(
        None, ge=1, le=MAX_DAYS, description="Duration of stay per entry (Art 36 para 1(3))"
    )
    extended_days: int = Field(
        0, ge=0, le=MAX_DAYS, description="Extensions already granted for the current entry (Art 14)"
    )
    group: bool = False
    port_visa: bool = Field(
        False, description="Issued at a port (Law Art 20): single entry, stay of 30 days or less"
    )


class Requested(_Model):
    category: CategoryCode | None = None
    entries: Entries | None = None
    entry_validity_days: int | None = Field(None, ge=1, le=MAX_DAYS)
    stay_days: int | None = Field(None, ge=1, le=MAX_DAYS)
    extension_days: int | None = Field(None, ge=1, le=MAX_DAYS)
    permit_type: PermitTypeIn | None = None
    validity_days: int | None = Field(None, ge=1, le=MAX_DAYS)


class ResidencePermit(_Model):
    type: PermitTypeIn
    valid_until: LawDate
    annotations: list[str] = Field(default_factory=list)


class ForeignDocument(_Model):
    """A material issued abroad or written in a foreign language (Guide XII(III) and last paragraph)."""

    code: str
    issued_abroad: bool = True
    issuing_state_apostille_party: bool | None = None
    legalisation: Literal["none", "consular", "apostille"] = "none"
    language: str = Field("other", description="'zh' when written in Chinese")
    translated_into_chinese: bool = False


PortInviter = Literal[
    "entity", "chinese_citizen", "permanent_resident", "foreigner_residing", "travel_agency"
]
"""Who invites a port-visa applicant (Law Art 20; cnvisa.law.port_visa.INVITER_KINDS)."""


class PortVisaFacts(_Model):
    """A port visa (Law Art 20): where and when the applicant arrives, and the facts the rules read."""

    port: str = Field(
        ...,
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9_]+$",
        description="Code of the port (cnvisa law ports; data/ports.toml)",
    )
    arrival_date: LawDate | None = Field(None, description="Day of arrival at the port (default: on)")
    urgent: bool | None = Field(
        None,
        description="An urgent need to enter, with no time to get a visa abroad (Law Art 20 para 1)",
    )
    inviter: PortInviter | None = Field(None, description="Who invites the applicant")


def _division(value: str) -> str:
    """GB/T 2260: six digits of a mainland province (``cnvisa.law.divisions``)."""
    try:
        return check_division(value, "division")
    except InvalidInput as exc:
        raise ValueError(exc.message) from None


DivisionCode = Annotated[str, Field(min_length=6, max_length=6), AfterValidator(_division)]


class OfficeFacts(_Model):
    """The exit-entry administration applied to (Guide III): its area's code and its level."""

    region: DivisionCode = Field(..., description="GB/T 2260 code of the office's area")
    level: OfficeLevel = Field(..., description="provincial, prefecture or county (Guide III)")


class Application(_Model):
    matter: Matter
    on: LawDate = Field(..., description="Date of application (the date the rules are asked as of)")
    accepted_on: LawDate | None = None
    applicant: Applicant = Field(default_factory=Applicant)
    visa: Visa | None = None
    entry_date: LawDate | None = None
    ground: str | None = Field(
        None,
        description="What the matter is applied for on; each matter accepts its own grounds (see allOf)",
        json_schema_extra={"enum": [*ALL_GROUNDS, None]},
    )
    purpose: Annotated[str, AfterValidator(_purpose)] | None = Field(
        None,
        description="The purpose of stay where the rules split on it: "
        + "; ".join(f"{k}: {v}" for k, v in PURPOSES.items()),
        json_schema_extra={"enum": [*PURPOSES, None]},
    )
    requested: Requested = Field(default_factory=Requested)
    residence_permit: ResidencePermit | None = None
    health_certificate_issued_on: LawDate | None = None
    submitted_by: Submitter = "self"
    inviter_covers_expenses: bool = False
    materials: list[str] = Field(
        default_factory=list, description="Codes of the materials and procedures provided"
    )
    particulars_changed_on: LawDate | None = Field(
        None, description="Law Art 33: date registered particulars changed"
    )
    foreign_documents: list[ForeignDocument] = Field(default_factory=list)
    port_visa: PortVisaFacts | None = Field(
        None, description="Facts of a port visa (matter port_visa; Law Art 20)"
    )
    place_of_stay: DivisionCode | None = Field(
        None,
        description="GB/T 2260 code of the place of stay or residence (停留地/居留地; Law Art 29 para 1, "
        "Regulations Art 10, 11, 16 para 1)",
    )
    office: OfficeFacts | None = Field(
        None, description="The office applied to (its area and level): which offices may accept (受理机关)"
    )
    five_year: dict[str, Any] | None = Field(
        None,
        description="Facts for a residence permit of up to five years (NIA measures 2024-03-20): the input of "
        "cnvisa.law.five_year_permit without `on` (permits, role, employer_code, research_team_member, claims, "
        "violations, jurisdiction, work_permit_valid_until, passport_valid_until, start)",
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> Application:
        if self.accepted_on is not None and self.accepted_on < self.on:
            raise ValueError("accepted_on: cannot be before the date of application `on`")
        if self.matter != "visa" and self.entry_date is not None and self.entry_date > self.on:
            # In-country matters concern an entry already made; an overseas visa may name the planned entry.
            raise ValueError("entry_date: cannot be after the date of application `on`")
        _facts_possible(self)
        if self.ground is not None:
            if self.matter in GROUNDS and self.ground not in GROUNDS[self.matter][0]:
                raise ValueError("ground: " + grounds_error(self.matter))
            if self.ground not in ALL_GROUNDS:
                raise ValueError(f"ground: must be one of {', '.join(ALL_GROUNDS)}")
        return self


def _facts_possible(app: Application) -> None:
    """Facts that cannot all be true are refused naming the field (a legal contradiction between possible facts,
    such as an entry after the visa's entry validity, is a blocking problem of the rules instead)."""
    happened = (  # what has already happened by the day of application
        ("health_certificate_issued_on", app.health_certificate_issued_on),
        ("particulars_changed_on", app.particulars_changed_on),
    )
    for name, day in happened:
        if day is not None and day > app.on:
            raise ValueError(f"{name}: {day.isoformat()} is after the date of application `on` ({app.on})")
    birth = app.applicant.birth_date
    if birth is not None:
        if birth > app.on:
            raise ValueError(
                f"applicant.birth_date: {birth.isoformat()} is after the date of application `on` ({app.on})"
            )
        visa, permit = app.visa, app.residence_permit
        in_life = (
            ("entry_date", app.entry_date),
            *happened,
            ("visa.valid_until", visa.valid_until if visa else None),
            ("residence_permit.valid_until", permit.valid_until if permit else None),
        )
        for name, day in in_life:
            if day is not None and day < birth:
                raise ValueError(
                    f"{name}: {day.isoformat()} is before the applicant's birth ({birth.isoformat()})"
                )
    visa = app.visa
    if visa is not None and visa.entries in ENTRY_COUNTS and visa.entries_used > ENTRY_COUNTS[visa.entries]:
        raise ValueError(
            f"visa.entries_used: {visa.entries_used} entries used, but a {visa.entries}-entry visa grants "
            f"{ENTRY_COUNTS[visa.entries]} (Regulations Art 36 para 1(1))"
        )


def parse(application: dict[str, Any] | Application) -> Application:
    """Validate ``application``; an error names the field (dotted path) and what is wrong."""
    if isinstance(application, Application):
        return application
    if not isinstance(application, dict):
        raise InvalidInput("application", "must be a JSON object")
    try:
        return Application.model_validate(application)
    except ValidationError as exc:
        found = [_invalid(err) for err in exc.errors(include_url=False)]
        first = found[0]
        raise InvalidInput(
            first.field, first.message, kind=first.kind, params=first.params, also=found[1:]
        ) from None


def _invalid(err: Any) -> InvalidInput:
    """One of pydantic's errors as the law names it: the dotted field, the message, its type and limits."""
    loc = ".".join(str(p) for p in err["loc"]) or "application"
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg.removeprefix("Value error, ")
        if ": " in msg and not err["loc"]:  # a model-level check names its field first
            loc, _, msg = msg.partition(": ")
    if err["type"] == "extra_forbidden":
        msg = "is not a known key of the application contract (see `cnvisa assess --schema`)"
    elif err["type"] == "missing":
        msg = "is required"
    params = {k: v for k, v in (err.get("ctx") or {}).items() if isinstance(v, (int, float, str))}
    return InvalidInput(loc, msg, kind=str(err["type"]), params=params)


def json_schema() -> dict[str, Any]:
    schema = Application.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cnvisa application (input of cnvisa.law.assess)"
    # The grounds each matter accepts, from the same tables the rules use (cnvisa.law.vocabulary).
    schema["allOf"] = [
        {
            "if": {"properties": {"matter": {"const": matter}}, "required": ["matter"]},
            "then": {"properties": {"ground": {"enum": [*grounds, None]}}},
        }
        for matter, (grounds, _) in GROUNDS.items()
    ]
    return schema
