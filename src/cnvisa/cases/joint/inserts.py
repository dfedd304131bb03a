"""A joint application's new rows, written by ``apply_joint``: the residence case, the joint application, its
work-permit branch and the files handed in. On PostgreSQL in ONE statement (data-modifying CTEs: each row takes
the id the one before it returned); elsewhere one Core INSERT each. Core, as the plain ``apply`` inserts its case:
a new row needs none of the unit of work's bookkeeping; on the session's connection, so that a new case without a
receipt marks no presence row stale (``cnvisa.cases.queries.presence``)."""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases.new_rows import INSERT_FILES, columns, files_cte, new_case_cte, params, row_values
from cnvisa.cases.runner import INSERT_CASE
from cnvisa.store.joint_tables import JointApplication, WorkPermitBranch
from cnvisa.store.tables import Case

_JOINTS = cast(Table, JointApplication.__table__)
_BRANCHES = cast(Table, WorkPermitBranch.__table__)
_INSERT_JOINT = insert(_JOINTS).returning(_JOINTS.c.id)
_INSERT_BRANCH = insert(_BRANCHES).returning(_BRANCHES.c.id)


@functools.cache
def _all_in_one(files: int) -> Any:
    """PostgreSQL: the four inserts as one statement, built once per number of files (its compiled form cached)."""
    new_case = new_case_cte()
    jcols = columns(_JOINTS, "case_id")
    joint = insert(_JOINTS).from_select(
        [*jcols, _JOINTS.c.case_id],
        select(*(bindparam(f"j_{c.key}", type_=c.type) for c in jcols), new_case.c.id),
    )
    new_joint = joint.returning(_JOINTS.c.id).cte("new_joint")
    bcols = columns(_BRANCHES, "joint_id")
    branch = insert(_BRANCHES).from_select(
        [*bcols, _BRANCHES.c.joint_id],
        select(*(bindparam(f"b_{c.key}", type_=c.type) for c in bcols), new_joint.c.id),
    )
    new_branch = branch.returning(_BRANCHES.c.id).cte("new_branch")
    stmt = select(
        new_case.c.id.label("case_id"), new_joint.c.id.label("joint_id"), new_branch.c.id.label("branch_id")
    ).select_from(new_case.join(new_joint, true()).join(new_branch, true()))  # one row each
    return stmt.add_cte(files_cte(new_case, files)) if files else stmt


async def insert_joint(
    s: AsyncSession,
    case: Case,
    joint: JointApplication,
    branch: WorkPermitBranch,
    files: list[dict[str, Any]],
) -> None:
    """Insert the new rows (``files``: ``cnvisa.cases.runner.file_rows``, their case id filled in here) and set
    the ids on ``case``, ``joint`` and ``branch`` (none of them is added to the session)."""
    conn = await s.connection()
    if conn.dialect.name == "postgresql":
        values = params(case, files)
        values |= {f"j_{k}": v for k, v in row_values(joint).items() if k != "case_id"}
        values |= {f"b_{k}": v for k, v in row_values(branch).items() if k != "joint_id"}
        case.id, joint.id, branch.id = (await conn.execute(_all_in_one(len(files)), values)).one()
        joint.case_id, branch.joint_id = case.id, joint.id
        return
    case.id = (await conn.execute(INSERT_CASE, row_values(case))).scalar_one()
    if files:
        await conn.execute(INSERT_FILES, [{**row, "case_id": case.id} for row in files])
    joint.case_id = case.id
    joint.id = (await conn.execute(_INSERT_JOINT, row_values(joint))).scalar_one()
    branch.joint_id = joint.id
    branch.id = (await conn.execute(_INSERT_BRANCH, row_values(branch))).scalar_one()
