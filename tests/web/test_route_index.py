"""The route index (``cnvisa.http.route_index``) changes no routing decision. For every route the app serves (a
sample path for each, with and without a trailing slash, as every method) and for paths nothing serves, the
router FastAPI's loop selects — fully, or only by path when the method differs — is the same whether each router
is asked through the index or as FastAPI made it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import _IncludedRouter, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Match

from cnvisa.app import create_app
from cnvisa.http import route_index
from cnvisa.http.settings import Settings

METHODS = ("GET", "POST", "DELETE")
NOWHERE = [
    "/",
    "/nope",
    "/api",
    "/api/v1",
    "/api/v1/",
    "/api/v1/nope",
    "/api/v1/cases/1/nope",
    "/api/v1/office/cases/1/no-such-command",
    "/office/queueX",
    "/office/queue/extra",
    "/static",
    "/static/",
    "/static/style.css",
    "/api/docs-assets/x.js",
    "/my/cases/abc",
]


def _sample(path_format: str) -> str:
    """A path the route matches: each parameter given a value its converter takes."""

    def value(m: re.Match[str]) -> str:
        return {"int": "7", "path": "a/b.txt", "float": "1.5"}.get(m.group(2) or "", "x7")

    return re.sub(r"\{([^}:]+)(?::([^}]+))?\}", value, path_format)


def _scope(app: FastAPI, path: str, method: str) -> dict[str, Any]:
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "app": app,
    }


def _selected(app: FastAPI, path: str, method: str, *, indexed: bool) -> tuple[str, int]:
    """What FastAPI's loop over the app's routes picks: the first router matching fully, else the first
    matching by path only (``(kind, position)``)."""
    partial: tuple[str, int] | None = None
    for i, route in enumerate(app.router.routes):
        scope = _scope(app, path, method)
        match, _ = route.matches(scope) if indexed else type(route).matches(route, scope)
        if match is Match.FULL:
            return ("full", i)
        if match is Match.PARTIAL and partial is None:
            partial = ("partial", i)
    return partial or ("none", -1)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app(Settings(database_url="sqlite+aiosqlite://"))


def test_every_included_router_is_indexed(app: FastAPI) -> None:
    """All the app's routers are indexed, so that a FastAPI whose routing differs shows here (not in speed)."""
    included = [r for r in app.router.routes if isinstance(r, _IncludedRouter)]
    assert len(included) >= 30
    assert all(getattr(r.matches, "__name__", "") == "indexed_matches" for r in included)


def test_the_index_selects_what_fastapi_selects(app: FastAPI) -> None:
    paths = set(NOWHERE)
    for context in iter_route_contexts(app.routes):
        if context.path_format:
            sample = _sample(context.path_format)
            paths |= {sample, sample.rstrip("/") or "/", sample.rstrip("/") + "/"}
    assert len(paths) > 150
    found = {"full": 0, "partial": 0, "none": 0}
    for path in sorted(paths):
        for method in METHODS:
            with_index = _selected(app, path, method, indexed=True)
            assert with_index == _selected(app, path, method, indexed=False), (method, path)
            found[with_index[0]] += 1
    # the comparison covered routes found, paths found by another method only, and paths nothing serves
    assert all(found.values()), found


def test_a_route_added_after_the_index_is_found() -> None:
    first, second = APIRouter(), APIRouter()
    first.add_api_route("/a", lambda: {"at": "a"})
    second.add_api_route("/b/{n}", lambda n: {"at": n})
    app = FastAPI()
    app.include_router(first, prefix="/x")
    app.include_router(second)
    assert route_index.install(app) == 2
    assert route_index.install(app) == 0  # indexed once
    client = TestClient(app)
    assert client.get("/x/a").json() == {"at": "a"}  # the index has read both routers
    assert client.get("/x/c").status_code == 404
    first.add_api_route("/c", lambda: {"at": "c"})
    assert client.get("/x/c").json() == {"at": "c"}
    assert client.get("/b/9").json() == {"at": "9"}
    assert client.get("/a").status_code == 404  # the prefix is the router's
    assert client.post("/x/a").status_code == 405  # matched by path, not by method: as without the index


def test_a_router_including_routers_is_left_as_it_is() -> None:
    inner, outer = APIRouter(), APIRouter()
    inner.add_api_route("/in", lambda: {})
    outer.include_router(inner, prefix="/inner")
    app = FastAPI()
    app.include_router(outer)
    assert route_index.install(app) == 0
    assert TestClient(app).get("/inner/in").status_code == 200
