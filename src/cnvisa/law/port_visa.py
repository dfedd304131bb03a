"""Port visas (口岸签证) — Exit and Entry Administration Law Art 20; the ports (``data/ports.toml``) and purposes.

- Law Art 20 para 1: a foreigner who must enter urgently for humanitarian reasons, or is invited for urgent
  business or emergency repairs, or has another urgent need and holds the competent department's consent, may
  apply at a port the State Council approved, to the port visa authority the MPS entrusts.
- Art 20 para 2: a travel agency organising inbound tourism may apply there for a group tourist visa.
- Art 20 para 3: passport and materials; the holder enters at the port where the visa was applied for.
- Art 20 para 4: the visa is valid for one entry; the stay it states is at most 30 days (以内/不得超过 include 30,
  Civil Code Art 1259).
- MPS 2023-08-03 (seed 003 l.12; reforms.md §6 [17] [S2]): port visas for invited businessmen on an invitation
  letter and enterprise materials — negotiation, trade, installation and repair, exhibition, investment.
- NIA 2024-01-11 no. 1 (reforms.md §6 [18] [S2]): widened to business cooperation, visits, investment, visiting
  relatives and private affairs, on invitation letters and other supporting materials.

Readings (each also in the answer):
- Dates: the port and the purpose are taken on the arrival date — the visa is issued at the port on arrival
  (Art 20 para 3); an application made in advance gets only a preliminary approval (NIA FAQs 2024-02-27).
- Consent: the competent department's consent (Art 20 para 1) is asked for business, visits, family and private
  affairs until the measure that names the purpose; from then the invitation letter (and, for business, the
  enterprise's materials) is read as that proof [A]. Humanitarian entry stands in its own clause and needs no
  consent; group tourism (para 2) is the travel agency's application.
- Category: the visa category matching the purpose (NIA FAQs: a port visa is a way of applying, not a category):
  business M, visits F, relatives Q2 (a Chinese citizen or permanent resident) or S2 (a foreigner residing in
  China), private affairs and humanitarian S2 (Q2 when the person visited is a citizen or permanent resident),
  group tourism L (Regulations Art 6).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final, Literal, get_args

from cnvisa.law.application import PortInviter
from cnvisa.law.citations import (
    MPS_2023,
    NIA_2024_01,
    PORT_LIST,
    Citation,
    civil_code,
    law,
    reg,
)

MAX_STAY_DAYS: Final = 30
"""Law Art 20 para 4: 签证注明的停留期限不得超过三十日."""
ENTRIES: Final = "single"
"""Law Art 20 para 4: 一次入境有效."""

LAW20_WHO: Final = law(20, paragraph=1)
LAW20_GROUP: Final = law(20, paragraph=2)
LAW20_PORT: Final = law(20, paragraph=3)
LAW20_LIMITS: Final = law(20, paragraph=4)
MPS_MEASURE: Final = Citation(
    MPS_2023,
    "seed 003 l.12",
    note="port visas for invited businessmen on an invitation letter and enterprise materials: negotiation, trade, "
    "installation and repair, exhibition, investment (reforms.md §6 [17]) [S2]",
)
NIA_MEASURE: Final = Citation(
    NIA_2024_01,
    "no. 1",
    note="port visas widened to business cooperation, visits, investment, visiting relatives, private affairs, on "
    "invitation letters and other supporting materials (reforms.md §6 [18]) [S2]",
)
MPS_MEASURE_FROM: Final = dt.date(2023, 8, 3)
"""Reading [A]: the sources give the announcement (2023-08-03), not a day in force; the announcement is used."""
NIA_MEASURE_FROM: Final = dt.date(2024, 1, 11)
LAW_FROM: Final = dt.date(2013, 7, 1)
"""The Exit and Entry Administration Law is in force from 2013-07-01."""

INVITER_KINDS: Final[tuple[str, ...]] = get_args(PortInviter)

READING_DATE: Final = (
    "Reading [A]: the port and the purpose are taken on the arrival date — the visa is issued at the port on "
    "arrival (Law Art 20 para 3); an application made in advance gets a preliminary approval only."
)
READING_CONSENT: Final = (
    "Reading [A]: from the measure naming the purpose (MPS 2023-08-03 for business; NIA 2024-01-11 no. 1 for "
    "the widened purposes) the invitation letter, with the enterprise's materials for business, is read as the "
    "proof Law Art 20 para 1 asks for; before it, the competent department's consent is required."
)
READING_CATEGORY: Final = (
    "Reading: a port visa is a way of applying, not a category (NIA FAQs 2024-02-27); it is issued in the "
    "category matching the purpose (Regulations Art 6)."
)


# -- ports ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Port:
    code: str
    name_zh: str
    name_en: str
    kind: str
    from_: dt.date
    from_kind: Literal["start", "attested"]
    until: dt.date | None
    source: str

    @property
    def citation(self) -> Citation:
        return Citation(PORT_LIST, self.code, note=self.source)

    def in_force(self, on: dt.date) -> bool:
        return self.from_ <= on and (self.until is None or on <= self.until)

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "kind": self.kind,
            "from": self.from_.isoformat(),
            "from_kind": self.from_kind,
            "until": self.until.isoformat() if self.until else None,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Suspension:
    from_: dt.date
    until: dt.date | None
    source: str

    @property
    def citation(self) -> Citation:
        return Citation(PORT_LIST, f"suspension from {self.from_.isoformat()}", note=self.source)


def _load() -> tuple[dict[str, Port], tuple[Suspension, ...]]:
    data: dict[str, Any] = tomllib.loads(
        resources.files("cnvisa.law").joinpath("data/ports.toml").read_text(encoding="utf-8")
    )
    ports = {
        p["code"]: Port(
            p["code"],
            p["name_zh"],
            p["name_en"],
            p["kind"],
            p["from"],
            p["from_kind"],
            p.get("until"),
            p["source"],
        )
        for p in data["port"]
    }
    stops = tuple(Suspension(s["from"], s.get("until"), s["source"]) for s in data.get("suspension", []))
    return ports, stops


PORTS, SUSPENSIONS = _load()


def suspension_on(on: dt.date) -> Suspension | None:
    """The national suspension of port visas in force on ``on``, if any."""
    for s in SUSPENSIONS:
        if s.from_ <= on and (s.until is None or on <= s.until):
            return s
    return None


def ports_in_force(on: dt.date) -> list[Port]:
    """The listed ports issuing port visas on ``on`` (none during a national suspension)."""
    if suspension_on(on) is not None:
        return []
    return [p for p in PORTS.values() if p.in_force(on)]


def codes_in_force(on: dt.date) -> list[str]:
    """The codes of ``ports_in_force``."""
    return [p.code for p in ports_in_force(on)]


@dataclass(frozen=True, slots=True)
class PortCheck:
    """Whether ``port`` issues port visas on a day: ``problem`` is None when it does."""

    port: Port | None
    problem: str | None
    en: str
    zh: str
    citations: tuple[Citation, ...]


def check_port(code: str, on: dt.date) -> PortCheck:
    """Law Art 20 para 1: only a port the State Council approved, on the dates of its source (``data/ports.toml``)."""
    port = PORTS.get(code)
    if port is None:
        return PortCheck(
            None,
            "port_not_listed",
            f"{code!r} is not a port listed as issuing port visas: Law Art 20 para 1 allows them only at ports the "
            "State Council approved, and the port list holds only ports with a source (it is partial).",
            f"{code}不在办理口岸签证业务的口岸名单内（名单仅收录有来源的口岸）。口岸签证仅在国务院批准办理口岸签证业务的口岸办理。",
            (LAW20_WHO,),
        )
    cites = (LAW20_WHO, port.citation)
    stop = suspension_on(on)
    if stop is not None:
        until = stop.until.isoformat() if stop.until else "further notice"
        return PortCheck(
            port,
            "port_visas_suspended",
            f"Port visas were suspended nationally from {stop.from_.isoformat()} to {until}: none is issued at "
            f"{port.name_en} on {on.isoformat()}.",
            f"口岸签证自{stop.from_.isoformat()}起暂停（至{until}），{on.isoformat()}{port.name_zh}不签发口岸签证。",
            (LAW20_WHO, stop.citation),
        )
    if on < port.from_:
        if port.from_kind == "attested":
            return PortCheck(
                port,
                "port_not_established_on_date",
                f"{port.name_en} is attested issuing port visas from {port.from_.isoformat()} only; whether it did on "
                f"{on.isoformat()} has no source.",
                f"{port.name_zh}办理口岸签证的来源始于{port.from_.isoformat()}，{on.isoformat()}是否办理无来源可证。",
                cites,
            )
        return PortCheck(
            port,
            "port_not_yet_issuing",
            f"{port.name_en} issues port visas from {port.from_.isoformat()}; on {on.isoformat()} it did not yet.",
            f"{port.name_zh}自{port.from_.isoformat()}起办理口岸签证，{on.isoformat()}尚未开办。",
            cites,
        )
    if port.until is not None and on > port.until:
        return PortCheck(
            port,
            "port_no_longer_issuing",
            f"{port.name_en} issued port visas until {port.until.isoformat()}; on {on.isoformat()} it no longer does.",
            f"{port.name_zh}办理口岸签证至{port.until.isoformat()}止，{on.isoformat()}已不再办理。",
            cites,
        )
    return PortCheck(port, None, "", "", cites)


# -- purposes ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PortPurpose:
    code: str
    category: str | None
    """Regulations Art 6; None: decided by the person visited (``category_for``) or not determinable (other)."""
    basis: tuple[Citation, ...]
    from_: dt.date
    """First day the purpose qualifies for a port visa."""
    materials: tuple[str, ...]
    consent_until: dt.date | None
    """Law Art 20 para 1: the competent department's consent is required on days before this (None: never)."""
    urgent: bool = True
    """Law Art 20 para 1 asks an urgent need; para 2 (group tourism) does not."""


