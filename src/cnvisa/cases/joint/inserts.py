"""A joint application's new rows, written by ``apply_joint``: the residence case, the joint application, its
work-permit branch and the files handed in. On PostgreSQL in ONE statement (data-modifying CTEs: each row takes
the id the one before it returned); elsewhere one Core INSERT each. Core, as the plain ``apply`` inserts its case:
a new row needs none of the unit of work's bookkeeping; on the session's connection, so that a new case without a
receipt marks no presence row stale (``cnvisa.cases.queries.presence``)."""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases.runner import INSERT_CASE
from cnvisa.store.joint_tables import JointApplication, WorkPermitBranch
from cnvisa.store.tables import Case, CaseFile

_CASES = cast(Table, Case.__table__)
_JOINTS = cast(Table, JointApplication.__table__)
_BRANCHES = cast(Table, WorkPermitBranch.__table__)
_FILES = cast(Table, CaseFile.__table__)
_INSERT_JOINT = insert(_JOINTS).returning(_JOINTS.c.id)
_INSERT_BRANCH = insert(_BRANCHES).returning(_BRANCHES.c.id)
_INSERT_FILES = insert(_FILES)


def _values(row: Case | JointApplication | WorkPermitBranch) -> dict[str, Any]:
    """A new row's columns for a Core INSERT (every column but the generated id; none is left to a default)."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key != "id"}


def _cols(table: Table, *but: str) -> list[Any]:
    return [c for c in table.columns if c.key not in ("id", *but)]


@functools.cache
def _all_in_one(files: int) -> Any:
    """PostgreSQL: the four inserts as one statement, built once per number of files (its compiled form cached)."""
    case = insert(_CASES).values({c.key: bindparam(f"c_{c.key}", type_=c.type) for c in _cols(_CASES)})
    new_case = case.returning(_CASES.c.id).cte("new_case")
    jcols = _cols(_JOINTS, "case_id")
    joint = insert(_JOINTS).from_select(
        [*jcols, _JOINTS.c.case_id],
        select(*(bindparam(f"j_{c.key}", type_=c.type) for c in jcols), new_case.c.id),
    )
    new_joint = joint.returning(_JOINTS.c.id).cte("new_joint")
    bcols = _cols(_BRANCHES, "joint_id")
    branch = insert(_BRANCHES).from_select(
        [*bcols, _BRANCHES.c.joint_id],
        select(*(bindparam(f"b_{c.key}", type_=c.type) for c in bcols), new_joint.c.id),
    )
    new_branch = branch.returning(_BRANCHES.c.id).cte("new_branch")
    stmt = select(
        new_case.c.id.label("case_id"), new_joint.c.id.label("joint_id"), new_branch.c.id.label("branch_id")
    ).select_from(new_case.join(new_joint, true()).join(new_branch, true()))  # one row each
    if files:
        fcols = _cols(_FILES, "case_id")
        rows = [
            select(new_case.c.id, *(bindparam(f"f{i}_{c.key}", type_=c.type) for c in fcols))
            for i in range(files)
        ]
        stored = insert(_FILES).from_select(
            [_FILES.c.case_id, *fcols], union_all(*rows) if files > 1 else rows[0]
        )
        stmt = stmt.add_cte(stored.cte("new_files"))
    return stmt


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
        params = {f"c_{k}": v for k, v in _values(case).items()}
        params |= {f"j_{k}": v for k, v in _values(joint).items() if k != "case_id"}
        params |= {f"b_{k}": v for k, v in _values(branch).items() if k != "joint_id"}
        for i, row in enumerate(files):
            params |= {f"f{i}_{k}": v for k, v in row.items() if k != "case_id"}
        case.id, joint.id, branch.id = (await conn.execute(_all_in_one(len(files)), params)).one()
        joint.case_id, branch.joint_id = case.id, joint.id
        return
    case.id = (await conn.execute(INSERT_CASE, _values(case))).scalar_one()
    if files:
        await conn.execute(_INSERT_FILES, [{**row, "case_id": case.id} for row in files])
    joint.case_id = case.id
    joint.id = (await conn.execute(_INSERT_JOINT, _values(joint))).scalar_one()
    branch.joint_id = joint.id
    branch.id = (await conn.execute(_INSERT_BRANCH, _values(branch))).scalar_one()
