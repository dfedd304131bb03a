"""Changing post across regions, or studying, without a new residence permit (NIA measures 2024-03-20).

Rule: seed 001 l.16 (Chinese): "准许在华任职工作的外籍经营管理和专业技术人员在所属的企事业单位跨区域调整工作岗位，
或者在国内高校攻读学位、接受继续教育，免予重新办理居留许可手续". Who is covered files a notification, not an
application: the residence permit stays valid. What the law still requires is listed, each with its article:
- the employer reports the change of work location "promptly" (及时; Regulations Art 26(1)) — no national day
  count exists; a count an office sets is shown labelled "Office rule";
- the holder applies for a change within 10 days when a registered (printed) particular changed (Law Art 33);
- the work permit is changed before work starts in the new post or place: working beyond the permit's limits is
  illegal employment (Law Art 43(2)); Guangdong gives 10 days [S2] — not a national rule;
- the office responsible for the holder becomes that of the new place of residence (居留地: Law Art 30 para 1;
  extensions there, Law Art 32).

Readings written down:
- 所属的企事业单位 is the employer itself, including its branches (分支机构 are not separate legal persons; the
  legal person bears their liability: Civil Code Art 74); a subsidiary or affiliate is another employer — not
  covered (brief §11 q4 left open; this is the narrower reading).
- 经营管理和专业技术人员: managers and professional-technical staff; other staff are not covered.
- Study "while working" (在华任职工作的…在国内高校攻读学位、接受继续教育) is covered; study that ends the job is
  not — it needs a study-type permit (Regulations Art 15(2), Art 16(2)).
- A document that confines the holder to a restricted area (Regulations Art 24) is not changed by the measure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cnvisa.law.application import LawDate, PermitTypeIn, _invalid
from cnvisa.law.citations import NIA_2024, Citation, law, reg
from cnvisa.law.divisions import check_division
from cnvisa.law.errors import InvalidInput
from cnvisa.law.obligations import REST_DAY_END, due
from cnvisa.law.residence import change_report_by

SEED: Final = Citation(NIA_2024, "seed 001 l.16")
IN_FORCE_FROM: Final = dt.date(2024, 3, 20)
"""Reading: the measure applies from the day it was announced (seed 001: the State Council briefing, 2024-03-20)."""
CIVIL_CODE_74: Final = Citation("Civil Code", "74")
RULES_ART20: Final = Citation("Rules on the Employment of Foreigners in China", "20", note="[S2] reprints")
Particular = Literal[
    "name",
    "sex",
    "birth_date",
    "reason",
    "period",
    "issue_date",
    "issue_place",
    "passport_number",
    "other_printed",
]
PRINTED_PARTICULARS: Final = get_args(Particular)
"""Law Art 33 para 1: 持有人姓名、性别、出生日期、居留事由、居留期限，签发日期、地点，护照或者其他国际旅行证件号码等
("other_printed" stands for the 等: another particular printed on the permit, such as an employer's name)."""


class PostChangeFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, title="cnvisa post-change facts")

    effective_on: LawDate = Field(description="The day the new post (or the study) begins")
    kind: Literal["post_change", "study"]
    permit_type: PermitTypeIn = Field(description="Type of the residence permit held")
    role: Literal["manager", "professional_technical", "other"]
    organisation: Literal["same", "branch", "subsidiary_or_affiliate", "other"] = Field(
        "same", description="The new post's employer, against the current one"
    )
    from_region: str = Field(pattern=r"^[0-9]{6}$", description="Administrative division code (GB/T 2260)")
    to_region: str = Field(pattern=r"^[0-9]{6}$")
    position_changed: bool = True
    keeps_job: bool = Field(True, description="For study: the person stays employed")
    restricted_area: bool = Field(False, description="The document confines the holder to an area (Art 24)")
    printed_changes: list[Particular] = Field(default_factory=list)


