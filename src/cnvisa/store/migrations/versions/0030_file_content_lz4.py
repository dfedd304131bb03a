"""files' bytes compressed with lz4, not pglz, on PostgreSQL: case_files, kept_uploads, port_visa_files (issue 10)

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05 17:45:00

A file of more than 2 KB is compressed by TOAST before it is stored; PostgreSQL's default method, pglz, works
through a whole JPEG before it finds it will not shrink. Measured on this machine: 2,000 inserts of the joint
benchmark's 66 KB photo took 1.85 s with pglz, 0.43–0.47 s with lz4 and 0.42–0.46 s stored uncompressed — 0.7 ms
of the database's CPU saved on every joint submission (≈ 3 ms in all). lz4 gives up as fast on what does not
compress and still compresses what does (a PDF with plain streams). Applies to values written from now on; the
stored ones stay as they are (readable either way).

A server built without lz4 refuses the method (feature_not_supported): the column is then stored uncompressed
(``STORAGE EXTERNAL``), which costs as little CPU; photos and PDFs are compressed formats already. SQLite: nothing
to do (no TOAST).
"""

from __future__ import annotations

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

FILE_TABLES = ("case_files", "kept_uploads", "port_visa_files")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in FILE_TABLES:
        op.execute(
            f"""DO $$ BEGIN
                ALTER TABLE {table} ALTER COLUMN content SET COMPRESSION lz4;
            EXCEPTION WHEN feature_not_supported THEN
                ALTER TABLE {table} ALTER COLUMN content SET STORAGE EXTERNAL;
            END $$"""
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in FILE_TABLES:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN content SET COMPRESSION DEFAULT")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN content SET STORAGE EXTENDED")
