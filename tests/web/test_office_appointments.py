"""Officers see their office's appointments of a day, each linked to the application it was booked for."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, func, select
from test_applicant import apply_api, office_id, person, problem, signed_in
from web_support import Web

from cnvisa.store.tables import AuditEvent, Case

DAY = "2025-11-21"  # the next working day after the fixed clock's 2025-11-20


def _open_cases(web: Web, person_id: int, office: int, matter: str) -> int:
    engine = create_engine(web.db_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg"))
    with engine.connect() as conn:
        n = conn.execute(
            select(func.count())
            .select_from(Case)
            .where(
                Case.person_id == person_id,
                Case.office_id == office,
                Case.matter == matter,
                Case.state.not_in(["refused", "collected", "withdrawn", "lapsed"]),
            )
        ).scalar_one()
    engine.dispose()
    return int(n)


def test_an_appointment_is_linked_to_its_application_and_officers_see_the_day(web: Web) -> None:
    sh01 = office_id(web)
    alice, csrf = signed_in(web, "alice")
    assert _open_cases(web, person(web, 1), sh01, "visa_extension") == 0
    applied = apply_api(alice, csrf, web, key=str(uuid.uuid4()))
    assert applied.status_code == 201, applied.text
    case_id = applied.json()["case_id"]
    want = {"office_id": sh01, "day": DAY, "slot": "10:00", "matter": "visa_extension"}
    booked = alice.post("/api/v1/appointments", json=want, headers={"X-CSRF-Token": csrf})
    assert booked.status_code == 201 and booked.json()["case_id"] == case_id  # the only open application
    wrong = alice.post(
        "/api/v1/appointments",
        json={**want, "slot": "10:30", "matter": "stay_permit", "case_id": case_id},
        headers={"X-CSRF-Token": csrf},
    )
    assert problem(wrong, 422)["field"] == "case_id"  # not an application of that matter
    mine = alice.get("/appointments?lang=en")
    assert f'<a href="/my/cases/{case_id}">its application</a>' in mine.text

    officer, _ = signed_in(web, "sh01.officer")
    en = officer.get(f"/office/appointments?day={DAY}&lang=en")
    assert en.status_code == 200 and "<h1>Appointments of the day</h1>" in en.text
    row = en.text.split(f'href="/office/cases/{case_id}"')
    assert len(row) == 2 and "10:00" in row[0].rsplit("<tr>", 1)[1]
    zh = officer.get(f"/office/appointments?day={DAY}&lang=zh_CN")
    assert zh.status_code == 200 and "当日预约" in zh.text and f"/office/cases/{case_id}" in zh.text
    today = officer.get("/office/appointments?lang=en")
    assert today.status_code == 200 and 'value="2025-11-20"' in today.text  # default: today, Beijing date
    assert officer.get("/office/appointments?day=tomorrow").status_code == 422

    bj01, _ = signed_in(web, "bj01.officer")
    other = bj01.get(f"/office/appointments?day={DAY}")
    assert other.status_code == 200 and f"/office/cases/{case_id}" not in other.text  # another office's
    assert alice.get("/office/appointments").status_code == 403

    engine = create_engine(web.db_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg"))
    with engine.connect() as conn:
        reads = conn.execute(select(AuditEvent.detail).where(AuditEvent.action == "read_appointments")).all()
    engine.dispose()
    assert len(reads) == 4 and {r[0]["day"] for r in reads} == {DAY, "2025-11-20"}
