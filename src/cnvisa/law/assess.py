"""``assess``: one application in, one cited answer out.

The assessment is what an officer at the acceptance window needs: may the application be accepted
as submitted, and if not, the one-time notice of everything missing (Regulations Art 13 para 2,
Art 18 para 2); the limits the law sets (last day of stay, last day to apply, the longest extension,
what may be issued); whether someone else may submit it (Art 19); the receipt's last day (Art 13,
18, 36); the fee (Guide IX). Every value is traced to the rule and article that produced it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from cnvisa.law import acceptance, extension, fees, proxy, reissue, replacement, residence
from cnvisa.law import calendar as workdays
from cnvisa.law.application import VISA_MATTERS, Application, parse
from cnvisa.law.categories import VisaCategory, residence_permit_requirement, visa_category
from cnvisa.law.citations import REGULATIONS, Citation, guide, law, reg
from cnvisa.law.definitions import foreign_document_needs
from cnvisa.law.errors import CalendarYearNotLoaded, InvalidInput, NotInForce
from cnvisa.law.materials import Requirement, need
from cnvisa.law.status import last_day_of_stay, term
from cnvisa.law.versions import ENGINE_VERSION, GUIDE, law_version, require

TRACE_VERSION: Final = 1
OUTPUT_KEYS: Final = (
    "acceptable",
    "problems",
    "required_materials",
    "missing_materials",
    "proxy_allowed",
    "last_day_of_stay",
    "apply_by",
    "max_extension_days",
    "issuable",
    "receipt_valid_until",
    "fee_cny",
    "law_version",
    "citations",
    "trace",
)


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


class _Assessment:
    """Collects the answer, its citations and its trace while the rules run."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.problems: list[dict[str, Any]] = []
        self.requirements: dict[str, Requirement] = {}
        self.cites: dict[Citation, None] = {}
        self.steps: list[dict[str, Any]] = []
        self.out: dict[str, Any] = dict.fromkeys(OUTPUT_KEYS)
        self.extra: dict[str, Any] = {}
        self.missing_extra: list[str] = []

    # -- recording -----------------------------------------------------------------------------
    def step(
        self, rule: str, cites: tuple[Citation, ...] | list[Citation], inputs: dict[str, Any], result: Any
    ) -> None:
        for c in cites:
            self.cites[c] = None
        self.steps.append(
            {
                "rule": rule,
                "citations": [c.cite for c in cites],
                "inputs": {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in inputs.items()},
                "result": _iso(result),
            }
        )

    def problem(
        self,
        code: str,
        en: str,
        zh: str,
        cites: tuple[Citation, ...] | list[Citation],
        *,
        blocking: bool = True,
        field: str | None = None,
    ) -> None:
        for c in cites:
            self.cites[c] = None
        self.problems.append(
            {
                "code": code,
                "severity": "blocking" if blocking else "warning",
                "field": field,
                "message": {"en": en, "zh": zh},
                "citations": [c.as_dict() for c in cites],
            }
        )

    def require(self, *reqs: Requirement) -> None:
        for r in reqs:
            if r.code not in self.requirements:
                self.requirements[r.code] = r
            for c in r.citations:
                self.cites[c] = None

    def require_codes(self, codes: tuple[str, ...], *cites: Citation) -> None:
        self.require(*(need(code, *cites) for code in codes))

    # -- result --------------------------------------------------------------------------------
    def result(self) -> dict[str, Any]:
        required = list(self.requirements.values())
        missing = acceptance.one_time_notice(required, self.app.materials) + self.missing_extra
        if missing:
            self.step(
                "acceptance.one_time_notice",
                acceptance.notice_citations(self.app.matter),
                {"provided": list(self.app.materials)},
                list(missing),
            )
        blocking = [p for p in self.problems if p["severity"] == "blocking"]
        out = self.out
        out["acceptable"] = not blocking and not missing
        out["problems"] = self.problems
        out["required_materials"] = [r.as_dict() for r in required]
        out["missing_materials"] = missing
        out["law_version"] = law_version(self.app.on)
        out["citations"] = [c.as_dict() for c in self.cites]
        out["trace"] = {"version": TRACE_VERSION, "engine": ENGINE_VERSION, "steps": self.steps}
        for key in ("last_day_of_stay", "apply_by", "receipt_valid_until"):
            out[key] = _iso(out[key])
        result = {"matter": self.app.matter, "on": self.app.on.isoformat(), **out, **self.extra}
        return result


# --- shared steps -------------------------------------------------------------------------------

_BASE_VISA_STAY = (reg(12), guide("VI(I)"))


def _base_materials(a: _Assessment, matter: str) -> None:
    """Guide VI(I) 1-2 and Art 7, 12, 16, 17: passport, application form, photo."""
    if matter == "visa":
        cites: tuple[Citation, ...] = (reg(7, paragraph=1),)
    elif matter in ("residence_permit",):
        cites = (reg(16, paragraph=1), guide("VI(I)"))
    elif matter.startswith("residence_permit") or matter == "study_work_annotation":
        cites = (reg(17), guide("VI(I)"))
    elif matter == "exit_without_passport":
        a.require(need("application_form", reg(23), guide("VI(I)")), need("photo", reg(23), guide("VI(I)")))
        return
    else:
        cites = _BASE_VISA_STAY
    a.require(need("passport", *cites), need("application_form", *cites), need("photo", *cites))