_BUSINESS = ("port_visa_invitation", "inviter_enterprise_documents")
_ALWAYS: Final = dt.date.max
PURPOSES: Final[dict[str, PortPurpose]] = {
    p.code: p
    for p in (
        *(
            PortPurpose(code, "M", (LAW20_WHO, MPS_MEASURE), LAW_FROM, _BUSINESS, MPS_MEASURE_FROM)
            for code in ("negotiation", "trade", "installation_repair", "exhibition", "investment")
        ),
        PortPurpose(
            "business_cooperation",
            "M",
            (LAW20_WHO, NIA_MEASURE),
            NIA_MEASURE_FROM,
            _BUSINESS,
            NIA_MEASURE_FROM,
        ),
        PortPurpose(
            "visit",
            "F",
            (LAW20_WHO, NIA_MEASURE),
            NIA_MEASURE_FROM,
            ("port_visa_invitation",),
            NIA_MEASURE_FROM,
        ),
        PortPurpose(
            "family_visit",
            None,
            (LAW20_WHO, NIA_MEASURE),
            NIA_MEASURE_FROM,
            ("port_visa_invitation", "kinship_proof"),
            NIA_MEASURE_FROM,
        ),
        PortPurpose(
            "private_affairs",
            "S2",
            (LAW20_WHO, NIA_MEASURE),
            NIA_MEASURE_FROM,
            ("private_affairs_documents",),
            NIA_MEASURE_FROM,
        ),
        PortPurpose("humanitarian", None, (LAW20_WHO,), LAW_FROM, ("proof_of_humanitarian_need",), None),
        PortPurpose(
            "group_tourism", "L", (LAW20_GROUP,), LAW_FROM, ("travel_agency_invitation",), None, urgent=False
        ),
        PortPurpose("other", None, (LAW20_WHO,), LAW_FROM, ("port_visa_invitation",), _ALWAYS),
    )
}
"""Purpose → the port visa it may give (module docstring). Any other purpose does not qualify."""
CONSENT_MATERIAL: Final = "competent_department_consent"


