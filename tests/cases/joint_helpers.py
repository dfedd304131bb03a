"""Shared data of the joint-application tests: an employer, the work-permit desk's officers, a joint service."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from case_helpers import MATTERS, World, key, pdf
from sqlalchemy import func, select

from cnvisa.cases.actor import Actor
from cnvisa.cases.joint.service import JointService
from cnvisa.cases.passport_check import PassportShown
from cnvisa.cases.workflow import Role
from cnvisa.demo.vocab import mrz
from cnvisa.law import one_stop
from cnvisa.store.joint_tables import JointApplication, WorkPermit, WorkPermitBranch
from cnvisa.store.tables import Account, AuditEvent, Notice, Organisation

RP = MATTERS["residence_permit"]
PASSPORT = PassportShown(
    *mrz("MUELLER", "ANNA", "DEU", "C01X00T47", dt.date(1961, 5, 14), "F", dt.date(2032, 1, 1)).split("\n")
)
"""The seeded person's passport as the reader at the window gives it (not yet on record: recorded when read)."""
RETURNED: dict[str, Any] = {"passport_kept": False, "passport": PASSPORT}
"""A joint acceptance that checks the passport on the spot and returns it (seed 001 l.20)."""
WP_A = {
    "category": "A",
    "position": "Chief engineer",
    "work_region": "310115",
    "contract_until": "2027-10-31",
}
WP_B = {**WP_A, "category": "B"}


def all_codes(wp: dict[str, Any]) -> tuple[str, ...]:
    required = one_stop.joint_materials(category=wp["category"], validity_days=365)
    return tuple(m.code for m in required if m.satisfied_by == "upload")


GRANT = {
    "category": "A",
    "position": "Chief engineer",
    "work_region": "310115",
    "valid_from": "2025-11-10",
    "valid_until": "2026-10-31",
}


@dataclass
class JointWorld:
    w: World
    svc: JointService
    employer_id: int
    org_staff: Actor
    wp_officer: Actor
    wp_officer_bj: Actor

    async def apply(
        self,
        wp: dict[str, Any] = WP_A,
        *,
        files: tuple[str, ...] | None = None,
        actor: Actor | None = None,
        office_id: int | None = None,
        office_asks: list[str] | None = None,
    ) -> dict[str, Any]:
        codes = all_codes(wp) if files is None else files
        return await self.svc.apply_joint(
            actor or self.w.applicant,
            key=key(),
            person_id=self.w.person_id,
            office_id=office_id or self.w.office_id,
            employer_organisation_id=self.employer_id,
            work_permit=dict(wp),
            inputs=RP.inputs,
            files=[pdf(c) for c in codes],
            office_asks=office_asks,
        )

    async def accepted(self, wp: dict[str, Any] = WP_A, *, office_id: int | None = None) -> dict[str, Any]:
        j = await self.apply(wp, office_id=office_id)
        officer = self.w.officer if office_id in (None, self.w.office_id) else self.w.foreign_officer
        return await self.svc.joint_accept(officer, j["joint_id"], j["version"], key=key(), **RETURNED)

    async def counts(self) -> tuple[int, ...]:
        async with self.w.sessions() as s:
            out = []
            for model in (AuditEvent, JointApplication, WorkPermitBranch, WorkPermit, Notice):
                out.append(int((await s.execute(select(func.count()).select_from(model))).scalar_one()))
            return tuple(out)

    async def branch(self, joint_id: int) -> WorkPermitBranch:
        async with self.w.sessions() as s:
            q = select(WorkPermitBranch).where(WorkPermitBranch.joint_id == joint_id)
            return (await s.execute(q)).scalar_one()

    async def joint(self, joint_id: int) -> JointApplication:
        async with self.w.sessions() as s:
            j = await s.get(JointApplication, joint_id)
            assert j is not None
            return j


async def joint_world(w: World) -> JointWorld:
    async with w.sessions() as s, s.begin():
        org = Organisation(
            uscc="91310000MA1FL0000X", name="Example Engineering Co", kind="employer", region="310115"
        )
        s.add(org)
        await s.flush()
        accounts = {
            "staff": Account(
                username="hr", display_name="hr", role=str(Role.ORG_STAFF), organisation_id=org.id
            ),
            "wpo": Account(
                username="wpo-sh",
                display_name="wpo",
                role=str(Role.WORK_PERMIT_OFFICER),
                office_id=w.office_id,
            ),
            "wpo_bj": Account(
                username="wpo-bj",
                display_name="wpo",
                role=str(Role.WORK_PERMIT_OFFICER),
                office_id=w.other_office_id,
            ),
        }
        s.add_all(accounts.values())
        await s.flush()
        ids = {k: a.id for k, a in accounts.items()}
        org_id = org.id
    return JointWorld(
        w=w,
        svc=JointService(w.sessions, w.clock),
        employer_id=org_id,
        org_staff=Actor(
            ids["staff"], Role.ORG_STAFF, organisation_id=org_id, represents=frozenset({w.person_id})
        ),
        wp_officer=Actor(ids["wpo"], Role.WORK_PERMIT_OFFICER, office_id=w.office_id),
        wp_officer_bj=Actor(ids["wpo_bj"], Role.WORK_PERMIT_OFFICER, office_id=w.other_office_id),
    )


def shanghai(day: dt.date, hour: int, minute: int) -> dt.datetime:
    from cnvisa.cases.clock import SHANGHAI

    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)
