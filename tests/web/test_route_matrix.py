"""The authorisation matrix route by route (issue 13; ASVS 4.0 V4.1.1, V4.1.3, V4.2.1, V4.2.2): every route the
app serves — the API and the pages — has an entry here naming who may use it, and is probed as every role.

``ROUTES`` is checked against ``app.routes``: a route added without an entry fails
``test_every_route_has_an_entry`` (it is not skipped). Each entry is one request: the roles it names must get
an answer (a success, or the rules' 409/422 — not a refusal), every other role a refusal (401 or a redirect to
the sign-in page signed out; 403 or 404 signed in); a public entry answers every role alike. Every
state-changing entry of a signed-in role is refused without the session's CSRF token (403, code ``csrf``).
The finer object-level probes (whose case, which office, whose employee) are in test_authorisation_matrix.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount
from test_applicant import EXTENSION, PDF
from test_authorisation_matrix import (
    APPLICANT_SIDE,
    FILERS,
    OFFICERS,
    ORG_STAFF,
    POLICE,
    PORT_DESKS,
    ROLES,
    SH01,
    SIGNED_IN,
    WP_DESK,
    Files,
    _client,
    _files,
)
from test_headers import lacking_security_headers
from test_office import ALL, apply, command
from web_support import Web

from cnvisa.app import create_app
from cnvisa.http.settings import Settings

PUBLIC = None
"""Anyone, signed in or not, is answered (never refused)."""
VERIFIER = frozenset({"bank.teller"})
TOKEN_HOLDERS = VERIFIER | {"hotel.desk"}
"""Accounts with API tokens of their own: a bank's verifier, a hotel's front desk (the revoke routes name a token
of the bank's: only its owner is answered)."""
ADMIN = frozenset({"admin"})
SUPERVISORS = frozenset({"sh01.supervisor"})
"""An office's supervisor: the escalations (issue 12)."""
CSRF_EXEMPT = {
    ("POST", "/api/v1/auth/signin"): "no session yet; the lockout and the per-address limit guard it",
    ("POST", "/signin"): "its own pre-session token (test_auth: the sign-in form has its own CSRF token)",
    ("POST", "/api/v1/assess"): "public and changes nothing (the law engine's answer)",
    (
        "POST",
        "/api/v1/progress",
    ): "public and changes nothing (a lookup posted to keep the numbers out of URLs)",
    (
        "POST",
        "/progress",
    ): "public and changes nothing; a signed-in reader's form carries the token all the same",
}
"""State-changing routes that take no session CSRF token, and why."""


@dataclass(frozen=True)
class Case:
    """The records the probes act on, beyond ``Files``."""

    files: Files
    appointment: int  # alice's own appointment
    mandated_appointment: int  # one carol booked for person 3 (mandate)
    noticed: int  # alice's case with a one-time notice (SH01)
    decided: int  # alice's case approved and issued (SH01)
    file_id: int  # a file of alice's case
    sh01: int  # the office's id
    tokens: tuple[int, int] = (
        0,
        0,
    )  # two API tokens of bank.teller's: one revoked by the API, one by the page
    obligation: int = 0  # alice's Art 32 duty (the daily sweep run once)
    message: int = 0  # a message in alice's inbox (issue 12)


@dataclass(frozen=True)
class Probe:
    method: str
    route: str
    """The path as the app declares the route."""
    allowed: frozenset[str] | None
    path: Callable[[Case], str]
    send: Callable[[Case], dict[str, Any]] = field(default=lambda c: {})
    person_field: bool = False
    """An organisation naming someone not its own is refused with 422 on ``person_id``."""
    expect: frozenset[int] = frozenset({200})
    """A public entry's answer, the same for every role."""
    own_session: bool = False
    """Sent in a session of its own (signing out ends the session)."""
    csrf_as: str | None = None
    """Who sends the CSRF probe when no role of the matrix is allowed (the role passes the route's role check
    and meets the CSRF check before the rules refuse it)."""


def _p(path: str) -> Callable[[Case], str]:
    return lambda c: path


def _json(body: dict[str, Any]) -> Callable[[Case], dict[str, Any]]:
    return lambda c: {"json": body}


def _form(body: dict[str, str]) -> Callable[[Case], dict[str, Any]]:
    return lambda c: {"data": body}


def _command(name: str, **body: Any) -> Callable[[Case], dict[str, Any]]:
    return lambda c: {"json": {"version": 1, "idempotency_key": uuid.uuid4().hex, **body}}


def _application(c: Case) -> dict[str, Any]:
    app = {
        "person_id": c.files.people[0],
        "office_id": c.sh01,
        "matter": "visa_extension",
        "inputs": {**EXTENSION, "applicant": {"first_entry": False, "good_record": True}},
    }
    return {"data": {"application": json.dumps(app)}, "headers": {"Idempotency-Key": uuid.uuid4().hex}}


OFFICE_COMMANDS = (
    ("issue_notice", {}),
    ("accept", {"passport_kept": False, "passport_on_record": True}),
    ("request_verification", {"method": "interview"}),
    ("record_verification", {"outcome": "confirmed"}),
    ("approve", {}),
    ("propose_refusal", {"grounds": ["reg21_1"]}),
    ("confirm_refusal", {}),
    ("revoke_refusal_proposal", {}),
    ("issue", {}),
    ("collect", {}),
)
V = "/api/v1"
_MRZ = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<11"]
PRIVATE_STAY = {
    "mrz": _MRZ,
    "address": "Flat 3, 5 Lane 100",
    "division_code": "310104",
    "moved_in_at": "2025-11-19T20:00:00+08:00",
}
HOTEL_REPORT = {"stays": [{**PRIVATE_STAY, "stay_ref": "R-1"}]}
VERIFY_BODY = {
    "document_number": "J25DEMO0001",
    "name": "X Y",
    "birth_date": "1990-01-01",
    "purpose": "account",
}
ASSESS = {
    "matter": "visa_extension",
    "on": "2025-11-20",
    "entry_date": "2025-10-20",
    "visa": {"category": "L", "entries": "single", "stay_days": 30},
    "requested": {"extension_days": 30},
}
GUEST = {
    "purpose": "trade",
    "urgent": True,
    "urgency": "contract talks",
    "port": "yinchuan_hedong_airport",
    "arrival_at": "2025-11-24T10:00:00+08:00",
    "flight": "CA1234",
    "surname": "LARSEN",
    "given_names": "ERIK",
    "birth_date": "1975-02-11",
    "nationality": "NOR",
    "passport_number": "NP7654321",
}
GUEST_FORM = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in GUEST.items()} | {
    "urgent": "yes",
    "arrival_at": "2025-11-24T10:00",
    "stay_days": "30",
    "key": "route-matrix",
}


