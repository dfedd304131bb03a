"""Issue 11 §2 where the issue says it is shown: which office may accept (the place of stay, Law Art 29 para 1 and
Regulations Art 10, 11, 16 para 1; the nearest office from NIA 2024-01-11 no. 3) and the multiple-entry M ceiling
(MPS 2023-08-03 within Guide VI(III)3) — on the applicant's checklist ("What do I need?"), on the officer's case
page, and in acceptance (Guide VII(II): an application outside the office's area is not accepted)."""

from __future__ import annotations

import uuid
from typing import Any

from test_office import call, command, files
from web_support import Web

from cnvisa.cases.service import Actor
from cnvisa.cases.workflow import Role

EXTENSION = {  # the web fixture's day is 2025-11-20
    "visa.category": "M",
    "visa.entries": "single",
    "visa.stay_days": "30",
    "entry_date": "2025-11-10",
}


def _checklist(web: Web, lang: str = "en", **answers: str) -> Any:
    params = {"check": "1", "on": "2025-11-20", "lang": lang, **EXTENSION, **answers}
    return web.client.get("/what-do-i-need/visa_extension", params=params)


def test_the_checklist_asks_the_place_of_stay_and_says_where_to_apply(web: Web) -> None:
    form = web.client.get("/what-do-i-need/visa_extension")
    assert form.status_code == 200 and 'name="place_of_stay"' in form.text
    r = _checklist(web, **{"place_of_stay": "110105"})
    assert r.status_code == 200
    assert "Which office may accept" in r.text and "apply at the nearest office" in r.text
    assert "NIA measures 2024-01-11 no. 3" in r.text
    before = _checklist(web, on="2024-01-10", **{"place_of_stay": "110105", "entry_date": "2024-01-01"})
    assert before.status_code == 200
    assert "Only the exit-entry administration of the place of stay" in before.text
    assert "Exit and Entry Administration Law Art 29 para 1" in before.text
    assert "NIA measures 2024-01-11 no. 3" not in before.text
    study = _checklist(web, **{"visa.category": "X2", "place_of_stay": "110105"})
    assert "Only the exit-entry administration of the place of stay" in study.text
    # the platform's offices that may accept: every office when the nearest may; else those covering the place
    assert "Offices on this platform that may accept it" in r.text and "SH01" in r.text and "BJ01" in r.text
    beijing = before.text.split("Offices on this platform that may accept it")[1]
    assert "BJ01" in beijing and "SH01" not in beijing and "GZ01" not in beijing
    tibet = _checklist(web, on="2024-01-10", **{"place_of_stay": "540102", "entry_date": "2024-01-01"})
    assert "None of the offices on this platform covers your place of stay" in tibet.text
    unknown = _checklist(web, **{"visa.category": "X2"})  # bound to a place not given: no list
    assert "Offices on this platform that may accept it" not in unknown.text
    bad = _checklist(web, **{"place_of_stay": "990000"})
    assert bad.status_code == 422 and "aria-invalid" in bad.text


def test_the_checklist_in_chinese(web: Web) -> None:
    r = _checklist(web, "zh_CN", **{"place_of_stay": "110105"})
    assert r.status_code == 200 and "受理机关" in r.text and "可就近申请" in r.text
    assert "国家移民管理局2024年1月11日便利措施第3项" in r.text
    assert "理解[A]：对所列事由，“就近”放宽了" in r.text  # the readings in Chinese too
    x2 = _checklist(web, "zh_CN", **{"visa.category": "X2"})
    assert "仅限停留地公安机关出入境管理机构受理" in x2.text


def test_the_checklist_shows_the_multiple_entry_m_ceiling(web: Web) -> None:
    params = {
        "check": "1",
        "on": "2025-11-20",
        "ground": "entry_facilitation",
        "entry_date": "2025-11-10",
        "visa.category": "M",
        "requested.category": "M",
        "requested.entries": "multiple",
        "requested.entry_validity_days": "1461",
    }
    r = web.client.get("/what-do-i-need/visa_replacement", params=params)
    assert r.status_code == 200
    # 2025-11-20 → 2028-11-20: 3 × 365 + 1 (29 Feb 2028) = 1096
    assert "Multiple-entry business (M) visa by replacement" in r.text and "at most 1096 days" in r.text
    assert "MPS press conference 2023-08-03 seed 003 l.12" in r.text and "Guide VI(III)3" in r.text
    assert "exceeds the maximum (1096 days" in r.text  # the four-year request is above the ceiling
    zh = web.client.get("/what-do-i-need/visa_replacement", params={**params, "lang": "zh_CN"})
    assert "境内换发多次入境有效商务（M字）签证" in zh.text and "入境有效期最长1096日" in zh.text
    assert (
        "待决问题9" in zh.text and "open question 9" in r.text
    )  # the unadopted "5 years from 2024", beside it


def _apply(web: Web, category: str, place: str, material: str) -> int:
    person = web.ids["people"][0]
    actor = Actor(web.ids["accounts"]["alice"], Role.APPLICANT, person_id=person)
    out = call(
        web,
        web.client.app.state.platform.cases.apply,  # type: ignore[attr-defined]
        actor,
        key=uuid.uuid4().hex,
        person_id=person,
        office_id=web.ids["offices"]["SH01"],
        matter="visa_extension",
        inputs={
            "visa": {"category": category, "entries": "single", "stay_days": 30},
            "entry_date": "2025-11-10",
            "place_of_stay": place,
        },
        files=files("passport", "application_form", "photo", material),
    )
    return int(out["case_id"])


