"""Multiple-entry business (M) visas by replacement in China (商务签证境内换发) — MPS 2023-08-03 within Guide
VI(III)3; the ceiling is dated data (``data/business_visa.toml``) with its source.

- Guide VI(III)3: a zero-, one-, two- or multiple-entry M visa, entry validity up to five years, stay up to 180
  days; VI(III) last sentence: the stay after replacement ends within one year of this entry.
- MPS 2023-08-03 (seed 003 l.12; reforms.md §7 [17] [S2]): a businessman needing repeated trips may, after entry,
  replace the visa with a multiple-entry business visa valid within 3 years (3年内多次入境有效商贸签证).

Readings (each also in the answer, ``READINGS``):
- The ceiling narrows the entry validity of a *multiple-entry* M visa issued by replacement, inside the Guide's
  five years (reforms.md §7) [A]; a zero-, one- or two-entry M visa keeps the Guide's bounds alone.
- Its day is the announcement, 2023-08-03; before it the Guide's bounds alone apply — the rule as it was [A].
- "5 years from 2024" (reforms.md §11 q9) is not adopted: it has no reliable source [A].
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from cnvisa.law.citations import MPS_2023, Citation, civil_code, guide
from cnvisa.law.periods import days_in_years

CATEGORY: Final = "M"
ENTRIES: Final = "multiple"


@dataclass(frozen=True, slots=True)
class Ceiling:
    """The longest entry validity of a multiple-entry M visa issued by replacement, from a day."""

    from_: dt.date
    years: int
    measure: str
    source: str
    reading: str
    reading_zh: str

    @property
    def citation(self) -> Citation:
        return Citation(MPS_2023, self.measure, note=self.source)

    def days(self, on: dt.date) -> int:
        """The ceiling in days from ``on`` to the corresponding day ``years`` later (Civil Code Art 202)."""
        return days_in_years(on, self.years)

    def as_dict(self, on: dt.date | None = None) -> dict[str, object]:
        """The ceiling as JSON; with ``on``, also its length in days from that day."""
        return {
            "from": self.from_.isoformat(),
            "years": self.years,
            **({"days": self.days(on)} if on is not None else {}),
            "citation": self.citation.as_dict(),
            "source": self.source,
        }


def _load() -> tuple[tuple[Ceiling, ...], tuple[tuple[str, str], ...]]:
    data: dict[str, Any] = tomllib.loads(
        resources.files("cnvisa.law").joinpath("data/business_visa.toml").read_text(encoding="utf-8")
    )
    ceilings = tuple(
        sorted(
            (
                Ceiling(c["from"], int(c["years"]), c["measure"], c["source"], c["reading"], c["reading_zh"])
                for c in data["ceiling"]
            ),
            key=lambda c: c.from_,
        )
    )
    unadopted = tuple((str(u["reading"]), str(u["reading_zh"])) for u in data.get("unadopted", []))
    return ceilings, unadopted


CEILINGS, UNADOPTED = _load()
GUIDE_BOUNDS: Final = guide("VI(III)3")
COUNTING: Final = civil_code(1259)


def ceiling_on(on: dt.date) -> Ceiling | None:
    """The ceiling in force on ``on`` (the latest that has begun); None before the first: the Guide alone."""
    current = None
    for c in CEILINGS:
        if c.from_ <= on:
            current = c
    return current


def readings(on: dt.date, zh: bool = False) -> list[str]:
    """The readings shown beside the rule on ``on`` (in Chinese with ``zh``): the ceiling's own — the first
    ceiling's before any applies, which says so — and the values not adopted."""
    c = ceiling_on(on) or (CEILINGS[0] if CEILINGS else None)
    own = [] if c is None else [c.reading_zh if zh else c.reading]
    return [*own, *(z if zh else en for en, z in UNADOPTED)]


def multiple_entry_max_days(on: dt.date, guide_max_days: int | None) -> int | None:
    """Longest entry validity of a multiple-entry M visa by replacement on ``on``: the Guide's bound
    (``guide_max_days``, VI(III)3), narrowed by the ceiling in force — never widened."""
    c = ceiling_on(on)
    if c is None:
        return guide_max_days
    return c.days(on) if guide_max_days is None else min(guide_max_days, c.days(on))
