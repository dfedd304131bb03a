"""Routing without asking every router: FastAPI (0.165) matches a request against the app's included routers in
their order, at ≈ 10 µs each, so a route late in the list pays for every router before it — the joint submission,
behind 17 routers, 0.18 ms; a page up to 0.4 ms; a path nothing serves 0.8 ms (benchmarks/RESULTS.md, issue 10).

``install`` gives each of the app's top-level routers what its routes can match — the paths of those without
parameters, and the literal beginning (before the first ``{``) of the others' and of mounts'. A router none of
whose routes can match the request's path answers "no match" at once, without FastAPI's work. The order of the
routers, and so which route answers a request, is unchanged: a router is passed over only when none of its routes
could have matched (a route's pattern is anchored at both ends of the path). What this module does not recognise
— another kind of route, a router including routers, a FastAPI whose routing types differ — is left as FastAPI
made it. A router whose routes change after ``install`` is read again. tests/web/test_route_index.py compares
every route's selection with and without the index."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any, NamedTuple

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette._utils import get_route_path  # what Starlette's and FastAPI's routes match against
from starlette.routing import Match, Mount, Route

try:  # FastAPI's (0.165) included router; without it the index is not installed
    from fastapi.routing import _IncludedRouter
except ImportError:  # pragma: no cover (another FastAPI)
    _IncludedRouter = None  # type: ignore[assignment,misc]

Scope = MutableMapping[str, Any]
Matches = Callable[[Scope], tuple[Match, Scope]]


class Paths(NamedTuple):
    """What a router's routes can match: these paths exactly (routes without parameters), or any path beginning
    with one of ``prefixes`` (the literal beginning of a route with parameters, or a mount's path)."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]

    def admit(self, path: str) -> bool:
        return path in self.exact or path.startswith(self.prefixes)


def _add(path_format: str, exact: set[str], prefixes: set[str]) -> None:
    literal, brace, _ = path_format.partition("{")
    (prefixes if brace else exact).add(literal)


def paths(router: Any) -> Paths | None:
    """What an included router's routes can match — each route's path with the router's prefix, as FastAPI joins
    them (``_RouterIncludeContext.path_for``) — or None when one of them is of a kind not known here. Read from
    the routes themselves, not from ``iter_route_contexts``: that builds every route's effective context (its
    dependencies analysed), which FastAPI otherwise builds only for the routers a request reaches — 0.6 s for
    the whole app on every ``create_app``, most of it for routes the process may never serve."""
    if getattr(router.original_router, "_low_priority_routes", None):
        return None  # matched after the others, by rules not read here
    prefix = router.include_context.prefix
    exact: set[str] = set()
    prefixes: set[str] = set()
    for route in router.original_router.routes:
        if isinstance(route, Mount):
            prefixes.add(prefix + route.path)  # the mount's path, then whatever its own routes take
        elif isinstance(route, (APIRoute, Route)):
            _add(prefix + route.path, exact, prefixes)
        else:
            return None
    return Paths(frozenset(exact), tuple(sorted(prefixes)))


def _indexed(router: Any, matches: Matches) -> Matches:
    known: dict[str, Any] = {"version": None, "paths": None}

    def indexed_matches(scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return matches(scope)
        version = router.original_router._routes_version
        if version != known["version"]:  # first use, or routes added since: read them again
            known["paths"], known["version"] = paths(router), version
        found: Paths | None = known["paths"]
        if found is not None and not found.admit(get_route_path(scope)):
            return Match.NONE, {}
        return matches(scope)

    return indexed_matches


def install(app: FastAPI) -> int:
    """Index the app's top-level routers (once every route is in); how many were indexed."""
    if _IncludedRouter is None:
        return 0  # pragma: no cover
    n = 0
    for route in app.router.routes:
        own = getattr(route, "__dict__", None)  # (None: slots, no method can be set on it)
        if not isinstance(route, _IncludedRouter) or own is None or "matches" in own:
            continue  # not an included router, or indexed already
        if not isinstance(getattr(route.original_router, "_routes_version", None), int):
            continue  # a FastAPI that counts its routes' changes otherwise
        if any(isinstance(r, _IncludedRouter) for r in route.original_router.routes):
            continue  # its version would not show a change below it
        if paths(route) is None:
            continue
        route.matches = _indexed(route, route.matches)  # type: ignore[method-assign,assignment]
        n += 1
    return n
