"""Which office may accept (受理机关): the place of stay, or the nearest office (就近) — a dated rule.

- Exit and Entry Administration Law Art 29 para 1 (extension), Regulations Art 10 (replacement) and Art 11
  (reissue): the exit-entry administration at or above the county level *in the place of stay* (停留地).
- Regulations Art 16 para 1: a residence permit at the office of the *place of residence* (居留地).
- NIA 2024-01-11 no. 3 (``data/office_choice.toml``; reforms.md §7 [18] [S2]): extension, replacement and
  reissue for short-term business, visits, investment, family visits and tourism may be applied for at the
  nearest office (就近).
- Guide VII(II): acceptance first asks whether the application lies within the office's responsibilities.

Readings (each also in the answer):
- READING_NEAREST, READING_PURPOSE, READING_RESIDENCE, READING_AREA below [A].
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final, Literal

from cnvisa.law.citations import NIA_2024_01, Citation, guide, law, reg

Scope = Literal["nearest", "place_of_stay", "place_of_residence"]
OfficeLevel = Literal["provincial", "prefecture", "county"]
PREFIX: Final[dict[str, int]] = {"provincial": 2, "prefecture": 4, "county": 6}
"""How much of a GB/T 2260 code an office's area shares with its own code, by the office's level (Guide III)."""

PLACE_OF_STAY: Final[dict[str, Citation]] = {
    "visa_extension": law(29, paragraph=1),
    "visa_replacement": reg(10),
    "visa_reissue": reg(11),
}
"""停留地: the article binding each visa matter to the office of the place of stay."""
RESIDENCE_MATTERS: Final = (
    "residence_permit",
    "residence_permit_extension",
    "residence_permit_replacement",
    "residence_permit_reissue",
    "study_work_annotation",
)
PLACE_OF_RESIDENCE: Final = reg(16, paragraph=1)
"""居留地: Regulations Art 16 para 1."""
ACCEPTANCE: Final = guide("VII(II)")
OFFICES: Final = guide("III")

READING_NEAREST: Final = (
    "Reading [A]: 就近 (nearest) lifts the place-of-stay binding of Law Art 29 para 1 and Regulations Art 10 and 11 "
    "for the listed purposes: any exit-entry administration that handles visas (Guide III) may accept; nearness "
    "is the applicant's choice and the office does not check it."
)
READING_PURPOSE: Final = (
    "Reading [A]: the purpose is read from the visa category (Regulations Art 6): M short-term business and "
    "investment, F visits, Q2 and S2 (family visits) family, L tourism; for a replacement on a change of purpose or "
    "entry facilitation the category wanted, otherwise the visa held. Other purposes (S2 private or humanitarian "
    "matters, X2 study, C, G, J2, R, K, and every residence purpose) stay bound to the place of stay."
)
READING_RESIDENCE: Final = (
    "Reading [A]: the measure does not reach residence permits; Regulations Art 16 para 1 binds them to the place "
    "of residence, and their extension, replacement and reissue (Art 17 names no place) are read the same way."
)
READING_AREA: Final = (
    "Reading [A]: the place of stay is the GB/T 2260 code of where the foreigner stays (the accommodation "
    "registration, Law Art 39); an office covers it when it lies in the office's area — the same province, "
    "prefecture or county as the office's own code, by the office's level (Guide III)."
)

READINGS_ZH: Final[dict[str, str]] = {
    READING_NEAREST: "理解[A]：对所列事由，“就近”放宽了《出境入境管理法》第二十九条第一款及《条例》第十条、第十一条关于停留地的"
    "限制：办理签证业务的公安机关出入境管理机构（《指南》三）均可受理；是否就近由申请人选择，受理机关不予审查。",
    READING_PURPOSE: "理解[A]：事由按签证种类认定（《条例》第六条）：M字为短期商务、投资，F字为访问，Q2字及探亲的S2字为探亲，"
    "L字为旅游；因变更事由或入境便利申请换发的，按拟换发的签证种类，其他情形按所持签证。其他事由（S2字处理私人事务或人道"
    "事由、X2字学习，C、G、J2、R、K字及各类居留事由）仍由停留地受理。",
    READING_RESIDENCE: "理解[A]：该措施不适用于居留证件；《条例》第十六条第一款规定向居留地申请，居留证件的延期、换发、补发"
    "（第十七条未规定地点）亦同。",
    READING_AREA: "理解[A]：停留地为外国人停留地点的行政区划代码（GB/T 2260，以住宿登记为准，《出境入境管理法》第三十九条）；"
    "停留地在机关辖区内的（按机关级别，与机关代码同省、同地市或同县），该机关可以受理（《指南》三）。",
}
"""The readings in Chinese, shown beside the English."""


@dataclass(frozen=True, slots=True)
class Measure:
    from_: dt.date
    measure: str
    matters: tuple[str, ...]
    categories: dict[str, str]
    s2_not: tuple[str, ...]
    source: str

    @property
    def citation(self) -> Citation:
        return Citation(NIA_2024_01, self.measure, note=self.source)


def _load() -> tuple[Measure, ...]:
    data: dict[str, Any] = tomllib.loads(
        resources.files("cnvisa.law").joinpath("data/office_choice.toml").read_text(encoding="utf-8")
    )
    return tuple(
        Measure(
            m["from"],
            m["measure"],
            tuple(m["matters"]),
            dict(m["categories"]),
            tuple(m.get("s2_not", ())),
            m["source"],
        )
        for m in data["nearest"]
    )


MEASURES: Final = _load()


@dataclass(frozen=True, slots=True)
class OfficeRule:
    """Which offices may accept ``matter`` on a day: ``scope`` with its articles and readings."""

    matter: str
    scope: Scope
    category: str | None
    purpose: str | None
    """The listed purpose's words when the nearest office may accept (else None)."""
    since: dt.date | None
    citations: tuple[Citation, ...]
    readings: tuple[str, ...]

    @property
    def readings_zh(self) -> tuple[str, ...]:
        return tuple(READINGS_ZH[r] for r in self.readings)

    @property
    def en(self) -> str:
        if self.scope == "nearest":
            return (
                f"Any exit-entry administration may accept — apply at the nearest (就近) — for {self.purpose} "
                f"(NIA 2024-01-11 no. 3, from {self.since.isoformat() if self.since else ''})."
            )
        if self.scope == "place_of_residence":
            return "Only the exit-entry administration of the place of residence (居留地) may accept."
        return "Only the exit-entry administration of the place of stay (停留地) may accept."

    @property
    def zh(self) -> str:
        if self.scope == "nearest":
            return f"可就近向公安机关出入境管理机构申请（{self.purpose}；国家移民管理局2024年1月11日措施第三项）。"
        if self.scope == "place_of_residence":
            return "应当向居留地公安机关出入境管理机构申请。"
        return "应当向停留地县级以上地方人民政府公安机关出入境管理机构申请。"


