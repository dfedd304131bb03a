"""Stay arithmetic, lawful status and enforcement — Regulations Art 24-25, 29-36; Law Art 60-62.

Art 36 para 1: (1) entries are counted within the entry validity; (2) a visa takes effect on its
date of issue and its entry validity ends at 24:00 Beijing time on its end date; (3) the duration of
stay counts from the day after entry; (4) short-term is a stay of at most 180 days (including 180);
(5) long-term/resident is more than 180 days.

Art 25: illegal residence is (1) overstaying the visa, stay or residence permit, (2) overstaying a
visa-free period without a stay or residence permit, (3) activities outside a restricted area
(Art 24), (4) other circumstances. While the passport is kept for processing, an acceptance
receipt is proof of lawful stay (Art 13 para 3, Art 18 para 3). A void or cancelled document
(Art 34-35) proves nothing.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Final, Literal

from cnvisa.law.citations import NIA_ANNOUNCEMENT, Citation, law, reg
from cnvisa.law.errors import InvalidInput, NotInForce
from cnvisa.law.versions import require_cited

BEIJING: Final = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
"""Beijing time, UTC+8 (no daylight saving since 1991)."""
SHORT_TERM_MAX_DAYS: Final = 180
EXIT_ORDER_MAX_DAYS: Final = 15
"""Art 33: the time limit to leave is at most 15 days."""
DETENTION_TRANSFER_HOURS: Final = 24
"""Art 29 para 2: within 24 hours to a detention centre or repatriation facility."""
ENTRY_BAN_YEARS: Final = (1, 5)
"""Law Art 62 para 2; Art 31: repatriated persons may not enter for one to five years."""


# --- Art 36: stay arithmetic ------------------------------------------------------------------


def last_day_of_stay(entry_date: dt.date, stay_days: int, extended_days: int = 0) -> dt.date:
    """Art 36 para 1(3): the stay counts from the day after entry, so its last day is entry + stay."""
    if stay_days < 0 or extended_days < 0:
        raise InvalidInput("visa.stay_days", "a duration of stay cannot be negative")
    return entry_date + dt.timedelta(days=stay_days + extended_days)


def entry_validity_ends_at(valid_until: dt.date) -> dt.datetime:
    """Art 36 para 1(2): 24:00 Beijing time on the end date, i.e. 00:00 of the next day."""
    return dt.datetime.combine(valid_until + dt.timedelta(days=1), dt.time(0, 0), tzinfo=BEIJING)


def may_enter_at(valid_until: dt.date, at: dt.datetime) -> bool:
    """Is the visa's entry validity still running at instant ``at`` (timezone-aware)?"""
    if at.tzinfo is None:
        raise InvalidInput("at", "an instant must carry its time zone")
    return at < entry_validity_ends_at(valid_until)


def term(stay_days: int) -> Literal["short", "long"]:
    """Art 36 para 1(4)-(5): short-term ≤ 180 days (including 180), long-term > 180."""
    return "short" if stay_days <= SHORT_TERM_MAX_DAYS else "long"


def entries_left(entries: str, used: int) -> int | None:
    """Art 36 para 1(1): entries still allowed; None for a multiple-entry visa (no count)."""
    if entries == "multiple":
        return None
    total = {"zero": 0, "single": 1, "double": 2}[entries]
    return max(0, total - used)