def parse(facts: Mapping[str, Any] | PostChangeFacts) -> PostChangeFacts:
    if isinstance(facts, PostChangeFacts):
        return facts
    if not isinstance(facts, Mapping):
        raise InvalidInput("facts", "must be a JSON object")
    try:
        parsed = PostChangeFacts.model_validate(dict(facts))
    except ValidationError as exc:
        found = [_invalid(err) for err in exc.errors(include_url=False)]
        raise InvalidInput(found[0].field, found[0].message, kind=found[0].kind, also=found[1:]) from None
    check_division(parsed.from_region, "from_region")
    check_division(parsed.to_region, "to_region")
    return parsed


def _item(
    code: str, who: str, what: str, by: dt.date | None, when: str, cites: list[str], label: str
) -> dict[str, Any]:
    return {
        "code": code,
        "who": who,
        "what": what,
        "by": by.isoformat() if by else None,
        "when": when,
        "citations": cites,
        "label": label,
    }


def _rest_day(changed_on: dt.date) -> list[str]:
    """Civil Code Art 203 para 1, cited where the Art 33 period's last day is a rest day and moves to the next working
    day (``cnvisa.law.obligations``' reading)."""
    d = due("change_of_particulars", changed_on)
    return [c.cite for c in REST_DAY_END] if d.by != d.period_end else []


def _not_covered(f: PostChangeFacts) -> tuple[str, list[str], list[dict[str, Any]]] | None:
    """Why the measure does not cover these facts, its citations, and what to apply for instead."""
    if f.effective_on < IN_FORCE_FROM:
        return (
            f"the measure applies from {IN_FORCE_FROM.isoformat()} (announced at the State Council briefing)",
            [SEED.cite],
            [
                _item(
                    "residence_permit_change",
                    "holder",
                    "Apply for the residence permit to be changed at the office of the new place of residence",
                    change_report_by(f.effective_on),
                    "within 10 days of the change (Rules on the Employment of Foreigners Art 20 [S2])",
                    [reg(17).cite, law(33).cite, RULES_ART20.cite, *_rest_day(f.effective_on)],
                    "Reading",
                )
            ],
        )
    if f.permit_type != "work":
        return (
            "the measure covers people working in China on a work-type residence permit",
            [SEED.cite, reg(15, 1).cite],
            [
                _item(
                    "apply_work_permit_and_work_rp",
                    "holder",
                    "To work: a work permit and a work-type residence permit",
                    None,
                    "before working",
                    [law(41).cite, reg(16, 1).cite],
                    "law",
                )
            ],
        )
    if f.restricted_area:
        return (
            "the holder's document confines the stay to a restricted area",
            [reg(24).cite],
            [
                _item(
                    "apply_document_change",
                    "holder",
                    "Ask the exit-entry office to change the document before moving outside the area",
                    None,
                    "before moving",
                    [reg(24).cite],
                    "law",
                )
            ],
        )
    if f.organisation in ("subsidiary_or_affiliate", "other"):
        return (
            "another employer is not 所属的企事业单位 (reading: a subsidiary or affiliate is another legal person)",
            [SEED.cite, CIVIL_CODE_74.cite],
            [
                _item(
                    "work_permit_for_new_employer",
                    "new employer",
                    "A work permit for the new employer (change or new permit) before work starts",
                    f.effective_on,
                    "before work starts",
                    [law(41).cite, law(43, 2).cite],
                    "law",
                ),
                _item(
                    "residence_permit_for_new_employer",
                    "holder",
                    "A work-type residence permit on that work permit, at the office of the place of residence",
                    change_report_by(f.effective_on),
                    "within 10 days (Shanghai practice [S2]; Rules on the Employment of Foreigners Art 20 [S2])",
                    [reg(16, 1).cite, law(33).cite, RULES_ART20.cite, *_rest_day(f.effective_on)],
                    "Reading",
                ),
                _item(
                    "employer_report_resignation",
                    "current employer",
                    "Report that the employee leaves",
                    None,
                    "promptly (及时)",
                    [reg(26, 1).cite],
                    "law",
                ),
            ],
        )
    if f.role == "other":
        return (
            "only managers and professional-technical staff (经营管理和专业技术人员) are covered",
            [SEED.cite],
            [
                _item(
                    "residence_permit_change",
                    "holder",
                    "Apply for the residence permit to be changed at the office of the new place of residence",
                    change_report_by(f.effective_on),
                    "within 10 days of the change (Rules on the Employment of Foreigners Art 20 [S2])",
                    [reg(17).cite, law(33).cite, RULES_ART20.cite, *_rest_day(f.effective_on)],
                    "Reading",
                )
            ],
        )
    if f.kind == "study" and not f.keeps_job:
        return (
            "study that ends the job is not study while working: a study-type permit is needed",
            [SEED.cite, reg(15, 2).cite],
            [
                _item(
                    "study_residence_permit",
                    "holder",
                    "A study-type residence permit (admission letter)",
                    None,
                    "before the work-type permit's reason ends",
                    [reg(15, 2).cite, reg(16, 2).cite],
                    "law",
                ),
                _item(
                    "employer_report_resignation",
                    "employer",
                    "Report that the employee leaves",
                    None,
                    "promptly (及时)",
                    [reg(26, 1).cite],
                    "law",
                ),
            ],
        )
    return None