def test_the_case_page_and_acceptance_use_the_office_choice(web: Web) -> None:
    nearest = _apply(web, "M", "110105", "letter_inviting_or_receiving_party")  # staying in Beijing
    bound = _apply(web, "X2", "110105", "letter_enrolment_institution")  # study: the place of stay binds
    csrf = web.signin("sh01.officer")
    page = web.client.get(f"/office/cases/{nearest}")
    assert page.status_code == 200 and "Which office may accept" in page.text
    assert "apply at the nearest office" in page.text and "✓ Yes" in page.text
    api = web.client.get(f"/api/v1/office/cases/{nearest}").json()["assessment"]
    assert api["office_choice"]["scope"] == "nearest" and api["office_choice"]["may_accept"] is True
    assert api["office_choice"]["office"] == {"region": "310000", "level": "provincial"}

    page = web.client.get(f"/office/cases/{bound}")
    assert "Only the exit-entry administration of the place of stay" in page.text
    assert "the place of stay is outside this office" in page.text and "office_not_competent" not in page.text
    zh = web.client.get(f"/office/cases/{bound}?lang=zh_CN")
    assert "否：停留地不在本机关辖区内" in zh.text and "《出境入境管理法》第29条第1款" in zh.text
    view = web.client.get(f"/api/v1/office/cases/{bound}").json()
    assert [p["code"] for p in view["assessment"]["problems"]] == ["office_not_competent"]
    refused = command(web.client, csrf, bound, "accept", view["case"]["version"])
    assert refused["status"] == 409 and refused["code"] == "application_complete"
    assert "office_not_competent" in refused["detail"]
    accepted = command(
        web.client,
        csrf,
        nearest,
        "accept",
        web.client.get(f"/api/v1/office/cases/{nearest}").json()["case"]["version"],
    )
    assert accepted["status"] == 200, accepted


def test_the_apply_form_checks_the_office_chosen(web: Web) -> None:
    """The online application's check step asks the law about the office chosen: a study (X2) extension by someone
    staying in Beijing cannot be accepted in Shanghai; at the Beijing office it can."""
    from test_applicant import office_id, person, signed_in

    c, _csrf = signed_in(web, "alice")
    answers = {
        "person": person(web, 1),
        "matter": "visa_extension",
        "step": "check",
        "visa.category": "X2",
        "visa.stay_days": "30",
        "entry_date": "2025-11-10",
        "place_of_stay": "110105",
    }
    shanghai = c.get("/apply", params={**answers, "office": office_id(web, "SH01")})
    assert shanghai.status_code == 200
    assert (
        "Which office may accept" in shanghai.text
        and "the place of stay is outside this office" in shanghai.text
    )
    assert (
        "This office&#39;s area does not cover" in shanghai.text
        or "This office's area does not cover" in shanghai.text
    )
    beijing = c.get("/apply", params={**answers, "office": office_id(web, "BJ01")})
    assert beijing.status_code == 200 and "✓ Yes" in beijing.text
    assert "area does not cover" not in beijing.text


def test_the_case_page_shows_the_multiple_entry_m_ceiling(web: Web) -> None:
    """Issue 11 §2 (the officer's case page uses the ceiling): a visa replacement into a multiple-entry M visa
    shows the MPS 2023-08-03 ceiling on the case page, in English and Chinese (case.html, _office_choice.html)."""
    person = web.ids["people"][0]
    actor = Actor(web.ids["accounts"]["alice"], Role.APPLICANT, person_id=person)
    out = call(
        web,
        web.client.app.state.platform.cases.apply,  # type: ignore[attr-defined]
        actor,
        key=uuid.uuid4().hex,
        person_id=person,
        office_id=web.ids["offices"]["SH01"],
        matter="visa_replacement",
        inputs={
            "ground": "entry_facilitation",
            "entry_date": "2025-11-10",
            "place_of_stay": "310115",
            "visa": {"category": "M", "entries": "single", "stay_days": 30},
            "requested": {"category": "M", "entries": "multiple", "entry_validity_days": 1096},
        },
        files=files("passport", "application_form", "photo", "letter_inviting_or_receiving_party"),
    )
    case = int(out["case_id"])
    web.signin("sh01.officer")
    api = web.client.get(f"/api/v1/office/cases/{case}").json()["assessment"]
    assert api["business_multiple_entry"]["max_validity_days"] == 1096, api
    page = web.client.get(f"/office/cases/{case}")
    assert page.status_code == 200
    # 2025-11-20 → 2028-11-20: 3 × 365 + 1 (29 Feb 2028) = 1096
    assert 'id="business-ceiling-h">Multiple-entry business (M) visa by replacement' in page.text
    assert "Valid for entries for at most 1096 days (3 years, from" in page.text
    assert "MPS press conference 2023-08-03 seed 003 l.12" in page.text and "Guide VI(III)3" in page.text
    zh = web.client.get(f"/office/cases/{case}?lang=zh_CN")
    assert zh.status_code == 200
    assert "境内换发多次入境有效商务（M字）签证" in zh.text and "入境有效期最长1096日" in zh.text
    assert "待决问题9" in zh.text  # the unadopted "5 years from 2024", beside it