def _keyed(body: dict[str, Any]) -> Callable[[Case], dict[str, Any]]:
    return lambda c: {"json": body, "headers": {"Idempotency-Key": uuid.uuid4().hex}}


def _pv(key: str) -> Callable[[Case], int]:
    return lambda c: c.files.port_visas[key]


def _j(state: str) -> Callable[[Case], int]:
    """A demo joint application in ``state`` (cnvisa.demo.joint_story)."""
    return lambda c: c.files.joint[state]


def _ref(state: str) -> Callable[[Case], str]:
    return lambda c: c.files.references[state]


def _joint_application(c: Case) -> dict[str, Any]:
    app = {
        "person_id": c.files.joint_person,
        "office_id": c.sh01,
        "employer_organisation_id": c.files.employer,
        "work_permit": {"category": "A", "position": "Engineer", "work_region": "310115", "contract_until": "2028-10-31"},
        "inputs": {"entry_date": "2025-11-12", "visa": {"category": "Z", "entries": "single", "stay_days": 30},
                   "requested": {"permit_type": "work", "validity_days": 730}},
    }  # fmt: skip
    return {"data": {"application": json.dumps(app)}, "headers": {"Idempotency-Key": uuid.uuid4().hex}}


HR = frozenset({"employer.hr"})
JOINT_READERS = HR | SH01 | WP_DESK
"""Who reads the demo's accepted joint application: Demo Employer's HR (a mandate for its hires), the window
office's officers and the work-permit desk of that window."""


