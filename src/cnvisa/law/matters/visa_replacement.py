"""Visa replacement (签证换发) — Guide VI(III), Regulations Art 10.

Grounds 1-5 (change of purpose, entry facilitation) issue a new category by the Guide's table
(``cnvisa.law.replacement``); grounds 6-10 (new passport, leaving a group, an accompanying person) keep the
visa held. Either way the stay after replacement ends within one year of the entry (Guide VI(III)).
"""

from __future__ import annotations

from typing import Final

from cnvisa.law import business_visa, fees, replacement
from cnvisa.law.citations import Citation, guide, reg
from cnvisa.law.errors import InvalidInput
from cnvisa.law.matters.record import Assessment
from cnvisa.law.matters.steps import (
    base_materials,
    category_on,
    charge_fee,
    check_requested_stay,
    issuable,
    issuable_as_original,
    stay_overstay,
)
from cnvisa.law.vocabulary import grounds_error

_ENTRY_RANK: Final = {"zero": 0, "single": 1, "double": 2, "multiple": 3}


def run(a: Assessment) -> None:
    app = a.app
    ground = app.ground
    if ground not in replacement.GROUNDS:
        raise InvalidInput("ground", grounds_error("visa_replacement"))
    if app.entry_date is None:
        raise InvalidInput(
            "entry_date",
            "is required: the stay after replacement is capped at one year from this entry (Guide VI(III))",
        )
    base_materials(a, "visa_replacement")
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
        stay_overstay(a)
    if ground in ("change_of_purpose", "entry_facilitation"):
        target = category_on(a, app.requested.category, "requested.category")
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
        req = app.requested
        multiple = _business_multiple_entry(a, row.category, max_validity)
        if multiple is not None and req.entries == business_visa.ENTRIES:
            max_validity = multiple[0]
        issuable(
            a,
            row.category,
            list(row.entries),
            max_validity,
            max_stay,
            **({"multiple_entry_max_validity_days": multiple[0]} if multiple else {}),
        )
        a.step(
            "replacement.issuable",
            [row.citation, replacement.ONE_YEAR_CITATION, *(multiple[1] if multiple else ())],
            {"category": row.category, "variant": row.variant, "entries": req.entries},
            a.out["issuable"],
        )
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
            ceiling = multiple is not None and req.entries == business_visa.ENTRIES
            a.problem(
                "entry_validity_exceeds_maximum",
                f"Requested entry validity of {req.entry_validity_days} days exceeds the maximum "
                f"({max_validity or 0} days"
                + (", the ceiling for a multiple-entry M visa by replacement)." if ceiling else ")."),
                f"申请的入境有效期{req.entry_validity_days}日超过上限"
                + (f"（境内换发多次入境商务签证最长{max_validity}日）。" if ceiling else "。"),
                [row.citation, *(multiple[1] if multiple and ceiling else ())],
                field="requested.entry_validity_days",
            )
        check_requested_stay(a, req.stay_days, max_stay, [row.citation, replacement.ONE_YEAR_CITATION])
        if req.entries is not None:
            charge_fee(a, fees.fee_row(req.entries, req.entry_validity_days, app.on))
        return
    # new passport, leaving a group, adding an accompanying person: the visa held is the basis.
    if visa is None:
        raise InvalidInput("visa", f"is required for a replacement on the ground {ground}")
    cat = category_on(a, visa.category, "visa.category")
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
    stay = None if visa.stay_days is None else min(visa.stay_days, cap)
    left, validity = issuable_as_original(
        a,
        cat,
        visa,
        stay,
        "replacement.issuable_as_original",
        [guide(section), replacement.ONE_YEAR_CITATION],
    )
    check_requested_stay(a, app.requested.stay_days, stay, [guide(section), replacement.ONE_YEAR_CITATION])
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
        charge_fee(a, "accompanying_person")
    elif left is not None:
        charge_fee(a, fees.fee_row(left, validity, app.on))


def _business_multiple_entry(
    a: Assessment, category: str, guide_max: int | None
) -> tuple[int, tuple[Citation, ...]] | None:
    """Guide VI(III)3 narrowed by the MPS 2023-08-03 ceiling (``cnvisa.law.business_visa``): the longest entry
    validity of a multiple-entry M visa by replacement and its citations; None for other categories."""
    if category != business_visa.CATEGORY:
        return None
    on = a.app.on
    days = business_visa.multiple_entry_max_days(on, guide_max)
    if days is None:
        return None
    ceiling = business_visa.ceiling_on(on)
    cites: tuple[Citation, ...] = (business_visa.GUIDE_BOUNDS, business_visa.COUNTING)
    if ceiling is not None:
        cites = (ceiling.citation, *cites)
    a.step(
        "business_visa.multiple_entry_max_days",
        cites,
        {"on": on, "guide_max_days": guide_max},
        days,
    )
    a.extra["business_multiple_entry"] = {
        "max_validity_days": days,
        "ceiling": None if ceiling is None else ceiling.as_dict(on),
        "guide_max_days": guide_max,
        "readings": business_visa.readings(on),
        "readings_zh": business_visa.readings(on, zh=True),
    }
    return days, cites
