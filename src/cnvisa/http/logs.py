"""What the server's logs may say about people (PIPL Art 6 minimisation; OWASP ASVS 4.0 V7.1.1: no sensitive data
in logs).

Personal data travels in request bodies (the progress inquiry is a POST), but an old link or client may still
put a passport number in a query string. The access log (uvicorn's ``uvicorn.access``) therefore never shows the
query string of a route that carries personal data: ``[redacted]`` stands in for it. Defence in depth: the
database driver's errors are logged without their parameters (``hide_parameters`` in ``cnvisa.store.db``)."""

from __future__ import annotations

import copy
import logging
from typing import Any, Final
from urllib.parse import parse_qsl, quote

import uvicorn.config

from cnvisa.cases import context

PERSONAL_QUERY_ROUTES: Final = frozenset(
    {
        "/progress",  # case number + passport number (page)
        "/api/v1/progress",  # the same (API)
        "/office/search",  # case number, passport number or name
        "/api/v1/office/search",
    }
)
"""Routes whose query string may carry personal data (passport numbers, names)."""
REDACTED: Final = "[redacted]"
SAFE_QUERY_KEYS: Final = frozenset({"lang", "limit", "offset", "page", "check", "step", "sort", "order"})
"""Query parameters whose values say nothing about a person: kept in the log. Any other value — a document
number in the apply page's GET form, a date of entry in "What do I need?" — is redacted wherever it appears,
whatever the route (a route-by-route list missed the apply form's ``holding_number``)."""


def redact_target(target: str) -> str:
    """The request target as the log may show it: a listed route's query string replaced; elsewhere each
    parameter's name kept and its value redacted, unless the key is in ``SAFE_QUERY_KEYS``."""
    path, sep, query = target.partition("?")
    if not sep or not query:
        return target
    if path.rstrip("/") in PERSONAL_QUERY_ROUTES:
        return f"{path}?{REDACTED}"
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = "&".join(
        f"{quote(k, safe='.[]')}={quote(v, safe='') if k in SAFE_QUERY_KEYS else REDACTED}" for k, v in pairs
    )
    return f"{path}?{kept}"


class RedactPersonalQueries(logging.Filter):
    """For uvicorn's access log, whose record arguments are (client, method, target, http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_target(args[2]), *args[3:])
        return True


def install() -> None:
    """Attach the filter to uvicorn's access logger (once per process, whatever runs the app)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactPersonalQueries) for f in access.filters):
        access.addFilter(RedactPersonalQueries())


class RequestId(logging.Filter):
    """Every record names the request it was written in (``request_id``; ``-`` outside one): the id answered in
    ``X-Request-ID`` and problem+json (``cnvisa.http.observe``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.REQUEST_ID.get() or "-"
        return True


def uvicorn_config(fmt: str) -> dict[str, Any]:
    """uvicorn's logging configuration in the chosen format: ``text`` (uvicorn's own) or ``json`` — one JSON
    object a line (python-json-logger) with time, level, logger, message and request id, for a log shipper.
    The access log's targets are redacted either way (the filter above, installed by the app)."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    if fmt == "text":
        return config
    if fmt != "json":
        raise ValueError(f"log format {fmt!r}: text or json")
    config["filters"] = {"request_id": {"()": RequestId}}
    fields = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"
    for name in ("default", "access"):
        config["formatters"][name] = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": fields,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        }
    for handler in config["handlers"].values():
        handler["filters"] = ["request_id"]
    config["loggers"]["cnvisa"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