ROUTES: list[Probe] = [
    # --- the API, public
    # the operator's probes (issue 14): for the load balancer and the process supervisor, no person's data
    Probe("GET", "/healthz", PUBLIC, _p("/healthz")),
    Probe("GET", "/readyz", PUBLIC, _p("/readyz")),
    # by network, not by role (CNVISA_METRICS_ALLOW; the test client is on the loopback): test_observe.py
    Probe("GET", "/metrics", PUBLIC, _p("/metrics")),
    Probe("GET", "/api/openapi.json", PUBLIC, _p("/api/openapi.json")),
    Probe("GET", "/api/docs", PUBLIC, _p("/api/docs")),
    Probe("GET", "/api/redoc", PUBLIC, _p("/api/redoc")),
    Probe("GET", "/api/docs-assets/{name}", PUBLIC, _p("/api/docs-assets/swagger-ui.css")),
    Probe("GET", f"{V}/matters", PUBLIC, _p(f"{V}/matters")),
    Probe("POST", f"{V}/assess", PUBLIC, _p(f"{V}/assess"), _json(ASSESS)),
    Probe("GET", f"{V}/offices", PUBLIC, _p(f"{V}/offices")),
    Probe(
        "GET",
        f"{V}/offices/{{office_id}}/slots",
        PUBLIC,
        lambda c: f"{V}/offices/{c.sh01}/slots",
        lambda c: {"params": {"day": "2025-11-21"}},
    ),
    Probe(
        "GET",
        f"{V}/progress",
        PUBLIC,
        _p(f"{V}/progress"),
        lambda c: {"params": {"number": "SH01-2025-000000", "passport": "E00000000"}},
        expect=frozenset({404, 422}),  # no such application (or a number not in the documented format)
    ),
    Probe(
        "GET",
        f"{V}/public/check/{{kind}}/{{token}}",
        PUBLIC,
        _p(f"{V}/public/check/receipt/X.00"),
        expect=frozenset({404}),  # not genuine, whoever asks
    ),
    # --- the API, signed in
    Probe("GET", f"{V}/auth/me", SIGNED_IN, _p(f"{V}/auth/me")),
    Probe("GET", f"{V}/cases", APPLICANT_SIDE, _p(f"{V}/cases")),
    Probe("GET", f"{V}/cases/{{case_id}}", frozenset({"alice"}), lambda c: f"{V}/cases/{c.files.alice}"),
    Probe("GET", f"{V}/appointments", APPLICANT_SIDE, _p(f"{V}/appointments")),
    Probe("GET", f"{V}/me/documents", APPLICANT_SIDE, _p(f"{V}/me/documents")),
    Probe("GET", f"{V}/me/obligations", APPLICANT_SIDE, _p(f"{V}/me/obligations")),
    Probe("GET", f"{V}/org/obligations", ORG_STAFF, _p(f"{V}/org/obligations")),
    Probe(
        "POST",
        f"{V}/office/obligations/{{obligation_id}}/waive",
        SH01,
        lambda c: f"{V}/office/obligations/{c.obligation}/waive",
        _json({"reason": "left by land at Erlian; the exit record follows"}),
    ),
    Probe("GET", f"{V}/me/checks", APPLICANT_SIDE, _p(f"{V}/me/checks")),
    Probe("GET", f"{V}/me/inbox", SIGNED_IN, _p(f"{V}/me/inbox")),
    Probe(
        "POST",
        f"{V}/me/inbox/{{message_id}}/read",
        frozenset({"alice"}),
        lambda c: f"{V}/me/inbox/{c.message}/read",
        _json({"read": True}),
    ),
    Probe("GET", f"{V}/me/notifications", SIGNED_IN, _p(f"{V}/me/notifications")),
    Probe(
        "PUT", f"{V}/me/notifications", SIGNED_IN, _p(f"{V}/me/notifications"), _json({"language": "zh_CN"})
    ),
    Probe("GET", f"{V}/office/queue", OFFICERS, _p(f"{V}/office/queue")),
    Probe("GET", f"{V}/office/overdue", OFFICERS, _p(f"{V}/office/overdue")),
    Probe("GET", f"{V}/office/escalations", SUPERVISORS, _p(f"{V}/office/escalations")),
    Probe("GET", f"{V}/office/overstays", OFFICERS, _p(f"{V}/office/overstays")),
    # a penalty decision (Law Art 78, 70): alice is in SH01's area, not in illegal residence — the rules' 422
    Probe(
        "POST",
        f"{V}/office/people/{{person_id}}/penalty",
        SH01,
        lambda c: f"{V}/office/people/{c.files.people[0]}/penalty",
        _json({"warning": True, "authority": "exit_entry", "heard_on": "2025-11-19"}),
    ),
    Probe(
        "GET",
        f"{V}/office/people/{{person_id}}/penalties",
        SH01,
        lambda c: f"{V}/office/people/{c.files.people[0]}/penalties",
    ),
    Probe(
        "GET", f"{V}/office/search", OFFICERS, _p(f"{V}/office/search"), lambda c: {"params": {"q": "MARTIN"}}
    ),
    Probe("GET", f"{V}/office/reports", OFFICERS, _p(f"{V}/office/reports")),
    Probe("GET", f"{V}/office/cases/{{case_id}}", SH01, lambda c: f"{V}/office/cases/{c.files.alice}"),
    Probe("GET", f"{V}/org/people", ORG_STAFF, _p(f"{V}/org/people")),
    # the roster's end (Regulations Art 26): a day ahead, so that alice stays among the employer's people
    Probe(
        "POST",
        f"{V}/org/people/{{person_id}}/end",
        HR,
        lambda c: f"{V}/org/people/{c.files.people[0]}/end",
        lambda c: {"json": {"on": "2026-06-30"}},
        person_field=True,
    ),
    Probe("GET", f"{V}/org/reports", ORG_STAFF, _p(f"{V}/org/reports")),
    Probe("GET", f"{V}/org/report-events", ORG_STAFF, _p(f"{V}/org/report-events")),
    Probe(
        "POST",
        f"{V}/appointments",
        frozenset({"alice"}),
        _p(f"{V}/appointments"),
        lambda c: {
            "json": {
                "day": "2025-11-21",
                "slot": "10:30",
                "matter": "visa_extension",
                "office_id": c.sh01,
                "person_id": c.files.people[0],
            }
        },
    ),
    Probe(
        "DELETE",
        f"{V}/appointments/{{appointment_id}}",
        frozenset({"alice"}),
        lambda c: f"{V}/appointments/{c.appointment}",
    ),
    Probe("POST", f"{V}/cases", frozenset({"alice"}), _p(f"{V}/cases"), _application),
    Probe(
        "POST",
        f"{V}/cases/{{case_id}}/supplement",
        frozenset({"alice"}),
        lambda c: f"{V}/cases/{c.noticed}/supplement",
        _form({"version": "2"}),
    ),
    Probe(
        "POST",
        f"{V}/cases/{{case_id}}/withdraw",
        frozenset({"alice"}),
        lambda c: f"{V}/cases/{c.files.alice}/withdraw",
        _json({"version": 1}),
    ),
    *(
        Probe(
            "POST",
            f"{V}/office/cases/{{case_id}}/{name}",
            SH01,
            lambda c, name=name: f"{V}/office/cases/{c.files.alice}/{name}",
            _command(name, **body),
        )
        for name, body in OFFICE_COMMANDS
    ),
    Probe(
        "POST",
        f"{V}/org/reports",
        frozenset({"employer.hr"}),
        _p(f"{V}/org/reports"),
        lambda c: {
            "json": {"person_id": c.files.people[0], "event": "resigned", "occurred_on": "2025-11-19"}
        },
        person_field=True,
    ),
    # post changes (issue 10 §3): an organisation's own employee; holding 1 is not alice's permit (the rules'
    # 422 on holding_id for her employer, 422 on person_id for the school: not its employee)
    Probe(
        "POST",
        f"{V}/org/post-changes",
        frozenset({"employer.hr"}),
        _p(f"{V}/org/post-changes"),
        lambda c: {
            "json": {
                "person_id": c.files.people[0],
                "holding_id": 1,
                "to_region": "110000",
                "position": "x",
                "work_location": "y",
                "effective_on": "2025-11-19",
                "role": "manager",
            },
            "headers": {"Idempotency-Key": uuid.uuid4().hex},
        },
        person_field=True,
    ),
    Probe("GET", f"{V}/org/post-changes", ORG_STAFF, _p(f"{V}/org/post-changes")),
    Probe("GET", f"{V}/org/post-changes/candidates", ORG_STAFF, _p(f"{V}/org/post-changes/candidates")),
    Probe("GET", f"{V}/me/post-changes", APPLICANT_SIDE, _p(f"{V}/me/post-changes")),
    # accommodation registration (Law Art 39): a hotel's front desk only; the MRZ does not check, so the
    # hotel's report answers 200 with that stay rejected (field mrz)
    Probe(
        "POST",
        f"{V}/accommodation/hotel-stays",
        frozenset({"hotel.desk"}),
        _p(f"{V}/accommodation/hotel-stays"),
        _json(HOTEL_REPORT),
    ),
    # a private stay of alice's: herself, or a police station's officer (any office's desk); the MRZ does not
    # check, so the allowed get the rules' 422 (field mrz), everyone else a refusal
    Probe(
        "POST",
        f"{V}/accommodation/stays",
        frozenset({"alice"}) | OFFICERS | POLICE,
        _p(f"{V}/accommodation/stays"),
        lambda c: {"json": {**PRIVATE_STAY, "person_id": c.files.people[0]}},
    ),
    # no registration 999999999 exists: every role is refused (404 for those who may move stays out)
    Probe(
        "POST",
        f"{V}/accommodation/stays/{{registration_id}}/move-out",
        frozenset(),
        _p(f"{V}/accommodation/stays/999999999/move-out"),
        _json({"moved_out_at": "2025-11-20T08:00:00+08:00"}),
        csrf_as="alice",
    ),
    Probe("GET", "/stays", APPLICANT_SIDE, _p("/stays")),
    Probe(
        "POST",
        "/stays",
        APPLICANT_SIDE,  # alice registers her own stay; bob and carol name someone else's: the rules' 422
        _p("/stays"),
        lambda c: {
            "data": {
                "person_id": str(c.files.people[0]),
                "address": "Flat 3, 5 Lane 100",
                "division_code": "310104",
                "moved_in_at": "2025-11-20T08:00",
            }
        },
    ),
    Probe("GET", "/hotel/stays", frozenset({"hotel.desk"}), _p("/hotel/stays")),
    Probe(
        "POST",
        "/hotel/stays",
        frozenset({"hotel.desk"}),
        _p("/hotel/stays"),
        _form(
            {
                "stay_ref": "R-7",
                "mrz1": _MRZ[0],
                "mrz2": _MRZ[1],
                "address": "Room 7",
                "division_code": "310115",
                "moved_in_at": "2025-11-20T08:00",
            }
        ),
    ),
    Probe("GET", "/office/accommodation", OFFICERS, _p("/office/accommodation")),
    # a police station's desk (Law Art 39 para 2): its area only; the MRZ does not check, so the desk gets the
    # rules' 422 (field mrz)
    Probe("GET", f"{V}/police/registrations", POLICE, _p(f"{V}/police/registrations?show=late")),
    Probe(
        "POST",
        f"{V}/police/registrations/search",
        POLICE,
        _p(f"{V}/police/registrations/search"),
        _json({"passport": "E12345678"}),
    ),
    Probe("POST", f"{V}/police/stays", POLICE, _p(f"{V}/police/stays"), _json(PRIVATE_STAY)),
    Probe("GET", "/police", POLICE, _p("/police?show=missing")),
    Probe("POST", "/police/search", POLICE, _p("/police/search"), _form({"passport": "E12345678"})),
    Probe("GET", "/police/stays/new", POLICE, _p("/police/stays/new")),
    Probe(
        "POST",
        "/police/stays",
        POLICE,
        _p("/police/stays"),
        _form(
            {
                "mrz1": _MRZ[0],
                "mrz2": _MRZ[1],
                "address": "Flat 7",
                "division_code": "310115",
                "moved_in_at": "2025-11-20T08:00",
            }
        ),
    ),
    # the administrator assigns the desks (audited); an unknown station or port: the rules' 422
    Probe("GET", "/admin/desks", ADMIN, _p("/admin/desks")),
    Probe("GET", f"{V}/admin/desks", ADMIN, _p(f"{V}/admin/desks")),
    Probe(
        "POST",
        "/admin/desks/police",
        ADMIN,
        _p("/admin/desks/police"),
        _form({"username": "police.pudong", "station": "NOPE"}),
    ),
    Probe(
        "POST",
        "/admin/desks/port-visa",
        ADMIN,
        _p("/admin/desks/port-visa"),
        _form({"username": "pv.guiyang", "port": "nowhere"}),
    ),
    Probe(
        "POST",
        f"{V}/admin/desks/police",
        ADMIN,
        _p(f"{V}/admin/desks/police"),
        _json({"username": "police.pudong", "station": "NOPE"}),
    ),
    Probe(
        "POST",
        f"{V}/admin/desks/port-visa",
        ADMIN,
        _p(f"{V}/admin/desks/port-visa"),
        _json({"username": "pv.guiyang", "port": "nowhere"}),
    ),
    # port visas (Law Art 20): the inviting organisation and the foreigner file and follow; the desk of the
    # request's port decides and issues (another port's desk: 404)
    Probe("POST", f"{V}/port-visa/requests", FILERS, _p(f"{V}/port-visa/requests"), _keyed(GUEST)),
    Probe("GET", f"{V}/port-visa/requests", FILERS, _p(f"{V}/port-visa/requests")),
    Probe(
        "GET",
        f"{V}/port-visa/requests/{{request_id}}",
        frozenset({"employer.hr", "pv.yinchuan"}),
        lambda c: f"{V}/port-visa/requests/{_pv('submitted')(c)}",
    ),
    Probe(
        "POST",
        f"{V}/port-visa/requests/{{request_id}}/withdraw",
        frozenset({"employer.hr"}),
        lambda c: f"{V}/port-visa/requests/{_pv('guiyang')(c)}/withdraw",
        _keyed({"version": 1}),
    ),
    Probe("GET", f"{V}/port-visa/desk", PORT_DESKS, _p(f"{V}/port-visa/desk")),
    Probe(
        "POST",
        f"{V}/port-visa/desk/requests/{{request_id}}/approve",
        frozenset({"pv.yinchuan"}),
        lambda c: f"{V}/port-visa/desk/requests/{_pv('submitted')(c)}/approve",
        _keyed({"version": 1}),
    ),
    Probe(
        "POST",
        f"{V}/port-visa/desk/requests/{{request_id}}/issue",
        frozenset({"pv.yinchuan"}),
        lambda c: f"{V}/port-visa/desk/requests/{_pv('approved')(c)}/issue",
        _keyed({"version": 2, "passport_number": "G4PV00102", "face_matches": True}),  # before arrival: 409
    ),
    Probe(
        "POST",
        f"{V}/port-visa/desk/requests/{{request_id}}/refuse",
        frozenset({"pv.yinchuan"}),
        lambda c: f"{V}/port-visa/desk/requests/{_pv('approved')(c)}/refuse",
        _keyed({"version": 2, "grounds": ["law21_3"]}),
    ),
    Probe("GET", "/port-visas", FILERS, _p("/port-visas")),
    Probe("GET", "/port-visas/new", FILERS, _p("/port-visas/new")),
    Probe("POST", "/port-visas", FILERS, _p("/port-visas"), _form(GUEST_FORM)),
    Probe(
        "GET",
        "/port-visas/{request_id}",
        frozenset({"employer.hr"}),
        lambda c: f"/port-visas/{_pv('issued')(c)}",
    ),
    Probe(
        "POST",
        "/port-visas/{request_id}/withdraw",
        frozenset({"employer.hr"}),
        lambda c: f"/port-visas/{_pv('submitted')(c)}/withdraw",
        _form({"version": "1"}),
    ),
    # materials with a port-visa request (Law Art 20 para 3): the filer uploads what the engine listed (a code not
    # listed: the rules' 422); the filer and the port's desk read; no file 999999999 exists (404 for all)
    Probe(
        "POST",
        f"{V}/port-visa/requests/{{request_id}}/materials",
        frozenset({"employer.hr"}),
        lambda c: f"{V}/port-visa/requests/{_pv('submitted')(c)}/materials",
        lambda c: {"files": {"work_permit": ("wp.pdf", PDF, "application/pdf")}},
    ),
    Probe(
        "GET",
        f"{V}/port-visa/requests/{{request_id}}/materials",
        frozenset({"employer.hr", "pv.yinchuan"}),
        lambda c: f"{V}/port-visa/requests/{_pv('submitted')(c)}/materials",
    ),
    Probe(
        "GET",
        f"{V}/port-visa/requests/{{request_id}}/materials/{{file_id}}",
        frozenset(),
        lambda c: f"{V}/port-visa/requests/{_pv('submitted')(c)}/materials/999999999",
        csrf_as="employer.hr",
    ),
    Probe(
        "POST",
        "/port-visas/{request_id}/materials",
        frozenset({"employer.hr"}),
        lambda c: f"/port-visas/{_pv('submitted')(c)}/materials",
        lambda c: {"files": {"work_permit": ("wp.pdf", PDF, "application/pdf")}},
    ),
    Probe(
        "GET",
        "/port-visas/{request_id}/materials/{file_id}",
        frozenset(),
        lambda c: f"/port-visas/{_pv('submitted')(c)}/materials/999999999",
        csrf_as="employer.hr",
    ),
    Probe("GET", "/port-desk", PORT_DESKS, _p("/port-desk")),
    Probe(
        "GET",
        "/port-desk/requests/{request_id}",
        frozenset({"pv.guiyang"}),
        lambda c: f"/port-desk/requests/{_pv('guiyang')(c)}",
    ),
    Probe(
        "POST",
        "/port-desk/requests/{request_id}/{command}",
        frozenset({"pv.yinchuan"}),
        lambda c: f"/port-desk/requests/{_pv('refused')(c)}/approve",
        _form({"version": "2"}),  # refused already: the table has no approve (409)
    ),
    # joint applications (issue 10 §1): the decided ("collected") one answers every command with the rules' 409
    Probe("POST", f"{V}/joint-applications", HR, _p(f"{V}/joint-applications"), _joint_application),
    Probe("GET", f"{V}/joint-applications", APPLICANT_SIDE | ORG_STAFF, _p(f"{V}/joint-applications")),
    Probe(
        "GET",
        f"{V}/joint-applications/{{joint_id}}",
        JOINT_READERS,
        lambda c: f"{V}/joint-applications/{_j('accepted')(c)}",
    ),
    Probe(
        "POST",
        f"{V}/joint-applications/{{joint_id}}/supplement",
        HR,
        lambda c: f"{V}/joint-applications/{_j('collected')(c)}/supplement",
        _form({"version": "1"}),
    ),
    Probe(
        "POST",
        f"{V}/joint-applications/{{joint_id}}/withdraw",
        HR,
        lambda c: f"{V}/joint-applications/{_j('collected')(c)}/withdraw",
        _keyed({"version": 1}),
    ),
    *(
        Probe(
            "POST",
            f"{V}/office/joint-applications/{{joint_id}}/{name}",
            SH01,
            lambda c, name=name: f"{V}/office/joint-applications/{_j('collected')(c)}/{name}",
            _keyed({"version": 1, **body}),
        )
        for name, body in (
            ("issue_notice", {}),
            ("accept", {}),
            ("issue_together", {}),
            ("collect_together", {"passport_presented": True}),
            ("settle", {}),
        )
    ),
    Probe("GET", f"{V}/work-permit-desk", WP_DESK, _p(f"{V}/work-permit-desk")),
    Probe("GET", f"{V}/office/joint-applications", OFFICERS, _p(f"{V}/office/joint-applications")),
    Probe("GET", "/office/joint-applications", OFFICERS, _p("/office/joint-applications")),
    *(
        Probe(
            "POST",
            f"{V}/work-permit-desk/branches/{{reference}}/{name}",
            WP_DESK,
            lambda c, name=name: f"{V}/work-permit-desk/branches/{_ref('collected')(c)}/{name}",
            _keyed({"version": 1, **body}),
        )
        for name, body in (
            ("take", {}),
            ("extend", {"reason": "verification abroad"}),
            (
                "grant",
                {
                    "position": "Engineer",
                    "work_region": "310115",
                    "valid_from": "2025-11-20",
                    "valid_until": "2026-11-19",
                },
            ),
            ("refuse", {"grounds": ["no"]}),
        )
    ),
    Probe("GET", "/joint-applications", APPLICANT_SIDE | ORG_STAFF, _p("/joint-applications")),
    Probe("GET", "/joint-applications/new", ORG_STAFF, _p("/joint-applications/new")),
    Probe("POST", "/joint-applications", ORG_STAFF, _p("/joint-applications"), _form({"position": "x"})),
    Probe("GET", "/joint-applications/{joint_id}", HR, lambda c: f"/joint-applications/{_j('accepted')(c)}"),
    Probe(
        "POST",
        "/joint-applications/{joint_id}/supplement",
        HR,
        lambda c: f"/joint-applications/{_j('collected')(c)}/supplement",
        _form({"version": "1"}),
    ),
    Probe(
        "POST",
        "/joint-applications/{joint_id}/withdraw",
        HR,
        lambda c: f"/joint-applications/{_j('collected')(c)}/withdraw",
        _form({"version": "1"}),
    ),
    Probe(
        "GET",
        "/office/joint-applications/{joint_id}",
        SH01,
        lambda c: f"/office/joint-applications/{_j('accepted')(c)}",
    ),
    Probe(
        "POST",
        "/office/joint-applications/{joint_id}/{command}",
        SH01,
        lambda c: f"/office/joint-applications/{_j('collected')(c)}/issue_notice",
        _form({"version": "1"}),
    ),
    Probe("GET", "/work-permit-desk", WP_DESK, _p("/work-permit-desk")),
    Probe("GET", "/work-permit-desk/{joint_id}", WP_DESK, lambda c: f"/work-permit-desk/{_j('accepted')(c)}"),
    Probe(
        "POST",
        "/work-permit-desk/{joint_id}/{command}",
        WP_DESK,
        lambda c: f"/work-permit-desk/{_j('collected')(c)}/take",
        _form({"version": "1"}),
    ),
    Probe(
        "POST",
        "/office/accommodation/search",
        OFFICERS,
        _p("/office/accommodation/search"),
        _form({"passport": "E12345678"}),
    ),
    Probe("GET", f"{V}/office/accommodation", OFFICERS, _p(f"{V}/office/accommodation")),
    Probe(
        "POST",
        f"{V}/office/accommodation/search",
        OFFICERS,
        _p(f"{V}/office/accommodation/search"),
        _json({"passport": "E12345678"}),
    ),
    Probe("GET", f"{V}/office/post-changes", OFFICERS, _p(f"{V}/office/post-changes")),
    Probe("GET", "/org/post-changes", ORG_STAFF, _p("/org/post-changes")),
    Probe("GET", "/org/post-changes/new", ORG_STAFF, _p("/org/post-changes/new")),
    Probe(
        "POST",
        "/org/post-changes",
        ORG_STAFF,
        _p("/org/post-changes"),
        _form({"holding_id": "1", "kind": "post_change", "role": "manager", "organisation": "same"}),
    ),
    Probe("GET", "/my/post-changes", APPLICANT_SIDE, _p("/my/post-changes")),
    Probe("GET", "/office/post-changes", OFFICERS, _p("/office/post-changes")),
    Probe("POST", f"{V}/verify", VERIFIER, _p(f"{V}/verify"), _json(VERIFY_BODY)),
    Probe("POST", f"{V}/verify/tokens", TOKEN_HOLDERS, _p(f"{V}/verify/tokens"), _json({"label": "x"})),
    Probe("GET", f"{V}/verify/tokens", TOKEN_HOLDERS, _p(f"{V}/verify/tokens")),
    Probe(
        "DELETE",
        f"{V}/verify/tokens/{{token_id}}",
        VERIFIER,
        lambda c: f"{V}/verify/tokens/{c.tokens[0]}",
    ),
    Probe(
        "POST",
        f"{V}/progress",
        PUBLIC,
        _p(f"{V}/progress"),
        _json({"number": "SH01-2025-000000", "passport": "E00000000"}),
        expect=frozenset({404, 422}),
    ),
    Probe(
        "POST",
        f"{V}/auth/signin",
        PUBLIC,
        _p(f"{V}/auth/signin"),
        _json({"username": "nobody", "password": "wrong"}),
        expect=frozenset({401, 429}),  # wrong name or password (then locked), whoever asks
    ),
    # --- the pages, public
    Probe("GET", "/", PUBLIC, _p("/")),
    Probe("GET", "/favicon.ico", PUBLIC, _p("/favicon.ico")),
    Probe("GET", "/signin", PUBLIC, _p("/signin")),
    Probe(
        "POST",
        "/signin",
        PUBLIC,
        _p("/signin"),
        _form({"username": "nobody", "password": "wrong"}),
        expect=frozenset({403}),  # the form's own token is missing, whoever asks
    ),
    Probe("GET", "/what-do-i-need", PUBLIC, _p("/what-do-i-need")),
    Probe("GET", "/what-do-i-need/{matter}", PUBLIC, _p("/what-do-i-need/visa_extension")),
    Probe("GET", "/progress", PUBLIC, _p("/progress")),
    Probe("GET", "/check/{kind}/{token}", PUBLIC, _p("/check/receipt/X.00"), expect=frozenset({404})),
    Probe("GET", "/office", PUBLIC, _p("/office"), expect=frozenset({303})),  # to the queue (the officers')
    # --- the pages, signed in
    Probe("GET", "/appointments", APPLICANT_SIDE, _p("/appointments")),
    Probe("GET", "/apply", APPLICANT_SIDE, _p("/apply")),
    Probe("GET", "/my/cases", APPLICANT_SIDE, _p("/my/cases")),
    Probe("GET", "/my/cases/{case_id}", frozenset({"alice"}), lambda c: f"/my/cases/{c.files.alice}"),
    Probe("GET", "/my/documents", APPLICANT_SIDE, _p("/my/documents")),
    Probe("GET", "/my/checks", APPLICANT_SIDE, _p("/my/checks")),
    Probe("GET", "/org/people", ORG_STAFF, _p("/org/people")),
    Probe("GET", "/org/people/{person_id}/end", HR, lambda c: f"/org/people/{c.files.people[0]}/end"),
    Probe(
        "POST",
        "/org/people/{person_id}/end",
        HR,
        lambda c: f"/org/people/{c.files.people[0]}/end",
        lambda c: {"data": {"on": "2026-06-30"}},
    ),
    Probe("GET", "/org/reports/new", ORG_STAFF, _p("/org/reports/new")),
    Probe("GET", "/org/reports", ORG_STAFF, _p("/org/reports")),
    Probe("GET", "/office/reports", OFFICERS, _p("/office/reports")),
    Probe("GET", "/verify", VERIFIER, _p("/verify")),
    Probe("GET", "/verify/tokens", TOKEN_HOLDERS, _p("/verify/tokens")),
    Probe("GET", "/office/queue", OFFICERS, _p("/office/queue")),
    Probe("GET", "/my/obligations", APPLICANT_SIDE, _p("/my/obligations")),
    Probe("GET", "/inbox", SIGNED_IN, _p("/inbox")),
    Probe(
        "POST",
        "/inbox/{message_id}/read",
        frozenset({"alice"}),
        lambda c: f"/inbox/{c.message}/read",
        _form({"read": "1"}),
    ),
    Probe("GET", "/my/notifications", SIGNED_IN, _p("/my/notifications")),
    Probe("POST", "/my/notifications", SIGNED_IN, _p("/my/notifications"), _form({"language": "en"})),
    Probe("GET", "/org/obligations", ORG_STAFF, _p("/org/obligations")),
    Probe(
        "POST",
        "/office/obligations/{obligation_id}/waive",
        SH01,
        lambda c: f"/office/obligations/{c.obligation}/waive",
        lambda c: {
            "data": {
                "case_id": str(c.files.alice),
                "reason": "left by land at Erlian; the exit record follows",
            }
        },
    ),
    Probe("GET", "/office/escalations", SUPERVISORS, _p("/office/escalations")),
    Probe("GET", "/office/overstays", OFFICERS, _p("/office/overstays")),
    Probe(
        "GET",
        "/office/people/{person_id}/penalty",
        SH01,
        lambda c: f"/office/people/{c.files.people[0]}/penalty",
    ),
    Probe(  # alice is not in illegal residence: the form answered again with the error (422)
        "POST",
        "/office/people/{person_id}/penalty",
        SH01,
        lambda c: f"/office/people/{c.files.people[0]}/penalty",
        _form({"warning": "yes", "authority": "exit_entry", "heard_on": "2025-11-19"}),
    ),
    Probe("GET", "/office/search", OFFICERS, _p("/office/search"), lambda c: {"params": {"q": "MARTIN"}}),
    Probe("GET", "/office/appointments", OFFICERS, _p("/office/appointments")),
    Probe("GET", "/office/cases/{case_id}", SH01, lambda c: f"/office/cases/{c.files.alice}"),
    Probe(
        "GET",
        "/office/cases/{case_id}/files/{file_id}",
        SH01,
        lambda c: f"/office/cases/{c.files.alice}/files/{c.file_id}",
    ),
    Probe("GET", "/admin", ADMIN, _p("/admin")),
    Probe(
        "GET",
        "/cases/{case_id}/receipt.pdf",
        frozenset({"alice"}) | SH01,
        lambda c: f"/cases/{c.files.accepted}/receipt.pdf",
    ),
    Probe(
        "GET",
        "/cases/{case_id}/notice.pdf",
        frozenset({"alice"}) | SH01,
        lambda c: f"/cases/{c.noticed}/notice.pdf",
    ),
    Probe(
        "GET",
        "/cases/{case_id}/decision.pdf",
        frozenset({"alice"}) | SH01,
        lambda c: f"/cases/{c.decided}/decision.pdf",
    ),
    Probe(
        "POST",
        "/appointments",
        APPLICANT_SIDE,
        _p("/appointments"),
        lambda c: {
            "data": {
                "office": str(c.sh01),
                "day": "2025-11-21",
                "slot": "11:00",
                "matter": "visa_extension",
            }
        },
    ),
    Probe(
        "POST",
        "/appointments/{appointment_id}/cancel",
        frozenset({"carol"}),
        lambda c: f"/appointments/{c.mandated_appointment}/cancel",
    ),
    Probe("POST", "/apply", APPLICANT_SIDE, _p("/apply"), _form({"matter": "visa_extension"})),
    Probe(
        "POST",
        "/my/cases/{case_id}/supplement",
        frozenset({"alice"}),
        lambda c: f"/my/cases/{c.noticed}/supplement",
        _form({"version": "2"}),
    ),
    Probe(
        "POST",
        "/my/cases/{case_id}/withdraw",
        frozenset({"alice"}),
        lambda c: f"/my/cases/{c.files.alice}/withdraw",
        _form({"version": "1"}),
    ),
    Probe(
        "POST",
        "/org/reports",
        ORG_STAFF,
        _p("/org/reports"),
        lambda c: {
            "data": {"person_id": str(c.files.people[0]), "event": "resigned", "occurred_on": "2025-11-19"}
        },
    ),
    Probe("POST", "/verify", VERIFIER, _p("/verify"), _form(VERIFY_BODY)),
    Probe("POST", "/verify/tokens", TOKEN_HOLDERS, _p("/verify/tokens"), _form({"label": "x"})),
    Probe(
        "POST",
        "/verify/tokens/{token_id}/revoke",
        VERIFIER,
        lambda c: f"/verify/tokens/{c.tokens[1]}/revoke",
    ),
    Probe(
        "POST",
        "/progress",
        PUBLIC,
        _p("/progress"),
        _form({"number": "SH01-2025-000000", "passport": "E00000000"}),
        expect=frozenset({404}),
    ),
    Probe(
        "POST",
        "/office/cases/{case_id}/{command}",
        SH01,
        lambda c: f"/office/cases/{c.files.alice}/accept",
        lambda c: {"data": {"version": "1", "key": uuid.uuid4().hex}},
    ),
    Probe("POST", "/admin/audit/verify", ADMIN, _p("/admin/audit/verify")),
    Probe("POST", "/signout", SIGNED_IN, _p("/signout"), own_session=True),
    Probe("POST", f"{V}/auth/signout", SIGNED_IN, _p(f"{V}/auth/signout"), own_session=True),
]


