"""A post change's world for the case-core tests: an employer, its HR staff, an employee holding a residence
permit (``tests/cases/test_post_change.py``, ``test_obligations_particulars.py``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from case_helpers import ON, World

from cnvisa.cases.service import Actor
from cnvisa.cases.workflow import Role
from cnvisa.store.tables import Account, Holding, Organisation, OrgPerson

EFFECTIVE = ON - dt.timedelta(days=3)


async def _seed(world: World, *, category: str = "work", holding_id: int | None = None) -> dict[str, Any]:
    """The employer and its HR; the permit ``holding_id`` (already seeded) or a new one of ``category``."""
    async with world.sessions() as s, s.begin():
        org = Organisation(
            uscc="91310000MA1FL0000X", name="Example Research Co.", kind="enterprise", region="310000"
        )
        s.add(org)
        await s.flush()
        s.add(
            OrgPerson(
                organisation_id=org.id,
                person_id=world.person_id,
                relation="employee",
                since=dt.date(2023, 1, 1),
            )
        )
        staff = Account(username="hr", display_name="HR", role=str(Role.ORG_STAFF), organisation_id=org.id)
        s.add(staff)
        if holding_id is None:
            permit = Holding(
                person_id=world.person_id,
                kind="residence_permit",
                number=f"R{uuid.uuid4().hex[:11].upper()}",
                category=category,
                valid_from=dt.date(2024, 6, 1),
                valid_until=dt.date(2027, 5, 31),
                status="valid",
            )
            s.add(permit)
        await s.flush()
        return {
            "org": org.id,
            "holding": holding_id if holding_id is not None else permit.id,
            "hr": Actor(staff.id, Role.ORG_STAFF, organisation_id=org.id),
        }


def _args(seed: dict[str, Any], world: World, **kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "person_id": world.person_id,
        "holding_id": seed["holding"],
        "to_region": "110000",
        "position": "Head of research, Beijing lab",
        "work_location": "Haidian District, Beijing",
        "effective_on": EFFECTIVE,
        "role": "manager",
        "idempotency_key": uuid.uuid4().hex,
    }
    args.update(kw)
    return args
