"""Work permits for foreigners: categories A/B/C and the points table (计点积分), as dated, cited data.

Instruments (``data/work_permit_points.toml`` names the source of every value):
- 外国人来华工作分类标准（试行） (the Classification Standard): A — high-end talent (一), B — professionals (二),
  C — others (三). A by a listed route (一(一)-(五): talent programme, internationally recognised achievement,
  encouraged post, innovation and entrepreneurship, outstanding young talent) or by 85 points or more (一(六));
  B by 60 points or more (二). 以上 includes the number itself (Civil Code Art 1259).
- 积分要素计分赋值表, the points table annexed to it, in two published versions: the 试用版 (pilot, 2016-17)
  and the 暂行版 (nationwide from 2017-04-01). The version is chosen by ``on``.

Readings written down (each is also in the output, beside the factor it governs):
- Age is counted in completed years (周岁) on ``on`` (cnvisa.law.periods.completed_years: Civil Code
  Art 201-203; SPC 法释〔2006〕1号 Art 2). The 暂行版 prints closed bands [18,25] [26,45] …: counted in
  completed years an age is a whole number, so there is no gap between 25 and 26 — 25 years and 11 months is
  25, band [18,25], 10 points; from the day after the 26th birthday, 15 points.
- The 试用版 prints half-open bands [18,25) [26,45) [46,55) [56,60) and "大于60": the ages 25, 45, 55 and 60
  fall in no band. cnvisa does not invent the missing points: the age factor is not computable there; the
  answer gives the range of the two bands that meet at that age and a category only when both ends of the
  range give the same one.
- Under 18 no band is printed (and a work permit requires 年满18周岁: 外国人来华工作许可服务指南（暂行）
  适用人员 1): not computable, range 0 to the cap.
- Salary is the annual salary paid by the employer in China in CNY; a band [a,b) in 万元 takes a*10,000
  and less than b*10,000. Experience is in completed years; months in China a year in whole months.
- The Chinese factor takes the best single item (HSK level, a Chinese-taught degree, former Chinese
  nationality where listed), capped; extras and the provincial bonus are summed and capped.
- The non-points route to B (a bachelor's degree and 2 years' related experience, normally age 60 or under)
  needs facts this function does not take (relatedness, the post): it is pointed out, not decided.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cnvisa.law.application import LawDate, _invalid
from cnvisa.law.citations import Citation
from cnvisa.law.errors import InvalidInput, NotInForce
from cnvisa.law.periods import AGE_CITATIONS, completed_years

STANDARD: Final = "外国人来华工作分类标准（试行）"
GUIDE_2017: Final = "外国人来华工作许可服务指南（暂行）"

DIRECT_A: Final[dict[str, tuple[str, str]]] = {
    "talent_programme": ("一(一)", "入选国内人才引进计划的"),
    "international_achievement": ("一(二)", "符合国际公认的专业成就认定标准的"),
    "encouraged_post": ("一(三)", "符合市场导向的鼓励类岗位需求的"),
    "innovation_entrepreneurship": ("一(四)", "创新创业人才"),
    "outstanding_young_talent": ("一(五)", "优秀青年人才"),
}
"""The routes to category A without points (分类标准 一(一)-(五), in the order the standard lists them)."""
CHINESE_CODES: Final = ("chinese_taught_degree", "former_chinese_national")
EXTRA_CODES: Final = ("renowned_university", "fortune_500", "intellectual_property", "five_years_in_china")
_CODE = re.compile(
    "^(" + "|".join([*DIRECT_A, *CHINESE_CODES, *EXTRA_CODES]) + r"|provincial_bonus:(10|[0-9]))$"
)


@dataclass(frozen=True, slots=True)
class Band:
    lo: int
    hi: int | None
    lo_closed: bool
    hi_closed: bool
    points: int

    def holds(self, value: int) -> bool:
        above = value >= self.lo if self.lo_closed else value > self.lo
        below = self.hi is None or (value <= self.hi if self.hi_closed else value < self.hi)
        return above and below

    def printed(self) -> str:
        if self.hi is None:
            return f"{'≥' if self.lo_closed else '>'}{self.lo}"
        return f"{'[' if self.lo_closed else '('}{self.lo},{self.hi}{']' if self.hi_closed else ')'}"


@dataclass(frozen=True, slots=True)
class TableVersion:
    code: str
    name: str
    name_en: str
    valid_from: dt.date
    source: str
    a_points: int
    b_points: int
    direct_a: tuple[str, ...]
    raw: Mapping[str, Any] = field(repr=False)

    def cap(self, factor: str) -> int:
        return int(self.raw[factor]["cap"])

    def cite(self, item: str) -> Citation:
        return Citation(self.name, item, note=self.source)


def _bands(rows: list[dict[str, Any]]) -> tuple[Band, ...]:
    out = []
    for row in rows:
        hi = row.get("hi")
        out.append(
            Band(
                int(row["lo"]),
                None if hi is None else int(hi),
                bool(row.get("lo_closed", True)),
                bool(row.get("hi_closed", False)),
                int(row["points"]),
            )
        )
    return tuple(out)


def _load() -> tuple[TableVersion, ...]:
    text = resources.files("cnvisa.law").joinpath("data/work_permit_points.toml").read_text(encoding="utf-8")
    versions = [
        TableVersion(
            v["code"],
            v["name"],
            v["name_en"],
            v["from"],
            v["source"],
            int(v["a_points"]),
            int(v["b_points"]),
            tuple(v["direct_a"]),
            v,
        )
        for v in tomllib.loads(text)["version"]
    ]
    return tuple(sorted(versions, key=lambda v: v.valid_from, reverse=True))


VERSIONS: Final = _load()


def version_on(on: dt.date) -> TableVersion:
    """The points table in use on ``on`` (the later version from its date)."""
    for version in VERSIONS:
        if on >= version.valid_from:
            return version
    raise NotInForce(
        "The work-permit points table", on, VERSIONS[-1].valid_from, f"{STANDARD} 积分要素计分赋值表"
    )


class WorkPermitFacts(BaseModel):
    """The facts the points table scores (input of ``cnvisa law work-permit-points``)."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, title="cnvisa work-permit points facts"
    )

    on: LawDate = Field(description="The date the points are counted on (chooses the table version)")
    birth_date: LawDate
    education: Literal["doctorate", "master", "bachelor", "other"]
    annual_salary_cny: Annotated[int, Field(ge=0, le=10**10, description="Annual salary paid in China, CNY")]
    years_experience: Annotated[int, Field(ge=0, le=80, description="Completed years of work experience")]
    months_in_china_per_year: Annotated[int, Field(ge=0, le=12)]
    hsk_level: Annotated[int, Field(ge=0, le=6, description="HSK level passed; 0 for none")]
    region: Literal["ordinary", "west_northeast_poor"]
    extras: Annotated[
        list[Annotated[str, Field(pattern=_CODE.pattern)]],
        Field(
            max_length=20,
            description="Codes: a direct route to A ("
            + ", ".join(DIRECT_A)
            + "); Chinese ("
            + ", ".join(CHINESE_CODES)
            + "); extras ("
            + ", ".join(EXTRA_CODES)
            + "); provincial_bonus:N (N 0-10, the province's figure)",
        ),
    ]

    @field_validator("extras")
    @classmethod
    def _once(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for code in value:
            key = code.partition(":")[0]
            if key in seen:
                raise ValueError(f"{key!r} is given twice")
            seen.add(key)
        return value


def parse(facts: Mapping[str, Any] | WorkPermitFacts) -> WorkPermitFacts:
    """Validate the facts; an error names the field."""
    if isinstance(facts, WorkPermitFacts):
        return facts
    if not isinstance(facts, Mapping):
        raise InvalidInput("facts", "must be a JSON object")
    try:
        out = WorkPermitFacts.model_validate(dict(facts))
    except ValidationError as exc:
        found = [_invalid(err) for err in exc.errors(include_url=False)]
        found = [
            InvalidInput(
                e.field, "is not a known code (see `cnvisa law work-permit-points --schema`)", kind=e.kind
            )
            if e.kind == "string_pattern_mismatch"
            else e
            for e in found
        ]
        if found[0].kind == "extra_forbidden":
            found[0] = InvalidInput(
                found[0].field, "is not a field of the work-permit points facts", kind="extra"
            )
        first = found[0]
        raise InvalidInput(
            first.field, first.message, kind=first.kind, params=first.params, also=found[1:]
        ) from None
    if out.birth_date >= out.on:
        raise InvalidInput("birth_date", f"must be before on ({out.on.isoformat()})", kind="date_order")
    return out


def json_schema() -> dict[str, Any]:
    schema = WorkPermitFacts.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


@dataclass(frozen=True, slots=True)
class Factor:
    factor: str
    points: int | None
    """None when the table prints no value for these facts (see ``reading``)."""
    cap: int
    basis: str
    citation: Citation
    low: int
    high: int
    reading: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "factor": self.factor,
            "points": self.points,
            "cap": self.cap,
            "basis": self.basis,
            "citation": self.citation.cite,
            "source": self.citation.note,
        }
        if self.points is None:
            out["range"] = [self.low, self.high]
        if self.reading:
            out["reading"] = self.reading
        return out


