"""Stay permit (停留证件) — Law Art 34, Regulations Art 12: at most 180 days."""

from __future__ import annotations

from cnvisa.law import residence
from cnvisa.law.citations import law, reg
from cnvisa.law.materials import need
from cnvisa.law.matters.record import Assessment
from cnvisa.law.matters.steps import base_materials, issuable, stay_overstay


def run(a: Assessment) -> None:
    app = a.app
    base_materials(a, "stay_permit")
    a.require(need("stay_reason_documents", reg(12), law(34)))
    stay_overstay(a)
    validity = app.requested.validity_days
    issuable(a, max_stay_days=residence.STAY_PERMIT_MAX_DAYS)
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
