"""/api/docs and /api/redoc work without internet access: every script, stylesheet and icon they load is
served by the platform itself (issue 8 item 8)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from cnvisa.app import create_app
from cnvisa.http.settings import Settings

_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""")


def _client(tmp_path: Path) -> TestClient:
    # the reference pages read no database: a migrated file is not needed for them
    return TestClient(create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")))


def test_api_reference_pages_load_nothing_from_another_host(tmp_path: Path) -> None:
    client = _client(tmp_path)
    for page in ("/api/docs", "/api/redoc"):
        r = client.get(page)
        assert r.status_code == 200, page
        assert "http://" not in r.text and "https://" not in r.text, f"{page} loads from another host"
        refs = [a or b for a, b in _REFERENCE.findall(r.text)]
        assert refs, page
        for ref in refs:
            got = client.get(ref)
            assert got.status_code == 200, (page, ref)
            if ref.endswith(".js"):
                assert len(got.content) > 100_000, ref  # the real bundle, not a placeholder


def test_api_docs_assets_serve_only_the_known_files(tmp_path: Path) -> None:
    client = _client(tmp_path)
    for name in ("../../../etc/passwd", "core.py", "..%2Fcore.py"):
        assert client.get(f"/api/docs-assets/{name}").status_code == 404
