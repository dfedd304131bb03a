"""Proxy submission (代为申请) — Regulations Art 19, Guide IV, Guide VII(I).

Chinese original of Art 19:
  第一款 外国人申请签证的延期、换发、补发，申请办理停留证件，有下列情形之一的，可以由邀请单位或者个人、
  申请人的亲属、有关专门服务机构代为申请：（一）未满16周岁或者已满60周岁以及因疾病等原因行动不便的；
  （二）非首次入境且在中国境内停留居留记录良好的；（三）邀请单位或者个人对外国人在中国境内期间所需费用
  提供保证措施的。
  第二款 外国人申请居留证件，属于国家需要的外国高层次人才和急需紧缺专门人才或者属于前款第一项规定情形的，
  可以由邀请单位或者个人、申请人的亲属、有关专门服务机构代为申请。

Readings:
- The English text puts residence-permit extension/renewal/reissue into para 1; the Chinese para 1
  names only visas and stay permits, and para 2 covers every residence-permit application
  (申请居留证件). We follow the Chinese: all residence-permit matters (including the Art 22
  annotation, which is written on the permit) take para 2 — ground (1) or talent only.
- 未满16周岁 / 已满60周岁: "under 16" and "60 or over" in completed years (周岁) — see
  ``cnvisa.law.periods`` for when a year of age is completed.
- Ground (3): the Guide IV(III) reads "all or part of the expenses"; the input flag
  ``inviter_covers_expenses`` records that the inviter provides such a guarantee.
- Matters Art 19 does not name (overseas visas, Art 23 exit formalities) are applied for in person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Final

from cnvisa.law.application import RESIDENCE_MATTERS, VISA_AND_STAY_MATTERS
from cnvisa.law.citations import Citation, guide, reg
from cnvisa.law.periods import completed_years

UNDER_AGE: Final = 16
OLD_AGE: Final = 60
PROXIES: Final = frozenset({"inviting_entity", "inviting_person", "relative", "service_agency"})

_PARA1_MATTERS = VISA_AND_STAY_MATTERS
_PARA2_MATTERS = RESIDENCE_MATTERS


@dataclass(frozen=True, slots=True)
class ProxyAnswer:
    allowed: bool | None
    """None: Art 19 does not govern this matter (an overseas visa)."""
    grounds: tuple[str, ...]
    citations: tuple[Citation, ...]
    age: int | None = None
    reasons: tuple[str, ...] = field(default=())


def ground_1(birth_date: dt.date | None, mobility_impaired: bool, on: dt.date) -> tuple[bool, int | None]:
    """Art 19 para 1 item (1): under 16, 60 or over, or difficulty moving due to illness or similar."""
    age = None if birth_date is None else completed_years(birth_date, on)
    by_age = age is not None and (age < UNDER_AGE or age >= OLD_AGE)
    return by_age or mobility_impaired, age


def proxy_allowed(
    matter: str,
    on: dt.date,
    *,
    birth_date: dt.date | None = None,
    mobility_impaired: bool = False,
    first_entry: bool | None = None,
    good_record: bool | None = None,
    inviter_covers_expenses: bool = False,
    talent: bool = False,
) -> ProxyAnswer:
    """May someone else submit this application (Art 19)? Returns the grounds that are met."""
    g1, age = ground_1(birth_date, mobility_impaired, on)
    if matter in _PARA1_MATTERS:
        grounds = []
        if g1:
            grounds.append("art19_1")
        if first_entry is False and good_record is True:
            grounds.append("art19_2")
        if inviter_covers_expenses:
            grounds.append("art19_3")
        cites = (reg(19, paragraph=1), guide("IV"), guide("VII(I)"))
        return ProxyAnswer(bool(grounds), tuple(grounds), cites, age)
    if matter in _PARA2_MATTERS:
        grounds = []
        if talent:
            grounds.append("art19_talent")
        if g1:
            grounds.append("art19_1")
        return ProxyAnswer(bool(grounds), tuple(grounds), (reg(19, paragraph=2),), age)
    if matter == "exit_without_passport":
        return ProxyAnswer(False, (), (reg(19), reg(23)), age, ("art19_not_listed",))
    return ProxyAnswer(None, (), (), age)


GROUND_CITATIONS: Final[dict[str, Citation]] = {
    "art19_1": reg(19, 1, paragraph=1),
    "art19_2": reg(19, 2, paragraph=1),
    "art19_3": reg(19, 3, paragraph=1),
    "art19_talent": reg(19, paragraph=2),
}
