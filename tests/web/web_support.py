"""What the web tests share: the ``Web`` handle, the demo passwords and the fixed date (fixtures are in
conftest.py; a module of its own so that tests import it by a name no other folder uses)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from cnvisa.cases.clock import ManualClock
from cnvisa.demo import DEMO

TODAY = dt.date(2025, 11, 20)
PASSWORDS = {d.username: d.password for d in DEMO}


@dataclass
class Web:
    client: TestClient
    clock: ManualClock
    ids: dict[str, Any]
    db_url: str

    def signin(self, username: str, client: TestClient | None = None) -> str:
        """Sign in (cookie session) and return the CSRF token."""
        c = client or self.client
        r = c.post("/api/v1/auth/signin", json={"username": username, "password": PASSWORDS[username]})
        assert r.status_code == 200, r.text
        return str(r.json()["csrf"])

    def new_client(self) -> TestClient:
        """Another browser: its own cookies, the same application (and the same event loop: the database pool
        belongs to it)."""
        other = TestClient(self.client.app, follow_redirects=False)
        other.portal = self.client.portal  # type: ignore[attr-defined]
        return other
