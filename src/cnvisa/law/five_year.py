"""Residence permits of up to five years (5年以内的居留许可) — who may be granted one, and until when.

Rule: NIA measures announced at the State Council briefing of 2024-03-20 (seed 001 l.16, Chinese): the
exit-entry office "may" (可) grant a residence permit of up to five years to (1) those who, working in China,
have twice in a row held work-type residence permits of one year or more; (2) foreign managers and
professional-technical staff of well-known enterprises and research institutes; (3) members of research and
innovation teams. The ceiling is Law Art 30 para 2 (five years). A jurisdiction may add groups and conditions
(``data/five_year.toml``, each with its source). The answer is "may be granted up to DATE, on these grounds" —
never an entitlement.

Readings written down (each is also in the output):
- 一年以上 ("one year or more", Civil Code Art 1259 includes one year): measured on the permit's printed
  validity, both the first and the last day counted — a permit printed 2022-03-01 to 2023-02-28 is one year.
- 连续 ("in a row"): the two most recent work-type permits, the later one beginning no later than the day after
  the earlier one ends (an overlap — the new permit issued before the old one ran out, as an extension applied
  for 30 days ahead is (Law Art 32) — does not break the run; one day without a permit does); and the later
  permit still valid on ``on`` (在华任职: the person works in China now). Permits of another type between
  them break the run. The national text requires neither the same city nor the same employer.
- "No violations" is not a national condition: it applies only where a jurisdiction's data says so
  (Shanghai item 8), labelled Office rule.
- 科研创新团队成员 is read as a group of its own, not as staff of a well-known employer (the brief's three
  groups; the Chinese enumerates it after 管理和专业技术人员 with a comma).
- Bounds: the end is the earliest of (a) Law Art 30 para 2's five years, counted as the engine counts a permit's
  validity (cnvisa.law.residence.validity_bounds_days: the issue day not counted, Civil Code Art 201-202); (b) the
  work permit's end — a work-type permit rests on the work permit (Regulations Art 16(1); Rules on the
  Employment of Foreigners in China Art 17: the residence term may be determined by the employment
  certificate's) [S2]; (c) the passport's expiry — a reading [A]: the permit is issued in the passport.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cnvisa.law.application import LawDate, PermitTypeIn, _invalid
from cnvisa.law.citations import NIA_2024, Citation, law, reg
from cnvisa.law.errors import InvalidInput
from cnvisa.law.fees import residence_permit_fee
from cnvisa.law.periods import add_years

_DATA: Final[dict[str, Any]] = tomllib.loads(
    resources.files("cnvisa.law").joinpath("data/five_year.toml").read_text(encoding="utf-8")
)
GROUPS: Final[dict[str, dict[str, Any]]] = {g["code"]: g for g in _DATA["group"]}
JURISDICTIONS: Final[dict[str, dict[str, Any]]] = {j["code"]: j for j in _DATA.get("jurisdiction", [])}
SEED: Final = Citation(NIA_2024, "seed 001 l.16")
RULES_ART17: Final = Citation("Rules on the Employment of Foreigners in China", "17", note="[S2] reprints")
MAX_YEARS: Final = 5

READING_ONE_YEAR: Final = (
    "Reading: 一年以上 includes one year (Civil Code Art 1259) and is measured on the printed validity, both days "
    "counted (2022-03-01 to 2023-02-28 is one year)."
)
READING_IN_A_ROW: Final = (
    "Reading: 连续 — the later permit begins no later than the day after the earlier one ends (an overlap does "
    "not break the run, a day without a permit does) and is still valid on the date asked; the national text "
    "requires neither the same city nor the same employer."
)
READING_PASSPORT: Final = "Reading [A]: the permit is issued in the passport, so it cannot outlast it."
READING_TEAM: Final = (
    "Reading: 科研创新团队成员 is a group of its own, not limited to staff of a well-known employer."
)


class PriorPermit(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    type: PermitTypeIn
    valid_from: LawDate
    valid_until: LawDate
    jurisdiction: str | None = Field(None, description="The office's jurisdiction code, e.g. shanghai")
    employer: str | None = None


class FiveYearFacts(BaseModel):
    """What the five-year answer needs; a missing fact leaves its group 'not established', never refused."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, title="cnvisa five-year residence facts"
    )

    on: LawDate
    start: LawDate | None = Field(None, description="First day of the permit asked for (default: on)")
    jurisdiction: str | None = None
    permits: Annotated[list[PriorPermit], Field(max_length=50)] = Field(default_factory=list)
    role: Literal["manager", "professional_technical", "other"] | None = None
    employer_code: str | None = Field(None, description="Unified social credit code of the employer")
    research_team_member: bool = False
    claims: Annotated[list[str], Field(max_length=20)] = Field(default_factory=list)
    violations: bool | None = Field(
        None, description="Any exit-entry violation on record (a local condition)"
    )
    work_permit_valid_until: LawDate | None = None
    passport_valid_until: LawDate | None = None


