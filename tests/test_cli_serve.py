"""`cnvisa serve` (and so `make run PORT=… HOST=…`) prints and encodes in QR codes the address it serves at,
unless CNVISA_PUBLIC_URL names another (issue 8 item 9)."""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from cnvisa import cli
from cnvisa.http.settings import Settings


@pytest.fixture(autouse=True)
def _no_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    # setenv first, so that the value `serve` sets is removed again after the test
    monkeypatch.setenv("CNVISA_PUBLIC_URL", "unset")
    monkeypatch.delenv("CNVISA_PUBLIC_URL")


def _serve(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[str, dict[str, Any]]:
    seen: dict[str, Any] = {}

    def fake_run(*a: Any, **kw: Any) -> None:
        seen.update(kw, public=Settings().public_base_url)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = CliRunner().invoke(cli.app, ["serve", *args])
    assert result.exit_code == 0, result.output
    return result.output, seen


def test_serve_on_another_port_puts_that_port_in_qr_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    output, seen = _serve(monkeypatch, "--port", "8123")
    assert seen["port"] == 8123
    assert seen["public"] == "http://127.0.0.1:8123"
    assert "http://127.0.0.1:8123" in output


def test_serve_names_its_host_and_keeps_an_explicit_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (
        _serve(monkeypatch, "--host", "192.0.2.7", "--port", "9000")[1]["public"] == "http://192.0.2.7:9000"
    )
    monkeypatch.delenv("CNVISA_PUBLIC_URL", raising=False)
    assert _serve(monkeypatch, "--host", "::1", "--port", "9000")[1]["public"] == "http://[::1]:9000"
    monkeypatch.setenv("CNVISA_PUBLIC_URL", "https://visa.example.gov.cn")
    assert _serve(monkeypatch, "--port", "8123")[1]["public"] == "https://visa.example.gov.cn"
