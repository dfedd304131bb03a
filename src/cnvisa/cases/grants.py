"""What the officer grants on approval: the validity of an extended residence permit.

The applicant's ``requested.validity_days`` is a request; the validity is the officer's decision, within the
bounds the law engine answers for the case (Exit and Entry Administration Law Art 30 para 2: work-type permits
90 days to 5 years, others 180 days to 5 years), counted from the day of the decision. An extension that
would not end later than the permit it replaces extends nothing and is refused (guard ``extension_ends_later``,
Law Art 32). The grant is kept with the case's inputs under ``GRANTED_VALIDITY`` (a service input: the law
engine is not asked about it, and applicants may not set it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cnvisa.cases.errors import BadInput

GRANTED_VALIDITY = "granted_validity_days"
"""The case input holding the validity the officer granted, in days."""
GRANTS_VALIDITY = frozenset({"residence_permit_extension"})
"""Matters whose approval decides the validity of the permit issued."""
BOUNDS_RULE = "residence.validity_bounds_days"
"""The law engine's step that answers the bounds (its citations are the rule named in errors)."""


@dataclass(frozen=True)
class ValidityBounds:
    """The bounds shown beside the officer's validity field, and what the approval checks."""

    on: dt.date
    """The day the bounds are counted from (the decision day)."""
    min_days: int
    max_days: int
    rule: str
    requested_days: int | None
    """The applicant's request: shown, not applied."""
    replaces_valid_until: dt.date | None
    """The last day of the permit it replaces: the new one must end later."""

    def check(self, days: int | None) -> int:
        """The granted validity, or BadInput naming the field and the rule."""
        if days is None or isinstance(days, bool) or not isinstance(days, int):
            raise BadInput(
                "validity_days",
                f"required: the validity the officer grants, {self.min_days} to {self.max_days} days "
                f"({self.rule}); the applicant's request is not applied",
            )
        if not self.min_days <= days <= self.max_days:
            raise BadInput(
                "validity_days",
                f"{days} days is outside {self.min_days} to {self.max_days} days ({self.rule})",
            )
        return days

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": "validity_days",
            "on": self.on.isoformat(),
            "min_days": self.min_days,
            "max_days": self.max_days,
            "rule": self.rule,
            "requested_days": self.requested_days,
            "replaces_valid_until": self.replaces_valid_until.isoformat()
            if self.replaces_valid_until
            else None,
        }


def replaced_until(inputs: Mapping[str, Any]) -> dt.date | None:
    """The last day of the permit the application names (``inputs.residence_permit.valid_until``)."""
    until = (inputs.get("residence_permit") or {}).get("valid_until")
    return dt.date.fromisoformat(until) if until else None


def validity_bounds(assessment: Mapping[str, Any], inputs: Mapping[str, Any], on: dt.date) -> ValidityBounds:
    """The bounds the law engine answered (``assessment``, asked as of ``on``) for a case with ``inputs``."""
    issuable = assessment.get("issuable") or {}
    steps = [s for s in assessment["trace"]["steps"] if s["rule"] == BOUNDS_RULE]
    if not steps or issuable.get("min_validity_days") is None or issuable.get("max_validity_days") is None:
        raise BadInput("validity_days", "the law engine answers no validity bounds for this case")
    requested = (inputs.get("requested") or {}).get("validity_days")
    return ValidityBounds(
        on=on,
        min_days=int(issuable["min_validity_days"]),
        max_days=int(issuable["max_validity_days"]),
        rule="; ".join(steps[0]["citations"]),
        requested_days=int(requested) if requested is not None else None,
        replaces_valid_until=replaced_until(inputs),
    )


def ends_later_detail(new_until: dt.date, old_until: dt.date) -> str:
    return (
        f"the new permit would end on {new_until.isoformat()}, not later than the permit it replaces "
        f"({old_until.isoformat()}): an extension must extend"
    )


def refuse_officer_inputs(inputs: Mapping[str, Any] | None) -> None:
    """Applicants may not set what the officer grants."""
    if inputs and GRANTED_VALIDITY in inputs:
        raise BadInput(
            f"inputs.{GRANTED_VALIDITY}",
            "decided by the officer on approval (Law Art 30 para 2), not applied for",
        )