def _fixed(
    factor: str, points: int, cap: int, basis: str, cite: Citation, reading: str | None = None
) -> Factor:
    return Factor(factor, points, cap, basis, cite, points, points, reading)


def _in_bands(bands: tuple[Band, ...], value: int) -> Band | None:
    return next((b for b in bands if b.holds(value)), None)


AGE_READING: Final = (
    "Reading: age in completed years (周岁) on `on` — the N-th year completes at the end of the N-th birthday "
    "(Civil Code Art 201-203; SPC 法释〔2006〕1号 Art 2), so an age is a whole number."
)
NO_GAP_READING: Final = (
    " The 暂行版's closed bands [18,25] [26,45] therefore leave no gap: 25 years 11 months is 25 (10 points), "
    "26 from the day after the 26th birthday (15 points)."
)


def _age(v: TableVersion, facts: WorkPermitFacts) -> Factor:
    age = completed_years(facts.birth_date, facts.on)
    bands = _bands(v.raw["age"]["bands"])
    cap = v.cap("age")
    cite = v.cite("年龄（岁）")
    found = _in_bands(bands, age)
    law_cites = ", ".join(c.cite for c in AGE_CITATIONS)
    if found is not None:
        reading = AGE_READING + (
            NO_GAP_READING if all(b.hi_closed for b in bands if b.hi is not None) else ""
        )
        return _fixed(
            "age", found.points, cap, f"{age} 周岁: band {found.printed()}", cite, f"{reading} ({law_cites})"
        )
    if age < bands[0].lo:
        return Factor(
            "age",
            None,
            cap,
            f"{age} 周岁: the table prints no band under {bands[0].lo}",
            cite,
            0,
            cap,
            f"Not computable: no band is printed; a work permit requires 年满18周岁 ({GUIDE_2017} 适用人员 1).",
        )
    meeting = [b for b in bands if b.hi == age or (b.lo in (age, age + 1) and not b.holds(age))]
    near = [b.points for b in meeting]
    return Factor(
        "age",
        None,
        cap,
        f"{age} 周岁: in no band as printed (" + " ".join(b.printed() for b in meeting) + ")",
        cite,
        min(near),
        max(near),
        f"Not computable: the {v.name} prints half-open bands and {age} falls between them; the range is "
        "that of the two bands meeting there, and no value is invented.",
    )