def basis_on(purpose: PortPurpose, on: dt.date) -> tuple[Citation, ...]:
    """The texts a purpose rests on, on ``on``: a measure is cited only from its day."""
    since = {MPS_MEASURE: MPS_MEASURE_FROM, NIA_MEASURE: NIA_MEASURE_FROM}
    return tuple(c for c in purpose.basis if on >= since.get(c, LAW_FROM))


def consent_required(purpose: PortPurpose, on: dt.date) -> bool:
    """Law Art 20 para 1 (READING_CONSENT)."""
    return purpose.consent_until is not None and on < purpose.consent_until


def category_for(purpose: PortPurpose, inviter: str | None) -> str | None:
    """Regulations Art 6: Q2 visits a Chinese citizen or permanent resident, S2 a foreigner residing in China or
    private affairs; humanitarian entry is private affairs (S2) unless the person visited is a citizen or resident."""
    if purpose.category is not None:
        return purpose.category
    if purpose.code in ("family_visit", "humanitarian"):
        if inviter in ("chinese_citizen", "permanent_resident"):
            return "Q2"
        if inviter == "foreigner_residing" or purpose.code == "humanitarian":
            return "S2"
    return None


# -- after entry: extension -------------------------------------------------------------------------------------
def extension_ceiling(original_stay_days: int, extended_days: int) -> int:
    """Longest further extension of a port visa's stay: cumulative extensions never exceed the stay the visa
    states (Law Art 29 para 2; Regulations Art 14 para 1), which is at most 30 days (Law Art 20 para 4)."""
    return max(0, min(original_stay_days, MAX_STAY_DAYS) - extended_days)


EXTENSION_CITATIONS: Final = (LAW20_LIMITS, law(29, paragraph=2), reg(14, paragraph=1), civil_code(1259))
