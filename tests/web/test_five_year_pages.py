"""The five-year answer (issue 10 §2; cnvisa.law.five_year) where the issue says it is shown: the applicant's
checklist ("What do I need?") with the questions that lead to it, the API's assessment and the officer's case
page — "may be granted up to DATE, on these grounds", never an entitlement, each ground and bound cited, the
unknown bounds named, the fee band. Both engines where a case is stored."""

from __future__ import annotations

import uuid
from typing import Any

from test_office import call, files, inputs
from test_org import signed_in
from web_support import Web

from cnvisa.cases.service import Actor
from cnvisa.cases.workflow import Role

PERMITS = {
    "five_year.permits.0.valid_from": "2024-05-04",
    "five_year.permits.0.valid_until": "2025-05-03",
    "five_year.permits.1.valid_from": "2025-05-04",
    "five_year.permits.1.valid_until": "2026-05-04",
}
FACTS = {
    "permits": [
        {"type": "work", "valid_from": "2024-05-04", "valid_until": "2025-05-03"},
        {"type": "work", "valid_from": "2025-05-04", "valid_until": "2026-05-04"},
    ],
    "role": "professional_technical",
    "work_permit_valid_until": "2027-12-31",
}


def _checklist(web: Web, lang: str, **answers: str) -> Any:
    params = {
        "check": "1",
        "on": "2025-11-20",
        "residence_permit.type": "work",
        "residence_permit.valid_until": "2026-05-04",
        "lang": lang,
        **answers,
    }
    return web.client.get("/what-do-i-need/residence_permit_extension", params=params)


def test_the_checklist_asks_and_answers_in_english(web: Web) -> None:
    form = _checklist(web, "en")
    assert form.status_code == 200
    assert 'name="five_year.permits.0.valid_from"' in form.text  # asked where the work permit's questions are
    assert "Residence permit of up to five years" not in form.text  # no five-year facts: no answer
    r = _checklist(web, "en", **PERMITS, **{"five_year.work_permit_valid_until": "2027-12-31"})
    assert r.status_code == 200
    text = r.text
    assert "May be granted a residence permit valid up to" in text and "Dec 31, 2027" in text
    assert "not an entitlement" in text and "NIA measures 2024-03-20 seed 001 l.16" in text
    assert "Exit and Entry Administration Law Art 30 para 2" in text  # the five-year ceiling, cited
    assert (
        "The passport&#39;s last day" in text or "The passport's last day" in text
    )  # an unknown bound, named
    assert "Fee for this validity: CNY 800" in text


def test_the_checklist_in_chinese_and_a_missing_date_named(web: Web) -> None:
    r = _checklist(web, "zh_CN", **PERMITS, **{"five_year.passport_valid_until": "2030-01-01"})
    assert r.status_code == 200 and "5年以内的居留许可" in r.text and "可以签发有效期至" in r.text
    assert "这不是一项权利" in r.text and "工作许可的有效期截止日" in r.text  # the work permit's end: unknown
    half = {k: v for k, v in PERMITS.items() if k != "five_year.permits.0.valid_until"}
    bad = _checklist(web, "en", **half)
    assert bad.status_code == 422 and 'id="f-five-year-permits-0-valid-until"' in bad.text
    assert "aria-invalid" in bad.text


def test_not_asked_of_a_study_permit_and_no_ground_shown_as_such(web: Web) -> None:
    r = web.client.get(
        "/what-do-i-need/residence_permit_extension",
        params={
            "check": "1",
            "on": "2025-11-20",
            "residence_permit.type": "study",
            "residence_permit.valid_until": "2026-05-04",
            **PERMITS,
        },
    )
    assert r.status_code == 200 and "Residence permit of up to five years" not in r.text
    short = {**PERMITS, "five_year.permits.0.valid_from": "2024-11-04"}  # six months: not one year
    r = _checklist(web, "en", **short)
    assert "no ground for a permit of up to five years is met" in r.text and "shorter than one year" in r.text


def test_the_api_assessment_and_the_matters_questions(web: Web) -> None:
    body = {
        "matter": "residence_permit_extension",
        "on": "2025-11-20",
        "residence_permit": {"type": "work", "valid_until": "2026-05-04"},
        "five_year": FACTS,
    }
    out = web.client.post("/api/v1/assess", json=body).json()["five_year"]
    assert out["may_grant"] is True and out["may_grant_until"] == "2027-12-31"
    assert out["bounded_by"] == ["work_permit"] and out["unknown_bounds"] == ["passport_valid_until"]
    spec = web.client.get("/api/v1/matters", params={"matter": "residence_permit_extension"}).json()
    specs = spec if isinstance(spec, list) else [spec]
    names = {i["name"] for m in specs for i in m.get("inputs", [])}
    assert {"five_year.role", "five_year.employer_code", "five_year.permits.1.valid_until"} <= names


def test_the_officers_case_page_shows_the_answer(web: Web) -> None:
    person = web.ids["people"][0]
    actor = Actor(web.ids["accounts"]["alice"], Role.APPLICANT, person_id=person)
    out = call(
        web,
        web.client.app.state.platform.cases.apply,  # type: ignore[attr-defined]
        actor,
        key=uuid.uuid4().hex,
        person_id=person,
        office_id=web.ids["offices"]["SH01"],
        matter="residence_permit_extension",
        inputs={**inputs(), "requested": {"validity_days": 1825}, "five_year": FACTS},
        files=files("passport"),
    )
    officer, _ = signed_in(web, "sh01.officer")
    page = officer.get(f"/office/cases/{out['case_id']}")
    assert page.status_code == 200
    assert "May be granted a residence permit valid up to" in page.text and "binding" in page.text
    zh = officer.get(f"/office/cases/{out['case_id']}?lang=zh_CN")
    assert "可以签发有效期至" in zh.text and "人民币800元" in zh.text
    api = officer.get(f"/api/v1/office/cases/{out['case_id']}").json()
    assert api["assessment"]["five_year"]["may_grant_until"] == "2027-12-31"
