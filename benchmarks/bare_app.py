"""The yardstick for benchmarks/http.py: a bare Starlette + asyncpg endpoint running the same progress query as
cnvisa's /api/v1/progress, with no framework layers above it. Run with uvicorn (factory) like the platform."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SQL = (
    "SELECT number, matter, state, receipt_valid_until FROM cases WHERE number = $1 AND EXISTS "
    "(SELECT 1 FROM travel_documents WHERE travel_documents.person_id = cases.person_id "
    "AND travel_documents.number = $2)"
)


def create_app() -> Starlette:
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(os.environ["BARE_DSN"], min_size=2, max_size=10)
        yield
        await state["pool"].close()

    async def progress(request: Request) -> JSONResponse:
        # the numbers in a JSON body (POST), as cnvisa's inquiry takes them (issue 13); GET with a query string
        # for the liveness probe
        asked = await request.json() if request.method == "POST" else request.query_params
        row = await state["pool"].fetchrow(SQL, asked["number"], asked["passport"])
        if row is None:
            return JSONResponse({"detail": "not found"}, status_code=404)
        return JSONResponse(
            {
                "number": row["number"],
                "matter": row["matter"],
                "state": row["state"],
                "receipt_valid_until": str(row["receipt_valid_until"]),
            }
        )

    return Starlette(routes=[Route("/progress", progress, methods=["GET", "POST"])], lifespan=lifespan)
