"""An ordinary visa applied for abroad — Regulations Art 6-9, Law Art 30.

Art 7: the materials by category; Art 8: when an interview is required; Art 9 and Law Art 30 para 1: the
residence permit a residence-category holder applies for within 30 days of entry; Art 36 para 1(4)-(5): the
term of the stay asked for.
"""

from __future__ import annotations

from cnvisa.law.categories import residence_permit_requirement
from cnvisa.law.citations import law, reg
from cnvisa.law.matters.record import Assessment
from cnvisa.law.matters.steps import base_materials, category_on, issuable, note_residence_permit
from cnvisa.law.status import term


def run(a: Assessment) -> None:
    """An ordinary visa applied for abroad: Art 7 (materials), Art 8 (interview), Art 9 (residence)."""
    app = a.app
    code = app.requested.category or (app.visa.category if app.visa else None)
    cat = category_on(a, code, "requested.category")
    base_materials(a, "visa")
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
        note_residence_permit(a, rp)
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
    issuable(a, cat.code)
