"""What a joint application asks for: the work-permit request's fields (BadInput naming the field) and the
one material set its two branches need (``cnvisa.law.one_stop``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cnvisa.cases.errors import BadInput
from cnvisa.law import one_stop
from cnvisa.law.divisions import check_division
from cnvisa.law.errors import InvalidInput

WP_FIELDS = ("category", "position", "work_region", "contract_until")


def check_work_permit_request(wp: Any) -> dict[str, Any]:
    """What the employer applies for (BadInput naming the field): ``category`` (A, B, C), ``position``,
    ``work_region`` (6-digit division code), ``contract_until`` (YYYY-MM-DD), optional ``job_changer`` and
    ``in_china`` (booleans)."""
    if not isinstance(wp, dict):
        raise BadInput("work_permit", "an object: category, position, work_region, contract_until")
    if wp.get("category") not in one_stop.CATEGORIES:
        raise BadInput("work_permit.category", "A, B or C (外国人来华工作分类标准（试行）)")
    position = wp.get("position")
    if not isinstance(position, str) or not position.strip() or len(position) > 200:
        raise BadInput("work_permit.position", "the position, 1-200 characters")
    region = wp.get("work_region")
    try:
        check_division(region, "work_permit.work_region")
    except InvalidInput as exc:
        raise BadInput(exc.field, exc.message) from None
    try:
        dt.date.fromisoformat(str(wp.get("contract_until")))
    except ValueError:
        raise BadInput("work_permit.contract_until", "the contract's last day, YYYY-MM-DD") from None
    for flag in ("job_changer", "in_china"):
        if flag in wp and not isinstance(wp[flag], bool):
            raise BadInput(f"work_permit.{flag}", "true or false")
    unknown = sorted(set(wp) - {*WP_FIELDS, "job_changer", "in_china"})
    if unknown:
        raise BadInput(f"work_permit.{unknown[0]}", "not a field of the work-permit application")
    return {**wp, "position": position.strip()}


def joint_materials_for(
    joint_wp: dict[str, Any], rp_inputs: dict[str, Any]
) -> tuple[one_stop.JointMaterial, ...]:
    days = (rp_inputs.get("requested") or {}).get("validity_days")
    try:
        return one_stop.joint_materials(
            category=joint_wp["category"],
            validity_days=days if isinstance(days, int) else 0,
            in_china=bool(joint_wp.get("in_china", True)),
            job_changer=bool(joint_wp.get("job_changer", False)),
        )
    except InvalidInput as exc:
        where = (
            "inputs.requested.validity_days" if exc.field == "validity_days" else f"work_permit.{exc.field}"
        )
        raise BadInput(where, exc.message) from None