def _app_routes() -> set[tuple[str, str]]:
    out = set()
    for context in iter_route_contexts(create_app(Settings(database_url="sqlite+aiosqlite://")).routes):
        if isinstance(context.original_route, Mount):
            continue  # the static files (style sheet, icon): public, GET only — test_static_files_are_read_only
        out |= {(m, context.path_format) for m in context.methods or () if m != "HEAD"}
    return out


def test_every_route_has_an_entry() -> None:
    """A route the app serves without an entry here fails (add one: who may use it, and one request)."""
    declared = [(p.method, p.route) for p in ROUTES]
    assert len(declared) == len(set(declared)), "a route has two entries"
    routes = _app_routes()
    assert not routes - set(declared), (
        f"routes without an entry in the matrix: {sorted(routes - set(declared))}"
    )
    assert not set(declared) - routes, (
        f"entries for routes the app does not have: {sorted(set(declared) - routes)}"
    )


def test_static_files_are_read_only(web: Web) -> None:
    r = web.client.post("/static/style.css")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"
    assert web.client.get("/static/style.css").status_code == 200


def test_405_names_every_method_of_the_path(web: Web) -> None:
    """RFC 9110 §15.5.6: a 405 carries Allow with every method the path answers (two routes share this one)."""
    r = web.client.request("PUT", "/api/v1/appointments")
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST", r.headers
    assert r.headers["content-type"].startswith("application/problem+json")
    r = web.client.request("DELETE", "/signin")
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST", r.headers


