"""The instruments' versions and the dates from which they apply.

Every rule is asked "as of" a date. A rule asked about a date before it came into force gives a
``NotInForce`` answer naming the date it applies from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from cnvisa.law.citations import GUIDE as GUIDE_INSTRUMENT
from cnvisa.law.citations import LAW, REGULATIONS, Citation, reg
from cnvisa.law.errors import NotInForce

ENGINE_VERSION: Final = "1"
"""Version of the trace format and of the engine's rule set (bumped when an answer can change)."""


@dataclass(frozen=True, slots=True)
class Version:
    key: str
    title: str
    in_force_from: dt.date
    source: str


REGULATIONS_2013: Final = Version(
    "regulations-2013",
    "Regulations (State Council Decree 637)",
    dt.date(2013, 9, 1),
    "State Council Decree 637 of 2013-07-12; Regulations Art 39: in force 2013-09-01",
)
REGULATIONS_2025: Final = Version(
    "regulations-2025",
    "Regulations as revised by State Council Decree 814",
    dt.date(2025, 10, 1),
    "State Council Decree 814, promulgated 2025-08-07, in force 2025-10-01 (adds the K visa, renumbers "
    "items of Art 6 and Art 7)",
)
LAW_2012: Final = Version(
    "law-2012",
    "Exit and Entry Administration Law (2012)",
    dt.date(2013, 7, 1),
    "Adopted 2012-06-30 by the NPC Standing Committee, in force 2013-07-01",
)
GUIDE: Final = Version(
    "guide",
    "NIA Guide on Visa Extension, Replacement and Reissuance for Foreigners",
    dt.date(2018, 4, 2),
    "The Guide bears no date; it names the National Immigration Administration, which exists from "
    "2018-04-02, so it is applied from that date and no earlier",
)

REGULATIONS_VERSIONS: Final = (REGULATIONS_2025, REGULATIONS_2013)


def regulations_version(on: dt.date) -> Version:
    """The text of the Regulations in force on ``on``."""
    for version in REGULATIONS_VERSIONS:
        if on >= version.in_force_from:
            return version
    raise NotInForce("The Regulations", on, REGULATIONS_2013.in_force_from, reg(39).cite)


def require(version: Version, on: dt.date, rule: str, cite: Citation) -> None:
    if on < version.in_force_from:
        raise NotInForce(rule, on, version.in_force_from, cite.cite)


def law_version(on: dt.date) -> str:
    """Identifier of the set of texts an answer on ``on`` is given under, e.g. ``regulations-2025``."""
    parts = [regulations_version(on).key, LAW_2012.key]
    if on >= GUIDE.in_force_from:
        parts.append(GUIDE.key)
    return "+".join(parts) + f"@engine-{ENGINE_VERSION}"


_FIRST_IN_FORCE: Final[dict[str, Version]] = {
    REGULATIONS: REGULATIONS_2013,
    LAW: LAW_2012,
    GUIDE_INSTRUMENT: GUIDE,
}


def in_force_from(cite: Citation) -> dt.date | None:
    """The first day the cited instrument applies (None for instruments that are not dated here, such as
    the Civil Code's counting rules or a technical standard)."""
    version = _FIRST_IN_FORCE.get(cite.instrument)
    return version.in_force_from if version else None


def require_cited(on: dt.date, rule: str, *cites: Citation) -> None:
    """Raise ``NotInForce`` when any instrument a rule rests on did not yet apply on ``on``."""
    for cite in cites:
        start = in_force_from(cite)
        if start is not None and on < start:
            raise NotInForce(rule, on, start, cite.cite)
