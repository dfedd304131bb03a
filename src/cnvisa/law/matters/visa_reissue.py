"""Visa reissue (签证补发) — Guide VI(IV), Regulations Art 11: a reissued visa is identical to the original."""

from __future__ import annotations

from cnvisa.law import fees, reissue
from cnvisa.law.citations import guide, reg
from cnvisa.law.errors import InvalidInput
from cnvisa.law.materials import need
from cnvisa.law.matters.record import Assessment
from cnvisa.law.matters.steps import (
    BASE_VISA_STAY,
    category_on,
    charge_fee,
    issuable_as_original,
    stay_overstay,
)
from cnvisa.law.vocabulary import grounds_error


def run(a: Assessment) -> None:
    app = a.app
    ground = app.ground
    if ground not in reissue.GROUNDS:
        raise InvalidInput("ground", grounds_error("visa_reissue"))
    visa = app.visa
    if visa is None:
        raise InvalidInput("visa", "is required: a reissued visa is identical to the original (Guide VI(IV))")
    cat = category_on(a, visa.category, "visa.category")
    codes, section = reissue.GROUNDS[ground]
    cites = BASE_VISA_STAY
    if "new_passport" in codes:
        a.require(need("new_passport", guide(section), *cites))
    else:
        a.require(need("passport", *cites))
    a.require(need("application_form", *cites), need("photo", *cites))
    a.require_codes(tuple(c for c in codes if c != "new_passport"), guide(section))
    a.step("reissue.ground", [reg(11), guide(section)], {"ground": ground}, list(codes))
    stay_overstay(a)
    if cat is None:
        return
    left, validity = issuable_as_original(
        a, cat, visa, visa.stay_days, "reissue.identical_to_original", [reissue.IDENTICAL_CITATION]
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
        charge_fee(a, fees.fee_row(left, validity, app.on))
