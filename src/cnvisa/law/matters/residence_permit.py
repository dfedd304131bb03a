"""Residence permits (居留证件) — Regulations Art 15-17 and 22, Law Art 30-33.

A first permit after entry (Art 15-16; Law Art 30), its extension (Art 17; Law Art 32), replacement and
reissue (Art 17; Law Art 33), and the off-campus work annotation on a study permit (Art 22). The permit
types, their materials and validity bounds are in ``cnvisa.law.residence``.
"""

from __future__ import annotations

import datetime as dt

from cnvisa.law import fees, five_year, residence
from cnvisa.law.categories import residence_permit_requirement
from cnvisa.law.citations import law, reg
from cnvisa.law.errors import InvalidInput
from cnvisa.law.materials import need
from cnvisa.law.matters.record import Assessment
from cnvisa.law.matters.steps import base_materials, category_on, issuable, overstay, stay_overstay
from cnvisa.law.obligations import REST_DAY_END
from cnvisa.law.vocabulary import grounds_error


def validity_and_health(a: Assessment, permit_type: str) -> None:
    app = a.app
    lo, hi = residence.validity_bounds_days(permit_type, app.on)
    validity = app.requested.validity_days
    a.step(
        "residence.validity_bounds_days",
        [residence.VALIDITY_CITATION],
        {"permit_type": permit_type, "on": app.on},
        {"min_days": lo, "max_days": hi},
    )
    issuable(a, permit_type=permit_type, min_validity_days=lo, max_validity_days=hi)
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


def five_year_answer(a: Assessment, permit_type: str) -> None:
    """When the application carries ``five_year`` facts: whether the office may grant a work-type permit of up to
    five years, until when and on which grounds (``cnvisa.law.five_year``; seed 001 l.16) — never an
    entitlement. The permit asked for is dated from the date of application unless ``five_year.start`` says."""
    facts = a.app.five_year
    if facts is None:
        return
    if permit_type != "work":
        a.extra["five_year"] = {
            "may_grant": False,
            "answer": "The five-year measure concerns work-type residence permits (seed 001 l.16).",
        }
        return
    if "on" in facts:
        raise InvalidInput("five_year.on", "is the application's own `on`: leave it out")
    try:
        answer = five_year.five_year_permit({**facts, "on": a.app.on})
    except InvalidInput as exc:
        raise InvalidInput(f"five_year.{exc.field}", exc.message, kind=exc.kind, params=exc.params) from None
    a.step(
        "five_year.five_year_permit",
        [five_year.SEED, law(30, paragraph=2)],
        {"on": a.app.on, "groups": sorted(five_year.GROUPS)},
        answer["may_grant_until"],
    )
    a.extra["five_year"] = answer


def residence_permit(a: Assessment) -> None:
    app = a.app
    visa_cat = None
    if app.visa is not None:
        visa_cat = category_on(a, app.visa.category, "visa.category")
    permit_type = app.requested.permit_type or (visa_cat.residence_permit if visa_cat else None)
    if permit_type is None:
        raise InvalidInput(
            "requested.permit_type",
            "is required (work, study, journalist, family_reunion, private_affairs — Regulations Art 15)",
        )
    ptype = residence.PERMIT_TYPES[permit_type]
    a.step("residence.permit_type", [ptype.citation], {"permit_type": permit_type}, ptype.name_en)
    base_materials(a, "residence_permit")
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
    stay_overstay(a)
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
    validity_and_health(a, permit_type)
    five_year_answer(a, permit_type)
    residence_fee(a)


def residence_fee(a: Assessment) -> None:
    """The fee by the validity asked for (fees.toml residence_permit_table; Guide IX prices visas only).

    Reading: the band depends on the validity's length only, so it is computed as if the permit were issued on
    the application day; the validity granted decides the fee actually charged."""
    validity = a.app.requested.validity_days
    if validity is None:
        a.extra["fee_basis"] = (
            "by the validity granted: residence-permit fee bands (发改价格〔2004〕2230号); "
            "give requested.validity_days for the band"
        )
        return
    until = a.app.on + dt.timedelta(days=validity)
    fee = fees.residence_permit_fee(a.app.on, until)
    a.step("fees.residence_permit_fee", fee.citations, {"issued_on": a.app.on, "valid_until": until}, fee.cny)
    a.out["fee_cny"] = fee.cny
    a.extra["fee_basis"] = fee.basis


def current_permit(a: Assessment, matter: str) -> residence.PermitType:
    rp = a.app.residence_permit
    if rp is None:
        raise InvalidInput("residence_permit", f"is required for {matter}")
    a.out["last_day_of_stay"] = rp.valid_until
    overstay(a, rp.valid_until, "residence permit", "居留证件")
    return residence.PERMIT_TYPES[rp.type]


def residence_permit_extension(a: Assessment) -> None:
    app = a.app
    ptype = current_permit(a, "a residence permit extension")
    base_materials(a, "residence_permit_extension")
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
    validity_and_health(a, ptype.code)
    five_year_answer(a, ptype.code)
    residence_fee(a)


def residence_permit_replacement(a: Assessment, reissue_: bool) -> None:
    app = a.app
    table = residence.RP_REISSUE_GROUNDS if reissue_ else residence.RP_REPLACEMENT_GROUNDS
    matter = "residence_permit_reissue" if reissue_ else "residence_permit_replacement"
    if app.ground not in table:
        raise InvalidInput("ground", grounds_error(matter))
    current_permit(a, "a residence permit " + ("reissue" if reissue_ else "replacement"))
    base_materials(a, matter)
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
        # a last day on a rest day moves to the next working day (Civil Code Art 203 para 1; law.obligations)
        moved = by != app.particulars_changed_on + dt.timedelta(days=residence.REPORT_CHANGE_WITHIN_DAYS)
        period = [law(33), *(REST_DAY_END if moved else ())]
        a.step("residence.change_report_by", period, {"changed_on": app.particulars_changed_on}, by)
        if app.on > by:
            a.problem(
                "change_reported_late",
                f"Changed particulars must be reported within 10 days of the change: by {by.isoformat()}.",
                f"居留证件登记事项变更的，应当自变更之日起十日内（{by.isoformat()}前）申请办理变更。",
                [law(33)],
                blocking=False,
            )


def study_work_annotation(a: Assessment) -> None:
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
    overstay(a, rp.valid_until, "residence permit", "居留证件")
    base_materials(a, "study_work_annotation")
    a.require_codes(
        ("current_residence_permit", "school_approval", "internship_unit_letter"), reg(22, paragraph=1)
    )
    a.step(
        "residence.study_work_annotation",
        [reg(22, paragraph=1), reg(22, paragraph=2)],
        {"type": rp.type, "purpose": app.purpose},
        "without the annotation the holder may not work or intern off campus",
    )