def _category(a: _Assessment, code: str | None, field: str) -> VisaCategory | None:
    if not code:
        raise InvalidInput(field, "is required for this matter")
    try:
        cat = visa_category(code, a.app.on, field)
    except NotInForce as exc:
        a.problem(
            "category_not_in_force",
            str(exc),
            f"{code}字签证于{exc.in_force_from.isoformat()}起施行，申请之日尚不存在。",
            [
                Citation(
                    REGULATIONS,
                    "6",
                    item=6,
                    note="text as revised by State Council Decree 814, in force 2025-10-01",
                )
            ],
            field=field,
        )
        a.step("categories.visa_category", [reg(6)], {"code": code, "on": a.app.on}, "not in force")
        return None
    a.step("categories.visa_category", [cat.art6(a.app.on)], {"code": code, "on": a.app.on}, cat.code)
    return cat


def _stay_end(a: _Assessment) -> dt.date | None:
    """Art 36 para 1(3): last day of stay of the current entry."""
    visa = a.app.visa
    if visa is None or a.app.entry_date is None or visa.stay_days is None:
        return None
    last = last_day_of_stay(a.app.entry_date, visa.stay_days, visa.extended_days)
    a.step(
        "status.last_day_of_stay",
        [reg(36, 3, paragraph=1), reg(14, paragraph=1)],
        {"entry_date": a.app.entry_date, "stay_days": visa.stay_days, "extended_days": visa.extended_days},
        last,
    )
    a.out["last_day_of_stay"] = last
    return last


def _overstay(a: _Assessment, last: dt.date, what_en: str, what_zh: str) -> bool:
    if a.app.on > last:
        days = (a.app.on - last).days
        a.problem(
            "illegal_residence_overstay",
            f"The {what_en} ended on {last.isoformat()}; on {a.app.on.isoformat()} the applicant has overstayed "
            f"{days} day(s) — illegal residence.",
            f"{what_zh}已于{last.isoformat()}届满，申请之日已超期{days}日，属于非法居留。",
            [reg(25, 1)],
        )
        return True
    return False


def _fee(a: _Assessment, row: str | None) -> None:
    configured = a.app.applicant.reciprocal_fees
    reciprocal: bool | dict[str, int] | None = (
        {str(row): cny for row, cny in configured.items()} if isinstance(configured, dict) else configured
    )
    fee = fees.visa_fee(row, a.app.on, reciprocal)
    a.step("fees.visa_fee", fee.citations, {"row": row, "reciprocal": bool(reciprocal)}, fee.cny)
    a.out["fee_cny"] = fee.cny
    a.extra["fee_basis"] = fee.basis
    if fee.cny is None:
        a.problem(
            "fee_unknown",
            f"Fee unknown: {fee.basis}.",
            "收费标准未知："
            + ("互惠国家按照互惠协议收费，未配置该标准。" if reciprocal else "《指南》收费表无对应项目。"),
            fee.citations,
            blocking=False,
        )


def _check_requested_stay(
    a: _Assessment, requested: int | None, maximum: int | None, cites: list[Citation]
) -> None:
    if requested is not None and maximum is not None and requested > maximum:
        a.problem(
            "stay_exceeds_maximum",
            f"Requested stay of {requested} days exceeds the {maximum} days that may be issued.",
            f"申请停留期{requested}日，超过可签发的最长停留期{maximum}日。",
            cites,
            field="requested.stay_days",
        )


# --- matters ------------------------------------------------------------------------------------