def parse(facts: Mapping[str, Any] | FiveYearFacts) -> FiveYearFacts:
    if isinstance(facts, FiveYearFacts):
        return facts
    if not isinstance(facts, Mapping):
        raise InvalidInput("facts", "must be a JSON object")
    try:
        out = FiveYearFacts.model_validate(dict(facts))
    except ValidationError as exc:
        found = [_invalid(err) for err in exc.errors(include_url=False)]
        raise InvalidInput(found[0].field, found[0].message, kind=found[0].kind, also=found[1:]) from None
    for i, p in enumerate(out.permits):
        if p.valid_until < p.valid_from:
            raise InvalidInput(f"permits.{i}.valid_until", "is before valid_from", kind="date_order")
    if out.jurisdiction is not None and out.jurisdiction not in JURISDICTIONS:
        raise InvalidInput(
            "jurisdiction", f"{out.jurisdiction!r} is not a configured jurisdiction", kind="choice"
        )
    return out


def _in_force(entry: Mapping[str, Any], on: dt.date) -> bool:
    until = entry.get("until")
    return bool(entry["from"] <= on and (until is None or on <= until))


def at_least_one_year(p: PriorPermit) -> bool:
    """一年以上 on the printed validity, both days counted (module docstring)."""
    return p.valid_until + dt.timedelta(days=1) >= add_years(p.valid_from, 1)


def _two_in_a_row(f: FiveYearFacts, conditions: list[dict[str, Any]]) -> tuple[bool | None, str]:
    history = sorted(f.permits, key=lambda p: (p.valid_from, p.valid_until))
    if not history:
        return None, "no residence-permit history given"
    last_two = history[-2:]
    if len(last_two) < 2 or any(p.type != "work" for p in last_two):
        return False, "the two most recent permits are not both work-type permits"
    first, second = last_two
    short = [p for p in last_two if not at_least_one_year(p)]
    if short:
        p = short[0]
        return (
            False,
            f"the permit {p.valid_from}..{p.valid_until} is shorter than one year (printed validity)",
        )
    if second.valid_from > first.valid_until + dt.timedelta(days=1):
        gap = (second.valid_from - first.valid_until).days - 1
        return (
            False,
            f"not in a row: {gap} day(s) without a permit between {first.valid_until} and {second.valid_from}",
        )
    if second.valid_until < f.on:
        return False, f"the run has ended: the later permit expired on {second.valid_until}"
    for cond in conditions:
        if cond["condition"] == "no_violations":
            if f.violations is None:
                return None, f"Office rule ({cond['source']}): no violations — not stated"
            if f.violations:
                return False, f"Office rule ({cond['source']}): a violation is on record"
        elif cond["condition"] == "same_jurisdiction":
            where = {p.jurisdiction for p in last_two}
            if None in where:
                return None, f"Office rule ({cond['source']}): where the permits were held is not given"
            if where != {f.jurisdiction}:
                return False, f"Office rule ({cond['source']}): both permits held in {f.jurisdiction}"
    return (
        True,
        f"work-type permits {first.valid_from}..{first.valid_until} and {second.valid_from}..{second.valid_until}",
    )


def _well_known(f: FiveYearFacts, lists: Sequence[Mapping[str, Any]]) -> tuple[bool | None, str]:
    if f.role is None:
        return None, "the role is not given"
    if f.role == "other":
        return False, "not a manager or professional-technical staff"
    active = [e for e in lists if _in_force(e, f.on)]
    if not active:
        return (
            None,
            "no list of well-known enterprises and research institutes is configured (none is national)",
        )
    if f.employer_code is None:
        return None, "the employer's code is not given"
    hit = next((e for e in active if e["code"] == f.employer_code), None)
    if hit is None:
        return False, "the employer is not on the configured list in force"
    return True, f"{f.role} at {hit['name']} (listed: {hit['source']})"


