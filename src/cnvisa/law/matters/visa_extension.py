"""Visa extension (签证延期) — Guide VI(I)-(II), Regulations Art 12-14, Law Art 29.

The category rules and their readings are in ``cnvisa.law.extension``; this module runs them for one
application: the current entry's last day of stay, the last day to apply, the longest extension and the fee.
A port visa (Law Art 20 para 4: one entry, at most 30 days) extends by at most its stated stay in all (Law Art 29
para 2; Regulations Art 14 para 1): at most 30 days.
"""

from __future__ import annotations

from cnvisa.law import extension
from cnvisa.law import port_visa as pv
from cnvisa.law.categories import residence_permit_requirement
from cnvisa.law.citations import reg
from cnvisa.law.errors import InvalidInput
from cnvisa.law.matters.record import Assessment
from cnvisa.law.matters.steps import (
    base_materials,
    category_on,
    charge_fee,
    note_residence_permit,
    overstay,
    stay_end,
)


def run(a: Assessment) -> None:
    app = a.app
    if app.visa is None:
        raise InvalidInput("visa", "is required for a visa extension")
    cat = category_on(a, app.visa.category, "visa.category")
    base_materials(a, "visa_extension")
    if app.entry_date is None:
        raise InvalidInput(
            "entry_date", "is required: the extension concerns the current entry (Regulations Art 14)"
        )
    if app.visa.stay_days is None:
        raise InvalidInput("visa.stay_days", "is required: the duration of stay stated on the visa (Art 14)")
    last = stay_end(a)
    assert last is not None
    a.step(
        "extension.current_entry_only",
        [reg(14, paragraph=1)],
        {"entry_date": app.entry_date},
        "the extension applies to this entry only; entries and entry validity unchanged",
    )
    if cat is None:
        return
    rule = extension.extension_rule(cat.code, on=app.on, purpose=app.purpose, stay_days=app.visa.stay_days)
    if isinstance(rule, extension.NoExtension):
        a.problem("no_extension_for_category", rule.instead_en, rule.instead_zh, list(rule.citations))
        a.step(
            "extension.extension_rule", rule.citations, {"category": cat.code}, "no extension in the Guide"
        )
        rp = residence_permit_requirement(cat, app.entry_date)
        if rp is not None:
            note_residence_permit(a, rp)
        return
    materials = rule.materials
    if cat.code == "L" and app.visa.group:
        materials = (*materials, extension.L_GROUP_MATERIAL)
    a.require_codes(materials, rule.citation)
    a.step(
        "extension.extension_rule",
        [rule.citation, *rule.basis],
        {
            "category": cat.code,
            "purpose": app.purpose,
            "group": app.visa.group,
            "stay_days": app.visa.stay_days,
        },
        {"materials": list(materials), "max_days": rule.max_days},
    )
    if rule.max_days is None:
        a.problem(
            "no_category_maximum_in_guide",
            f"The Guide sets no maximum extension for {cat.code} visas (it predates the K visa); the extension is "
            "bounded only by the stay stated on the original visa (Law Art 29 para 2; Regulations Art 14).",
            f"《指南》未规定{cat.code}字签证的最长延长期限（《指南》早于K字签证），累计延长的停留期限不得超过原签证注明的停留期限。",
            [*rule.basis, rule.citation, *extension.CUMULATIVE_CITATIONS],
            blocking=False,
        )
    apply_by = extension.last_day_to_apply(last)
    a.out["apply_by"] = apply_by
    a.step(
        "extension.last_day_to_apply", list(extension.TIMING_CITATIONS), {"last_day_of_stay": last}, apply_by
    )
    if not overstay(a, last, "duration of stay", "停留期限") and app.on > apply_by:
        a.problem(
            "extension_applied_too_late",
            f"An extension must be applied for at least 7 days before the stay ends ({last.isoformat()}): by "
            f"{apply_by.isoformat()}.",
            f"应当在停留期限届满七日前（{apply_by.isoformat()}前）申请延期。",
            list(extension.TIMING_CITATIONS),
        )
    maximum = extension.max_extension_days(rule, app.visa.stay_days, app.visa.extended_days)
    if app.visa.port_visa:
        maximum = min(maximum, _port_visa_ceiling(a, app.visa.stay_days, app.visa.extended_days))
    port_cites = [pv.LAW20_LIMITS] if app.visa.port_visa else []
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
            [*extension.CUMULATIVE_CITATIONS, *port_cites],
        )
    elif app.requested.extension_days is not None and app.requested.extension_days > maximum:
        a.problem(
            "extension_exceeds_maximum",
            f"Requested extension of {app.requested.extension_days} days exceeds the maximum of {maximum} days.",
            f"申请延长{app.requested.extension_days}日，超过最长可延长的{maximum}日。",
            [rule.citation, *extension.CUMULATIVE_CITATIONS, *port_cites],
            field="requested.extension_days",
        )
    charge_fee(a, "zero")


def _port_visa_ceiling(a: Assessment, stay_days: int, extended_days: int) -> int:
    """Law Art 20 para 4, Art 29 para 2; Regulations Art 14 para 1: a port visa's extensions total at most its
    stated stay, itself at most 30 days."""
    visa = a.app.visa
    assert visa is not None
    if stay_days > pv.MAX_STAY_DAYS:
        a.problem(
            "port_visa_stay_over_30",
            f"A port visa states a stay of at most {pv.MAX_STAY_DAYS} days (Law Art 20 para 4), not {stay_days}.",
            f"口岸签证注明的停留期限不得超过三十日，而非{stay_days}日。",
            [pv.LAW20_LIMITS],
            field="visa.stay_days",
        )
    if visa.entries not in (None, pv.ENTRIES):
        a.problem(
            "port_visa_single_entry",
            "A port visa is valid for a single entry (Law Art 20 para 4).",
            "口岸签证一次入境有效。",
            [pv.LAW20_LIMITS],
            field="visa.entries",
        )
    ceiling = pv.extension_ceiling(stay_days, extended_days)
    a.step(
        "port_visa.extension_ceiling",
        list(pv.EXTENSION_CITATIONS),
        {
            "original_stay_days": stay_days,
            "extended_days": extended_days,
            "port_visa_max_stay": pv.MAX_STAY_DAYS,
        },
        ceiling,
    )
    a.extra["port_visa_extension_ceiling_days"] = ceiling
    return ceiling
