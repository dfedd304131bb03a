"""Files' bytes are compressed with lz4 on PostgreSQL (migration 0030): pglz worked through a whole JPEG before it
found it would not shrink — 0.9 ms of the database's CPU for the joint benchmark's 66 KB photo, against 0.2 ms.
A photo is stored as it came (lz4 gives up on it), a compressible file is compressed; the bytes read back are the
bytes handed in. Downgrade gives PostgreSQL's default back. SQLite has no TOAST: the bytes round-trip."""

from __future__ import annotations

import asyncio
import io

from case_helpers import World
from PIL import Image
from sqlalchemy import select, text, update
from test_partitions import _admin, _sql, fresh_pg  # noqa: F401 (a fixture)

from cnvisa.store import migrate
from cnvisa.store.tables import CaseFile

TABLES = ("case_files", "kept_uploads", "port_visa_files")


def _photo() -> bytes:
    """A noisy JPEG of about 60 KB: what a camera gives, already compressed."""
    img = Image.effect_noise((360, 480), 40).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


async def test_a_photo_is_stored_as_it_came_and_a_compressible_file_compressed(world: World) -> None:
    case = await world.applied()
    photo, text_pdf = _photo(), b"%PDF-1.4\n" + b"BT /F1 12 Tf (the same line) Tj ET\n" * 400
    async with world.sessions() as s, s.begin():
        ids = (
            (await s.execute(select(CaseFile.id).where(CaseFile.case_id == case["case_id"]))).scalars().all()
        )
        assert len(ids) >= 2
        await s.execute(update(CaseFile).where(CaseFile.id == ids[0]).values(content=photo))
        await s.execute(update(CaseFile).where(CaseFile.id == ids[1]).values(content=text_pdf))
    async with world.sessions() as s:
        stored = dict(
            (await s.execute(select(CaseFile.id, CaseFile.content).where(CaseFile.id.in_(ids[:2]))))
            .tuples()
            .all()
        )
        assert (stored[ids[0]], stored[ids[1]]) == (photo, text_pdf)
        if s.bind.dialect.name != "postgresql":
            return
        how = dict(
            (
                await s.execute(
                    text("SELECT id, pg_column_compression(content) FROM case_files WHERE id IN (:a, :b)"),
                    {"a": ids[0], "b": ids[1]},
                )
            )
            .tuples()
            .all()
        )
    assert how == {ids[0]: None, ids[1]: "lz4"}


def test_the_migration_sets_lz4_and_its_downgrade_the_default(fresh_pg: str) -> None:  # noqa: F811
    q = (
        "SELECT c.relname, a.attcompression::text, a.attstorage::text FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE a.attname = 'content' AND c.relname IN ('case_files', 'kept_uploads', 'port_visa_files')"
    )
    migrate.upgrade(fresh_pg, "0029")
    assert sorted(asyncio.run(_sql(fresh_pg, q))[0]) == [(t, "", "x") for t in TABLES]
    migrate.upgrade(fresh_pg)
    assert sorted(asyncio.run(_sql(fresh_pg, q))[0]) == [(t, "l", "x") for t in TABLES]
    migrate.downgrade(fresh_pg, "0029")
    assert sorted(asyncio.run(_sql(fresh_pg, q))[0]) == [(t, "", "x") for t in TABLES]