def _setup(web: Web) -> Case:
    f = _files(web)
    officer, csrf = _client(web, "sh01.officer")
    assert csrf is not None
    noticed = apply(web, materials=ALL[:4])
    assert command(officer, csrf, noticed, "issue_notice", 1)["status"] == 200
    decided = apply(web)
    r = command(officer, csrf, decided, "accept", 1, passport_kept=False, passport_on_record=True)
    r = command(officer, csrf, decided, "approve", r["version"], validity_days=365)
    assert r["status"] == 200, r
    files = officer.get(f"/api/v1/office/cases/{f.alice}").json()["files"]
    sh01 = web.ids["offices"]["SH01"]
    booked = []
    for who, person, slot in (("alice", f.people[0], "09:30"), ("carol", f.people[2], "10:00")):
        client, token = _client(web, who)
        r = client.post(
            "/api/v1/appointments",
            json={
                "day": "2025-11-21",
                "slot": slot,
                "matter": "visa_extension",
                "office_id": sh01,
                "person_id": person,
            },
            headers={"X-CSRF-Token": token or ""},
        )
        assert r.status_code == 201, r.text
        booked.append(int(r.json()["id"]))
    teller, token = _client(web, "bank.teller")
    made = [
        teller.post("/api/v1/verify/tokens", json={"label": f"t{n}"}, headers={"X-CSRF-Token": token or ""})
        for n in (1, 2)
    ]
    assert all(r.status_code in (200, 201) for r in made), [r.text for r in made]
    ids = (int(made[0].json()["id"]), int(made[1].json()["id"]))
    web.client.portal.call(web.client.app.state.platform.obligations.sweep)  # type: ignore[attr-defined]
    mine, _ = _client(web, "alice")
    duties = mine.get("/api/v1/me/obligations").json()["people"][0]["obligations"]
    duty = next(o["id"] for o in duties if o["kind"] == "residence_permit_extension")
    return Case(f, booked[0], booked[1], noticed, decided, int(files[0]["id"]), sh01, ids, duty, f.message)