def _visa(a: _Assessment) -> None:
    """An ordinary visa applied for abroad: Art 7 (materials), Art 8 (interview), Art 9 (residence)."""
    app = a.app
    code = app.requested.category or (app.visa.category if app.visa else None)
    cat = _category(a, code, "requested.category")
    _base_materials(a, "visa")
    if cat is None:
        return
    art7 = cat.art7(app.on)
    purpose = app.purpose
    group = bool(app.visa and app.visa.group) or purpose == "group_tourism"
    by_code: dict[str, tuple[str, ...]] = {
        "C": ("c_guarantee_or_invitation",),
        "D": ("permanent_residence_confirmation",),
        "F": ("invitation_letter_inviting_party",),
        "G": ("onward_ticket",),
        "J1": ("journalist_approval",),
        "J2": ("journalist_approval",),
        "K": ("k_talent_documents",),
        "L": ("itinerary", "travel_agency_invitation") if group else ("itinerary",),
        "M": ("trade_partner_invitation",),
        "Q1": ("power_of_attorney",)
        if purpose == "foster_care"
        else ("invitation_citizen_or_pr", "family_member_certificate"),
        "Q2": ("invitation_citizen_or_pr",),
        "R": ("talent_documents",),
        "S1": ("private_affairs_documents",)
        if purpose == "private_affairs"
        else ("invitation_foreigner_in_china", "kinship_proof"),
        "X1": ("admission_notice", "study_competent_authority_document"),
        "X2": ("admission_notice",),
        "Z": ("work_permit",),
    }
    by_code["S2"] = by_code["S1"]
    materials = by_code[cat.code]
    a.require_codes(materials, art7)
    a.step(
        "categories.overseas_materials", [art7], {"category": cat.code, "purpose": purpose}, list(materials)
    )
    # Art 8: interview
    grounds = []
    if cat.entry_for_residence:
        grounds.append(("art8_1", reg(8, 1)))
    if app.applicant.identity_needs_verification:
        grounds.append(("art8_2", reg(8, 2)))
    if app.applicant.refused_entry_before:
        grounds.append(("art8_3", reg(8, 3)))
    a.extra["interview"] = {
        "required": bool(grounds),
        "grounds": [g for g, _ in grounds],
        "citations": [c.as_dict() for _, c in grounds],
    }
    a.step(
        "categories.interview",
        [c for _, c in grounds] or [reg(8)],
        {"category": cat.code},
        [g for g, _ in grounds],
    )
    # Art 9, Law Art 30: residence permit after entry
    rp = residence_permit_requirement(cat, app.entry_date)
    if rp is not None:
        a.extra["residence_permit_required"] = {
            "permit_type": rp["permit_type"],
            "within_days_of_entry": rp["within_days_of_entry"],
            "apply_by": _iso(rp["apply_by"]),
        }
        a.out["apply_by"] = rp["apply_by"]
        a.step(
            "categories.residence_permit_requirement",
            [reg(9), law(30, paragraph=1)],
            {"category": cat.code, "entry_date": app.entry_date},
            rp["permit_type"],
        )
    else:
        a.extra["residence_permit_required"] = None
    if app.requested.stay_days is not None:
        a.extra["term"] = term(app.requested.stay_days)
        a.step(
            "status.term",
            [reg(36, 4, paragraph=1), reg(36, 5, paragraph=1)],
            {"stay_days": app.requested.stay_days},
            a.extra["term"],
        )
    a.out["issuable"] = {
        "category": cat.code,
        "entries": None,
        "max_entry_validity_days": None,
        "max_stay_days": None,
    }


def _visa_extension(a: _Assessment) -> None:
    app = a.app
    if app.visa is None:
        raise InvalidInput("visa", "is required for a visa extension")
    cat = _category(a, app.visa.category, "visa.category")
    _base_materials(a, "visa_extension")
    if app.entry_date is None:
        raise InvalidInput(
            "entry_date", "is required: the extension concerns the current entry (Regulations Art 14)"
        )
    if app.visa.stay_days is None:
        raise InvalidInput("visa.stay_days", "is required: the duration of stay stated on the visa (Art 14)")
    last = _stay_end(a)
    assert last is not None
    a.step(
        "extension.current_entry_only",
        [reg(14, paragraph=1)],
        {"entry_date": app.entry_date},
        "the extension applies to this entry only; entries and entry validity unchanged",
    )
    if cat is None:
        return
    rule = extension.extension_rule(cat.code, on=app.on, purpose=app.purpose)
    if isinstance(rule, extension.NoExtension):
        a.problem("no_extension_for_category", rule.instead_en, rule.instead_zh, list(rule.citations))
        a.step(
            "extension.extension_rule", rule.citations, {"category": cat.code}, "no extension in the Guide"
        )
        rp = residence_permit_requirement(cat, app.entry_date)
        if rp is not None:
            a.extra["residence_permit_required"] = {
                "permit_type": rp["permit_type"],
                "within_days_of_entry": 30,
                "apply_by": _iso(rp["apply_by"]),
            }
        return
    materials = rule.materials
    if cat.code == "L" and app.visa.group:
        materials = (*materials, extension.L_GROUP_MATERIAL)
    a.require_codes(materials, rule.citation)
    a.step(
        "extension.extension_rule",
        [rule.citation],
        {"category": cat.code, "purpose": app.purpose, "group": app.visa.group},
        {"materials": list(materials), "max_days": rule.max_days},
    )
    apply_by = extension.last_day_to_apply(last)
    a.out["apply_by"] = apply_by
    a.step(
        "extension.last_day_to_apply", list(extension.TIMING_CITATIONS), {"last_day_of_stay": last}, apply_by
    )
    if not _overstay(a, last, "duration of stay", "停留期限") and app.on > apply_by:
        a.problem(
            "extension_applied_too_late",
            f"An extension must be applied for at least 7 days before the stay ends ({last.isoformat()}): by "
            f"{apply_by.isoformat()}.",
            f"应当在停留期限届满七日前（{apply_by.isoformat()}前）申请延期。",
            list(extension.TIMING_CITATIONS),
        )
    maximum = extension.max_extension_days(rule, app.visa.stay_days, app.visa.extended_days)
    a.out["max_extension_days"] = maximum
    a.step(
        "extension.max_extension_days",
        [rule.citation, *extension.CUMULATIVE_CITATIONS],
        {
            "category_max": rule.max_days,
            "original_stay_days": app.visa.stay_days,
            "extended_days": app.visa.extended_days,
        },
        maximum,
    )
    if maximum == 0:
        a.problem(
            "cumulative_extension_exhausted",
            f"Extensions already total {app.visa.extended_days} days, the stay stated on the original visa "
            f"({app.visa.stay_days} days): no further extension is possible.",
            f"累计延长的停留期限已达原签证注明的停留期限（{app.visa.stay_days}日），不能再延长。",
            list(extension.CUMULATIVE_CITATIONS),
        )
    elif app.requested.extension_days is not None and app.requested.extension_days > maximum:
        a.problem(
            "extension_exceeds_maximum",
            f"Requested extension of {app.requested.extension_days} days exceeds the maximum of {maximum} days.",
            f"申请延长{app.requested.extension_days}日，超过最长可延长的{maximum}日。",
            [rule.citation, *extension.CUMULATIVE_CITATIONS],
            field="requested.extension_days",
        )
    _fee(a, "zero")


