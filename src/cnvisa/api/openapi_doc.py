"""The OpenAPI document states every answer an operation can give (ASVS 4.0 V13.1.5, V13.2.5): FastAPI's
generated document lists only the success and its own 422; here each operation gets its error answers as
``application/problem+json`` (``cnvisa.http.problems``), with the headers that come with them, by what the
route can answer:

- 401 (``WWW-Authenticate``) where someone must be signed in — or where a bearer token is read at all;
- 403 where a role is required, or a cookie session must send its CSRF token (state-changing requests);
- 404 where a path names a row, or where the route looks one up (``EXTRA``);
- 409 for commands on a case or an appointment (a stale version, a guard of the rules, a full slot);
- 400 and 413 where a body is read (undecodable; too large), 415 where files are uploaded;
- 422 for everything with input (a field and a rule named);
- 429 (``Retry-After``) where attempts are limited (``EXTRA``);
- 503 (``Retry-After``) for everything that reads or writes the database.

``tests/web/test_schemathesis.py`` checks the document against the server's answers: an undocumented status,
header, media type or body, or invalid input accepted, fails it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Final

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from cnvisa.http import deps
from cnvisa.http.problems import PROBLEM

PROBLEM_SCHEMA: Final[dict[str, Any]] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; the field and the rule are named where they apply",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "description": "about:blank#<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "what was wrong (English)"},
        "instance": {"type": "string", "description": "the path asked for"},
        "field": {"type": "string", "description": "the input at fault (dotted: application.office_id)"},
        "rule": {"type": "string", "description": "the rule or article applied"},
        "code": {"type": "string", "description": "a machine-readable reason (bad_input, csrf, busy, …)"},
        "retry_after": {"type": "integer", "minimum": 1, "description": "seconds to wait (429, 503)"},
        "request_id": {
            "type": "string",
            "description": "this request's id, as in the X-Request-ID header, the logs and the audit events: "
            "quote it when asking about this answer",
        },
    },
    "additionalProperties": True,
}
_REF: Final = {"$ref": "#/components/schemas/Problem"}

_RETRY_AFTER: Final = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "required": True,
        "schema": {"type": "string", "pattern": r"^[0-9]+$"},
    }
}
_AUTHENTICATE: Final = {
    "WWW-Authenticate": {
        "description": "Bearer (a bearer token or a session cookie is expected)",
        "schema": {"type": "string"},
    }
}
ANSWERS: Final[dict[int, tuple[str, dict[str, Any]]]] = {
    400: ("The body could not be decoded (not UTF-8 JSON, broken multipart)", {}),
    401: ("Not signed in, or an unknown, revoked or expired bearer token", _AUTHENTICATE),
    403: ("The account's role may not do this, or the CSRF token is missing or wrong", {}),
    404: ("No such record, or it is not yours to see", {}),
    409: ("Not possible in the record's present state (a stale version, a guard of the rules named)", {}),
    413: ("The body or a file is too large", {}),
    415: ("A file is not PDF, JPEG or PNG (by its content)", {}),
    422: ("Invalid input: the field and the rule are named", {}),
    429: ("Too many attempts: wait as Retry-After says", _RETRY_AFTER),
    503: ("The database is busy or unreachable: nothing was changed, try again", _RETRY_AFTER),
}

API: Final = "/api/v1"
EXTRA: Final[dict[tuple[str, str], frozenset[int]]] = {
    # sign-in: wrong name or password; limited per address and locked per name (cnvisa.http.security)
    ("POST", f"{API}/auth/signin"): frozenset({401, 429}),
    # the progress inquiry: a wrong pair is "not found"; limited per address (issue 13 item 10)
    ("GET", f"{API}/progress"): frozenset({404, 429}),
    # the QR check of a document: limited per address (issue 13 item 10)
    ("GET", f"{API}/public/check/{{kind}}/{{token}}"): frozenset({429}),
    # identity checks: limited per verifier (Settings.identity_checks_per_minute)
    ("POST", f"{API}/verify"): frozenset({429}),
    # the rows a body names (office, person, case) are looked up
    ("POST", f"{API}/appointments"): frozenset({404}),
    ("POST", f"{API}/cases"): frozenset({404, 409}),
    ("POST", f"{API}/org/reports"): frozenset({404}),
    # accommodation registration: the person a private stay names is looked up
    ("POST", f"{API}/accommodation/stays"): frozenset({404}),
}
"""Answers a route gives that its signature does not show, by (method, path): rate limits, look-ups."""
NO_DATABASE: Final = frozenset({("GET", f"{API}/matters"), ("POST", f"{API}/assess")})
"""Operations that neither read nor write the database (the law engine alone): no 503."""
IDEMPOTENCY_KEY: Final = "Idempotency-Key"
REQUIRED_KEY: Final[dict[tuple[str, str], dict[str, Any]]] = {
    # cnvisa.http.applicant.namespaced_key: required, at most 64 characters (surrounding blanks dropped)
    ("POST", f"{API}/cases"): {"type": "string", "minLength": 1, "maxLength": 64},
    ("POST", f"{API}/org/post-changes"): {"type": "string", "minLength": 1, "maxLength": 64},
    # port-visa requests (cnvisa.api.port_visa): every command carries its key
    **{
        ("POST", f"{API}/port-visa/{path}"): {"type": "string", "minLength": 1, "maxLength": 64}
        for path in (
            "requests",
            "requests/{request_id}/withdraw",
            "desk/requests/{request_id}/approve",
            "desk/requests/{request_id}/refuse",
            "desk/requests/{request_id}/issue",
        )
    },
}
"""Operations that refuse a request without an Idempotency-Key header (422 naming it), and the key's bounds;
elsewhere the key is optional (a case command derives one from the case and its version; an officer's command
may carry it in the body as ``idempotency_key`` instead)."""
COMMANDS: Final = (f"{API}/cases", f"{API}/office/cases/", f"{API}/appointments", f"{API}/port-visa/")
"""State-changing requests under these paths are commands on a case or an appointment: 409 possible."""


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _is_role_check(call: Callable[..., Any]) -> bool:
    # cnvisa.http.deps.require(...) returns a closure named "check"
    return getattr(call, "__module__", None) == deps.__name__ and getattr(
        call, "__qualname__", ""
    ).startswith("require.")


def statuses(method: str, path: str, dependant: Dependant) -> set[int]:
    """The error statuses an operation can answer, by the rules of the module's docstring."""
    calls = list(_calls(dependant))
    signed_in = deps.principal in calls
    reads_identity = signed_in or deps.optional_principal in calls
    changes = method not in ("GET", "HEAD", "OPTIONS")
    has_body = bool(dependant.body_params)
    has_input = bool(has_body or dependant.path_params or dependant.query_params or dependant.header_params)
    out: set[int] = set()
    if reads_identity:
        out.add(401)  # a bearer token that is not (or no longer) valid: 401 even where signing in is optional
    if any(_is_role_check(c) for c in calls) or (signed_in and changes):
        out.add(403)
    if dependant.path_params:
        out.add(404)
    if changes and path.startswith(COMMANDS):
        out.add(409)
    if has_body:
        out.add(413)
        out.add(422)
        out.add(400)  # a body that cannot be decoded at all (not UTF-8, broken multipart)
        if any(
            getattr(p.field_info, "media_type", "") == "multipart/form-data" for p in dependant.body_params
        ):
            out.add(415)
    if has_input:
        out.add(422)
    if (method, path) not in NO_DATABASE:
        out.add(503)
    return out | EXTRA.get((method, path), frozenset())


