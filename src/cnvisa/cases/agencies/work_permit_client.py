"""The client of the work-permit authority's system (外国人来华工作管理服务系统), over HTTP (httpx).

cnvisa's proposed contract (docs/agencies.md; the real interface is not known — brief §11 q.11):

- ``POST {base}/v1/branches`` with an ``Idempotency-Key``: submit a work-permit branch;
- ``POST {base}/v1/branches/{correlation_id}/withdrawal`` with an ``Idempotency-Key``: the applicant withdrew;
- ``GET {base}/v1/branches/{correlation_id}/messages?after=N``: the authority's messages on a branch after
  sequence N, in order.

Every request carries ``Authorization: Bearer <token>`` when a token is configured. A 5xx answer, 408, 429, a
timeout or a broken connection is retried with exponential backoff (bounded attempts; ``Retry-After`` is
honoured up to the backoff cap); a POST is retried with the same key, so the authority settles it once. Any
other 4xx is not retried (``AgencyRefused``); retries used up raise ``AgencyUnavailable``.

The configuration is a plain dataclass read from the environment (``CNVISA_WORK_PERMIT_*``), so that the cases
layer does not depend on the web layer's settings.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from cnvisa.cases.agencies.messages import WORK_PERMIT_AGENCY, AgencyMessage

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def _env(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(f"CNVISA_WORK_PERMIT_{name}", default)


@dataclass(frozen=True)
class WorkPermitClientConfig:
    """Where and how to reach the authority's system. From the environment (``from_env``):
    ``CNVISA_WORK_PERMIT_URL`` (base URL), ``_TOKEN`` (bearer token), ``_TIMEOUT`` (seconds per request),
    ``_ATTEMPTS`` (tries of one request, at least 1), ``_BACKOFF`` (first wait, seconds; doubled each retry),
    ``_BACKOFF_MAX`` (the longest wait), ``_POLL_SECONDS`` (between polls)."""

    base_url: str
    token: str | None = None
    timeout: float = 10.0
    attempts: int = 4
    backoff: float = 0.5
    backoff_max: float = 8.0
    poll_seconds: float = 60.0
    agency: str = WORK_PERMIT_AGENCY
    sender: str = "CNVISA"
    """cnvisa's code as a sender, in the messages it sends."""

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.timeout <= 0 or self.backoff < 0 or self.backoff_max < self.backoff:
            raise ValueError("attempts ≥ 1, timeout > 0 and 0 ≤ backoff ≤ backoff_max")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkPermitClientConfig:
        e = os.environ if env is None else env
        return cls(
            base_url=_env(e, "URL", "http://127.0.0.1:8765"),
            token=_env(e, "TOKEN", "") or None,
            timeout=float(_env(e, "TIMEOUT", "10")),
            attempts=int(_env(e, "ATTEMPTS", "4")),
            backoff=float(_env(e, "BACKOFF", "0.5")),
            backoff_max=float(_env(e, "BACKOFF_MAX", "8")),
            poll_seconds=float(_env(e, "POLL_SECONDS", "60")),
        )


class AgencyError(Exception):
    """The agency's system did not take the request."""

    code = "agency_error"


class AgencyRefused(AgencyError):
    """A 4xx answer other than 408/429: the request is wrong, retrying would not help."""

    code = "agency_refused"

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        super().__init__(f"the agency refused the request ({status}): {str(body)[:300]}")


class AgencyUnavailable(AgencyError):
    """No answer after every attempt (5xx, timeouts, connection errors)."""

    code = "agency_unavailable"

    def __init__(self, attempts: int, last: str) -> None:
        self.attempts = attempts
        self.last = last
        super().__init__(f"the agency did not answer after {attempts} attempts: {last}")


@dataclass
class WorkPermitClient:
    """One client per process (it keeps a connection pool): ``async with WorkPermitClient(config) as c``."""

    config: WorkPermitClientConfig
    transport: httpx.AsyncBaseTransport | None = None
    """For tests: ``httpx.ASGITransport(app=stub.app)``; None: the network."""
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)
    attempts_made: int = 0
    """Requests sent so far (every attempt of every call): tests and metrics."""
    _http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> WorkPermitClient:
        headers = {"Accept": "application/json", "User-Agent": "cnvisa-agency-client/1"}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token}"
        self._http = httpx.AsyncClient(
            base_url=self.config.base_url,
            timeout=self.config.timeout,
            headers=headers,
            transport=self.transport,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        """Exponential backoff with jitter (half fixed, half random), capped; ``Retry-After`` in seconds, if
        given and not above the cap, is waited instead."""
        cap = self.config.backoff_max
        if retry_after is not None and retry_after.isdigit():
            return min(float(retry_after), cap)
        base = min(cap, self.config.backoff * 2.0 ** (attempt - 1))
        return base / 2 + self.rng.random() * base / 2

    async def _request(
        self, method: str, path: str, *, json: Any = None, key: str | None = None, params: Any = None
    ) -> Any:
        if self._http is None:
            raise RuntimeError("use the client inside `async with`")
        headers = {"Idempotency-Key": key} if key else {}
        last = ""
        for attempt in range(1, self.config.attempts + 1):
            retry_after = None
            self.attempts_made += 1
            try:
                resp = await self._http.request(method, path, json=json, headers=headers, params=params)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                last = f"{type(exc).__name__}"
            else:
                if resp.status_code < 400:
                    try:
                        return resp.json()
                    except ValueError:  # an answer cnvisa cannot read is not taken as done
                        raise AgencyRefused(resp.status_code, resp.text[:300]) from None
                if resp.status_code not in RETRY_STATUSES:
                    try:
                        body: Any = resp.json()
                    except ValueError:
                        body = resp.text[:300]
                    raise AgencyRefused(resp.status_code, body)
                last = f"HTTP {resp.status_code}"
                retry_after = resp.headers.get("Retry-After")
            if attempt < self.config.attempts:
                await self.sleep(self._delay(attempt, retry_after))
        raise AgencyUnavailable(self.config.attempts, last)

    async def submit_branch(self, message: AgencyMessage, idempotency_key: str) -> dict[str, Any]:
        """Submit a work-permit branch (``message.kind == "submission"``); the answer names the authority's
        reference (``reference``)."""
        out: dict[str, Any] = await self._request(
            "POST", "/v1/branches", json=message.wire(), key=idempotency_key
        )
        return out

    async def notify_withdrawal(self, message: AgencyMessage, idempotency_key: str) -> dict[str, Any]:
        """Tell the authority the applicant withdrew the joint application (``message.kind == "withdrawal"``)."""
        out: dict[str, Any] = await self._request(
            "POST",
            f"/v1/branches/{quote(message.correlation_id, safe='')}/withdrawal",
            json=message.wire(),
            key=idempotency_key,
        )
        return out

    async def messages(self, correlation_id: str, after: int) -> list[AgencyMessage]:
        """The authority's messages on one branch with a sequence above ``after``, in sequence order."""
        body = await self._request(
            "GET", f"/v1/branches/{quote(correlation_id, safe='')}/messages", params={"after": after}
        )
        items = body.get("messages", []) if isinstance(body, dict) else []
        return sorted((AgencyMessage.from_wire(x) for x in items), key=lambda m: m.sequence)
