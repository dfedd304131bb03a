"""Request body limits by route class (issue 13, defect 5; ASVS 4.0 V12.1.1, V11.1.4).

The class is the body's media type: multipart forms carry the uploads (``Settings.upload_request_bytes``: the
largest file plus the form's other fields), url-encoded forms are the pages' few fields
(``max_form_bytes``), and everything else — JSON — is ``max_json_bytes``. A declared Content-Length over the
limit is refused before a byte is read; a body without one (chunked) is counted while it is read, by
Starlette's own limiter (``starlette.middleware.body_limit``), and cut off at the first chunk past the limit.
Either way the answer is 413 as problem+json on /api and the error page elsewhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from starlette.middleware.body_limit import RequestBodyLimitResponder
from starlette.types import ASGIApp, Receive, Scope, Send

from cnvisa.http.problems import Problem
from cnvisa.http.settings import Settings


def too_large(limit: int) -> Problem:
    return Problem(
        413,
        "Content too large",
        f"the request body may be at most {limit} bytes",
        field="body",
        code="too_large",
    )


class BodyLimits:
    def __init__(
        self, app: ASGIApp, settings: Settings, answer: Callable[[Request, Exception], Awaitable[Response]]
    ) -> None:
        self.app, self.answer = app, answer
        self.upload = settings.upload_request_bytes
        self.form = settings.max_form_bytes
        self.json = settings.max_json_bytes

    def limit(self, content_type: bytes) -> int:
        media = content_type.split(b";", 1)[0].strip().lower()
        if media == b"multipart/form-data":
            return self.upload
        if media == b"application/x-www-form-urlencoded":
            return self.form
        return self.json

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type = declared = chunked = None
        for name, value in scope["headers"]:  # one pass over the raw headers: most requests have no body
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = value
        if declared is None and chunked is None:  # no body (RFC 9112 §6.3): nothing to limit
            await self.app(scope, receive, send)
            return
        limit = self.limit(content_type or b"")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await (await self.answer(Request(scope), too_large(limit)))(scope, receive, send)
            return
        # Starlette's limiter raises its own HTTPException(413) from ``receive`` past the limit; FastAPI's handler
        # for it (cnvisa.http.problems.install) answers problem+json or the error page.
        await RequestBodyLimitResponder(self.app, limit)(scope, receive, send)
