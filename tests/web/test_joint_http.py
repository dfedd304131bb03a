"""Joint applications over HTTP (issue 10 §1), on SQLite and PostgreSQL: the employer's staff apply for a new hire
(alice, for whom the test gives them a mandate), the single window issues the one notice, the employer
supplements, the window accepts with one receipt covering both branches, the work-permit desk takes and grants,
the exit-entry office approves, both permits are issued and collected together; the work permit refused ends the
residence branch not issuable; withdrawal ends both; another employer, another person and another office's staff
can neither read nor act; every refusal is problem+json naming the field or the rule."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession
from test_e2e_browser import photo_jpeg, titled_pdf
from test_office import command
from test_org import db
from web_support import TODAY, Web

from cnvisa.api.joint import JOINT_STATES
from cnvisa.cases.joint import parent_flow as pf
from cnvisa.law import one_stop
from cnvisa.store.tables import Mandate

V = "/api/v1"
PROBLEM = "application/problem+json"
WP = {"category": "A", "position": "Chief engineer", "work_region": "310115", "contract_until": "2028-10-31"}
INPUTS = {
    "entry_date": (TODAY - dt.timedelta(days=10)).isoformat(),
    "visa": {"category": "Z", "entries": "single", "stay_days": 30},
    "requested": {"permit_type": "work", "validity_days": 730},
}
GRANT = {
    "category": "A",
    "position": "Chief engineer",
    "work_region": "310115",
    "valid_from": TODAY.isoformat(),
    "valid_until": "2027-10-31",
}
_PHOTO: list[bytes] = []


def codes() -> list[str]:
    required = one_stop.joint_materials(category="A", validity_days=730)
    return [m.code for m in required if m.satisfied_by == "upload"]


def upload(*names: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    if not _PHOTO:
        _PHOTO.append(photo_jpeg())
    return [
        (
            c,
            ("photo.jpg", _PHOTO[0], "image/jpeg")
            if c == "photo"
            else (f"{c}.pdf", titled_pdf(c), "application/pdf"),
        )
        for c in names
    ]


def mandate(web: Web, account: str, person_id: int, capacity: str = "inviting_entity") -> None:
    async def q(s: AsyncSession) -> None:
        await s.execute(
            insert(Mandate).values(
                agent_account_id=web.ids["accounts"][account],
                person_id=person_id,
                capacity=capacity,
                valid_from=TODAY - dt.timedelta(days=1),
                valid_until=None,
            )
        )

    db(web, q)


def client(web: Web, who: str) -> tuple[TestClient, dict[str, str]]:
    c = web.new_client()
    csrf = web.signin(who, c)
    return c, {"X-CSRF-Token": csrf}


def apply(
    web: Web, c: TestClient, h: dict[str, str], *, leave_out: tuple[str, ...] = (), **extra: Any
) -> Any:
    app = {
        "person_id": web.ids["people"][0],
        "office_id": web.ids["offices"]["SH01"],
        "work_permit": WP,
        "inputs": INPUTS,
        **extra,
    }
    return c.post(
        f"{V}/joint-applications",
        data={"application": json.dumps(app)},
        files=upload(*(x for x in codes() if x not in leave_out)),
        headers={**h, "Idempotency-Key": uuid.uuid4().hex},
    )


def post(c: TestClient, h: dict[str, str], path: str, **body: Any) -> Any:
    return c.post(f"{V}{path}", json=body, headers={**h, "Idempotency-Key": uuid.uuid4().hex})


@pytest.fixture
def hr(web: Web) -> tuple[TestClient, dict[str, str]]:
    mandate(web, "employer.hr", web.ids["people"][0])
    return client(web, "employer.hr")


@pytest.fixture
def desk(web: Web) -> tuple[TestClient, dict[str, str]]:
    """The work-permit desk at SH01 (the demo's first work-permit officer there, made by the test)."""
    from test_authorisation_matrix import WORK_PERMIT_DESK, _work_permit_desk

    _work_permit_desk(web)
    c = web.new_client()
    r = c.post(f"{V}/auth/signin", json=dict(zip(("username", "password"), WORK_PERMIT_DESK, strict=True)))
    assert r.status_code == 200, r.text
    return c, {"X-CSRF-Token": r.json()["csrf"]}


def test_states_in_the_api_are_the_tables() -> None:
    assert set(get_args(JOINT_STATES)) == {str(s) for s in pf.JState}


def test_apply_notice_supplement_accept_grant_issue_collect(web: Web, hr: Any, desk: Any) -> None:
    c, h = hr
    r = apply(web, c, h, leave_out=("criminal_record_certificate", "health_certificate"))
    assert r.status_code == 201, r.text
    j = r.json()
    assert r.headers["location"] == f"{V}/joint-applications/{j['joint_id']}"
    assert j["state"] == "submitted" and j["clocks"] is None
    jid = j["joint_id"]
    assert c.get(f"{V}/joint-applications").json()[0]["joint_id"] == jid  # latest first

    o, oh = client(web, "sh01.officer")
    r = post(o, oh, f"/office/joint-applications/{jid}/issue_notice", version=j["version"])
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["state"] == "deficient"
    assert {i["code"] for i in j["notice"]["items"]} == {"criminal_record_certificate", "health_certificate"}
    # a stale version is refused, naming nothing written
    stale = post(o, oh, f"/office/joint-applications/{jid}/accept", version=j["version"] - 1)
    assert stale.status_code == 409 and stale.headers["content-type"].startswith(PROBLEM)

    r = c.post(
        f"{V}/joint-applications/{jid}/supplement",
        data={"version": str(j["version"])},
        files=upload("criminal_record_certificate", "health_certificate"),
        headers={**h, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["state"] == "submitted"

    r = post(
        o, oh, f"/office/joint-applications/{jid}/accept",
        version=j["version"], passport_kept=False, passport_on_record=True,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["state"] == "accepted" and j["receipt"]["covers"] == ["work_permit", "residence_permit"]
    assert j["clocks"]["service_commitment"]["jurisdiction"] == "shanghai"
    assert j["clocks"]["work_permit_statutory_due"] and j["waiting_for"] == [
        "work_permit",
        "residence_permit",
    ]
    ref = j["work_permit_branch"]["reference"]

    # the desk: its queue shows the branch with both dues; take and grant
    d, dh = desk
    queue = d.get(f"{V}/work-permit-desk").json()
    row = next(x for x in queue if x["reference"] == ref)
    assert row["service_commitment_due"] and row["statutory_due"]
    r = post(d, dh, f"/work-permit-desk/branches/{ref}/take", version=row["version"])
    assert r.status_code == 200, r.text
    r = post(d, dh, f"/work-permit-desk/branches/{ref}/grant", version=r.json()["branch"]["version"], **GRANT)
    assert r.status_code == 200, r.text
    assert r.json()["join"]["waiting_for"] == ["residence_permit"]

    # the progress as the employer sees it: the work permit granted, the residence permit waited for
    j = c.get(f"{V}/joint-applications/{jid}").json()
    assert j["work_permit_branch"]["state"] == "granted" and j["waiting_for"] == ["residence_permit"]

    # the exit-entry office decides its branch (its own case page's command); then issue and collect together
    case_id = j["residence_branch"]["case_id"]
    approved = command(o, oh["X-CSRF-Token"], case_id, "approve", j["residence_branch"]["version"])
    assert approved["status"] == 200, approved
    j = o.get(f"{V}/joint-applications/{jid}").json()
    assert j["join"]["outcome"] == "issue_together"
    r = post(o, oh, f"/office/joint-applications/{jid}/issue_together", version=j["version"])
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["state"] == "issued" and j["work_permit"]["status"] == "active"
    r = post(
        o, oh, f"/office/joint-applications/{jid}/collect_together",
        version=j["version"], passport_presented=True, passport_on_record=True,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "collected"


def test_the_same_key_answers_the_first_answer(web: Web, hr: Any) -> None:
    c, h = hr
    app = {"person_id": web.ids["people"][0], "office_id": web.ids["offices"]["SH01"], "work_permit": WP,
           "inputs": INPUTS}  # fmt: skip
    key = {"Idempotency-Key": uuid.uuid4().hex}
    before = len(c.get(f"{V}/joint-applications").json())
    first = c.post(f"{V}/joint-applications", data={"application": json.dumps(app)}, files=upload(*codes()),
                   headers={**h, **key})  # fmt: skip
    again = c.post(f"{V}/joint-applications", data={"application": json.dumps(app)}, files=upload(*codes()),
                   headers={**h, **key})  # fmt: skip
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["joint_id"] == first.json()["joint_id"]
    assert len(c.get(f"{V}/joint-applications").json()) == before + 1


def test_work_permit_refused_ends_the_residence_branch_not_issuable(web: Web, hr: Any, desk: Any) -> None:
    c, h = hr
    j = apply(web, c, h).json()
    o, oh = client(web, "sh01.officer")
    j = post(
        o, oh, f"/office/joint-applications/{j['joint_id']}/accept",
        version=j["version"], passport_kept=False, passport_on_record=True,
    ).json()  # fmt: skip
    d, dh = desk
    ref = j["work_permit_branch"]["reference"]
    r = post(d, dh, f"/work-permit-desk/branches/{ref}/refuse", version=j["work_permit_branch"]["version"],
             grounds=["the work experience proved is shorter than the position requires"])  # fmt: skip
    assert r.status_code == 200, r.text
    j = c.get(f"{V}/joint-applications/{j['joint_id']}").json()
    assert j["state"] == "not_issuable" and j["residence_branch"]["state"] == "not_issuable"
    assert "Law Art 41" in " ".join(j["join"]["citations"])
    # the desk's refusal needs grounds: problem+json naming the field
    r = post(d, dh, f"/work-permit-desk/branches/{ref}/refuse", version=1, grounds=[])
    assert r.status_code == 422 and r.json()["field"] == "grounds"


def test_withdrawal_ends_both(web: Web, hr: Any) -> None:
    c, h = hr
    j = apply(web, c, h).json()
    r = post(c, h, f"/joint-applications/{j['joint_id']}/withdraw", version=j["version"])
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["state"] == "withdrawn" and j["work_permit_branch"]["state"] == "withdrawn"
    assert j["residence_branch"]["state"] == "withdrawn"


def test_bad_input_names_the_field(web: Web, hr: Any) -> None:
    c, h = hr
    r = apply(web, c, h, work_permit={**WP, "work_region": "31"})
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["field"] == "application.work_permit.work_region"
    r = apply(web, c, h, inputs={**INPUTS, "requested": {"permit_type": "study", "validity_days": 365}})
    assert r.status_code == 422 and r.json()["field"] == "inputs.requested.permit_type"
    r = c.post(
        f"{V}/joint-applications",
        data={
            "application": json.dumps(
                {"office_id": web.ids["offices"]["SH01"], "work_permit": WP, "inputs": INPUTS}
            )
        },
        files=[("not_a_material", ("x.pdf", titled_pdf("x"), "application/pdf"))],
        headers={**h, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 422 and r.json()["field"] == "files.not_a_material"
    r = c.post(f"{V}/joint-applications", data={"application": "{}"}, headers={**h, "Idempotency-Key": "k1"})
    assert r.status_code == 422 and r.json()["field"].startswith("application.")


def test_no_one_else_reads_or_acts(web: Web, hr: Any, desk: Any) -> None:
    """Another person (bob), another organisation (the school's staff), another office's officer and another
    single window's desk: refused; the CSRF token is required of a session."""
    c, h = hr
    j = apply(web, c, h).json()
    jid = j["joint_id"]
    for who in ("bob", "university.office", "bj01.officer", "carol"):
        other, oh = client(web, who)
        r = other.get(f"{V}/joint-applications/{jid}")
        assert r.status_code in (403, 404) and r.headers["content-type"].startswith(PROBLEM), (who, r.text)
        if who in ("bob", "university.office", "carol"):
            r = post(other, oh, f"/joint-applications/{jid}/withdraw", version=j["version"])
            assert r.status_code in (403, 404), (who, r.text)
            assert jid not in [x["joint_id"] for x in other.get(f"{V}/joint-applications").json()]
    bj, bh = client(web, "bj01.officer")
    r = post(bj, bh, f"/office/joint-applications/{jid}/issue_notice", version=j["version"])
    assert r.status_code == 403
    # the applicant side may not act as the window; the window may not act as the desk
    r = post(c, h, f"/office/joint-applications/{jid}/accept", version=j["version"])
    assert r.status_code == 403
    o, oh = client(web, "sh01.officer")
    assert o.get(f"{V}/work-permit-desk").status_code == 403
    # no CSRF token: refused before anything changes
    r = c.post(f"{V}/joint-applications/{jid}/withdraw", json={"version": j["version"]},
               headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    assert r.status_code == 403 and r.json()["code"] == "csrf"
    assert c.get(f"{V}/joint-applications/{jid}").json()["state"] == "submitted"
    # another employer may not apply for our hire even with a mandate: the employer is the applicant's own
    mandate(web, "university.office", web.ids["people"][0])
    u, uh = client(web, "university.office")
    r = apply(web, u, uh, employer_organisation_id=j["employer_organisation_id"])
    assert r.status_code == 403, r.text


def test_the_window_offices_own_papers_are_taken_for_their_matter_only(web: Web, hr: Any) -> None:
    """The office's own papers (an office rule, ``OfficePaper``: here SH01 asks the employer's business licence)
    are read with the applicant's facts before the transaction (``applications.application_facts_and_papers``):
    a paper the office does not ask is refused naming the file, as is one it asks only for another matter; one it
    asks for a residence permit, or for every matter (no matters), is taken."""
    from sqlalchemy import delete

    from cnvisa.store.register_tables import OfficePaper

    c, h = hr
    office = web.ids["offices"]["SH01"]
    licence = ("employer_business_licence", ("licence.pdf", titled_pdf("licence"), "application/pdf"))

    def with_licence() -> Any:
        app = {"person_id": web.ids["people"][0], "office_id": web.ids["offices"]["SH01"], "work_permit": WP,
               "inputs": INPUTS}  # fmt: skip
        return c.post(
            f"{V}/joint-applications",
            data={"application": json.dumps(app)},
            files=[*upload(*codes()), licence],
            headers={**h, "Idempotency-Key": uuid.uuid4().hex},
        )

    def asked(matters: list[str]) -> None:
        async def q(s: AsyncSession) -> None:
            paper = OfficePaper.material_code == "employer_business_licence"
            await s.execute(delete(OfficePaper).where(paper, OfficePaper.office_id == office))
            s.add(OfficePaper(office_id=office, material_code=licence[0], source="test", matters=matters))

        db(web, q)

    for matters in (None, ["visa_extension"], ["residence_permit"], []):
        if matters is not None:
            asked(matters)
        r = with_licence()
        if matters is None or matters == ["visa_extension"]:
            assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM), r.text
            assert r.json()["field"] == "files[employer_business_licence]"
        else:
            assert r.status_code == 201, (matters, r.text)
