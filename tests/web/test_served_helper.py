"""The tests' own server helper (``web_support.served``): a port another process took between the pick and the
server's bind is given up for another, never served by someone else's server (a CI run once tested one test's
pages against another test's server, on a port both had picked)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import web_support


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_port_taken_before_the_server_binds_it_is_given_up_for_another(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = int(taken.getsockname()[1])
        picks = iter([busy])
        free = web_support._free_port
        monkeypatch.setattr(web_support, "_free_port", lambda: next(picks, None) or free())
        with web_support.served(db_url, tmp_path / "server.log") as base:
            assert base != f"http://127.0.0.1:{busy}"
            assert web_support._up(base + "/healthz")
