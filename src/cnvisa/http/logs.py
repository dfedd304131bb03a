"""What the server's logs may say about people (PIPL Art 6 minimisation; OWASP ASVS 4.0 V7.1.1: no sensitive data
in logs).

Personal data travels in request bodies (the progress inquiry is a POST), but an old link or client may still
put a passport number in a query string. The access log (uvicorn's ``uvicorn.access``) therefore never shows the
query string of a route that carries personal data: ``[redacted]`` stands in for it. Defence in depth: the
database driver's errors are logged without their parameters (``hide_parameters`` in ``cnvisa.store.db``)."""

from __future__ import annotations

import logging
from typing import Final

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


def redact_target(target: str) -> str:
    """The request target as the log may show it: the query string of a listed route replaced."""
    path, sep, query = target.partition("?")
    if sep and query and path.rstrip("/") in PERSONAL_QUERY_ROUTES:
        return f"{path}?{REDACTED}"
    return target


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