def purpose_category(matter: str, ground: str | None, held: str | None, wanted: str | None) -> str | None:
    """The visa category that stands for the purpose of the application (READING_PURPOSE)."""
    if matter == "visa_replacement" and ground in ("change_of_purpose", "entry_facilitation"):
        return wanted
    return held


def office_rule(
    matter: str, on: dt.date, category: str | None, purpose: str | None = None
) -> OfficeRule | None:
    """Which offices may accept ``matter`` on ``on`` for a purpose read from ``category`` (and, for S2,
    ``purpose``); None for matters no article here binds (overseas and port visas, stay permits, exit)."""
    if matter in RESIDENCE_MATTERS:
        return OfficeRule(
            matter,
            "place_of_residence",
            category,
            None,
            None,
            (PLACE_OF_RESIDENCE,),
            (READING_RESIDENCE, READING_AREA),
        )
    if matter not in PLACE_OF_STAY:
        return None
    binding = PLACE_OF_STAY[matter]
    for m in sorted(MEASURES, key=lambda m: m.from_, reverse=True):
        if on < m.from_ or matter not in m.matters or category not in m.categories:
            continue
        if category == "S2" and purpose in m.s2_not:
            continue
        return OfficeRule(
            matter,
            "nearest",
            category,
            m.categories[category],
            m.from_,
            (m.citation, binding, OFFICES, ACCEPTANCE),
            (READING_NEAREST, READING_PURPOSE),
        )
    return OfficeRule(
        matter,
        "place_of_stay",
        category,
        None,
        None,
        (binding, OFFICES, ACCEPTANCE),
        (READING_PURPOSE, READING_AREA),
    )


def covers(office_region: str, office_level: str, place: str) -> bool:
    """Whether ``place`` lies in the area of an office with this code and level (READING_AREA)."""
    width = PREFIX.get(office_level, 6)
    return office_region[:width] == place[:width]


def may_accept(
    rule: OfficeRule, office_region: str | None, office_level: str | None, place: str | None
) -> bool | None:
    """Whether the office may accept under ``rule``: always when the nearest office may; when bound to a place,
    whether the office's area covers it; None when the office or the place is not known."""
    if rule.scope == "nearest":
        return True
    if office_region is None or office_level is None or place is None:
        return None
    return covers(office_region, office_level, place)