def _send(client: TestClient, csrf: str | None, probe: Probe, c: Case) -> Any:
    kwargs = probe.send(c)
    if csrf:
        kwargs["headers"] = {**kwargs.get("headers", {}), "X-CSRF-Token": csrf}
    return client.request(probe.method, probe.path(c), **kwargs)


def _refusal(who: str, probe: Probe, r: Any) -> bool:
    api = probe.route.startswith("/api/")
    if who == "anonymous":
        if api:
            return r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
        return r.status_code == 303 and r.headers["location"].startswith("/signin?next=")
    if r.status_code in (403, 404):
        return not api or r.headers["content-type"].startswith("application/problem+json")
    return probe.person_field and r.status_code == 422 and r.json().get("field") == "person_id"


def test_every_route_for_every_role(web: Web) -> None:
    """Every entry as every role, on one set of records: a refused request changes nothing, and an allowed one
    may meet the state an earlier role left (the rules' 409 is an answer, not a refusal). Every answer carries
    the security headers (issue 13, hardening)."""
    c = _setup(web)
    wrong = []
    for who in ROLES:
        web.clock.advance(minutes=1)  # the per-address sign-in limit counts a minute
        client, csrf = _client(web, who)
        for probe in ROUTES:
            r = _send(*_client(web, who), probe, c) if probe.own_session else _send(client, csrf, probe, c)
            seen = (who, probe.method, probe.route, r.status_code, r.text[:200])
            if probe.allowed is PUBLIC:
                ok = r.status_code in probe.expect
            elif who in probe.allowed:
                ok = (
                    not _refusal(who, probe, r)
                    and r.status_code not in (401, 403, 404)
                    and r.status_code < 500
                )
            else:
                ok = _refusal(who, probe, r)
            if not ok:
                wrong.append(seen)
            if lacking := lacking_security_headers(r):
                wrong.append((*seen[:4], "without", lacking))
    assert not wrong, "\n".join(map(str, wrong))


