"""The authorisation matrix (issue 4): every role × every resource, read and write, allowed or refused as
designed — no cross-office, cross-applicant or cross-organisation leak. Runs on SQLite and PostgreSQL.

Three applications are on file: alice's own (person 1, office SH01), one for person 3 (whom carol holds a
mandate for, SH01) and bob's (person 2, office BJ01). Each resource names the roles allowed; every other role
must be refused — 401 signed out, 403 or 404 signed in (an organisation naming someone not its own: 422 on
``person_id``) — and an API refusal is application/problem+json. An allowed write may still be refused by the
rules (409 naming the guard; listed in ``BY_THE_RULES``): that is the law speaking, not access."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from test_applicant import EXTENSION
from test_office import apply, command
from test_org import db, separate_organisations
from web_support import PASSWORDS as DEMO_PASSWORDS
from web_support import Web

from cnvisa.cases.actor import Actor
from cnvisa.cases.workflow import Role
from cnvisa.demo import DEMO
from cnvisa.law.documents.mrz import icao_check_digit
from cnvisa.store.joint_tables import JointApplication, WorkPermitBranch
from cnvisa.store.outbox_tables import Notification
from cnvisa.store.tables import Account, Holding, TravelDocument
from password_hashing import CHEAP_HASHER

ROLES = [
    "anonymous",
    "alice",
    "bob",
    "carol",
    "sh01.officer",
    "sh01.supervisor",
    "bj01.officer",
    "employer.hr",
    "university.office",
    "bank.teller",
    "hotel.desk",
    "pv.yinchuan",
    "pv.guiyang",
    "police.pudong",
    "admin",
    "wp.desk",
]
WORK_PERMIT_DESK = ("wp.desk", "wpdesk-test-2025")
"""The work-permit authority's officer at SH01's single window (issue 10 §1): the work-permit desk's pages and API
(its queue, a joint application of its window, the desk's commands) and nothing else that is not public
(``_work_permit_desk`` makes the account)."""
WP_DESK = {"wp.desk"}
PASSWORDS = {**DEMO_PASSWORDS, WORK_PERMIT_DESK[0]: WORK_PERMIT_DESK[1]}
ROLE_OF = {d.username: Role(d.role) for d in DEMO} | {WORK_PERMIT_DESK[0]: Role.WORK_PERMIT_OFFICER}
SIGNED_IN = set(ROLES) - {"anonymous"}
APPLICANT_SIDE = {"alice", "bob", "carol"}
OFFICERS = {"sh01.officer", "sh01.supervisor", "bj01.officer"}
SH01 = {"sh01.officer", "sh01.supervisor"}
ORG_STAFF = {"employer.hr", "university.office"}
PORT_DESKS = {"pv.yinchuan", "pv.guiyang"}
"""Port-visa officers (Law Art 20): each desk serves one port and sees only its port's requests."""
POLICE = {"police.pudong"}
"""A police station's desk (Lujiazui, area 310115; Law Art 39 para 2): its area only."""
FILERS = ORG_STAFF | {"alice", "bob"}
"""Who files port-visa requests: an inviting organisation's staff, or the foreigner (an applicant account)."""


def _td3(
    surname: str, given: str, number: str, state: str, birth: str, sex: str, expiry: str
) -> tuple[str, str]:
    """A passport's two MRZ lines with their check digits (ICAO 9303 Part 4)."""
    line1 = f"P<{state}{surname}<<{given}".ljust(44, "<")[:44]
    num = number.ljust(9, "<")
    body = f"{num}{icao_check_digit(num)}{state}{birth}{icao_check_digit(birth)}{sex}{expiry}{icao_check_digit(expiry)}"
    body += "<" * 15
    return line1, body + icao_check_digit(body[0:10] + body[13:20] + body[21:43])


GUEST_MRZ = _td3("SILVA", "JOAO", "PT1234567", "PRT", "850607", "M", "320101")
STAY = {
    "address": "Flat 12, 88 Lane 300, Pudong",
    "division_code": "310115",
    "moved_in_at": "2025-11-20T07:30:00+08:00",
}
"""A stay in the Lujiazui police station's area (Pudong, 310115), begun this morning (the clock: 09:00 Beijing)."""
BY_THE_RULES = {
    "issue at Yinchuan before the arrival": (409,),  # the arrival is tomorrow: not yet presented at the port
    "supplement alice's": (409,),  # nothing to supplement: no one-time notice was issued
    "notice on alice's (SH01)": (409,),  # nothing is missing: a notice would repeat nothing
    "penalty for alice (SH01)": (422,),  # not in illegal residence: no penalty to record (field person_id)
}
"""Allowed writes the rules refuse in the case's present state (409 naming the guard); every other allowed
write succeeds."""
EVERY_RESOURCE_KIND = {
    "applicant",
    "case",
    "appointment",
    "document",
    "check",
    "office",
    "org",
    "verify",
    "pdf",
    "port_visa",
    "joint",
    "notification",
    "accommodation",
    "desk",
}


@dataclass(frozen=True)
class Files:
    alice: int  # alice's own application (SH01)
    mandated: int  # person 3's application (SH01): carol holds the mandate
    bob: int  # bob's application (BJ01)
    accepted: int  # another of alice's applications (SH01), accepted: it has a receipt
    people: list[int]
    permit: int = 0  # alice's work-type residence permit (J25DEMO0001)
    port_visas: dict[str, int] = field(
        default_factory=dict
    )  # the demo's port-visa requests (demo.port_visa_story)
    joint: dict[str, int] = field(
        default_factory=dict
    )  # a joint application of each demo state (joint_story)
    joint_person: int = 0  # the foreigner of the submitted joint application (employer.hr holds a mandate)
    references: dict[str, str] = field(default_factory=dict)  # the work-permit branches' references by state
    employer: int = 0  # Demo Employer, the Shanghai joint applications' employer
    message: int = 0  # a message delivered to alice's inbox (issue 12)
    alice_mrz: tuple[str, str] = ("", "")  # the MRZ of alice's passport on record


def _client(web: Web, who: str) -> tuple[TestClient, str | None]:
    c = web.new_client()
    if who == "anonymous":
        return c, None
    r = c.post("/api/v1/auth/signin", json={"username": who, "password": PASSWORDS[who]})
    assert r.status_code == 200, (who, r.text)
    return c, str(r.json()["csrf"])


def _work_permit_desk(web: Web) -> None:
    platform = web.client.app.state.platform  # type: ignore[attr-defined]
    username, password = WORK_PERMIT_DESK

    async def make() -> None:
        await platform.registry.create_account(
            Actor(0, Role.SYSTEM),
            username=username,
            display_name="Work-permit officer (test)",
            role=Role.WORK_PERMIT_OFFICER,
            office_id=web.ids["offices"]["SH01"],
            password_hash=CHEAP_HASHER.hash(password),
        )

    web.client.portal.call(make)  # type: ignore[attr-defined]


def test_every_role_signs_in_to_the_matrix() -> None:
    """Every role an account can have is probed (a new role arrives in the matrix, not beside it)."""
    assert set(ROLES) - {"anonymous"} <= set(ROLE_OF)
    assert {ROLE_OF[who] for who in ROLES if who != "anonymous"} == set(Role) - {Role.SYSTEM}


def _files(web: Web) -> Files:
    separate_organisations(web)  # employer, school and bank are distinct organisations
    _work_permit_desk(web)
    people = web.ids["people"]
    accepted = apply(web)
    officer, csrf = _client(web, "sh01.officer")
    assert csrf is not None
    assert (
        command(officer, csrf, accepted, "accept", 1, passport_kept=False, passport_on_record=True)["status"]
        == 200
    )
    return Files(
        alice=apply(web),
        mandated=apply(web, person=people[2]),
        bob=apply(web, person=people[1], office="BJ01"),
        accepted=accepted,
        people=people,
        permit=_permit(web, "J25DEMO0001"),
        port_visas=dict(web.ids["port_visas"]),
        **_joint(web),
        message=inbox_message(web, "alice"),
        alice_mrz=_mrz(web, "21FR04417"),
    )


def _joint(web: Web) -> dict[str, Any]:
    """The demo's joint applications (one of each state), the submitted one's foreigner and the references."""
    joint = {state: ids[0] for state, ids in web.ids["joint"].items() if ids}

    async def q(s: AsyncSession) -> dict[str, Any]:
        rows = (
            await s.execute(
                select(
                    JointApplication.id,
                    JointApplication.person_id,
                    JointApplication.employer_organisation_id,
                    WorkPermitBranch.reference,
                )
                .join(WorkPermitBranch, WorkPermitBranch.joint_id == JointApplication.id)
                .where(JointApplication.id.in_(list(joint.values())))
            )
        ).all()
        by_id = {r.id: r for r in rows}
        return {
            "joint": joint,
            "joint_person": by_id[joint["submitted"]].person_id,
            "employer": by_id[joint["submitted"]].employer_organisation_id,
            "references": {st: by_id[i].reference for st, i in joint.items() if by_id[i].reference},
        }

    return db(web, q)


def _mrz(web: Web, number: str) -> tuple[str, str]:
    async def q(s: AsyncSession) -> tuple[str, str]:
        text = (
            await s.execute(select(TravelDocument.mrz).where(TravelDocument.number == number))
        ).scalar_one()
        first, second = str(text).split("\n")
        return first, second

    return db(web, q)


def inbox_message(web: Web, username: str) -> int:
    """A message in ``username``'s inbox, written to the outbox as a decision would write it and delivered by
    the platform's own delivery pass (cnvisa.cases.delivery)."""
    platform = web.client.app.state.platform  # type: ignore[attr-defined]

    async def write(s: AsyncSession) -> int:
        account = (await s.execute(select(Account.id).where(Account.username == username))).scalar_one()
        now = platform.now()
        row = Notification(
            subject_kind="case",
            subject_id=0,
            stage="approved",
            channel="inbox",
            recipient_account_id=account,
            language="en",
            template="approved",
            params={"case": "TEST-0001", "matter": "visa_extension"},
            state="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        s.add(row)
        await s.flush()
        return int(row.id)

    message = db(web, write)
    done = web.client.portal.call(platform.outbox.deliver_due)  # type: ignore[attr-defined]
    assert message in done["sent"], done
    return message


def _permit(web: Web, number: str) -> int:
    async def q(s: AsyncSession) -> int:
        return int((await s.execute(select(Holding.id).where(Holding.number == number))).scalar_one())

    return db(web, q)


def _reads(f: Files) -> list[tuple[str, str, set[str]]]:
    """(kind, path, the roles allowed to read it); everyone else is refused."""
    return [
        ("applicant", "/api/v1/auth/me", SIGNED_IN),
        ("case", "/api/v1/cases", APPLICANT_SIDE),
        ("case", f"/api/v1/cases/{f.alice}", {"alice"}),
        ("case", f"/api/v1/cases/{f.mandated}", {"carol"}),  # by mandate (亲友帮办), not alice's or bob's
        ("case", f"/api/v1/cases/{f.bob}", {"bob"}),
        ("appointment", "/api/v1/appointments", APPLICANT_SIDE),
        ("document", "/api/v1/me/documents", APPLICANT_SIDE),
        ("obligation", "/api/v1/me/obligations", APPLICANT_SIDE),
        ("obligation", "/api/v1/org/obligations", ORG_STAFF),
        ("obligation", "/my/obligations", APPLICANT_SIDE),
        ("obligation", "/org/obligations", ORG_STAFF),
        ("check", "/api/v1/me/checks", APPLICANT_SIDE),
        ("notification", "/api/v1/me/inbox", SIGNED_IN),
        ("notification", "/api/v1/me/notifications", SIGNED_IN),
        ("notification", "/inbox", SIGNED_IN),
        ("notification", "/my/notifications", SIGNED_IN),
        ("office", "/api/v1/office/queue", OFFICERS),
        ("office", "/api/v1/office/overdue", OFFICERS),
        ("office", "/api/v1/office/escalations", {"sh01.supervisor"}),
        ("office", "/api/v1/office/overstays", OFFICERS),
        ("office", f"/api/v1/office/people/{f.people[0]}/penalties", SH01),
        ("office", "/api/v1/office/search?q=MARTIN", OFFICERS),
        ("office", "/api/v1/office/reports", OFFICERS),
        ("office", f"/api/v1/office/cases/{f.alice}", SH01),
        ("office", f"/api/v1/office/cases/{f.mandated}", SH01),
        ("office", f"/api/v1/office/cases/{f.bob}", {"bj01.officer"}),
        ("org", "/api/v1/org/people", ORG_STAFF),
        ("org", "/api/v1/org/reports", ORG_STAFF),
        ("org", "/api/v1/org/report-events", ORG_STAFF),
        ("pdf", f"/cases/{f.accepted}/receipt.pdf", {"alice"} | SH01),
        # the pages
        ("case", "/my/cases", APPLICANT_SIDE),
        ("case", f"/my/cases/{f.alice}", {"alice"}),
        ("case", f"/my/cases/{f.mandated}", {"carol"}),
        ("case", f"/my/cases/{f.bob}", {"bob"}),
        ("document", "/my/documents", APPLICANT_SIDE),
        ("check", "/my/checks", APPLICANT_SIDE),
        ("appointment", "/appointments", APPLICANT_SIDE),
        ("office", "/office/queue", OFFICERS),
        ("office", "/office/escalations", {"sh01.supervisor"}),
        ("office", "/office/overstays", OFFICERS),
        ("office", f"/office/people/{f.people[0]}/penalty", SH01),
        ("office", f"/office/cases/{f.alice}", SH01),
        ("office", f"/office/cases/{f.bob}", {"bj01.officer"}),
        ("office", "/office/search?q=MARTIN", OFFICERS),
        ("org", "/org/people", ORG_STAFF),
        ("org", f"/org/people/{f.people[0]}/end", {"employer.hr"}),
        ("org", "/org/reports", ORG_STAFF),
        ("org", "/api/v1/org/post-changes", ORG_STAFF),
        ("org", "/org/post-changes", ORG_STAFF),
        ("org", "/org/post-changes/new", ORG_STAFF),
        ("document", "/api/v1/me/post-changes", APPLICANT_SIDE),
        ("document", "/my/post-changes", APPLICANT_SIDE),
        ("office", "/api/v1/office/post-changes", OFFICERS),
        ("office", "/office/post-changes", OFFICERS),
        ("verify", "/verify", {"bank.teller"}),
        ("verify", "/verify/tokens", {"bank.teller", "hotel.desk"}),
        ("verify", "/api/v1/verify/tokens", {"bank.teller", "hotel.desk"}),
        # port visas (Law Art 20): the inviting organisation, the foreigner, the desk of the request's port
        ("port_visa", "/api/v1/port-visa/requests", FILERS),
        (
            "port_visa",
            f"/api/v1/port-visa/requests/{f.port_visas['submitted']}",
            {"employer.hr", "pv.yinchuan"},
        ),
        ("port_visa", f"/api/v1/port-visa/requests/{f.port_visas['guiyang']}", {"employer.hr", "pv.guiyang"}),
        ("port_visa", "/api/v1/port-visa/desk", PORT_DESKS),
        ("port_visa", "/port-visas", FILERS),
        ("port_visa", "/port-visas/new", FILERS),
        ("port_visa", f"/port-visas/{f.port_visas['issued']}", {"employer.hr"}),
        ("port_visa", "/port-desk", PORT_DESKS),
        # joint applications (issue 10 §1): the employer's staff for the hires they hold a mandate for, the window
        # office's officers, the work-permit desk of that window; another office's officer only its own
        ("joint", "/api/v1/joint-applications", APPLICANT_SIDE | ORG_STAFF),
        ("joint", f"/api/v1/joint-applications/{f.joint['accepted']}", {"employer.hr"} | SH01 | WP_DESK),
        ("joint", f"/api/v1/joint-applications/{f.joint['extended']}", {"bj01.officer"}),
        ("joint", "/api/v1/work-permit-desk", WP_DESK),
        ("joint", "/api/v1/office/joint-applications", OFFICERS),
        ("joint", "/office/joint-applications", OFFICERS),
        ("joint", "/joint-applications", APPLICANT_SIDE | ORG_STAFF),
        ("joint", "/joint-applications/new", ORG_STAFF),
        ("joint", f"/joint-applications/{f.joint['accepted']}", {"employer.hr"}),
        ("joint", f"/office/joint-applications/{f.joint['accepted']}", SH01),
        ("joint", f"/office/joint-applications/{f.joint['extended']}", {"bj01.officer"}),
        ("joint", "/work-permit-desk", WP_DESK),
        ("joint", f"/work-permit-desk/{f.joint['accepted']}", WP_DESK),
        (
            "port_visa",
            f"/api/v1/port-visa/requests/{f.port_visas['submitted']}/materials",
            {"employer.hr", "pv.yinchuan"},
        ),
        (
            "port_visa",
            f"/api/v1/port-visa/requests/{f.port_visas['guiyang']}/materials",
            {"employer.hr", "pv.guiyang"},
        ),
        ("port_visa", f"/port-desk/requests/{f.port_visas['approved']}", {"pv.yinchuan"}),
        ("port_visa", f"/port-desk/requests/{f.port_visas['guiyang']}", {"pv.guiyang"}),
        # the accommodation register (Law Art 39): a hotel its guests, a person their stays, the police their
        # area (which rows each sees: test_police_http); the public nothing
        ("accommodation", "/api/v1/police/registrations", POLICE),
        ("accommodation", "/api/v1/police/registrations?show=missing&page=2", POLICE),
        ("accommodation", "/police", POLICE),
        ("accommodation", "/police?show=late", POLICE),
        ("accommodation", "/police/stays/new", POLICE),
        ("accommodation", "/hotel/stays", {"hotel.desk"}),
        ("accommodation", "/stays", APPLICANT_SIDE),
        ("accommodation", "/office/accommodation", OFFICERS),
        ("accommodation", "/api/v1/office/accommodation", OFFICERS),
        ("desk", "/admin/desks", {"admin"}),
        ("desk", "/api/v1/admin/desks", {"admin"}),
    ]


def _refused(who: str, path: str, status: int, *, person_field: bool | str = False) -> bool:
    if path.startswith("/api/"):
        if who == "anonymous":
            return status == 401
        return status in (403, 404) or (bool(person_field) and status == 422)
    return status in ((303,) if who == "anonymous" else (403, 404))  # 303: to the sign-in page


@pytest.mark.parametrize("who", ROLES)
def test_reads(web: Web, who: str) -> None:
    f = _files(web)
    client, _ = _client(web, who)
    reads = _reads(f)
    assert {kind for kind, _p, _a in reads} | {"verify"} >= EVERY_RESOURCE_KIND
    for _kind, path, allowed in reads:
        r = client.get(path)
        if who in allowed:
            assert r.status_code == 200, (who, path, r.status_code, r.text[:200])
        else:
            assert _refused(who, path, r.status_code), (who, path, r.status_code, r.text[:200])
            if path.startswith("/api/"):
                assert r.headers["content-type"].startswith("application/problem+json"), (who, path)
            if who == "anonymous" and not path.startswith("/api/"):
                assert r.headers["location"].startswith("/signin?next="), (who, path)


def test_no_leak_in_lists(web: Web) -> None:
    """Lists show only what the reader may see: no SH01 case in BJ01's queue or search, no one else's case in
    an applicant's list, no student for the employer, no employee for the school."""
    f = _files(web)
    bj, _ = _client(web, "bj01.officer")
    queue = bj.get("/api/v1/office/queue").json()
    rows = queue if isinstance(queue, list) else queue.get("cases", queue.get("items", []))
    assert all(row.get("case_id") not in (f.alice, f.mandated) for row in rows)
    found = bj.get("/api/v1/office/search", params={"q": "MARTIN"}).json()
    assert all(c.get("case_id") not in (f.alice, f.mandated) for c in found.get("cases", []))
    sh, _ = _client(web, "sh01.officer")
    found = sh.get("/api/v1/office/search", params={"q": "MARTIN"}).json()
    assert all(c.get("case_id") != f.bob for c in found.get("cases", []))
    lists = {
        who: {c["case_id"] for c in _client(web, who)[0].get("/api/v1/cases").json()}
        for who in APPLICANT_SIDE
    }
    assert f.alice in lists["alice"] and not lists["alice"] & {f.mandated, f.bob}
    assert f.mandated in lists["carol"] and not lists["carol"] & {f.alice, f.bob}
    assert f.bob in lists["bob"] and not lists["bob"] & {f.alice, f.mandated}
    hr, _ = _client(web, "employer.hr")
    people = hr.get("/api/v1/org/people").json()
    assert people and {p["relation"] for p in people} == {"employee"}
    school, _ = _client(web, "university.office")
    people = school.get("/api/v1/org/people").json()
    assert people and {p["relation"] for p in people} == {"student"}


def _writes(
    f: Files,
) -> list[tuple[str, str, Callable[[TestClient, dict[str, str]], Any], set[str], bool | str]]:
    """(kind, label, the request, the roles allowed, refusal may be 422 on person_id — or on the field named)."""
    day = {"day": "2025-11-21", "slot": "09:30", "matter": "visa_extension"}

    def book(person: int) -> Callable[[TestClient, dict[str, str]], Any]:
        def go(c: TestClient, h: dict[str, str]) -> Any:
            office = next(o["id"] for o in c.get("/api/v1/offices").json() if o["code"] == "SH01")
            return c.post(
                "/api/v1/appointments", json={**day, "office_id": office, "person_id": person}, headers=h
            )

        return go

    def withdraw(case_id: int) -> Callable[[TestClient, dict[str, str]], Any]:
        return lambda c, h: c.post(f"/api/v1/cases/{case_id}/withdraw", json={"version": 1}, headers=h)

    def supplement(case_id: int) -> Callable[[TestClient, dict[str, str]], Any]:
        return lambda c, h: c.post(f"/api/v1/cases/{case_id}/supplement", data={"version": "1"}, headers=h)

    def office(case_id: int, command: str, **body: Any) -> Callable[[TestClient, dict[str, str]], Any]:
        return lambda c, h: c.post(
            f"/api/v1/office/cases/{case_id}/{command}",
            json={"version": 1, "idempotency_key": uuid.uuid4().hex, **body},
            headers=h,
        )

    def apply_for(person: int) -> Callable[[TestClient, dict[str, str]], Any]:
        def go(c: TestClient, h: dict[str, str]) -> Any:
            office_id = next(o["id"] for o in c.get("/api/v1/offices").json() if o["code"] == "SH01")
            app = {
                "person_id": person,
                "office_id": office_id,
                "matter": "visa_extension",
                # a relative may submit: not a first entry, a good record (Regulations Art 19 para 1(2))
                "inputs": {**EXTENSION, "applicant": {"first_entry": False, "good_record": True}},
            }
            return c.post(
                "/api/v1/cases",
                data={"application": json.dumps(app)},
                headers={**h, "Idempotency-Key": uuid.uuid4().hex},
            )

        return go

    def report(person: int, event: str) -> Callable[[TestClient, dict[str, str]], Any]:
        return lambda c, h: c.post(
            "/api/v1/org/reports",
            json={"person_id": person, "event": event, "occurred_on": "2025-11-19"},
            headers=h,
        )

    def post_change(person: int) -> Callable[[TestClient, dict[str, str]], Any]:
        """A post change for ``person``'s residence permit as the employer's staff know it (their candidates);
        another organisation does not find it and names the permit of alice's it was told of."""

        def go(c: TestClient, h: dict[str, str]) -> Any:
            mine = c.get("/api/v1/org/post-changes/candidates")
            held = (
                [r["holding_id"] for r in mine.json() if r["person_id"] == person] if mine.is_success else []
            )
            return c.post(
                "/api/v1/org/post-changes",
                json={
                    "person_id": person,
                    "holding_id": held[0] if held else f.permit,
                    "to_region": "110000",
                    "position": "Head of research",
                    "work_location": "Beijing",
                    "effective_on": "2025-11-19",
                    "role": "manager",
                },
                headers={**h, "Idempotency-Key": uuid.uuid4().hex},
            )

        return go

    def port_visa(**body: Any) -> Callable[[TestClient, dict[str, str]], Any]:
        request = {
            "purpose": "trade",
            "urgent": True,
            "urgency": "contract talks",
            "port": "yinchuan_hedong_airport",
            "arrival_at": "2025-11-24T10:00:00+08:00",
            "flight": "CA1234",
            **body,
        }
        return lambda c, h: c.post(
            "/api/v1/port-visa/requests", json=request, headers={**h, "Idempotency-Key": uuid.uuid4().hex}
        )

    def desk(request_id: int, command: str, **body: Any) -> Callable[[TestClient, dict[str, str]], Any]:
        return lambda c, h: c.post(
            f"/api/v1/port-visa/desk/requests/{request_id}/{command}",
            json=body,
            headers={**h, "Idempotency-Key": uuid.uuid4().hex},
        )

    def joint_post(path: str, **body: Any) -> Callable[[TestClient, dict[str, str]], Any]:
        return lambda c, h: c.post(
            f"/api/v1{path}", json=body, headers={**h, "Idempotency-Key": uuid.uuid4().hex}
        )

    def apply_joint(c: TestClient, h: dict[str, str]) -> Any:
        office_id = next(o["id"] for o in c.get("/api/v1/offices").json() if o["code"] == "SH01")
        app = {
            "person_id": f.joint_person,
            "office_id": office_id,
            "employer_organisation_id": employer,
            "work_permit": {"category": "A", "position": "Engineer", "work_region": "310115",
                            "contract_until": "2028-10-31"},
            "inputs": {"entry_date": "2025-11-12", "visa": {"category": "Z", "entries": "single", "stay_days": 30},
                       "requested": {"permit_type": "work", "validity_days": 730}},
        }  # fmt: skip
        return c.post(
            "/api/v1/joint-applications",
            data={"application": json.dumps(app)},
            headers={**h, "Idempotency-Key": uuid.uuid4().hex},
        )

    def desk_take(c: TestClient, h: dict[str, str]) -> Any:
        """The desk takes the accepted branch at the version its queue shows (others: a guess, refused)."""
        ref = f.references["accepted"]
        queue = c.get("/api/v1/work-permit-desk")
        rows = queue.json() if queue.is_success else []
        version = next((r["version"] for r in rows if r["reference"] == ref), 1)
        return joint_post(f"/work-permit-desk/branches/{ref}/take", version=version)(c, h)

    employer = f.employer

    def stay(path: str, **body: Any) -> Callable[[TestClient, dict[str, str]], Any]:
        return lambda c, h: c.post(path, json={**STAY, **body}, headers=h)

    def assign(kind: str, **body: Any) -> Callable[[TestClient, dict[str, str]], Any]:
        return lambda c, h: c.post(f"/api/v1/admin/desks/{kind}", json=body, headers=h)

    pv = f.port_visas
    guest = {
        "surname": "LARSEN",
        "given_names": "ERIK",
        "birth_date": "1975-02-11",
        "nationality": "NOR",
        "passport_number": "NP7654321",
    }
    verify_body = {
        "document_number": "J25DEMO0001",
        "name": "X Y",
        "birth_date": "1990-01-01",
        "purpose": "account",
    }
    p = f.people
    return [
        ("appointment", "book for alice", book(p[0]), {"alice"}, False),
        (
            "notification",
            "mark alice's message read",
            lambda c, h: c.post(f"/api/v1/me/inbox/{f.message}/read", json={"read": True}, headers=h),
            {"alice"},
            False,
        ),
        (
            "notification",
            "set one's notification settings",
            lambda c, h: c.put(
                "/api/v1/me/notifications", json={"language": "en", "channels": ["inbox"]}, headers=h
            ),
            SIGNED_IN,
            False,
        ),
        ("appointment", "book for person 3", book(p[2]), {"carol"}, False),
        ("case", "apply for alice", apply_for(p[0]), {"alice"}, False),
        ("case", "apply for person 3", apply_for(p[2]), {"carol"}, False),
        ("case", "supplement alice's", supplement(f.alice), {"alice"}, False),
        ("case", "withdraw alice's", withdraw(f.alice), {"alice"}, False),
        ("case", "withdraw person 3's", withdraw(f.mandated), {"carol"}, False),
        ("case", "withdraw bob's", withdraw(f.bob), {"bob"}, False),
        (
            "office",
            "notice on alice's (SH01)",
            office(f.alice, "issue_notice"),
            SH01,
            False,
        ),
        (
            "office",
            "accept person 3's (SH01)",
            office(f.mandated, "accept", passport_kept=False, passport_on_record=True),
            SH01,
            False,
        ),
        (
            "office",
            "accept bob's (BJ01)",
            office(f.bob, "accept", passport_kept=False, passport_on_record=True),
            {"bj01.officer"},
            False,
        ),
        ("org", "report alice (employee)", report(p[0], "resigned"), {"employer.hr"}, True),
        (
            "office",
            "penalty for alice (SH01)",
            lambda c, h: c.post(
                f"/api/v1/office/people/{p[0]}/penalty",
                json={"warning": True, "authority": "exit_entry", "heard_on": "2025-11-19"},
                headers=h,
            ),
            SH01,
            False,
        ),
        (
            "org",
            "alice's employment ends (a day ahead)",
            lambda c, h: c.post(f"/api/v1/org/people/{p[0]}/end", json={"on": "2026-06-30"}, headers=h),
            {"employer.hr"},
            True,
        ),
        ("org", "report bob (student)", report(p[1], "graduated"), {"university.office"}, True),
        ("org", "post change for alice (employee)", post_change(p[0]), {"employer.hr"}, True),
        (
            "verify",
            "verify identity",
            lambda c, h: c.post("/api/v1/verify", json=verify_body, headers=h),
            {"bank.teller"},
            False,
        ),
        (
            "verify",
            "API token",
            lambda c, h: c.post("/api/v1/verify/tokens", json={"label": "x"}, headers=h),
            {"bank.teller", "hotel.desk"},  # a hotel's system reports guests with a bearer token (Law Art 39)
            False,
        ),
        # port visas: an organisation files for the person it invites (an applicant naming someone else's
        # passport is refused on passport_number); the foreigner files for themself (an organisation naming no
        # one is refused on passport_number)
        ("port_visa", "file for an invited guest", port_visa(**guest), ORG_STAFF, "passport_number"),
        (
            "port_visa",
            "file for oneself",
            port_visa(inviter_kind="entity"),
            {"alice", "bob"},
            "passport_number",
        ),
        (
            "port_visa",
            "approve at Yinchuan",
            desk(pv["submitted"], "approve", version=1),
            {"pv.yinchuan"},
            False,
        ),
        (
            "port_visa",
            "issue at Yinchuan before the arrival",
            desk(pv["approved"], "issue", version=2, passport_number="G4PV00102", face_matches=True),
            {"pv.yinchuan"},
            False,
        ),
        (
            "port_visa",
            "withdraw the Guiyang request",
            lambda c, h: c.post(
                f"/api/v1/port-visa/requests/{pv['guiyang']}/withdraw",
                json={"version": 1},
                headers={**h, "Idempotency-Key": uuid.uuid4().hex},
            ),
            {"employer.hr"},
            False,
        ),
        # joint applications (issue 10 §1)
        ("joint", "apply jointly for a Shanghai hire", apply_joint, {"employer.hr"}, False),
        (
            "joint",
            "withdraw the submitted joint application",
            joint_post(f"/joint-applications/{f.joint['submitted']}/withdraw", version=1),
            {"employer.hr"},
            False,
        ),
        (
            "joint",
            "accept the submitted joint application",
            joint_post(
                f"/office/joint-applications/{f.joint['submitted']}/accept",
                version=1,
                passport_kept=False,
                passport_on_record=True,
            ),
            SH01,
            False,
        ),
        (
            "joint",
            "take the accepted work-permit branch",
            desk_take,
            WP_DESK,
            False,
        ),
        # a guest at the Lujiazui police station's desk (its area, 310115): only that desk registers there
        (
            "accommodation",
            "register at the police desk",
            stay("/api/v1/police/stays", mrz=GUEST_MRZ),
            POLICE,
            False,
        ),
        # alice's stay in Pudong: herself, the police of the area (SH01's officers, Lujiazui's desk); Beijing's
        # office is refused on the area (division_code), bob and carol do not act for her (404)
        (
            "accommodation",
            "register alice's stay",
            stay("/api/v1/accommodation/stays", mrz=f.alice_mrz, person_id=p[0]),
            {"alice"} | SH01 | POLICE,
            "division_code",
        ),
        # the administrator assigns the desks (audited)
        (
            "desk",
            "assign a police desk",
            assign("police", username="police.pudong", station="SH-YP-SPL"),
            {"admin"},
            False,
        ),
        (
            "desk",
            "assign a port visa desk",
            assign("port-visa", username="pv.guiyang", port="yinchuan_hedong_airport"),
            {"admin"},
            False,
        ),
    ]


@pytest.mark.parametrize("who", ROLES)
def test_writes(web: Web, who: str) -> None:
    """Each write is for its owner only: one's own (or a mandated person's) appointments and applications,
    the case's own office, an organisation's own people, a verifier's checks."""
    f = _files(web)
    client, csrf = _client(web, who)
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    writes = _writes(f)
    assert {kind for kind, *_r in writes} >= EVERY_RESOURCE_KIND - {"applicant", "document", "check", "pdf"}
    for _kind, label, send, allowed, person_field in writes:
        r = send(client, headers)
        if who in allowed:
            expected = BY_THE_RULES.get(label, (200, 201))
            assert r.status_code in expected, (who, label, r.status_code, r.text[:300])
            if r.status_code == 409:  # the rules refused, not access: the guard is named
                assert r.json()["code"] not in ("forbidden", "csrf"), (who, label, r.text)
        else:
            assert _refused(who, "/api/", r.status_code, person_field=person_field), (
                who,
                label,
                r.status_code,
                r.text[:300],
            )
            assert r.headers["content-type"].startswith("application/problem+json"), (who, label)
            if person_field and r.status_code == 422:
                named = person_field if isinstance(person_field, str) else "person_id"
                assert r.json()["field"] == named, (who, label, r.text)
    if who == "bank.teller":  # the verifier gets only the answer to its check
        r = client.post(
            "/api/v1/verify",
            json={
                "document_number": "J25DEMO0001",
                "name": "X Y",
                "birth_date": "1990-01-01",
                "purpose": "account",
            },
            headers=headers,
        )
        assert r.status_code == 200 and set(r.json()) == {"match", "covered"}
