"""A new case's rows on the submission's hot path: the case and the files handed in with it. On PostgreSQL in ONE
statement (a data-modifying CTE: the files take the id the case returned); elsewhere one Core INSERT each. Core,
not the unit of work: a new row needs none of its bookkeeping; a new case holds no receipt, so the insert marks no
presence row stale (``presence.NEW_CASES`` on ``runner.INSERT_CASE``)."""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases.runner import INSERT_CASE
from cnvisa.store.tables import Case, CaseFile

CASES = cast(Table, Case.__table__)
FILES = cast(Table, CaseFile.__table__)
INSERT_FILES = insert(FILES)


def row_values(row: Any) -> dict[str, Any]:
    """A new ORM row's columns for a Core INSERT (every column but the generated id; none left to a default)."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key != "id"}


def columns(table: Table, *but: str) -> list[Any]:
    return [c for c in table.columns if c.key not in ("id", *but)]


def new_case_cte() -> Any:
    """The case's INSERT … RETURNING id as a CTE, its values as ``c_<column>`` parameters."""
    case = insert(CASES).values({c.key: bindparam(f"c_{c.key}", type_=c.type) for c in columns(CASES)})
    return case.returning(CASES.c.id).cte("new_case")


def files_cte(new_case: Any, files: int) -> Any:
    """The files' INSERT as a CTE taking the new case's id, their values as ``f<i>_<column>`` parameters."""
    fcols = columns(FILES, "case_id")
    rows = [
        select(new_case.c.id, *(bindparam(f"f{i}_{c.key}", type_=c.type) for c in fcols))
        for i in range(files)
    ]
    stored = insert(FILES).from_select([FILES.c.case_id, *fcols], union_all(*rows) if files > 1 else rows[0])
    return stored.cte("new_files")


def params(case: Case, files: list[dict[str, Any]]) -> dict[str, Any]:
    """The parameters of ``new_case_cte`` and ``files_cte`` (``files``: ``runner.file_rows``)."""
    out = {f"c_{k}": v for k, v in row_values(case).items()}
    for i, row in enumerate(files):
        out |= {f"f{i}_{k}": v for k, v in row.items() if k != "case_id"}
    return out


@functools.cache
def _case_and_files(files: int) -> Any:
    """PostgreSQL: the case and its files as one statement, built once per number of files."""
    new_case = new_case_cte()
    stmt = select(new_case.c.id)
    return stmt.add_cte(files_cte(new_case, files)) if files else stmt


async def insert_case(s: AsyncSession, case: Case, files: list[dict[str, Any]]) -> None:
    """Insert a new case (not added to the session) and its files; set ``case.id``."""
    conn = await s.connection()
    if conn.dialect.name == "postgresql":
        case.id = (await conn.execute(_case_and_files(len(files)), params(case, files))).scalar_one()
        return
    case.id = (await conn.execute(INSERT_CASE, row_values(case))).scalar_one()
    if files:
        await conn.execute(INSERT_FILES, [{**row, "case_id": case.id} for row in files])
