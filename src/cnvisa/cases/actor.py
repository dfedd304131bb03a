"""Who acts on the case core, and which cases they may touch."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cnvisa.cases.errors import Forbidden
from cnvisa.cases.workflow import STAFF, Role
from cnvisa.store.tables import Case


@dataclass(frozen=True)
class Actor:
    """Who acts: an account in a role, with the office (staff) or the people they may act for."""

    account_id: int | None
    role: Role
    office_id: int | None = None
    person_id: int | None = None
    represents: frozenset[int] = field(default_factory=frozenset)
    organisation_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


SYSTEM = Actor(None, Role.SYSTEM)


def caseless_event(
    actor: Actor, at: dt.datetime, action: str, detail: dict[str, Any], office_id: int | None
) -> dict[str, Any]:
    """The fields of an audit event of ``actor`` that concerns no one case (a list read, a records change, a
    booking, a report, an identity check), recorded under ``office_id`` (the office it concerns, if any)."""
    return {
        "at": at,
        "actor_account_id": actor.account_id,
        "role": str(actor.role),
        "office_id": office_id,
        "case_id": None,
        "action": action,
        "detail": detail,
    }


def may_touch(actor: Actor, case: Case) -> None:
    """Staff touch their own office's cases; an applicant their own; an agent or organisation the cases of the
    people they represent. Anyone else is Forbidden."""
    if actor.role is Role.SYSTEM or actor.role is Role.ADMIN:
        return
    if actor.is_staff:
        if actor.office_id != case.office_id:
            raise Forbidden("the case belongs to another office")
        return
    if actor.role is Role.APPLICANT and actor.person_id == case.person_id:
        return
    if actor.role in (Role.AGENT, Role.ORG_STAFF) and case.person_id in actor.represents:
        return
    raise Forbidden("not your case")