_ENTRY_RANK: Final = {"zero": 0, "single": 1, "double": 2, "multiple": 3}


def _visa_replacement(a: _Assessment) -> None:
    app = a.app
    ground = app.ground
    if ground not in replacement.GROUNDS:
        raise InvalidInput(
            "ground", f"must be one of {', '.join(replacement.GROUNDS)} (Regulations Art 10; Guide VI(III))"
        )
    if app.entry_date is None:
        raise InvalidInput(
            "entry_date",
            "is required: the stay after replacement is capped at one year from this entry (Guide VI(III))",
        )
    _base_materials(a, "visa_replacement")
    a.step("replacement.ground", [reg(10), guide("VI(III)")], {"ground": ground}, ground)
    cap = replacement.one_year_cap_days(app.entry_date, app.on)
    a.step(
        "replacement.one_year_cap_days",
        [replacement.ONE_YEAR_CITATION],
        {"entry_date": app.entry_date, "on": app.on},
        cap,
    )
    visa = app.visa
    if visa is not None:
        last = _stay_end(a)
        if last is not None:
            _overstay(a, last, "duration of stay", "停留期限")
    if ground in ("change_of_purpose", "entry_facilitation"):
        target = _category(a, app.requested.category, "requested.category")
        if target is None:
            return
        row = replacement.replacement_row(target.code, on=app.on, purpose=app.purpose)
        if row is None:
            instead = ""
            if target.residence_permit:
                instead = " For a residence purpose apply for a residence permit (Regulations Art 15-16)."
            a.problem(
                "category_not_issuable_by_replacement",
                f"The Guide provides no replacement into a {target.code} visa.{instead}",
                f"《指南》未规定换发为{target.code}字签证。",
                [guide("VI(III)"), reg(10)],
                field="requested.category",
            )
            return
        a.require_codes(row.materials, row.citation)
        max_validity = row.max_entry_validity_days(app.on)
        max_stay = min(row.max_stay_days, cap)
        a.out["issuable"] = {
            "category": row.category,
            "entries": list(row.entries),
            "max_entry_validity_days": max_validity,
            "max_stay_days": max_stay,
        }
        a.step(
            "replacement.issuable",
            [row.citation, replacement.ONE_YEAR_CITATION],
            {"category": row.category, "variant": row.variant},
            a.out["issuable"],
        )
        req = app.requested
        if req.entries is not None and req.entries not in row.entries:
            a.problem(
                "entries_not_issuable",
                f"A {row.category} visa by replacement may have entries {', '.join(row.entries)}, not "
                f"{req.entries}.",
                f"换发{row.category}字签证的入境次数不能为{req.entries}。",
                [row.citation],
                field="requested.entries",
            )
        if req.entry_validity_days is not None and (
            max_validity is None or req.entry_validity_days > max_validity
        ):
            a.problem(
                "entry_validity_exceeds_maximum",
                f"Requested entry validity of {req.entry_validity_days} days exceeds the maximum "
                f"({max_validity or 0} days).",
                f"申请的入境有效期{req.entry_validity_days}日超过上限。",
                [row.citation],
                field="requested.entry_validity_days",
            )
        _check_requested_stay(a, req.stay_days, max_stay, [row.citation, replacement.ONE_YEAR_CITATION])
        if req.entries is not None:
            _fee(a, fees.fee_row(req.entries, req.entry_validity_days, app.on))
        return
    # new passport, leaving a group, adding an accompanying person: the visa held is the basis.
    if visa is None:
        raise InvalidInput("visa", f"is required for a replacement on the ground {ground}")
    cat = _category(a, visa.category, "visa.category")
    if cat is None:
        return
    codes, section = replacement.GROUND_MATERIALS[ground]
    a.require_codes(codes, guide(section))
    if ground == "leave_group" and not visa.group:
        a.problem(
            "not_a_group_visa",
            "Leaving a group applies only to a holder of a group visa.",
            "离团换发签证仅适用于持团体签证入境的人员。",
            [reg(10), guide("VI(III)10")],
            field="visa.group",
        )
    left = replacement.remaining_entries(visa.entries, visa.entries_used)
    validity = None if visa.valid_until is None else max(0, (visa.valid_until - app.on).days)
    stay = None if visa.stay_days is None else min(visa.stay_days, cap)
    a.out["issuable"] = {
        "category": cat.code,
        "entries": [left] if left else None,
        "max_entry_validity_days": validity,
        "max_stay_days": stay,
    }
    a.step(
        "replacement.issuable_as_original",
        [guide(section), replacement.ONE_YEAR_CITATION],
        {
            "category": cat.code,
            "entries": visa.entries,
            "entries_used": visa.entries_used,
            "valid_until": visa.valid_until,
            "stay_days": visa.stay_days,
        },
        a.out["issuable"],
    )
    _check_requested_stay(a, app.requested.stay_days, stay, [guide(section), replacement.ONE_YEAR_CITATION])
    req = app.requested
    if req.entries is not None and left is not None and _ENTRY_RANK[req.entries] > _ENTRY_RANK[left]:
        a.problem(
            "entries_not_issuable",
            f"The new visa carries the entries remaining on the original ({left}), not {req.entries}.",
            f"新签证的入境次数按原签证剩余有效入境次数确定（{left}），不能为{req.entries}。",
            [guide(section), guide("VI(III)8")],
            field="requested.entries",
        )
    if req.entry_validity_days is not None and validity is not None and req.entry_validity_days > validity:
        a.problem(
            "entry_validity_exceeds_maximum",
            f"The new visa keeps the original entry validity ({validity} days left), not {req.entry_validity_days}.",
            "新签证的入境有效期与原签证一致。",
            [guide(section), guide("VI(III)8")],
            field="requested.entry_validity_days",
        )
    if ground == "add_accompanying_person":
        _fee(a, "accompanying_person")
    elif left is not None:
        _fee(a, fees.fee_row(left, validity, app.on))


