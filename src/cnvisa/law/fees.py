"""Fees — Guide IX, as dated data (``data/fees.toml``).

Readings written down:
- The table prices the visa issued, by its entries. An extension grants no entry (Regulations
  Art 14 para 1: it does not change the entries or the entry validity), so it is charged as a
  zero-entry visa (IX1).
- "No more than half a year" (半年以内) and "no more than a year" (一年以内) include the bound
  (Civil Code Art 1259); the bound is counted in months from the date of issue. A multiple-entry
  visa valid longer than one year has no row in the Guide: the fee is unknown, never a guess.
- Reciprocal countries (IX7) pay per their arrangement: without a configured figure, unknown.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Final

from cnvisa.law.citations import Citation, guide
from cnvisa.law.errors import NotInForce
from cnvisa.law.periods import add_months


@dataclass(frozen=True, slots=True)
class FeeRow:
    code: str
    cny: int
    section: str
    en: str
    zh: str


@dataclass(frozen=True, slots=True)
class FeeTable:
    valid_from: dt.date
    source: str
    rows: dict[str, FeeRow]


def _load() -> tuple[FeeTable, ...]:
    raw = tomllib.loads(resources.files("cnvisa.law").joinpath("data/fees.toml").read_text(encoding="utf-8"))
    tables = []
    for t in raw["table"]:
        rows = {r["code"]: FeeRow(r["code"], int(r["cny"]), r["section"], r["en"], r["zh"]) for r in t["row"]}
        tables.append(FeeTable(t["from"], t["source"], rows))
    return tuple(sorted(tables, key=lambda t: t.valid_from, reverse=True))


TABLES: Final = _load()


@dataclass(frozen=True, slots=True)
class Fee:
    cny: int | None
    row: str | None
    basis: str
    citations: tuple[Citation, ...]


def table_on(on: dt.date) -> FeeTable:
    for table in TABLES:
        if on >= table.valid_from:
            return table
    raise NotInForce("The Guide IX fee table", on, TABLES[-1].valid_from, guide("IX").cite)


def fee_row(entries: str, entry_validity_days: int | None, on: dt.date) -> str | None:
    """Which Guide IX row prices a visa with these entries and entry validity; None if no row."""
    if entries in ("zero", "single", "double"):
        return entries
    if entry_validity_days is None:
        return None
    if entry_validity_days <= (add_months(on, 6) - on).days:
        return "multiple_half_year"
    if entry_validity_days <= (add_months(on, 12) - on).days:
        return "multiple_one_year"
    return None


def visa_fee(
    row: str | None,
    on: dt.date,
    reciprocal: bool | dict[str, int] | None = None,
) -> Fee:
    """The fee for a visa priced by ``row`` on ``on``."""
    table = table_on(on)
    if reciprocal:
        figures = reciprocal if isinstance(reciprocal, dict) else {}
        if row is not None and row in figures:
            return Fee(figures[row], row, "reciprocal arrangement (configured figure)", (guide("IX7"),))
        return Fee(
            None, row, "reciprocal country: no figure configured for this row — unknown", (guide("IX7"),)
        )
    if row is None:
        return Fee(None, None, "no row of the Guide IX table prices this visa — unknown", (guide("IX"),))
    r = table.rows[row]
    return Fee(r.cny, row, f"{r.en} ({table.source})", (guide(r.section),))


RESIDENCE_FEE_READING: Final = (
    "Reading: the validity band is counted as Law Art 30's ceiling is (the issue day not counted, Civil Code "
    "Art 201-202): a permit issued on D and valid until the same day three years later is valid three years; "
    "the bands include their lower bound (三年（含）; Civil Code Art 1259)."
)


@dataclass(frozen=True, slots=True)
class ResidenceFeeRow:
    code: str
    min_years: int
    cny: int
    en: str
    zh: str


def _load_residence() -> tuple[tuple[dt.date, str, tuple[ResidenceFeeRow, ...]], ...]:
    raw = tomllib.loads(resources.files("cnvisa.law").joinpath("data/fees.toml").read_text(encoding="utf-8"))
    tables = []
    for t in raw.get("residence_permit_table", []):
        rows = tuple(
            sorted(
                (
                    ResidenceFeeRow(r["code"], int(r["min_years"]), int(r["cny"]), r["en"], r["zh"])
                    for r in t["row"]
                ),
                key=lambda r: r.min_years,
                reverse=True,
            )
        )
        tables.append((t["from"], t["source"], rows))
    return tuple(sorted(tables, key=lambda t: t[0], reverse=True))


RESIDENCE_TABLES: Final = _load_residence()


def residence_permit_fee(issued_on: dt.date, valid_until: dt.date) -> Fee:
    """The fee for a residence permit issued on ``issued_on`` and valid until ``valid_until`` (by validity band)."""
    table = next((t for t in RESIDENCE_TABLES if issued_on >= t[0]), None)
    if table is None:
        return Fee(None, None, "no residence-permit fee table is loaded for this date — unknown", ())
    _valid_from, source, rows = table
    cite = Citation("发改价格〔2004〕2230号", "外国人居留许可收费", note=source)
    if valid_until > add_months(issued_on, 60):
        return Fee(None, None, "valid longer than five years: no band (Law Art 30 para 2) — unknown", (cite,))
    for row in rows:
        if valid_until >= add_months(issued_on, 12 * row.min_years):
            return Fee(row.cny, row.code, f"{row.en} ({source}). {RESIDENCE_FEE_READING}", (cite,))
    return Fee(None, None, "the permit ends before it is issued — no band", (cite,))