def _salary(v: TableVersion, facts: WorkPermitFacts) -> Factor:
    bands = _bands(v.raw["salary"]["bands"])
    wan = facts.annual_salary_cny / 10_000
    band = next(b for b in bands if wan >= b.lo)
    nxt = next((b.lo for b in reversed(bands) if b.lo > band.lo), None)
    printed = f"[{band.lo},{nxt})" if nxt is not None else f"{band.lo} 及以上"
    return _fixed(
        "salary",
        band.points,
        v.cap("salary"),
        f"CNY {facts.annual_salary_cny:,} a year = {wan:g} 万元: band {printed}",
        v.cite("国内聘用单位支付年薪（万元）"),
    )


def _experience(v: TableVersion, facts: WorkPermitFacts) -> Factor:
    rule = v.raw["experience"]
    cap = int(rule["cap"])
    years = facts.years_experience
    points = (
        0
        if years < rule["from_years"]
        else min(cap, rule["base"] + (years - rule["from_years"]) * rule["per_year"])
    )
    return _fixed(
        "experience",
        points,
        cap,
        f"{years} years: 2 years {rule['base']}, +{rule['per_year']} a further year, at most {cap}",
        v.cite("工作年限"),
    )


def _months(v: TableVersion, facts: WorkPermitFacts) -> Factor:
    band = next(b for b in _bands(v.raw["months"]["bands"]) if facts.months_in_china_per_year >= b.lo)
    return _fixed(
        "months_in_china",
        band.points,
        v.cap("months"),
        f"{facts.months_in_china_per_year} months a year in China (at least {band.lo})",
        v.cite("每年工作时间"),
    )


def _chinese(v: TableVersion, facts: WorkPermitFacts) -> Factor:
    rule = v.raw["chinese"]
    cap = int(rule["cap"])
    items = [(int(rule["hsk"][facts.hsk_level]), f"HSK {facts.hsk_level}")]
    unlisted = []
    for code in CHINESE_CODES:
        if code in facts.extras:
            if code in rule:
                items.append((int(rule[code]), code))
            else:
                unlisted.append(code)
    points, why = max(items)
    basis = f"best item: {why}" + (f"; not items of this version: {', '.join(unlisted)}" if unlisted else "")
    return _fixed("chinese", min(cap, points), cap, basis, v.cite("汉语水平"))