def _visa_reissue(a: _Assessment) -> None:
    app = a.app
    ground = app.ground
    if ground not in reissue.GROUNDS:
        raise InvalidInput(
            "ground", f"must be one of {', '.join(reissue.GROUNDS)} (Regulations Art 11; Guide VI(IV))"
        )
    visa = app.visa
    if visa is None:
        raise InvalidInput("visa", "is required: a reissued visa is identical to the original (Guide VI(IV))")
    cat = _category(a, visa.category, "visa.category")
    codes, section = reissue.GROUNDS[ground]
    cites = _BASE_VISA_STAY
    if "new_passport" in codes:
        a.require(need("new_passport", guide(section), *cites))
    else:
        a.require(need("passport", *cites))
    a.require(need("application_form", *cites), need("photo", *cites))
    a.require_codes(tuple(c for c in codes if c != "new_passport"), guide(section))
    a.step("reissue.ground", [reg(11), guide(section)], {"ground": ground}, list(codes))
    last = _stay_end(a)
    if last is not None:
        _overstay(a, last, "duration of stay", "停留期限")
    if cat is None:
        return
    left = replacement.remaining_entries(visa.entries, visa.entries_used)
    validity = None if visa.valid_until is None else max(0, (visa.valid_until - app.on).days)
    a.out["issuable"] = {
        "category": cat.code,
        "entries": [left] if left else None,
        "max_entry_validity_days": validity,
        "max_stay_days": visa.stay_days,
    }
    a.step(
        "reissue.identical_to_original",
        [reissue.IDENTICAL_CITATION],
        {
            "category": cat.code,
            "entries": visa.entries,
            "entries_used": visa.entries_used,
            "valid_until": visa.valid_until,
            "stay_days": visa.stay_days,
        },
        a.out["issuable"],
    )
    req = app.requested
    differs = [
        name
        for name, asked, orig in (
            ("category", req.category, cat.code),
            ("entries", req.entries, left),
            ("entry_validity_days", req.entry_validity_days, validity),
            ("stay_days", req.stay_days, visa.stay_days),
        )
        if asked is not None and asked != orig
    ]
    if differs:
        a.problem(
            "reissue_must_be_identical",
            f"A reissued visa is identical to the original; requested {', '.join(differs)} differ.",
            "补发的签证种类、入境有效期、停留期限和剩余入境次数与原签证一致。",
            [reissue.IDENTICAL_CITATION],
            field="requested." + differs[0],
        )
    if left is not None:
        _fee(a, fees.fee_row(left, validity, app.on))


