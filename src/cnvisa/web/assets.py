"""The static files (style sheet, the error summary's script) with caching headers. Templates ask for them with
the files' fingerprint (``?v=``, ``cnvisa.web.templating.STATIC_VERSION``): such a request may be kept for a year
(``immutable``); one without it (an old page, a bookmark) for an hour, then revalidated by its ETag."""

from __future__ import annotations

from typing import Any

from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

from cnvisa.web.templating import STATIC, STATIC_VERSION

YEAR = "public, max-age=31536000, immutable"
HOUR = "public, max-age=3600"


class Static(StaticFiles):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(directory=STATIC, **kwargs)

    def file_response(
        self, full_path: Any, stat_result: Any, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        fingerprinted = f"v={STATIC_VERSION}".encode() in scope.get("query_string", b"").split(b"&")
        response.headers["Cache-Control"] = YEAR if fingerprinted else HOUR
        return response
