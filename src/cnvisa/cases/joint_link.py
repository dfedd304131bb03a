"""Whether a case is the residence branch of a joint application (cnvisa.cases.joint): such a case is issued,
collected and withdrawn only with its joint application (issue together, collect together, withdrawal ends both),
never on its own."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases.errors import InvalidCommand
from cnvisa.store.joint_tables import JointApplication
from cnvisa.store.tables import Case


async def refuse_if_joint(s: AsyncSession, case: Case, command: str) -> None:
    number = (
        await s.execute(select(JointApplication.number).where(JointApplication.case_id == case.id))
    ).scalar_one_or_none()
    if number is not None:
        raise InvalidCommand(
            f"case {case.number} is the residence branch of joint application {number}: {command} it with the "
            "joint application (both permits are issued and collected together; withdrawal ends both)"
        )