# --- visa-free programmes ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VisaFreeProgramme:
    code: str
    name_en: str
    name_zh: str
    valid_from: dt.date
    hours: int
    source: str
    nationalities: tuple[tuple[dt.date, frozenset[str], str], ...]
    valid_until: dt.date | None = None

    @property
    def citation(self) -> Citation:
        # "NIA announcement of 2024-12-17": an announcement has no articles (a bare date would read "Art ...").
        return Citation(NIA_ANNOUNCEMENT, f"of {self.valid_from.isoformat()}", note=self.source)

    def eligible(self, nationality: str, on: dt.date) -> bool:
        return any(on >= since and nationality.upper() in codes for since, codes, _ in self.nationalities)

    def last_day(self, entry_date: dt.date) -> dt.date:
        """Counted from 00:00 of the day after entry: 240 h end at 24:00 of entry + 10 days."""
        return entry_date + dt.timedelta(days=self.hours // 24)


def _load_programmes() -> dict[str, VisaFreeProgramme]:
    text = resources.files("cnvisa.law").joinpath("data/visa_free.toml").read_text(encoding="utf-8")
    out = {}
    for p in tomllib.loads(text)["programme"]:
        nats = [(p["from"], frozenset(p["nationalities"]), p["source"])]
        nats += [(a["from"], frozenset(a["nationalities"]), a["source"]) for a in p.get("added", [])]
        out[p["code"]] = VisaFreeProgramme(
            p["code"],
            p["name_en"],
            p["name_zh"],
            p["from"],
            int(p["hours"]),
            p["source"],
            tuple(nats),
            p.get("until"),
        )
    return out


VISA_FREE: Final = _load_programmes()


def visa_free_programme(code: str, on: dt.date) -> VisaFreeProgramme:
    prog = VISA_FREE.get(code)
    if prog is None:
        raise InvalidInput(
            "programme", f"unknown visa-free programme {code!r}; known: {', '.join(VISA_FREE)}"
        )
    if on < prog.valid_from:
        raise NotInForce(prog.name_en, on, prog.valid_from, prog.citation.cite)
    if prog.valid_until is not None and on > prog.valid_until:
        raise NotInForce(prog.name_en, on, prog.valid_from, prog.citation.cite)
    return prog


# --- Art 25: lawful status on a date -----------------------------------------------------------

HoldingKind = Literal["visa", "visa_free", "stay_permit", "residence_permit", "acceptance_receipt"]
DocumentState = Literal["valid", "void", "cancelled"]


@dataclass(frozen=True, slots=True)
class Holding:
    """A basis for being in China: a visa used for an entry, a visa-free entry, a permit or a receipt."""

    kind: HoldingKind
    number: str | None = None
    entry_date: dt.date | None = None
    stay_days: int | None = None
    extended_days: int = 0
    valid_until: dt.date | None = None
    programme: str | None = None
    state: DocumentState = "valid"

    def lawful_until(self) -> dt.date:
        if self.kind == "visa":
            if self.entry_date is None or self.stay_days is None:
                raise InvalidInput("holding", "a visa basis needs entry_date and stay_days")
            return last_day_of_stay(self.entry_date, self.stay_days, self.extended_days)
        if self.kind == "visa_free":
            if self.entry_date is None or self.programme is None:
                raise InvalidInput("holding", "a visa-free basis needs entry_date and programme")
            return visa_free_programme(self.programme, self.entry_date).last_day(self.entry_date)
        if self.valid_until is None:
            raise InvalidInput("holding", f"a {self.kind} basis needs valid_until")
        return self.valid_until


_BASIS_CITES: Final[dict[str, tuple[Citation, ...]]] = {
    "visa": (reg(36, 3, paragraph=1),),
    "visa_free": (reg(25, 2),),
    "stay_permit": (law(34),),
    "residence_permit": (law(30),),
    "acceptance_receipt": (reg(13, paragraph=3), reg(18, paragraph=3)),
}


@dataclass(frozen=True, slots=True)
class Status:
    lawful: bool
    basis: Holding | None
    until: dt.date | None
    ground: str | None
    """Art 25 item when unlawful: reg25_1 (overstay), reg25_2 (visa-free overstay), reg25_3 (area)."""
    citations: tuple[Citation, ...]
    overstay_days: int | None = None
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        return {
            "lawful": self.lawful,
            "basis": None if self.basis is None else {"kind": self.basis.kind, "number": self.basis.number},
            "until": None if self.until is None else self.until.isoformat(),
            "ground": self.ground,
            "overstay_days": self.overstay_days,
            "citations": [c.as_dict() for c in self.citations],
            "notes": list(self.notes),
        }


def residence_status(
    on: dt.date,
    holdings: Sequence[Holding],
    *,
    outside_restricted_area: bool = False,
) -> Status:
    """Art 25: is the person lawfully in China on ``on``, on which basis, until when?

    The basis lasting longest is reported. A void or cancelled document is no basis (Art 34-35).
    """
    if outside_restricted_area:
        return Status(False, None, None, "reg25_3", (reg(25, 3), reg(24)))
    best: tuple[dt.date, Holding] | None = None
    last_expired: tuple[dt.date, Holding] | None = None
    notes: list[str] = []
    for h in holdings:
        if h.state != "valid":
            notes.append(
                f"{h.kind} {h.number or ''} is {h.state} and proves nothing (Regulations Art 34-35)".strip()
            )
            continue
        until = h.lawful_until()
        if until >= on:
            if best is None or until > best[0]:
                best = (until, h)
        elif last_expired is None or until > last_expired[0]:
            last_expired = (until, h)
    if best is not None:
        return Status(True, best[1], best[0], None, _BASIS_CITES[best[1].kind], notes=tuple(notes))
    if last_expired is None:
        return Status(False, None, None, "reg25_4", (reg(25, 4),), notes=tuple(notes))
    until, h = last_expired
    ground, cite = ("reg25_2", reg(25, 2)) if h.kind == "visa_free" else ("reg25_1", reg(25, 1))
    return Status(False, h, until, ground, (cite,), (on - until).days, tuple(notes))


# --- Art 34-35: void and cancel ---------------------------------------------------------------

VOID_GROUNDS: Final[dict[str, Citation]] = {
    "damaged_lost_stolen_robbed": reg(34, 1),
    "ordered_to_leave_not_cancelled": reg(34, 2),
    "reason_changed_not_reported": reg(34, 3),
    "refusal_ground_law21_31": reg(34, 4),
}
CANCEL_GROUNDS: Final[dict[str, Citation]] = {
    "declared_void_or_used_by_others": reg(35, 1),
    "obtained_illegally": reg(35, 2),
    "ordered_to_leave_repatriated_expelled": reg(35, 3),
}


def declare_void(state: DocumentState, ground: str, *, on: dt.date) -> tuple[DocumentState, Citation]:
    """Art 34: the issuing authority declares the document void (on the spot or by announcement) on ``on``."""
    if ground not in VOID_GROUNDS:
        raise InvalidInput("ground", f"not a ground of Regulations Art 34: {ground!r}")
    require_cited(on, "declaring a document void (Regulations Art 34)", VOID_GROUNDS[ground])
    if state != "valid":
        raise InvalidInput("state", f"a {state} document cannot be declared void (Regulations Art 34)")
    return "void", VOID_GROUNDS[ground]


def cancel(state: DocumentState, ground: str, *, on: dt.date) -> tuple[DocumentState, Citation]:
    """Art 35: the public security authority cancels or confiscates on ``on``; it then notifies the issuer."""
    if ground not in CANCEL_GROUNDS:
        raise InvalidInput("ground", f"not a ground of Regulations Art 35: {ground!r}")
    require_cited(on, "cancelling a document (Regulations Art 35)", CANCEL_GROUNDS[ground])
    if state == "cancelled":
        raise InvalidInput("state", "the document is already cancelled")
    # Art 35(1) also covers documents "fraudulently used by others", which needs no prior
    # declaration of voidness: a valid document may be cancelled on that ground too.
    return "cancelled", CANCEL_GROUNDS[ground]


# --- Art 29, 33; Law Art 62: enforcement decision parameters ----------------------------------


@dataclass(frozen=True, slots=True)
class ParameterCheck:
    ok: bool
    message: str
    citations: tuple[Citation, ...]

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "message": self.message, "citations": [c.as_dict() for c in self.citations]}


