"""Steps several matters share: the base materials (Guide VI(I)), the visa category in force (Art 6),
the last day of stay and overstay (Art 36, Art 25), the fee (Guide IX), and what may be issued."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cnvisa.law import fees, replacement
from cnvisa.law.application import Visa
from cnvisa.law.categories import VisaCategory, visa_category
from cnvisa.law.citations import REGULATIONS, Citation, guide, reg
from cnvisa.law.errors import InvalidInput, NotInForce
from cnvisa.law.materials import need
from cnvisa.law.matters.record import Assessment, iso
from cnvisa.law.status import last_day_of_stay

BASE_VISA_STAY = (reg(12), guide("VI(I)"))


def base_materials(a: Assessment, matter: str) -> None:
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
        cites = BASE_VISA_STAY
    a.require(need("passport", *cites), need("application_form", *cites), need("photo", *cites))


def category_on(a: Assessment, code: str | None, field: str) -> VisaCategory | None:
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


def entry_within_validity(a: Assessment) -> None:
    """Art 36 para 1(2): a visa admits its holder only within its entry validity (until 24:00 of the last day).
    An entry after it was not made on this visa, so no stay under this visa counts from it."""
    visa, entry = a.app.visa, a.app.entry_date
    if visa is None or entry is None or visa.valid_until is None or visa.entries == "zero":
        return  # a zero-entry visa (issued in China) admits no entry
    if entry > visa.valid_until:
        a.problem(
            "entry_after_entry_validity",
            f"The entry on {entry.isoformat()} is after the visa's entry validity ended on "
            f"{visa.valid_until.isoformat()}: the visa did not admit that entry.",
            f"入境日期{entry.isoformat()}晚于签证入境有效期届满之日{visa.valid_until.isoformat()}，该次入境不是持本签证入境。",
            [reg(36, 2, paragraph=1)],
            field="entry_date",
        )


def stay_end(a: Assessment) -> dt.date | None:
    """Art 36 para 1(3): last day of stay of the current entry (after checking the entry, Art 36 para 1(2))."""
    entry_within_validity(a)
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


def overstay(a: Assessment, last: dt.date, what_en: str, what_zh: str) -> bool:
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


def charge_fee(a: Assessment, row: str | None) -> None:
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


def check_requested_stay(
    a: Assessment, requested: int | None, maximum: int | None, cites: list[Citation]
) -> None:
    if requested is not None and maximum is not None and requested > maximum:
        a.problem(
            "stay_exceeds_maximum",
            f"Requested stay of {requested} days exceeds the {maximum} days that may be issued.",
            f"申请停留期{requested}日，超过可签发的最长停留期{maximum}日。",
            cites,
            field="requested.stay_days",
        )


def stay_overstay(a: Assessment) -> None:
    """The last day of stay of the current entry, and illegal residence after it (Art 25(1))."""
    last = stay_end(a)
    if last is not None:
        overstay(a, last, "duration of stay", "停留期限")


def issuable(
    a: Assessment,
    category: str | None = None,
    entries: list[str] | None = None,
    max_entry_validity_days: int | None = None,
    max_stay_days: int | None = None,
    **more: Any,
) -> None:
    """Record what may be issued (the ``issuable`` output key)."""
    a.out["issuable"] = {
        "category": category,
        "entries": entries,
        "max_entry_validity_days": max_entry_validity_days,
        "max_stay_days": max_stay_days,
        **more,
    }


def issuable_as_original(
    a: Assessment, cat: VisaCategory, visa: Visa, stay: int | None, rule: str, cites: list[Citation]
) -> tuple[str | None, int | None]:
    """A replaced (Guide VI(III)6-10) or reissued (Guide VI(IV)) visa keeps the original's category, remaining
    entries and entry validity; returns (entries left, days of entry validity left)."""
    left = replacement.remaining_entries(visa.entries, visa.entries_used)
    validity = None if visa.valid_until is None else max(0, (visa.valid_until - a.app.on).days)
    issuable(a, cat.code, [left] if left else None, validity, stay)
    a.step(
        rule,
        cites,
        {
            "category": cat.code,
            "entries": visa.entries,
            "entries_used": visa.entries_used,
            "valid_until": visa.valid_until,
            "stay_days": visa.stay_days,
        },
        a.out["issuable"],
    )
    return left, validity


def note_residence_permit(a: Assessment, rp: dict[str, object]) -> None:
    """Art 9, Law Art 30 para 1: the residence permit the holder must apply for after entry."""
    a.extra["residence_permit_required"] = {
        "permit_type": rp["permit_type"],
        "within_days_of_entry": rp["within_days_of_entry"],
        "apply_by": iso(rp["apply_by"]),
    }
