"""What the case core knows of the request it serves, without knowing HTTP: the request id that the HTTP
layer (``cnvisa.http.observe``) sets for each request, so that every audit event the request writes names it
(issue 14: one id followed from the answer through the logs to the audit chain)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Final

REQUEST_ID: Final[ContextVar[str | None]] = ContextVar("cnvisa_request_id", default=None)


def stamped(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    """``detail`` with the current request's id (``request_id``), when there is a request and the caller has
    not named one; unchanged outside a request (CLI, workers, tests of the core)."""
    rid = REQUEST_ID.get()
    if rid is None or (detail is not None and "request_id" in detail):
        return detail
    return {**(detail or {}), "request_id": rid}
