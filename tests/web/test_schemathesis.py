"""schemathesis against /api/openapi.json (issues 4 and 13): no generated request gets a 5xx, and every answer
is the one the document states — its status, media type, headers and body (``cnvisa.api.openapi_doc``) — and
invalid input (by the document's own bounds) is refused.

A real server (uvicorn in a subprocess, on 127.0.0.1) serves the demo data from the test's database (SQLite
or PostgreSQL); requests are sent signed out, and signed in as each kind of account (applicant, officer,
organisation staff, verifier), with valid and with invalid data."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from fastapi.routing import APIRoute, iter_route_contexts
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from web_support import PASSWORDS, TODAY, served

from cnvisa.app import create_app
from cnvisa.cases.workflow import Role
from cnvisa.demo import DEMO
from cnvisa.demo.joint_story import DESK
from cnvisa.http import deps
from cnvisa.http.settings import Settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
"""positive_data_acceptance is left out: data valid by the document may still be refused by the rules (a day
that is not bookable, a case in another state) — a 422 or 409 naming the rule, which no schema can state."""
SIGNED_IN_AS = (
    None,
    "alice",
    "carol",
    "sh01.officer",
    "sh01.supervisor",
    "employer.hr",
    "bank.teller",
    "pv.yinchuan",
    "hotel.desk",
    "wp.desk.demo",
    "police.pudong",
    "admin",
)
"""Every kind of account that has operations of its own (applicant, agent, officer, supervisor — the escalations —,
organisation, verifier, port visa desk, a hotel's front desk, a police station's desk, the administrator):
``test_every_role_an_operation_admits_signs_in``
fails when a new role is not here."""
REFUSALS = frozenset({401, 403})
EXAMPLES = 5
"""Per operation, per generation mode, each sent once per account: ≈ 50 s for both modes on SQLite here."""
LAST = {("POST", "/api/v1/auth/signout")}
"""Signing out ends the session the other operations are sent in: it goes last."""


@pytest.fixture
def server(seeded: dict[str, Any], db_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log_path = tmp_path / "server.log"
    # the demo data's day
    with served(db_url, log_path, CNVISA_CLOCK_START=f"{TODAY.isoformat()}T09:00:00+08:00") as base:
        yield base, log_path


def _log_tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def documented_operations() -> set[tuple[str, str]]:
    """(method, path) of every API route of the app that the document shows."""
    out = set()
    for context in iter_route_contexts(create_app(Settings(database_url="sqlite+aiosqlite://")).routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            out |= {(m, context.path_format) for m in context.methods or ()}
    return out


def test_every_api_route_is_documented_and_under_api() -> None:
    """Every route in the document is under /api/v1, and every route under /api/v1 is in the document (so
    schemathesis below reaches it: a new route is tested as soon as it exists)."""
    documented = documented_operations()
    assert documented and all(path.startswith("/api/v1/") for _m, path in documented)
    undocumented = set()
    for context in iter_route_contexts(create_app(Settings(database_url="sqlite+aiosqlite://")).routes):
        route = context.original_route
        path = context.path_format or ""
        if path.startswith("/api/v1") and isinstance(route, APIRoute) and not route.include_in_schema:
            undocumented.add(path)
    assert not undocumented


def _admitted_roles(dependant: Any) -> set[Role]:
    """The roles the operation's ``require(...)`` checks admit (the closure's ``roles``), at any depth."""
    out: set[Role] = set()
    for sub in dependant.dependencies:
        call = sub.call
        if getattr(call, "__module__", None) == deps.__name__ and getattr(
            call, "__qualname__", ""
        ).startswith("require."):
            for cell in call.__closure__ or ():
                if isinstance(cell.cell_contents, tuple):
                    out |= {r for r in cell.cell_contents if isinstance(r, Role)}
        out |= _admitted_roles(sub)
    return out


def test_every_role_an_operation_admits_signs_in() -> None:
    """An operation only some roles may call is run past its role check only if one of those roles signs in
    here: a role that arrives with routes of its own (a hotel's front desk, Law Art 39) must join
    ``SIGNED_IN_AS``, or its operations are only ever refused."""
    roles = {d.username: Role(d.role) for d in DEMO} | {u: Role.WORK_PERMIT_OFFICER for u, *_ in DESK}
    signed_in = {roles[who] for who in SIGNED_IN_AS if who}
    missing = {}
    for context in iter_route_contexts(create_app(Settings(database_url="sqlite+aiosqlite://")).routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            admitted = _admitted_roles(route.dependant)
            if admitted and not admitted & signed_in:
                missing[context.path_format] = sorted(admitted)
    assert not missing, f"operations no account of SIGNED_IN_AS may call: {missing}"


def _takes_input(operation: Any) -> bool:
    return bool(list(operation.iter_parameters())) or bool(operation.body)


def _sessions(base: str) -> list[tuple[str, requests.Session]]:
    out = []
    for who in SIGNED_IN_AS:
        session = requests.Session()
        if who:
            r = session.post(base + "/api/v1/auth/signin", json={"username": who, "password": PASSWORDS[who]})
            assert r.status_code == 200, r.text
            session.headers["X-CSRF-Token"] = r.json()["csrf"]
        out.append((who or "anonymous", session))
    return out


def test_conformance(server: tuple[str, Path]) -> None:
    base, log_path = server
    started = time.monotonic()
    schema = schemathesis.openapi.from_url(base + "/api/openapi.json")
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: ((op.method.upper(), op.path) in LAST, op.path, op.method),
    )
    # schemathesis reaches every documented operation
    assert {(op.method.upper(), op.path) for op in operations} == documented_operations()
    sessions = _sessions(base)
    failures: list[str] = []
    answered: set[tuple[str, str]] = set()  # valid data answered to some account, not refused (401/403)

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # No shrinking: a failing request is reported as generated, with the command to repeat it and the
            # server's log (shrinking against a live server can take many minutes and change its state).
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
                phases=[Phase.explicit, Phase.generate],
            )
            def check(case: Any) -> None:
                for who, session in sessions:
                    try:
                        response = case.call(base_url=base, session=session, timeout=30)
                        # valid data refused only by the role check (invalid data may be refused before it)
                        positive = case.meta is not None and not case.meta.generation.mode.is_negative
                        if positive and response.status_code not in REFUSALS:
                            answered.add((case.method.upper(), case.path))
                    except requests.Timeout:
                        pytest.fail(
                            f"no answer in 30 s: {case.as_curl_command()}\n"
                            f"--- server log ---\n{_log_tail(log_path)}"
                        )
                    try:
                        case.validate_response(response, checks=CHECKS)
                    except (Exception, BaseExceptionGroup) as exc:
                        raise AssertionError(f"as {who}: {exc}") from None

            try:
                check()
            except Unsatisfiable:
                # nothing to make invalid: the operation takes no input
                assert mode is GenerationMode.NEGATIVE and not _takes_input(operation), operation.label
            except (
                Exception,
                BaseExceptionGroup,
            ) as exc:  # every operation is run: all that does not conform is reported at once
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures) + f"\n--- server log ---\n{_log_tail(log_path)}"
    # every operation was run past its role check by some account with valid data, not only refused
    refused_only = sorted(documented_operations() - answered)
    assert not refused_only, f"operations every account was refused (401/403): {refused_only}"
    print(f"schemathesis: {len(operations)} operations in {time.monotonic() - started:.0f} s")
