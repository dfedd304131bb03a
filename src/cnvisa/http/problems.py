"""Errors as ``application/problem+json`` (RFC 9457), each naming the field and the rule."""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from cnvisa.cases.errors import (
    BadInput,
    CaseError,
    Conflict,
    Forbidden,
    GuardFailed,
    InvalidCommand,
    NotFound,
)
from cnvisa.http import methods
from cnvisa.law.errors import CalendarYearNotLoaded, InvalidInput, LawError, NotInForce

PROBLEM = "application/problem+json"
log = logging.getLogger("cnvisa.web")

# The database waited too long for a lock (SQLite busy_timeout; PostgreSQL lock_timeout or statement_timeout,
# SQLSTATE 55P03 / 57014; see cnvisa.store.db), or PostgreSQL chose this transaction as a deadlock's or a
# serialisation failure's victim (40P01 / 40001; rolled back whole): the request changed nothing, so the client
# may simply retry.
_BUSY_SQLSTATES = frozenset({"55P03", "57014", "40P01", "40001"})


def _busy(exc: Exception) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    return sqlstate in _BUSY_SQLSTATES or "database is locked" in str(orig)


# The database cannot be reached or did not answer in time (cnvisa.http.outage): connection exceptions (class
# 08), the server shutting down or starting (57P01-57P03), too many connections (53300).
_DOWN_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
_NET_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ETIMEDOUT,
        errno.EPIPE,
    }
)
RETRY_UNAVAILABLE = 5
"""Seconds a client is asked to wait (Retry-After) when the database is down or stalled."""
RETRY_CALENDAR: Final = 3600
"""Retry-After when a year's working days cannot be counted: an operator must load the State Council's notice."""


def _cut_connection(exc: BaseException | None) -> bool:
    """asyncpg's own state error on a pooled connection a failover cut mid-operation ("cannot switch to state
    …: another operation is in progress"), seen in the cluster drill as 500s: the connection is unusable and the
    transaction did not commit."""
    return type(exc).__name__ == "InternalClientError" and type(exc).__module__.startswith("asyncpg")


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is out of reach: refused, reset or stalled connections, a statement
    or connect timed out on the client, no pooled connection in time, a connection cut mid-operation."""
    if isinstance(exc, (TimeoutError, ConnectionError, PoolTimeout, socket.gaierror)) or _cut_connection(exc):
        return True
    if isinstance(exc, OSError):
        # asyncpg tries every address of a host name and raises a plain OSError naming them all
        return exc.errno in _NET_ERRNOS or (exc.errno is None and "Multiple exceptions" in str(exc))
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        causes = (exc.orig, getattr(exc.orig, "__cause__", None))
        sqlstate = str(
            next((getattr(e, "sqlstate", None) for e in causes if getattr(e, "sqlstate", None)), "")
        )
        if sqlstate.startswith("08") or sqlstate in _DOWN_SQLSTATES:
            return True
        return any(isinstance(e, (TimeoutError, OSError)) or _cut_connection(e) for e in causes)
    return False


class Problem(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        code: str | None = None,
        **extra: Any,
    ) -> None:
        self.status, self.title, self.detail = status, title, detail
        self.field, self.rule, self.code, self.extra = field, rule, code, extra
        super().__init__(detail)

    def body(self, instance: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": f"about:blank#{self.code or self.status}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.field:
            out["field"] = self.field
        if self.rule:
            out["rule"] = self.rule
        if self.code:
            out["code"] = self.code
        out.update(self.extra)
        return out


def as_problem(exc: Exception) -> Problem:
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, BadInput):
        return Problem(422, "Invalid input", exc.message, field=exc.field, code="bad_input")
    if isinstance(exc, InvalidInput):
        return Problem(422, "Invalid input", exc.message, field=exc.field, code="bad_input")
    if isinstance(exc, NotInForce):
        return Problem(422, "Not in force", str(exc), rule=exc.cite, code="not_in_force")
    if isinstance(exc, GuardFailed):
        return Problem(409, "Not allowed by the rules", exc.detail, rule=exc.article, code=exc.guard)
    if isinstance(exc, Conflict):
        return Problem(409, "Conflict", str(exc), code="conflict")
    if isinstance(exc, InvalidCommand):
        return Problem(409, "Not possible now", str(exc), code="invalid_command")
    if isinstance(exc, Forbidden):
        return Problem(403, "Forbidden", str(exc), code="forbidden")
    if isinstance(exc, NotFound):
        return Problem(404, "Not found", str(exc), code="not_found")
    if isinstance(exc, CalendarYearNotLoaded):
        # the service's missing data, not the request's fault: periods and receipts are counted in working days
        # (Regulations Art 36 last para) and a year's working days exist only once its notice is loaded
        log.error("working days not countable: %s", exc)
        return Problem(
            503,
            "Working days not countable",
            str(exc),
            rule="Regulations Art 36",
            code="calendar_year_not_loaded",
            year=exc.year,
            retry_after=RETRY_CALENDAR,
        )
    if isinstance(exc, (CaseError, LawError)):
        return Problem(422, "Invalid request", str(exc), code="invalid")
    if isinstance(exc, (OverflowError, DataError)) or (
        isinstance(exc, DBAPIError) and "out of range" in str(exc.orig)
    ):
        # a number the database cannot hold (e.g. an id beyond 64 bits): bad input, not a server fault
        return Problem(422, "Invalid input", "a number is out of range", code="bad_input")
    if isinstance(exc, DBAPIError) and ("0x00" in str(exc.orig) or "invalid byte sequence" in str(exc.orig)):
        # PostgreSQL text cannot hold NUL characters: bad input, not a server fault
        return Problem(422, "Invalid input", "text must not contain NUL characters", code="bad_input")
    if _busy(exc):
        return Problem(
            503, "Busy", "the database is busy: nothing was changed, try again", code="busy", retry_after=1
        )
    if unavailable(exc):
        log.warning("database unavailable: %r", exc)
        return Problem(
            503,
            "Unavailable",
            "the database did not answer: try again in a few seconds",
            code="unavailable",
            retry_after=RETRY_UNAVAILABLE,
        )
    log.error("unexpected error", exc_info=exc)  # the client sees no traceback; the operator must
    return Problem(500, "Internal error", "the server could not complete the request", code="internal")


def _(message: str) -> str:
    """Marks a message for the catalogs; translated where it is shown (the error page)."""
    return message


PAGE_TEXTS_BY_CODE: dict[str, str] = {
    "csrf": _("The form has expired or was not sent from this site: reload the page and try again."),
    "busy": _("The system is busy and nothing was changed: please try again."),
    "unavailable": _("The system is not answering at the moment: please try again in a few seconds."),
    "calendar_year_not_loaded": _(
        "Working days cannot be counted yet for the dates this step needs: the State Council's holiday notice "
        "for that year is not loaded. Nothing was changed; the operators have been alerted. Please try again later."
    ),
    "locked_out": _("Too many attempts: please wait a moment and try again."),
    "rate_limited": _("Too many attempts: please wait a moment and try again."),
}
PAGE_TEXTS_BY_STATUS: dict[int, str] = {
    400: _("The request could not be understood."),
    403: _("Your account may not see or do this."),
    404: _("This page or record does not exist, or it is not yours to see."),
    405: _("The request could not be understood."),
    409: _(
        "This is not possible in the record's present state, or it was changed meanwhile: reload the page."
    ),
    413: _("The file is too large."),
    415: _("Files must be PDF, JPEG or PNG."),
    422: _("Some input is not valid: see the field and rule named below."),
    429: _("Too many attempts: please wait a moment and try again."),
    500: _("Something went wrong on our side: please try again later."),
    503: _("The system is busy and nothing was changed: please try again."),
}
"""What the error page says in the reader's language; the problem's own detail (English, technical) follows."""
HTTP_TITLES = (_("Not Found"), _("Method Not Allowed"))
"""Titles of Starlette's own errors (unknown path, wrong method), translated on the error page."""


