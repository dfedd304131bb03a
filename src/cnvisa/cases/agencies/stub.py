"""A stand-in for the work-permit authority's system, speaking cnvisa's proposed contract (docs/agencies.md):
for tests and demos, never for production. A small Starlette app; all its state is in memory.

It takes submissions and withdrawals (idempotent by ``Idempotency-Key``: the same key and request answer what
they answered first, the same key with another request is 422), serves each branch's messages by sequence, and
lets a test script the authority's decisions (``decide``) and its failures (``fail_next``: answer 500 before
doing anything, or after doing it; or stall before answering).

Routes for a demo script (no Python at hand): ``POST /_stub/decisions`` ``{"correlation_id", "kind",
"payload"}``, ``POST /_stub/failures`` ``{"mode", "count", "seconds"}``, ``GET /_stub/state``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BEFORE, AFTER, STALL = "error", "error_after", "stall"


@dataclass
class Failure:
    mode: str
    """``error``: 500 and nothing done; ``error_after``: done, then 500; ``stall``: done, then silence for
    ``seconds`` before answering (the client times out)."""
    seconds: float = 0.0
    path_prefix: str = "/v1/"


def _fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass
class WorkPermitAuthorityStub:
    token: str | None = None
    """When set, every /v1 request must carry ``Authorization: Bearer <token>``."""
    agency: str = "WP"
    branches: dict[str, dict[str, Any]] = field(default_factory=dict)
    """correlation_id -> {reference, payload, submitted_at, withdrawn}."""
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    keys: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)
    """Idempotency-Key -> (request fingerprint, status, body) answered first."""
    requests: list[tuple[str, str]] = field(default_factory=list)
    """Every request that reached a route (method, path): retries included."""
    effects: list[tuple[str, str]] = field(default_factory=list)
    """Every submission or withdrawal actually carried out (kind, correlation_id): a duplicate would show here."""
    failures: deque[Failure] = field(default_factory=deque)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # --- what a test scripts ------------------------------------------------------------------------------

    def decide(
        self,
        correlation_id: str,
        kind: str,
        payload: dict[str, Any] | None = None,
        *,
        at: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """The authority's next message on a branch (sequence = last + 1), served from then on."""
        queue = self.messages.setdefault(correlation_id, [])
        message = {
            "message_id": f"WP-MSG-{next(self._ids):06d}",
            "correlation_id": correlation_id,
            "sequence": len(queue) + 1,
            "kind": kind,
            "payload": payload or {},
            "sent_at": (at or dt.datetime.now(dt.UTC)).isoformat(),
            "sender": self.agency,
        }
        queue.append(message)
        return message

    def fail_next(self, count: int = 1, mode: str = BEFORE, seconds: float = 0.0) -> None:
        """The next ``count`` requests fail as ``mode`` says."""
        if mode not in (BEFORE, AFTER, STALL):
            raise ValueError(f"mode: one of {BEFORE}, {AFTER}, {STALL}")
        self.failures.extend(Failure(mode, seconds) for _ in range(count))

    # --- the app ------------------------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/branches", self._submit, methods=["POST"]),
                Route("/v1/branches/{cid}/withdrawal", self._withdraw, methods=["POST"]),
                Route("/v1/branches/{cid}/messages", self._messages, methods=["GET"]),
                Route("/_stub/decisions", self._script_decision, methods=["POST"]),
                Route("/_stub/failures", self._script_failure, methods=["POST"]),
                Route("/_stub/state", self._state, methods=["GET"]),
            ]
        )

    def _unauthorised(self, request: Request) -> Response | None:
        if self.token and request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"error": "unauthorised"}, status_code=401)
        return None

    async def _guarded(self, request: Request, act: Any) -> Response:
        """Authorisation, the scripted failure (if any), then ``act`` → (status, body)."""
        self.requests.append((request.method, request.url.path))
        if (denied := self._unauthorised(request)) is not None:
            return denied
        failure = self.failures.popleft() if self.failures else None
        if failure is not None and failure.mode == BEFORE:
            return JSONResponse({"error": "scripted failure"}, status_code=500)
        status, body = await act()
        if failure is not None and failure.mode == AFTER:
            return JSONResponse({"error": "scripted failure after the work was done"}, status_code=500)
        if failure is not None and failure.mode == STALL:
            await asyncio.sleep(failure.seconds)
        return JSONResponse(body, status_code=status)

    async def _idempotent(self, request: Request, do: Any) -> Response:
        key = request.headers.get("idempotency-key")
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)

        async def act() -> tuple[int, dict[str, Any]]:
            if not key:
                return 400, {"error": "Idempotency-Key is required"}
            print_ = _fingerprint(body)
            if key in self.keys:
                first, status, answer = self.keys[key]
                if first != print_:
                    return 422, {"error": "this Idempotency-Key was used with another request"}
                return status, answer
            status, answer = do(body)
            if status < 500:
                self.keys[key] = (print_, status, answer)
            return status, answer

        return await self._guarded(request, act)

    async def _submit(self, request: Request) -> Response:
        def do(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            cid = body.get("correlation_id")
            if not isinstance(cid, str) or body.get("kind") != "submission":
                return 400, {"error": "correlation_id and kind 'submission' are required"}
            if cid in self.branches:
                return 409, {"error": "this branch was already submitted under another key"}
            reference = f"WP-{len(self.branches) + 1:08d}"
            self.branches[cid] = {
                "reference": reference,
                "payload": body.get("payload"),
                "submitted_at": dt.datetime.now(dt.UTC).isoformat(),
                "withdrawn": False,
            }
            self.effects.append(("submission", cid))
            return 201, {"reference": reference, "correlation_id": cid, "status": "received"}

        return await self._idempotent(request, do)

    async def _withdraw(self, request: Request) -> Response:
        cid = request.path_params["cid"]

        def do(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            branch = self.branches.get(cid)
            if branch is None:
                return 404, {"error": "no such branch"}
            branch["withdrawn"] = True
            self.effects.append(("withdrawal", cid))
            return 200, {"reference": branch["reference"], "correlation_id": cid, "status": "withdrawn"}

        return await self._idempotent(request, do)

    async def _messages(self, request: Request) -> Response:
        cid = request.path_params["cid"]

        async def act() -> tuple[int, dict[str, Any]]:
            if cid not in self.branches:
                return 404, {"error": "no such branch"}
            try:
                after = int(request.query_params.get("after", "0"))
            except ValueError:
                return 400, {"error": "after: an integer"}
            return 200, {"messages": [m for m in self.messages.get(cid, []) if m["sequence"] > after]}

        return await self._guarded(request, act)

    async def _script_decision(self, request: Request) -> Response:
        body = await request.json()
        return JSONResponse(self.decide(body["correlation_id"], body["kind"], body.get("payload")), 201)

    async def _script_failure(self, request: Request) -> Response:
        body = await request.json()
        self.fail_next(int(body.get("count", 1)), body.get("mode", BEFORE), float(body.get("seconds", 0)))
        return JSONResponse({"queued": len(self.failures)})

    async def _state(self, request: Request) -> Response:
        return JSONResponse(
            {"branches": self.branches, "effects": self.effects, "requests": len(self.requests)}
        )


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - a demo's convenience
    """``python -m cnvisa.cases.agencies.stub [PORT]``: serve a stub on 127.0.0.1 (default port 8765, the
    client's default URL) for a demo; script it over ``/_stub/…``."""
    import sys

    import uvicorn

    args = sys.argv[1:] if argv is None else argv
    port = int(args[0]) if args else 8765
    uvicorn.run(WorkPermitAuthorityStub().app, host="127.0.0.1", port=port, log_level="info")


if __name__ == "__main__":  # pragma: no cover
    main()
