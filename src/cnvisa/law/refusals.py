"""Refusal grounds and finality — Regulations Art 21; Law Art 21, 25, 31, 36; Guide V, VII(III).

Every refusal names its grounds by code; each code carries its article. A visa refusal may be
given without reasons (Law Art 21 para 2); the exit-entry administration's refusals of visa
extension, replacement or reissue, of stay or residence permits and of residence extensions are
final (Law Art 36: 为最终决定) — there is no administrative reconsideration or suit against them.
A port visa (Law Art 20) is a visa: Law Art 21 applies and reasons may be withheld; it is applied for at the
port, where entry may also be refused on Law Art 25 grounds, again without reasons (Art 25 para 2). Art 36 does
not list it: not final.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from cnvisa.law.application import RESIDENCE_MATTERS, VISA_MATTERS
from cnvisa.law.citations import Citation, guide, law, reg
from cnvisa.law.versions import in_force_from


@dataclass(frozen=True, slots=True)
class RefusalGround:
    code: str
    en: str
    zh: str
    citation: Citation
    matters: frozenset[str]


_IN_COUNTRY = frozenset(
    {
        "visa_extension",
        "visa_replacement",
        "visa_reissue",
        "stay_permit",
        "residence_permit_extension",
        "residence_permit_replacement",
        "residence_permit_reissue",
    }
)
_RESIDENCE = RESIDENCE_MATTERS
_VISA = frozenset({"visa", "port_visa"})
_PORT = frozenset({"port_visa"})
_IN_COUNTRY_VISAS = VISA_MATTERS

GROUNDS: Final[dict[str, RefusalGround]] = {
    g.code: g
    for g in (
        # Regulations Art 21 (in-country visa matters, stay and residence permits; Guide V)
        RefusalGround(
            "reg21_1",
            "Failure to provide application materials as required",
            "未按规定提交申请材料",
            reg(21, 1),
            _IN_COUNTRY,
        ),
        RefusalGround(
            "reg21_2", "Fraud in the application process", "在申请过程中弄虚作假", reg(21, 2), _IN_COUNTRY
        ),
        RefusalGround(
            "reg21_3",
            "Violated Chinese laws or administrative regulations and not suitable to stay or reside in China",
            "违反中国有关法律、行政法规规定，不适合在中国境内停留居留",
            reg(21, 3),
            _IN_COUNTRY,
        ),
        RefusalGround(
            "reg21_4",
            "Other circumstances in which approval is inappropriate",
            "不宜批准签证、证件的其他情形",
            reg(21, 4),
            _IN_COUNTRY,
        ),
        # Law Art 21 (visas)
        RefusalGround(
            "law21_1",
            "Deported or repatriated and the period barring entry has not expired",
            "被处驱逐出境或者被决定遣送出境，未满不准入境规定年限",
            law(21, 1),
            _VISA | _IN_COUNTRY_VISAS,
        ),
        RefusalGround(
            "law21_2",
            "Serious mental disorder, infectious pulmonary tuberculosis or another infectious "
            "disease that may seriously endanger public health",
            "患有严重精神障碍、传染性肺结核病或者可能对公共卫生造成重大危害的其他传染病",
            law(21, 2),
            _VISA | _IN_COUNTRY_VISAS,
        ),
        RefusalGround(
            "law21_3",
            "May endanger China's national security and interests, disrupt public order, or "
            "engage in other illegal or criminal activities",
            "可能危害中国国家安全和利益、破坏社会公共秩序或者从事其他违法犯罪活动",
            law(21, 3),
            _VISA | _IN_COUNTRY_VISAS,
        ),
        RefusalGround(
            "law21_4",
            "Fraud in the visa application, or cannot guarantee the expenses of the stay in China",
            "在申请签证过程中弄虚作假或者不能保障在中国境内期间所需费用",
            law(21, 4),
            _VISA | _IN_COUNTRY_VISAS,
        ),
        RefusalGround(
            "law21_5",
            "Cannot submit the materials the visa authority requires",
            "不能提交签证机关要求提交的相关材料",
            law(21, 5),
            _VISA | _IN_COUNTRY_VISAS,
        ),
        RefusalGround(
            "law21_6",
            "Other circumstances in which the visa authority deems issuing a visa inappropriate",
            "签证机关认为不宜签发签证的其他情形",
            law(21, 6),
            _VISA | _IN_COUNTRY_VISAS,
        ),
        # Law Art 25 (refusal of entry at the port; port visas)
        RefusalGround(
            "law25_1",
            "No valid exit-entry document, or refuses or evades border inspection",
            "未持有效出境入境证件或者拒绝、逃避接受边防检查",
            law(25, 1),
            _PORT,
        ),
        RefusalGround(
            "law25_2",
            "Any of the circumstances of Law Art 21 para 1 items (1) to (4)",
            "具有本法第二十一条第一款第一项至第四项规定情形",
            law(25, 2),
            _PORT,
        ),
        RefusalGround(
            "law25_3",
            "May engage after entry in activities that do not match the visa category",
            "入境后可能从事与签证种类不符的活动",
            law(25, 3),
            _PORT,
        ),
        RefusalGround(
            "law25_4",
            "Other circumstances in which laws or administrative regulations bar entry",
            "法律、行政法规规定不准入境的其他情形",
            law(25, 4),
            _PORT,
        ),
        # Law Art 31 (residence permits)
        RefusalGround(
            "law31_1",
            "The visa held is of a category for which no residence permit should be issued",
            "所持签证类别属于不应办理外国人居留证件的",
            law(31, 1),
            _RESIDENCE,
        ),
        RefusalGround(
            "law31_2", "Fraud in the application process", "在申请过程中弄虚作假", law(31, 2), _RESIDENCE
        ),
        RefusalGround(
            "law31_3",
            "Cannot provide the supporting materials as required",
            "不能按照规定提供相关证明材料",
            law(31, 3),
            _RESIDENCE,
        ),
        RefusalGround(
            "law31_4",
            "Violated Chinese laws or administrative regulations and not suitable to reside in China",
            "违反中国有关法律、行政法规，不适合在中国境内居留",
            law(31, 4),
            _RESIDENCE,
        ),
        RefusalGround(
            "law31_5",
            "Other circumstances in which the issuing authority deems issuing a residence "
            "permit inappropriate",
            "签发机关认为不宜签发外国人居留证件的其他情形",
            law(31, 5),
            _RESIDENCE,
        ),
        # Regulations Art 23: exit formalities without a passport are for one who holds no valid passport
        # and cannot have one reissued by the home country's institutions in China; failing either, the
        # administration does not grant them (the person exits on the passport, or gets one reissued first).
        RefusalGround(
            "reg23_conditions_not_met",
            "Holds a valid passport or international travel document, or can have one reissued by the "
            "home country's institutions in China",
            "持有有效护照或者其他国际旅行证件，或者能够由本国驻华机构补发",
            reg(23),
            frozenset({"exit_without_passport"}),
        ),
        # Guide VII(III): no-show at a scheduled interview without valid reason
        RefusalGround(
            "guide_vii3_no_show",
            "Failed to attend a scheduled interview without a valid reason",
            "无正当理由不按约定接受面谈",
            guide("VII(III)"),
            _IN_COUNTRY | _RESIDENCE,
        ),
    )
}

FINAL_MATTERS: Final = _IN_COUNTRY | _RESIDENCE
"""Law Art 36: refusals by the exit-entry administration of these matters are final."""
REASONS_MAY_BE_WITHHELD: Final = _VISA | _IN_COUNTRY_VISAS
"""Law Art 21 para 2: 对不予签发签证的，签证机关可以不说明理由 — visas only, not permits."""


@dataclass(frozen=True, slots=True)
class RefusalCheck:
    valid: bool
    grounds: tuple[RefusalGround, ...]
    errors: tuple[str, ...]
    reasons_may_be_withheld: bool
    final: bool
    citations: tuple[Citation, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "valid": self.valid,
            "grounds": [
                {"code": g.code, "en": g.en, "zh": g.zh, "citation": g.citation.as_dict()}
                for g in self.grounds
            ],
            "errors": list(self.errors),
            "reasons_may_be_withheld": self.reasons_may_be_withheld,
            "final": self.final,
            "citations": [c.as_dict() for c in self.citations],
        }


def grounds_for(matter: str, *, on: dt.date) -> list[RefusalGround]:
    """The grounds on which ``matter`` may be refused on ``on`` (those whose instrument is in force)."""
    return [g for g in GROUNDS.values() if matter in g.matters and _in_force(g, on)]


def _in_force(ground: RefusalGround, on: dt.date) -> bool:
    start = in_force_from(ground.citation)
    return start is None or on >= start


def check_refusal(matter: str, codes: list[str], *, on: dt.date) -> RefusalCheck:
    """Is a refusal of ``matter`` on ``codes``, decided on ``on``, well-founded in form: at least one ground,
    each known, in force on that day and applicable to the matter? Says whether reasons may be withheld and
    whether it is final."""
    errors: list[str] = []
    found: list[RefusalGround] = []
    if not codes:
        errors.append("a refusal needs at least one ground code")
    for code in codes:
        ground = GROUNDS.get(code)
        if ground is None:
            errors.append(f"unknown refusal ground {code!r}")
        elif matter not in ground.matters:
            errors.append(f"ground {code} ({ground.citation.cite}) does not apply to {matter}")
        elif not _in_force(ground, on):
            errors.append(
                f"ground {code} ({ground.citation.cite}) is not in force on {on.isoformat()}: it applies from "
                f"{in_force_from(ground.citation)}"
            )
        else:
            found.append(ground)
    final = matter in FINAL_MATTERS
    withheld = matter in REASONS_MAY_BE_WITHHELD
    cites = tuple(g.citation for g in found)
    if final:
        cites += (law(36),)
    if withheld:
        cites += (law(21, paragraph=2),)
    if matter in _PORT and any(g.citation.article == "25" for g in found):
        cites += (law(25, paragraph=2),)
    return RefusalCheck(not errors, tuple(found), tuple(errors), withheld, final, cites)