def page_text(p: Problem) -> str | None:
    """The catalogued explanation of a problem for the error page (a msgid), by its code, else its status."""
    return PAGE_TEXTS_BY_CODE.get(p.code or "") or PAGE_TEXTS_BY_STATUS.get(p.status)


def problem_response(request: Request, exc: Exception) -> JSONResponse:
    p = as_problem(exc)
    headers = {"WWW-Authenticate": "Bearer"} if p.status == 401 else None
    if p.status == 503:  # always with Retry-After (RFC 9110 §10.2.3)
        headers = {"Retry-After": str(p.extra.get("retry_after", 1))}
    elif p.status == 429 and "retry_after" in p.extra:
        headers = {"Retry-After": str(p.extra["retry_after"])}
    body = p.body(request.url.path)
    rid = getattr(request.state, "request_id", None)
    if rid:  # the id the answer's X-Request-ID carries, and the logs and audit events of this request
        body["request_id"] = rid
    return JSONResponse(body, status_code=p.status, media_type=PROBLEM, headers=headers)


def install(app: FastAPI, page: Callable[[Request, Exception], Awaitable[Response]] | None = None) -> None:
    """Problem handlers: ``/api`` paths answer problem+json; other paths answer ``page`` (an HTML error page in
    the reader's language) when given."""

    async def answer(request: Request, exc: Exception) -> Response:
        if page is not None and not request.url.path.startswith("/api"):
            return await page(request, exc)
        return problem_response(request, exc)

    async def on_problem(request: Request, exc: Exception) -> Response:
        return await answer(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        err = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid"}
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form")]
        field = ".".join(loc) or "body"
        msg = str(err.get("msg", "invalid"))
        return await answer(request, Problem(422, "Invalid input", msg, field=field, code="bad_input"))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        response = await answer(
            request,
            Problem(exc.status_code, str(exc.detail), str(exc.detail), code=f"http_{exc.status_code}"),
        )
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # RFC 9110 §15.5.6: a 405 names the methods the path answers
            response.headers["Allow"] = methods.allowed(request)
        return response

    for cls in (Problem, CaseError, LawError):
        app.add_exception_handler(cls, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
