"""Online progress inquiry (在线查询办证进度; NIA measures 2024-03-20): case number + passport number in,
where the application stands out — one indexed query, no sign-in, no personal data beyond the case's own
state. A wrong pair is simply "not found", so the endpoint does not reveal which half was wrong.

The two numbers go in a POST body (JSON): a passport number in a URL ends up in access logs, proxies and
browser histories (PIPL Art 6; OWASP ASVS 4.0 V8.3.1 "sensitive data in the HTTP message body"). The GET with a
query string is kept, deprecated, for the clients written against it; its query string is redacted from the
access log (``cnvisa.http.logs``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cnvisa.cases.queries import progress as queries
from cnvisa.cases.queries.progress import NUMBER, PASSPORT
from cnvisa.http import throttle
from cnvisa.http.deps import Platform, PlatformDep
from cnvisa.http.problems import PROBLEM, Problem

router = APIRouter(tags=["progress"])


class Progress(BaseModel):
    number: str
    matter: str
    state: str
    next_step: str
    receipt_valid_until: dt.date | None
    working_days_left: int | None


def not_found() -> Problem:
    return Problem(
        404,
        "Not found",
        "no application with this number and passport number",
        field="number",
        code="not_found",
    )


PATH = "/api/v1/progress"
MAX_BODY = 1024
"""The fast path reads at most this much of a POST body (two numbers of at most 24 characters); a longer body
is left to FastAPI."""


class ProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(
        min_length=NUMBER.min_length,
        max_length=NUMBER.max_length,
        pattern=NUMBER.pattern,
        description="Case number",
    )
    passport: str = Field(
        min_length=PASSPORT.min_length,
        max_length=PASSPORT.max_length,
        pattern=PASSPORT.pattern,
        description="Passport number",
    )


@router.post(
    PATH.removeprefix("/api/v1"),
    response_model=Progress,
    summary="Progress inquiry by case number and passport number (in the body: no personal data in the URL)",
    responses={
        404: {"description": "no application with this number and passport number"},
        429: {"description": "too many lookups from this address (Retry-After)"},
    },
)
async def progress_post(p: PlatformDep, request: Request, body: ProgressIn) -> Response:
    await throttle.limit(p, "progress", request)
    found = await queries.find(p.tolerant, body.number, body.passport, p.today())
    if found is None:
        raise not_found()
    return Response(json.dumps(found), media_type="application/json")  # the shape is Progress (above)


@router.get(
    PATH.removeprefix("/api/v1"),
    response_model=Progress,
    summary="Progress inquiry by query string (deprecated: POST the numbers instead, keeping them out of URLs)",
    deprecated=True,
    responses={429: {"description": "too many lookups from this address (Retry-After)"}},
)
async def progress(
    p: PlatformDep,
    request: Request,
    number: Annotated[
        str,
        Query(
            min_length=NUMBER.min_length,
            max_length=NUMBER.max_length,
            pattern=NUMBER.pattern,
            description="Case number",
        ),
    ],
    passport: Annotated[
        str,
        Query(
            min_length=PASSPORT.min_length,
            max_length=PASSPORT.max_length,
            pattern=PASSPORT.pattern,
            description="Passport number",
        ),
    ],
) -> Response:
    await throttle.limit(p, "progress", request)
    body = await queries.find(p.tolerant, number, passport, p.today())
    if body is None:
        raise not_found()
    return Response(json.dumps(body), media_type="application/json")  # the shape is Progress (above)


class FastPath:
    """The progress inquiry is the platform's busiest public request. On PostgreSQL a well-formed inquiry is
    answered here, before FastAPI's routing and dependency injection, by the same ``find``
    (``cnvisa.cases.queries.progress``) and with the same answers as the documented route above; anything
    else (other paths, bad input → 422, SQLite) passes on to FastAPI unchanged. Measured in benchmarks/web.py."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] not in ("GET", "POST"):
            await self.app(scope, receive, send)
            return
        platform: Platform | None = getattr(scope["app"].state, "platform", None)
        if platform is None or platform.reads.pool is None:
            await self.app(scope, receive, send)
            return
        number: object = None
        passport: object = None
        if scope["method"] == "GET":
            query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
            number, passport = query.get("number"), query.get("passport")
        else:
            received, asked = await _json_body(scope, receive)
            if received:  # what was read is handed on to FastAPI, then the rest of the body
                receive = _replay(received, receive)
            if isinstance(asked, dict) and set(asked) == {"number", "passport"}:
                number, passport = asked["number"], asked["passport"]
        if not (isinstance(number, str) and isinstance(passport, str)) or not (
            NUMBER.admits(number) and PASSPORT.admits(passport)
        ):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        headers: list[tuple[bytes, bytes]] = []
        wait = await throttle.admit(platform, "progress", client[0] if client else None)
        if wait is not None:
            status, media, payload = 429, PROBLEM, throttle.too_many(wait).body(PATH)
            headers.append((b"retry-after", str(wait).encode()))
        elif (body := await queries.find(platform.tolerant, number, passport, platform.today())) is None:
            status, media, payload = 404, PROBLEM, not_found().body(PATH)
        else:
            status, media, payload = 200, "application/json", body
        scope["cnvisa.route"] = (
            PATH  # the metrics' route label (cnvisa.http.observe): answered here, not routed
        )
        rid = scope.get("state", {}).get("request_id")
        if status != 200 and rid:
            payload = {**payload, "request_id": rid}  # as every problem+json answer
        data = json.dumps(payload).encode()
        headers += [(b"content-type", media.encode()), (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})


async def _json_body(scope: Scope, receive: Receive) -> tuple[list[Message], object]:
    """The messages read and the parsed JSON body (``None`` when not JSON, too long or not all read)."""
    media = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip().lower()
    if media != b"application/json":
        return [], None
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY:
            return messages, None
        if not message.get("more_body", False):
            break
    try:
        return messages, json.loads(b"".join(chunks))
    except ValueError:
        return messages, None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
