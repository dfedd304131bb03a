"""The methods a path answers, for the ``Allow`` header of a 405 (RFC 9110 §15.5.6: a 405 must carry it).

Starlette's 405 names only the methods of the one route it matched first (``/api/v1/appointments`` has a GET
route and a POST route: a DELETE was told ``Allow: POST``), and the static files' 405 names none; here every
route of the app that matches the path counts."""

from __future__ import annotations

from fastapi import Request
from fastapi.routing import iter_route_contexts
from starlette.routing import Match, Mount

STATIC_METHODS = frozenset({"GET", "HEAD"})


def allowed(request: Request) -> str:
    """The methods of every route matching the request's path, comma-separated (RFC 9110 §10.2.1)."""
    scope = dict(request.scope)
    # a mount (the static files) has moved its prefix into root_path: match from the app's root again
    scope["root_path"] = scope.get("app_root_path", scope.get("root_path", ""))
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        match, _child = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route.original_route, Mount):
            methods |= STATIC_METHODS  # the mounted static files answer GET and HEAD only
        else:
            methods |= set(route.methods or ())
    return ", ".join(sorted(methods))