def five_year_permit(
    facts: Mapping[str, Any] | FiveYearFacts, *, well_known: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """Whether an office may grant a residence permit of up to five years, until when, on which grounds.

    ``well_known``: further list entries a deployment configures ({code, name, from, until?, source})."""
    f = parse(facts)
    start = f.start or f.on
    place = JURISDICTIONS.get(f.jurisdiction or "")
    if place is not None and not _in_force(place, f.on):
        place = None  # a jurisdiction's groups and conditions apply from its own date
    lists = [*_DATA.get("well_known", []), *(place.get("well_known", []) if place else []), *well_known]
    conditions = [c for c in (place.get("conditions", []) if place else [])]
    groups: list[dict[str, Any]] = []
    for code, g in GROUPS.items():
        if not _in_force(g, f.on):
            continue
        if code == "two_consecutive_work_permits":
            met, why = _two_in_a_row(f, [c for c in conditions if c["group"] == code])
            readings = [READING_ONE_YEAR, READING_IN_A_ROW]
        elif code == "well_known_employer_staff":
            met, why = _well_known(f, lists)
            readings = []
        else:
            met, why = f.research_team_member, "stated" if f.research_team_member else "not stated"
            readings = [READING_TEAM]
        groups.append(
            {
                "group": code,
                "zh": g["zh"],
                "met": met,
                "why": why,
                "citation": SEED.cite,
                "readings": readings,
            }
        )
    if place is not None:
        for g in place.get("group", []):
            if _in_force(g, f.on):
                met = g["claim"] in f.claims
                why = "claimed (to be shown by the documents)" if met else "not claimed"
                groups.append(
                    {
                        "group": g["code"],
                        "zh": g["zh"],
                        "met": met,
                        "why": why,
                        "citation": f"Office rule: {g['source']}",
                        "readings": [],
                    }
                )
    grounds = [g for g in groups if g["met"] is True]
    bounds = [
        {
            "bound": "law_art_30",
            "until": add_years(start, MAX_YEARS).isoformat(),
            "citation": law(30, paragraph=2).cite,
        },
    ]
    unknown = []
    if f.work_permit_valid_until is not None:
        bounds.append(
            {
                "bound": "work_permit",
                "until": f.work_permit_valid_until.isoformat(),
                "citation": f"{reg(16, 1).cite}; {RULES_ART17.cite} [S2]",
            }
        )
    else:
        unknown.append("work_permit_valid_until")
    if f.passport_valid_until is not None:
        bounds.append(
            {"bound": "passport", "until": f.passport_valid_until.isoformat(), "reading": READING_PASSPORT}
        )
    else:
        unknown.append("passport_valid_until")
    until = min(dt.date.fromisoformat(b["until"]) for b in bounds)
    out: dict[str, Any] = {
        "on": f.on.isoformat(),
        "start": start.isoformat(),
        "may_grant": bool(grounds) and until > start,
        "may_grant_until": None,
        "grounds": [g["group"] for g in grounds],
        "groups": groups,
        "bounds": bounds,
        "bounded_by": None,
        "unknown_bounds": unknown,
        "fee": None,
        "citations": [SEED.cite, law(30, paragraph=2).cite],
        "answer": "",
    }
    if not groups:
        first = min(g["from"] for g in GROUPS.values())
        out["answer"] = (
            f"No five-year group is in force on {f.on.isoformat()} (national groups from {first}, {SEED.cite})."
        )
        return out
    if not grounds:
        open_groups = [g["group"] for g in groups if g["met"] is None]
        out["answer"] = (
            "No group for a five-year permit is met"
            + (f"; not established: {', '.join(open_groups)}" if open_groups else "")
            + " — the ordinary validity rules apply (Law Art 30 para 2)."
        )
        return out
    if until <= start:
        out["answer"] = (
            f"A group is met, but the permit could not run past {until.isoformat()}, before it starts."
        )
        return out
    fee = residence_permit_fee(start, until)
    out.update(
        {
            "may_grant_until": until.isoformat(),
            "bounded_by": [b["bound"] for b in bounds if b["until"] == until.isoformat()],
            "fee": {
                "cny": fee.cny,
                "row": fee.row,
                "basis": fee.basis,
                "citations": [c.cite for c in fee.citations],
            },
            "answer": (
                f"May be granted a residence permit valid up to {until.isoformat()} (not an entitlement: the office "
                f"'may', 可 — {SEED.cite}), on these grounds: {', '.join(g['group'] for g in grounds)}"
                + (f"; still to be bounded by: {', '.join(unknown)}" if unknown else "")
                + "."
            ),
        }
    )
    return out
