"""Citations: every answer of the law engine names the text that produced it.

Instruments are cited as the specification's README asks: ``Regulations Art 13 para 1``,
``Guide VI(II)5``, ``Exit and Entry Administration Law Art 29``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Final

REGULATIONS: Final = "Regulations"
"""Regulations of the PRC on the Administration of the Entry and Exit of Foreigners
(外国人入境出境管理条例; State Council Decree 637, revised by Decree 814)."""
LAW: Final = "Exit and Entry Administration Law"
"""Exit and Entry Administration Law of the PRC (出境入境管理法, 2012)."""
GUIDE: Final = "Guide"
"""NIA Guide on Visa Extension, Replacement and Reissuance for Foreigners."""
CIVIL_CODE: Final = "Civil Code"
"""Civil Code of the PRC (民法典): counting of periods (Art 201-204) and 以上/以下 (Art 1259)."""
NIA_2024: Final = "NIA measures 2024-03-20"
"""NIA measures announced at the State Council briefing of 2024-03-20."""
MPS_2023: Final = "MPS press conference 2023-08-03"
NIA_2024_01: Final = "NIA measures 2024-01-11"
"""The NIA's five measures to facilitate foreigners' travel to China, in force 2024-01-11 (reforms.md §6 [18])."""
PORT_LIST: Final = "Port visa port list"
"""A port of ``data/ports.toml`` with its source (Law Art 20 para 1: the ports the State Council approved)."""
STATE_COUNCIL_NOTICE: Final = "State Council holiday notice"
"""国务院办公厅关于部分节假日安排的通知 (one per year)."""
NIA_ANNOUNCEMENT: Final = "NIA announcement"
ICAO_9303: Final = "ICAO Doc 9303"
GB_NATIONAL_STANDARD: Final = "GB/T"


@dataclass(frozen=True, slots=True)
class Citation:
    """A pointer into an instrument: article (or Guide section), paragraph, item."""

    instrument: str
    article: str
    paragraph: int | None = None
    item: int | None = None
    note: str | None = None
    cite: str = field(init=False, repr=False, compare=False)
    """How the text is cited: ``Regulations Art 13 para 1``, ``Guide VI(II)5`` (computed once)."""
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Citations are immutable and looked up by the dozen in every assessment: the cited form and the hash
        # are computed once.
        object.__setattr__(self, "cite", self._format())
        key = (self.instrument, self.article, self.paragraph, self.item, self.note)
        object.__setattr__(self, "_hash", hash(key))

    def __hash__(self) -> int:
        return self._hash

    def _format(self) -> str:
        if self.instrument == GUIDE:
            return f"{GUIDE} {self.article}"
        head = (
            f"{self.instrument} Art {self.article}"
            if self.article[0].isdigit()
            else (f"{self.instrument} {self.article}")
        )
        if self.paragraph is not None:
            head += f" para {self.paragraph}"
        if self.item is not None:
            head += f"({self.item})"
        return head

    def __str__(self) -> str:
        return self.cite

    def as_dict(self) -> dict[str, object]:
        cached = _AS_DICT.get(self)
        if cached is not None:
            return dict(cached)
        out: dict[str, object] = {
            "cite": self.cite,
            "instrument": self.instrument,
            "article": self.article,
            "paragraph": self.paragraph,
            "item": self.item,
        }
        if self.note:
            out["note"] = self.note
        _AS_DICT[self] = out
        return dict(out)


_AS_DICT: dict[Citation, dict[str, object]] = {}
"""Citations are few and immutable: their JSON form is built once."""


@cache
def reg(article: int | str, item: int | None = None, paragraph: int | None = None) -> Citation:
    """Regulations article, e.g. ``reg(13, paragraph=2)`` → Regulations Art 13 para 2."""
    return Citation(REGULATIONS, str(article), paragraph, item)


@cache
def law(article: int | str, item: int | None = None, paragraph: int | None = None) -> Citation:
    """Exit and Entry Administration Law article."""
    return Citation(LAW, str(article), paragraph, item)


@cache
def guide(section: str) -> Citation:
    """Guide section, e.g. ``guide("VI(II)5")``."""
    return Citation(GUIDE, section)


@cache
def civil_code(article: int, paragraph: int | None = None) -> Citation:
    return Citation(CIVIL_CODE, str(article), paragraph)