def check_exit_deadline(decided_on: dt.date, leave_by: dt.date) -> ParameterCheck:
    """Art 33: an order to leave within a time limit sets at most 15 days (counted from the day
    after the decision, Civil Code Art 201)."""
    days = (leave_by - decided_on).days
    cites = (reg(33),)
    require_cited(decided_on, "the exit time limit (Regulations Art 33)", *cites)
    if days < 0:
        return ParameterCheck(False, "the exit date is before the decision", cites)
    if days > EXIT_ORDER_MAX_DAYS:
        return ParameterCheck(False, f"{days} days exceeds the 15-day maximum", cites)
    return ParameterCheck(True, f"{days} days, within the 15-day maximum", cites)


def check_detention_transfer(detained_at: dt.datetime, transferred_at: dt.datetime) -> ParameterCheck:
    """Art 29 para 2: a person detained for examination (Law Art 60) is sent to a detention centre
    or repatriation facility within 24 hours."""
    if detained_at.tzinfo is None or transferred_at.tzinfo is None:
        raise InvalidInput("detained_at", "instants must carry their time zone")
    hours = (transferred_at - detained_at).total_seconds() / 3600
    cites = (reg(29, paragraph=2), law(60))
    require_cited(
        detained_at.astimezone(BEIJING).date(), "the detention transfer (Regulations Art 29)", *cites
    )
    if hours < 0:
        return ParameterCheck(False, "transfer before detention", cites)
    if hours > DETENTION_TRANSFER_HOURS:
        return ParameterCheck(False, f"{hours:g} hours exceeds 24 hours", cites)
    return ParameterCheck(True, f"{hours:g} hours, within 24 hours", cites)


def check_entry_ban_years(years: int, *, decided_on: dt.date) -> ParameterCheck:
    """Law Art 62 para 2, Regulations Art 31: a person repatriated by a decision of ``decided_on`` is barred
    for 1 to 5 years."""
    lo, hi = ENTRY_BAN_YEARS
    cites = (law(62, paragraph=2), reg(31))
    require_cited(decided_on, "the entry ban after repatriation (Law Art 62)", *cites)
    if lo <= years <= hi:
        return ParameterCheck(True, f"{years} years, within 1-5 years", cites)
    return ParameterCheck(False, f"{years} years is outside 1-5 years", cites)