def test_csrf_on_every_state_changing_route(web: Web) -> None:
    """Each state-changing route refuses a cookie session's request without its CSRF token, or with another
    session's, before it changes anything (ASVS 4.0 V4.2.2); the exemptions are named with their reason."""
    c = _setup(web)
    clients: dict[str, tuple[TestClient, str | None]] = {}
    probes = [p for p in ROUTES if p.method != "GET" and (p.method, p.route) not in CSRF_EXEMPT]
    assert len(probes) >= 25
    for probe in probes:
        assert probe.allowed is not PUBLIC, f"{probe.route}: a public state-changing route needs a reason"
        who = probe.csrf_as or sorted(probe.allowed)[0]
        if who not in clients:
            client, _csrf = _client(web, who)
            _other, other_csrf = _client(web, who)
            clients[who] = (client, other_csrf)
        client, other_csrf = clients[who]
        for token in (None, other_csrf):
            r = _send(client, token, probe, c)
            seen = (who, probe.method, probe.route, token is not None, r.status_code, r.text[:200])
            assert r.status_code == 403, seen
            if probe.route.startswith("/api/"):
                assert r.json()["code"] == "csrf", seen


def test_csrf_exemptions_are_routes() -> None:
    assert set(CSRF_EXEMPT) <= {(p.method, p.route) for p in ROUTES}