def _extras(v: TableVersion, facts: WorkPermitFacts) -> Factor:
    rule = v.raw["extras"]
    cap = int(rule["cap"])
    got = [c for c in EXTRA_CODES if c in facts.extras and c in rule]
    unlisted = [c for c in EXTRA_CODES if c in facts.extras and c not in rule]
    points = min(cap, sum(int(rule[c]) for c in got))
    basis = (", ".join(got) or "none claimed") + (
        f"; not items of this version: {', '.join(unlisted)}" if unlisted else ""
    )
    return _fixed("extras", points, cap, basis, v.cite("毕业于知名大学或有全球500强企业任职经验等"))


def _provincial(v: TableVersion, facts: WorkPermitFacts) -> Factor:
    cap = v.cap("provincial")
    claimed = [int(c.partition(":")[2]) for c in facts.extras if c.startswith("provincial_bonus:")]
    points = min(cap, sum(claimed))
    return _fixed(
        "provincial_bonus",
        points,
        cap,
        f"the province's figure as given: {points}" if claimed else "none claimed",
        v.cite("地方鼓励性加分"),
        "The province sets its own standard (由省级外国人工作管理部门制定具体标准); cnvisa loads none and "
        "counts the figure given as provincial_bonus:N.",
    )


def _category(points: int, v: TableVersion) -> Literal["A", "B", "C"]:
    return "A" if points >= v.a_points else "B" if points >= v.b_points else "C"


def points_and_category(facts: Mapping[str, Any] | WorkPermitFacts) -> dict[str, Any]:
    """Points, category and the table version for ``facts``, each factor with its points and citation.

    ``points`` is the sum of the factors the table prices; when one is not computable (``complete`` false)
    ``points_range`` gives the bounds and ``category`` is given only if both bounds give the same one."""
    f = parse(facts)
    v = version_on(f.on)
    rule = v.raw
    edu = _fixed(
        "education",
        int(rule["education"][f.education]),
        v.cap("education"),
        f.education,
        v.cite("受教育程度"),
    )
    region = _fixed(
        "region",
        int(rule["region"][f.region]),
        v.cap("region"),
        f.region,
        v.cite("工作定向"),
    )
    factors = [_salary(v, f), edu, _experience(v, f), _months(v, f), _chinese(v, f), region, _age(v, f)]
    factors += [_extras(v, f), _provincial(v, f)]
    known = sum(x.points for x in factors if x.points is not None)
    low = sum(x.low for x in factors)
    high = sum(x.high for x in factors)
    complete = all(x.points is not None for x in factors)
    direct = [c for c in f.extras if c in v.direct_a]
    category: str | None
    if direct:
        item, words = DIRECT_A[direct[0]]
        category = "A"
        basis = f"{STANDARD} {item}: {words} — category A without regard to points"
        cites = [Citation(STANDARD, item)]
    elif _category(low, v) == _category(high, v):
        category = _category(low, v)
        item = {"A": "一(六)", "B": "二", "C": "三"}[category]
        rule_words = {
            "A": f"{v.a_points} points or more (计点积分在{v.a_points}分以上)",
            "B": f"{v.b_points} points or more (计点积分在{v.b_points}分以上)",
            "C": f"fewer than {v.b_points} points",
        }[category]
        basis = f"{STANDARD} {item}: {rule_words}; 以上 includes the number (Civil Code Art 1259)"
        cites = [Citation(STANDARD, item)]
    else:
        category = None
        basis = (
            f"not decided: the points lie between {low} and {high}, which straddles a threshold "
            f"({v.b_points}/{v.a_points}); see the factor that is not computable"
        )
        cites = []
    notes = []
    age = completed_years(f.birth_date, f.on)
    if (
        category != "A"
        and f.education in ("doctorate", "master", "bachelor")
        and f.years_experience >= 2
        and age <= 60
    ):
        notes.append(
            f"May also be B without points ({STANDARD} 二: 学士及以上学位且2年以上相关工作经历, normally 60 or "
            "under) — whether the experience is related to the post is not decided here."
        )
    out: dict[str, Any] = {
        "points": known,
        "complete": complete,
        "category": category,
        "category_basis": basis,
        "table_version": v.code,
        "table_name": v.name,
        "table_valid_from": v.valid_from.isoformat(),
        "table_source": v.source,
        "thresholds": {"A": v.a_points, "B": v.b_points},
        "age_completed_years": age,
        "factors": [x.as_dict() for x in factors],
        "points_by_factor": {x.factor: x.points for x in factors},
        "citations": [c.cite for c in cites],
        "notes": notes,
    }
    if not complete:
        out["points_range"] = [low, high]
    return out


work_permit_points = points_and_category