def _stay_permit(a: _Assessment) -> None:
    app = a.app
    _base_materials(a, "stay_permit")
    a.require(need("stay_reason_documents", reg(12), law(34)))
    last = _stay_end(a)
    if last is not None:
        _overstay(a, last, "duration of stay", "停留期限")
    validity = app.requested.validity_days
    a.out["issuable"] = {
        "category": None,
        "entries": None,
        "max_entry_validity_days": None,
        "max_stay_days": residence.STAY_PERMIT_MAX_DAYS,
    }
    a.step(
        "residence.stay_permit_max",
        [law(34, paragraph=2)],
        {"validity_days": validity},
        residence.STAY_PERMIT_MAX_DAYS,
    )
    if validity is not None and validity > residence.STAY_PERMIT_MAX_DAYS:
        a.problem(
            "stay_permit_validity_exceeds_180_days",
            f"A stay permit is valid at most 180 days; {validity} requested.",
            f"外国人停留证件的有效期最长为一百八十日，申请{validity}日。",
            [law(34, paragraph=2)],
            field="requested.validity_days",
        )
    a.extra["fee_basis"] = "no fee table for stay permits is loaded (Guide IX prices visas only)"


def _validity_and_health(a: _Assessment, permit_type: str) -> None:
    app = a.app
    lo, hi = residence.validity_bounds_days(permit_type, app.on)
    validity = app.requested.validity_days
    a.step(
        "residence.validity_bounds_days",
        [residence.VALIDITY_CITATION],
        {"permit_type": permit_type, "on": app.on},
        {"min_days": lo, "max_days": hi},
    )
    a.out["issuable"] = {
        "category": None,
        "entries": None,
        "max_entry_validity_days": None,
        "max_stay_days": None,
        "permit_type": permit_type,
        "min_validity_days": lo,
        "max_validity_days": hi,
    }
    if validity is None:
        return
    if not lo <= validity <= hi:
        a.problem(
            "permit_validity_out_of_bounds",
            f"A {permit_type} residence permit is valid {lo} days to 5 years ({hi} days); {validity} requested.",
            f"该类居留证件有效期为{lo}日至五年（{hi}日），申请{validity}日。",
            [residence.VALIDITY_CITATION],
            field="requested.validity_days",
        )
    needed = residence.needs_health_certificate(validity, app.on)
    a.step(
        "residence.needs_health_certificate",
        list(residence.HEALTH_CITATIONS),
        {"validity_days": validity},
        needed,
    )
    if not needed:
        return
    a.require(need("health_certificate", *residence.HEALTH_CITATIONS))
    issued = app.health_certificate_issued_on
    if issued is not None:
        until = residence.health_certificate_valid_until(issued)
        a.step(
            "residence.health_certificate_valid_until",
            list(residence.HEALTH_CITATIONS),
            {"issued_on": issued},
            until,
        )
        if app.on > until:
            a.problem(
                "health_certificate_expired",
                f"The health certificate issued on {issued.isoformat()} was valid until {until.isoformat()}.",
                f"健康证明自开具之日起6个月内有效，已于{until.isoformat()}失效。",
                list(residence.HEALTH_CITATIONS),
                field="health_certificate_issued_on",
            )
            if "health_certificate" in a.app.materials:  # provided but expired: a new one is needed
                a.missing_extra.append("health_certificate")


def _residence_permit(a: _Assessment) -> None:
    app = a.app
    visa_cat = None
    if app.visa is not None:
        visa_cat = _category(a, app.visa.category, "visa.category")
    permit_type = app.requested.permit_type or (visa_cat.residence_permit if visa_cat else None)
    if permit_type is None:
        raise InvalidInput(
            "requested.permit_type",
            "is required (work, study, journalist, family_reunion, private_affairs — Regulations Art 15)",
        )
    ptype = residence.PERMIT_TYPES[permit_type]
    a.step("residence.permit_type", [ptype.citation], {"permit_type": permit_type}, ptype.name_en)
    _base_materials(a, "residence_permit")
    a.require(need("biometrics", residence.IN_PERSON_CITATION))
    codes, cite = residence.permit_materials(permit_type, app.purpose, app.applicant.talent, on=app.on)
    a.require_codes(codes, cite)
    if visa_cat is not None and visa_cat.code not in residence.VISA_FOR_PERMIT[permit_type]:
        a.problem(
            "visa_category_not_for_permit",
            f"A {visa_cat.code} visa does not lead to a {ptype.name_en.lower()}.",
            f"所持{visa_cat.code}字签证不应办理{ptype.name_zh}。",
            [law(31, 1), ptype.citation],
            field="visa.category",
        )
    last = _stay_end(a)
    if last is not None:
        _overstay(a, last, "duration of stay", "停留期限")
    if visa_cat is not None and visa_cat.residence_permit and app.entry_date is not None:
        rp = residence_permit_requirement(visa_cat, app.entry_date)
        assert rp is not None
        apply_by = rp["apply_by"]
        assert isinstance(apply_by, dt.date)
        a.out["apply_by"] = apply_by
        a.step(
            "categories.residence_permit_requirement",
            [reg(9), law(30, paragraph=1)],
            {"entry_date": app.entry_date},
            apply_by,
        )
        if app.on > apply_by:
            a.problem(
                "residence_permit_applied_too_late",
                f"The residence permit must be applied for within 30 days of entry: by {apply_by.isoformat()}.",
                f"应当自入境之日起三十日内（{apply_by.isoformat()}前）申请办理居留证件。",
                [law(30, paragraph=1), reg(9)],
            )
    _validity_and_health(a, permit_type)
    a.extra["fee_basis"] = "no fee table for residence permits is loaded (Guide IX prices visas only)"


