"""Ordinary visa categories — Regulations Art 6 (categories), Art 7 (materials abroad),
Art 8 (interviews), Art 9 (residence-permit time limit), Law Art 30.

The 2025 revision (Decree 814, in force 2025-10-01) inserts the K visa as Art 6 item (6) and
Art 7 item (6), so the items from L onwards move down by one. Citations follow the text in force
on the date asked: the L visa is Art 6(6) on 2025-09-30 and Art 6(7) from 2025-10-01.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

from cnvisa.law.citations import Citation, law, reg
from cnvisa.law.errors import InvalidInput, NotInForce
from cnvisa.law.versions import REGULATIONS_2013, REGULATIONS_2025, regulations_version

Term = Literal["short", "long"]
PermitType = Literal["work", "study", "journalist", "family_reunion", "private_affairs"]

RESIDENCE_PERMIT_APPLY_WITHIN_DAYS: Final = 30
"""Law Art 30 para 1: 应当自入境之日起三十日内 apply for a residence permit."""


@dataclass(frozen=True, slots=True)
class VisaCategory:
    code: str
    name_en: str
    name_zh: str
    purpose_en: str
    purpose_zh: str
    item_2025: int
    """Item of Art 6 and Art 7 in the 2025 text."""
    in_force_from: dt.date
    residence_permit: PermitType | None = None
    """Residence-permit type the holder must apply for within 30 days of entry (Art 9, Law Art 30)."""
    entry_for_residence: bool = False
    """Art 8(1): the application is for entry and residence (居留), so an interview is required."""

    def item(self, on: dt.date) -> int:
        """Item number in Art 6/Art 7 of the text in force on ``on``."""
        if regulations_version(on) is REGULATIONS_2025 or self.item_2025 < 6:
            return self.item_2025
        return self.item_2025 - 1

    def art6(self, on: dt.date) -> Citation:
        return reg(6, self.item(on))

    def art7(self, on: dt.date) -> Citation:
        return reg(7, self.item(on))


_BASE = REGULATIONS_2013.in_force_from

CATEGORIES: Final[dict[str, VisaCategory]] = {
    c.code: c
    for c in (
        VisaCategory(
            "C",
            "C visa (crew)",
            "C字签证（乘务）",
            "International train attendants, aircraft and ship crew and their accompanying family "
            "members, and drivers in international road transport performing their duties",
            "执行乘务、航空、航运任务的国际列车乘务员、国际航空器机组人员、国际航行船舶的船员及船员随行家属和从事国际道路运输的汽车驾驶员",
            1,
            _BASE,
        ),
        VisaCategory(
            "D",
            "D visa (permanent residence)",
            "D字签证（永久居留）",
            "Entering China for permanent residence",
            "入境永久居留的人员",
            2,
            _BASE,
            entry_for_residence=True,
        ),
        VisaCategory(
            "F",
            "F visa (exchanges, visits)",
            "F字签证（交流访问）",
            "Exchanges, visits, inspections and other activities",
            "入境从事交流、访问、考察等活动的人员",
            3,
            _BASE,
        ),
        VisaCategory(
            "G", "G visa (transit)", "G字签证（过境）", "Transit through China", "经中国过境的人员", 4, _BASE
        ),
        VisaCategory(
            "J1",
            "J1 visa (resident journalist)",
            "J1字签证（常驻记者）",
            "Resident journalists of foreign news agencies with permanent offices in China",
            "外国常驻中国新闻机构的外国常驻记者",
            5,
            _BASE,
            "journalist",
            True,
        ),
        VisaCategory(
            "J2",
            "J2 visa (short-term journalist)",
            "J2字签证（临时采访记者）",
            "Journalists entering for short-term interviews and reports",
            "入境进行短期采访报道的外国记者",
            5,
            _BASE,
        ),
        VisaCategory(
            "K",
            "K visa (young sci-tech talent)",
            "K字签证（青年科技人才）",
            "Foreign young science and technology talents entering China",
            "入境的外国青年科技人才",
            6,
            REGULATIONS_2025.in_force_from,
        ),
        VisaCategory(
            "L",
            "L visa (tourism)",
            "L字签证（旅游）",
            "Tourism; group L visas for tourism in groups",
            "入境旅游的人员；以团体形式入境旅游的，可以签发团体L字签证",
            7,
            _BASE,
        ),
        VisaCategory(
            "M",
            "M visa (commerce and trade)",
            "M字签证（商贸）",
            "Commercial and trade activities",
            "入境进行商业贸易活动的人员",
            8,
            _BASE,
        ),
        VisaCategory(
            "Q1",
            "Q1 visa (family reunion, residence)",
            "Q1字签证（团聚居留）",
            "Family members of Chinese citizens or of foreigners with permanent residence in China "
            "entering for family reunion, and persons entering for foster care and similar reasons",
            "因家庭团聚申请入境居留的中国公民的家庭成员和具有中国永久居留资格的外国人的家庭成员，以及因寄养等原因申请入境居留的人员",
            9,
            _BASE,
            "family_reunion",
            True,
        ),
        VisaCategory(
            "Q2",
            "Q2 visa (short family visit)",
            "Q2字签证（短期探亲）",
            "Short-term visits to relatives who are Chinese citizens residing in China or foreigners "
            "with permanent residence in China",
            "申请入境短期探亲的居住在中国境内的中国公民的亲属和具有中国永久居留资格的外国人的亲属",
            9,
            _BASE,
        ),
        VisaCategory(
            "R",
            "R visa (high-level or urgently needed talent)",
            "R字签证（人才）",
            "Foreign high-level talents and urgently needed specialised talents required by the country",
            "国家需要的外国高层次人才和急需紧缺专门人才",
            10,
            _BASE,
        ),
        VisaCategory(
            "S1",
            "S1 visa (long family visit, private affairs)",
            "S1字签证（长期探亲、私人事务）",
            "Spouses, parents, children under 18 and parents-in-law of foreigners residing in China "
            "for work, study or other reasons, for long-term visits, and persons residing for other "
            "private affairs",
            "申请入境长期探亲的因工作、学习等事由在中国境内居留的外国人的配偶、父母、未满18周岁的子女、配偶的父母，以及因其他私人事务需要在中国境内居留的人员",
            11,
            _BASE,
            "private_affairs",
            True,
        ),
        VisaCategory(
            "S2",
            "S2 visa (short family visit, private affairs)",
            "S2字签证（短期探亲、私人事务）",
            "Family members of foreigners staying or residing in China for work, study or other "
            "reasons, for short-term visits, and persons staying for other private affairs",
            "申请入境短期探亲的因工作、学习等事由在中国境内停留居留的外国人的家庭成员，以及因其他私人事务需要在中国境内停留的人员",
            11,
            _BASE,
        ),
        VisaCategory(
            "X1",
            "X1 visa (long-term study)",
            "X1字签证（长期学习）",
            "Long-term study in China",
            "申请在中国境内长期学习的人员",
            12,
            _BASE,
            "study",
            True,
        ),
        VisaCategory(
            "X2",
            "X2 visa (short-term study)",
            "X2字签证（短期学习）",
            "Short-term study in China",
            "申请在中国境内短期学习的人员",
            12,
            _BASE,
        ),
        VisaCategory(
            "Z",
            "Z visa (work)",
            "Z字签证（工作）",
            "Working in China",
            "申请在中国境内工作的人员",
            13,
            _BASE,
            "work",
            True,
        ),
    )
}

assert len(CATEGORIES) == 17, "Art 6 lists 17 ordinary visa categories"

RESIDENCE_CATEGORIES: Final = frozenset(c.code for c in CATEGORIES.values() if c.residence_permit)


def visa_category(code: str, on: dt.date, field: str = "visa.category") -> VisaCategory:
    """The category ``code`` as the Regulations in force on ``on`` define it (Art 6).

    Raises ``InvalidInput`` for an unknown code and ``NotInForce`` for a category that does not
    exist yet on ``on`` (K before 2025-10-01).
    """
    regulations_version(on)  # raises NotInForce before 2013-09-01
    category = CATEGORIES.get(code.upper() if isinstance(code, str) else code)
    if category is None:
        raise InvalidInput(field, f"unknown visa category {code!r}; Art 6 lists {', '.join(CATEGORIES)}")
    if on < category.in_force_from:
        raise NotInForce(f"The {category.code} visa", on, category.in_force_from, reg(6, 6).cite)
    return category


def categories_in_force(on: dt.date) -> list[VisaCategory]:
    regulations_version(on)
    return [c for c in CATEGORIES.values() if on >= c.in_force_from]


def residence_permit_requirement(
    category: VisaCategory, entry_date: dt.date | None
) -> dict[str, object] | None:
    """Art 9 and Law Art 30 para 1: which residence permit the holder must apply for, by when."""
    if category.residence_permit is None:
        return None
    apply_by = (
        None if entry_date is None else entry_date + dt.timedelta(days=RESIDENCE_PERMIT_APPLY_WITHIN_DAYS)
    )
    return {
        "permit_type": category.residence_permit,
        "within_days_of_entry": RESIDENCE_PERMIT_APPLY_WITHIN_DAYS,
        "apply_by": apply_by,
        "citations": [reg(9), law(30, paragraph=1)],
    }


__all__ = [
    "CATEGORIES",
    "RESIDENCE_CATEGORIES",
    "RESIDENCE_PERMIT_APPLY_WITHIN_DAYS",
    "NotInForce",
    "PermitType",
    "VisaCategory",
    "categories_in_force",
    "residence_permit_requirement",
    "visa_category",
]
