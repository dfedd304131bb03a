"""Online progress inquiry (在线查询办证进度; NIA measures 2024-03-20): case number + passport number in,
where the application stands out — one indexed query, no sign-in, no personal data beyond the case's own
state. A wrong pair is simply "not found", so the endpoint does not reveal which half was wrong."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

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


@router.get(
    PATH.removeprefix("/api/v1"),
    response_model=Progress,
    summary="Progress inquiry by case number and passport number",
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
    body = await queries.find(p.reads, number, passport, p.today())
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
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        platform: Platform | None = getattr(scope["app"].state, "platform", None)
        query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        number, passport = query.get("number"), query.get("passport")
        if (
            platform is None
            or platform.reads.pool is None
            or not NUMBER.admits(number)
            or not PASSPORT.admits(passport)
        ):
            await self.app(scope, receive, send)
            return
        assert number is not None and passport is not None
        client = scope.get("client")
        headers: list[tuple[bytes, bytes]] = []
        wait = await throttle.admit(platform, "progress", client[0] if client else None)
        if wait is not None:
            status, media, payload = 429, PROBLEM, throttle.too_many(wait).body(PATH)
            headers.append((b"retry-after", str(wait).encode()))
        elif (body := await queries.find(platform.reads, number, passport, platform.today())) is None:
            status, media, payload = 404, PROBLEM, not_found().body(PATH)
        else:
            status, media, payload = 200, "application/json", body
        data = json.dumps(payload).encode()
        headers += [(b"content-type", media.encode()), (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})