def post_change(
    facts: Mapping[str, Any] | PostChangeFacts, *, office_rule_report_days: int | None = None
) -> dict[str, Any]:
    """Is this change covered by the measure (a notification), and what is still due, each item cited.

    ``office_rule_report_days``: a day count an office sets for the employer's Art 26 report (labelled)."""
    f = parse(facts)
    cross = f.from_region != f.to_region
    refused = _not_covered(f)
    if refused is not None:
        why, cites, instead = refused
        return {
            "covered": False,
            "kind": "application",
            "why": why,
            "citations": cites,
            "residence_permit_stays_valid": None,
            "cross_region": cross,
            "due": [],
            "instead": instead,
        }
    due: list[dict[str, Any]] = []
    if f.kind == "post_change" and (cross or f.position_changed):
        if office_rule_report_days is not None:
            by: dt.date | None = f.effective_on + dt.timedelta(days=office_rule_report_days)
            when = f"Office rule: within {office_rule_report_days} days; the Regulations say promptly (及时)"
            label = "Office rule"
        else:
            by, when, label = None, "promptly (及时) — no national day count", "law"
        due.append(
            _item(
                "employer_report_work_location",
                "employer",
                "Report the change of work location to the exit-entry office",
                by,
                when,
                [reg(26, 1).cite],
                label,
            )
        )
        due.append(
            _item(
                "work_permit_change",
                "employer",
                "Change the work permit's work location or position",
                f.effective_on,
                "before work starts in the new post (Guangdong: within 10 days [S2])",
                [law(43, 2).cite],
                "law",
            )
        )
    if f.printed_changes:
        due.append(
            _item(
                "residence_permit_particulars_change",
                "holder",
                "Apply for the change of the registered particulars: " + ", ".join(f.printed_changes),
                change_report_by(f.effective_on),
                "within 10 days of the change",
                [law(33).cite, *_rest_day(f.effective_on)],
                "law",
            )
        )
    return {
        "covered": True,
        "kind": "notification",
        "why": (
            "a manager or professional-technical staff member changing post within the employer"
            if f.kind == "post_change"
            else "study for a degree or continuing education at a Chinese university while working"
        )
        + " — no new residence permit (免予重新办理居留许可手续)",
        "citations": [SEED.cite] + ([CIVIL_CODE_74.cite] if f.organisation == "branch" else []),
        "residence_permit_stays_valid": True,
        "cross_region": cross,
        "responsible_office_region": f.to_region if f.kind == "post_change" else f.from_region,
        "responsible_office_citations": [law(30, paragraph=1).cite, law(32).cite],
        "due": due,
        "instead": [],
    }