def _current_permit(a: _Assessment, matter: str) -> residence.PermitType:
    rp = a.app.residence_permit
    if rp is None:
        raise InvalidInput("residence_permit", f"is required for {matter}")
    a.out["last_day_of_stay"] = rp.valid_until
    _overstay(a, rp.valid_until, "residence permit", "居留证件")
    return residence.PERMIT_TYPES[rp.type]


def _residence_permit_extension(a: _Assessment) -> None:
    app = a.app
    ptype = _current_permit(a, "a residence permit extension")
    _base_materials(a, "residence_permit_extension")
    a.require(need("current_residence_permit", reg(17)))
    codes, cite = residence.permit_materials(ptype.code, app.purpose, app.applicant.talent, on=app.on)
    a.require_codes(codes, reg(17), cite)
    assert app.residence_permit is not None
    apply_by = residence.extension_apply_by(app.residence_permit.valid_until)
    a.out["apply_by"] = apply_by
    a.step(
        "residence.extension_apply_by", [law(32)], {"valid_until": app.residence_permit.valid_until}, apply_by
    )
    if app.residence_permit.valid_until >= app.on > apply_by:
        a.problem(
            "residence_extension_applied_too_late",
            f"An extension must be applied for at least 30 days before the permit expires: by "
            f"{apply_by.isoformat()}.",
            f"应当在居留证件有效期限届满三十日前（{apply_by.isoformat()}前）申请延期。",
            [law(32)],
        )
    _validity_and_health(a, ptype.code)


def _residence_permit_replacement(a: _Assessment, reissue_: bool) -> None:
    app = a.app
    table = residence.RP_REISSUE_GROUNDS if reissue_ else residence.RP_REPLACEMENT_GROUNDS
    if app.ground not in table:
        raise InvalidInput("ground", f"must be one of {', '.join(table)} (Regulations Art 17)")
    _current_permit(a, "a residence permit " + ("reissue" if reissue_ else "replacement"))
    matter = "residence_permit_reissue" if reissue_ else "residence_permit_replacement"
    _base_materials(a, matter)
    codes, cites = table[app.ground]
    a.require_codes(codes, *cites)
    a.step("residence.replacement_ground", list(cites), {"ground": app.ground}, list(codes))
    if app.ground == "particulars_changed":
        if app.particulars_changed_on is None:
            raise InvalidInput(
                "particulars_changed_on", "is required for the ground particulars_changed (Law Art 33)"
            )
        by = residence.change_report_by(app.particulars_changed_on)
        a.out["apply_by"] = by
        a.step("residence.change_report_by", [law(33)], {"changed_on": app.particulars_changed_on}, by)
        if app.on > by:
            a.problem(
                "change_reported_late",
                f"Changed particulars must be reported within 10 days of the change: by {by.isoformat()}.",
                f"居留证件登记事项变更的，应当自变更之日起十日内（{by.isoformat()}前）申请办理变更。",
                [law(33)],
                blocking=False,
            )


def _study_work_annotation(a: _Assessment) -> None:
    app = a.app
    rp = app.residence_permit
    if rp is None:
        raise InvalidInput(
            "residence_permit",
            "is required: the annotation is added to a study residence permit (Regulations Art 22)",
        )
    if rp.type != "study":
        a.problem(
            "annotation_requires_study_permit",
            "Only a holder of a study residence permit applies for the off-campus work annotation.",
            "仅持学习类居留证件的外国人申请加注校外勤工助学或者实习信息。",
            [reg(22, paragraph=1)],
            field="residence_permit.type",
        )
    a.out["last_day_of_stay"] = rp.valid_until
    _overstay(a, rp.valid_until, "residence permit", "居留证件")
    _base_materials(a, "study_work_annotation")
    a.require_codes(
        ("current_residence_permit", "school_approval", "internship_unit_letter"), reg(22, paragraph=1)
    )
    a.step(
        "residence.study_work_annotation",
        [reg(22, paragraph=1), reg(22, paragraph=2)],
        {"type": rp.type},
        "without the annotation the holder may not work or intern off campus",
    )


def _exit_without_passport(a: _Assessment) -> None:
    app = a.app
    grounds = {
        "lost": "loss_report",
        "stolen": "loss_report",
        "robbed": "loss_report",
        "damaged": "damaged_document",
        "other": None,
    }
    if app.ground not in grounds:
        raise InvalidInput("ground", f"must be one of {', '.join(grounds)} (Regulations Art 23)")
    _base_materials(a, "exit_without_passport")
    doc = grounds[app.ground]
    if doc:
        a.require(need(doc, reg(23)))
    a.require(need("home_mission_cannot_reissue", reg(23)))
    a.step(
        "exit.without_passport",
        [reg(23)],
        {"ground": app.ground},
        "exit formalities from the exit-entry administration where the person stays or resides",
    )