def _parameters(method: str, path: str, operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "header":
            continue
        schema = parameter.get("schema", {})
        options = [s for s in schema.get("anyOf", ()) if s.get("type") != "null"]
        if len(options) == 1:  # a header is absent or a string, never null
            rest = {k: v for k, v in schema.items() if k != "anyOf"}
            parameter["schema"] = {**options[0], **rest}
        if parameter["name"] == IDEMPOTENCY_KEY:
            required = REQUIRED_KEY.get((method, path))
            if required is not None:
                parameter["required"] = True
                parameter["schema"] = {**parameter["schema"], **required}
            parameter.setdefault(
                "description",
                "A fresh key per intended request (IETF draft-ietf-httpapi-idempotency-key-header): the same "
                "request repeated with the same key returns the first result and changes nothing"
                + ("" if required else "; optional here (one is derived, or sent in the body)"),
            )


def _response(status: int) -> dict[str, Any]:
    description, headers = ANSWERS[status]
    out: dict[str, Any] = {"description": description, "content": {PROBLEM: {"schema": _REF}}}
    if headers:
        out["headers"] = dict(headers)
    return out


def document(schema: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """Adds the Problem schema and each operation's error answers to FastAPI's generated ``schema``."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        path = context.path_format or route.path_format
        dependant = getattr(context, "dependant", None) or route.dependant
        for method in context.methods or ():
            operation = schema.get("paths", {}).get(path, {}).get(method.lower())
            if operation is None:
                continue
            _parameters(method, path, operation)
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses(method, path, dependant)):
                described = responses.get(str(status))
                answer = _response(status)
                if described and "description" in described and described.get("content") is None:
                    answer["description"] = described["description"]  # the route's own words
                responses[str(status)] = answer
    # FastAPI's own validation-error shapes are never sent: every 422 is a Problem
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return schema


def install(app: FastAPI) -> None:
    """``app.openapi`` returns the generated document with the error answers added (once per route change)."""
    generate = app.openapi
    done: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        schema = generate()
        if done.get("schema") is not schema:
            document(schema, app)
            done["schema"] = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