HANDLERS: Final = {
    "visa": _visa,
    "visa_extension": _visa_extension,
    "visa_replacement": _visa_replacement,
    "visa_reissue": _visa_reissue,
    "stay_permit": _stay_permit,
    "residence_permit": _residence_permit,
    "residence_permit_extension": _residence_permit_extension,
    "residence_permit_replacement": lambda a: _residence_permit_replacement(a, False),
    "residence_permit_reissue": lambda a: _residence_permit_replacement(a, True),
    "study_work_annotation": _study_work_annotation,
    "exit_without_passport": _exit_without_passport,
}


def _proxy(a: _Assessment) -> None:
    app = a.app
    ans = proxy.proxy_allowed(
        app.matter,
        app.on,
        birth_date=app.applicant.birth_date,
        mobility_impaired=app.applicant.mobility_impaired,
        first_entry=app.applicant.first_entry,
        good_record=app.applicant.good_record,
        inviter_covers_expenses=app.inviter_covers_expenses,
        talent=app.applicant.talent,
    )
    a.out["proxy_allowed"] = ans.allowed
    if ans.allowed is None:
        return
    cites = [*ans.citations, *(proxy.GROUND_CITATIONS[g] for g in ans.grounds)]
    a.step(
        "proxy.proxy_allowed",
        cites,
        {
            "age": ans.age,
            "mobility_impaired": app.applicant.mobility_impaired,
            "first_entry": app.applicant.first_entry,
            "good_record": app.applicant.good_record,
            "inviter_covers_expenses": app.inviter_covers_expenses,
            "talent": app.applicant.talent,
        },
        {"allowed": ans.allowed, "grounds": list(ans.grounds)},
    )
    a.extra["proxy_grounds"] = list(ans.grounds)
    if app.submitted_by != "self" and not ans.allowed:
        a.problem(
            "proxy_not_allowed",
            f"Submission by {app.submitted_by.replace('_', ' ')} is not allowed: none of the grounds of "
            "Regulations Art 19 applies; the applicant must apply in person.",
            "不符合《条例》第十九条规定的代为申请情形，应当由本人申请。",
            list(ans.citations),
            field="submitted_by",
        )


def _receipt(a: _Assessment) -> None:
    app = a.app
    spec = acceptance.receipt_working_days(app.matter)
    if spec is None:
        return
    days, cites = spec
    accepted = app.accepted_on
    if accepted is None:
        missing = acceptance.one_time_notice(list(a.requirements.values()), app.materials) + a.missing_extra
        if missing or any(p["severity"] == "blocking" for p in a.problems):
            return  # not acceptable as submitted: no receipt to project
        accepted = app.on  # projected: were it accepted on the day of application
    try:
        until = workdays.add_working_days(accepted, days)
    except CalendarYearNotLoaded as exc:
        a.problem(
            "calendar_year_not_loaded",
            str(exc),
            f"未载入{exc.year}年国务院节假日安排通知，无法计算工作日。",
            list(cites),
            blocking=False,
        )
        return
    a.out["receipt_valid_until"] = until
    a.step(
        "acceptance.receipt_valid_until",
        list(cites),
        {"accepted_on": accepted, "working_days": days, "projected": app.accepted_on is None},
        until,
    )


def _foreign_documents(a: _Assessment) -> None:
    for doc in a.app.foreign_documents:
        req = foreign_document_needs(
            doc.code,
            a.app.on,
            issued_abroad=doc.issued_abroad,
            issuing_state_apostille_party=doc.issuing_state_apostille_party,
            legalisation=doc.legalisation,
            language=doc.language,
            translated_into_chinese=doc.translated_into_chinese,
        )
        a.step("definitions.foreign_document_needs", req.citations, {"code": doc.code}, list(req.needs))
        for what in req.needs:
            a.missing_extra.append(f"{what}:{doc.code}")


def assess(application: dict[str, Any] | Application) -> dict[str, Any]:
    """Assess one application (see ``cnvisa.law.application`` for the input contract).

    Raises ``InvalidInput`` naming the field when the input is malformed. Rules that are not in force
    on the date asked produce a blocking ``not_in_force`` problem, never a silent answer.
    """
    app = parse(application)
    a = _Assessment(app)
    try:
        law_version(app.on)
    except NotInForce as exc:
        a.problem(
            "not_in_force", str(exc), f"{app.on.isoformat()}时《外国人入境出境管理条例》尚未施行。", [reg(39)]
        )
        out = a.out
        out.update(
            acceptable=False,
            problems=a.problems,
            required_materials=[],
            missing_materials=[],
            law_version=None,
            citations=[c.as_dict() for c in a.cites],
            trace={"version": TRACE_VERSION, "engine": ENGINE_VERSION, "steps": []},
        )
        return {"matter": app.matter, "on": app.on.isoformat(), **out}
    if app.matter in VISA_MATTERS:
        try:
            require(GUIDE, app.on, "The Guide on visa extension, replacement and reissuance", guide("I"))
        except NotInForce as exc:
            a.problem("not_in_force", str(exc), "申请之日《指南》尚未适用。", [guide("I")])
    HANDLERS[app.matter](a)
    _proxy(a)
    _foreign_documents(a)
    _receipt(a)
    return a.result()
