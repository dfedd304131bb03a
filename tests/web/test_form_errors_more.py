"""Issue 15 item 3 on the forms added since the error summary was made (test_apply_form_errors.py holds the
first ones and the checks, ``_shows_errors``): accommodation registration (a foreigner's stay, a hotel's guest,
the police's passport search), an employer's post change, a front desk's or a bank's API token, the five-year
questions of "What do I need?" and the applicant's supplement after a one-time notice. Each error path, in
Chinese and in English: every error at once in a summary first in main (focused on load, a link per error to
its field), each message beside its field in the page's language, aria-invalid on each field named, the title
beginning with "Error: " / "错误："."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from test_applicant import person, signed_in
from test_apply_form_errors import _shows_errors
from test_office import ALL, apply, command, version
from test_org import db, separate_organisations
from test_post_change_http import _alice_permit
from web_support import Web

from cnvisa.store.tables import TravelDocument


def _form_private_stay(web: Web, lang: str) -> None:
    c, csrf = signed_in(web, "alice")
    r = c.post("/stays", data={"csrf": csrf, "person_id": "", "moved_in_at": "x"}, params={"lang": lang})
    invalid = {"person_id", "moved_in_at", "address", "division_code"}
    assert len(_shows_errors(r, lang, invalid)) == 4


def _form_private_stay_without_passport(web: Web, lang: str) -> None:
    """No passport of the person on record: the page has no MRZ fields, so the error names the person chosen
    (it linked to #mrz1, which this page does not have, and asked for the MRZ lines)."""

    async def no_passport(s: AsyncSession) -> None:
        await s.execute(
            update(TravelDocument).where(TravelDocument.person_id == person(web, 1)).values(current=False)
        )

    db(web, no_passport)
    c, csrf = signed_in(web, "alice")
    form = {
        "csrf": csrf,
        "person_id": str(person(web, 1)),
        "address": "Flat 3, 5 Lane 100, Xuhui",
        "division_code": "310104",
        "moved_in_at": "2025-11-20T07:59",
    }
    r = c.post("/stays", data=form, params={"lang": lang})
    (message,) = _shows_errors(r, lang, {"person_id"})
    assert ("公安机关" if lang == "zh_CN" else "public security office") in message, message


def _form_hotel_guest(web: Web, lang: str) -> None:
    c, csrf = signed_in(web, "hotel.desk")
    r = c.post("/hotel/stays", data={"csrf": csrf, "mrz1": "P<UTO", "moved_in_at": ""}, params={"lang": lang})
    invalid = {"stay_ref", "mrz1", "mrz2", "address", "division_code", "moved_in_at"}
    assert len(_shows_errors(r, lang, invalid)) == 6


def _form_police_search(web: Web, lang: str) -> None:
    c, csrf = signed_in(web, "sh01.officer")
    r = c.post("/office/accommodation/search", data={"csrf": csrf, "passport": "X"}, params={"lang": lang})
    _shows_errors(r, lang, {"passport"})


def _form_police_day(web: Web, lang: str) -> None:
    """A day that is no date: said, not replaced by today without a word."""
    c, _csrf = signed_in(web, "sh01.officer")
    r = c.get("/office/accommodation", params={"day": "tomorrow", "lang": lang})
    _shows_errors(r, lang, {"day"})


def _form_post_change(web: Web, lang: str) -> None:
    separate_organisations(web)
    c, csrf = signed_in(web, "employer.hr")
    data = {
        "csrf": csrf,
        "key": uuid.uuid4().hex,
        "holding_id": "",
        "effective_on": "31/12/2025",
        "printed_changes": "shoe size",
    }
    r = c.post("/org/post-changes", data=data, params={"lang": lang})
    invalid = {"holding_id", "role", "organisation", "effective_on"}
    assert len(_shows_errors(r, lang, invalid)) == 6  # and the kind and the printed particulars
    good = {
        **data,
        "holding_id": str(_alice_permit(web)),
        "kind": "post_change",
        "role": "professional_technical",
        "organisation": "branch",
        "effective_on": "2025-11-19",
        "printed_changes": [],
        "to_region": "990000",  # no such division: the case core refuses it
    }
    r = c.post("/org/post-changes", data=good, params={"lang": lang})
    _shows_errors(r, lang, {"to_region"})


def _form_api_token(web: Web, lang: str) -> None:
    for username in ("hotel.desk", "bank.teller"):
        c, csrf = signed_in(web, username)
        r = c.post("/verify/tokens", data={"csrf": csrf, "label": "  "}, params={"lang": lang})
        _shows_errors(r, lang, {"label"})


def _form_five_year(web: Web, lang: str) -> None:
    r = web.new_client().get(
        "/what-do-i-need/residence_permit_extension",
        params={
            "check": "1",
            "on": "2025-11-20",
            "residence_permit.type": "work",
            "residence_permit.valid_until": "2026-05-04",
            "five_year.permits.0.valid_from": "2024-05-04",
            "five_year.permits.0.valid_until": "2024-13-01",
            "lang": lang,
        },
    )
    _shows_errors(r, lang, {"f-five-year-permits-0-valid-until"})


def _form_supplement(web: Web, lang: str) -> None:
    officer, ocsrf = signed_in(web, "sh01.officer")
    case_id = apply(web, materials=ALL[:4])
    assert command(officer, ocsrf, case_id, "issue_notice", version(officer, case_id))["state"] == "deficient"
    c, csrf = signed_in(web, "alice")
    page = c.get(f"/my/cases/{case_id}")
    assert 'action="/my/cases/' + str(case_id) + '/supplement"' in page.text
    v = page.text.split('name="version" value="')[1].split('"')[0]
    r = c.post(
        f"/my/cases/{case_id}/supplement",
        data={"csrf": csrf, "version": v, "key": uuid.uuid4().hex},
        params={"lang": lang},
    )
    inputs = set(page.text.split('id="sup-')[1:])
    marks = {"sup-" + i.split('"')[0] for i in inputs}
    assert marks
    _shows_errors(r, lang, marks)  # no file chosen: every file control of the form is named


def _form_signin_empty(web: Web, lang: str) -> None:
    """Sent empty: each field named (it was FastAPI's bare 422 page, with no form and no summary)."""
    c = web.new_client()
    form = c.get("/signin", params={"lang": lang})
    token = form.text.split('name="csrf" value="')[1].split('"')[0]
    r = c.post("/signin", data={"csrf": token}, params={"lang": lang})
    assert r.status_code == 422
    messages = _shows_errors(r, lang, {"username", "password"})
    assert len(messages) == 2 and messages[0] != messages[1], messages


def _form_progress_empty(web: Web, lang: str) -> None:
    """Sent empty: both fields named (it answered the blank form again, 200, saying nothing)."""
    r = web.new_client().post("/progress", data={"number": "", "passport": ""}, params={"lang": lang})
    assert len(_shows_errors(r, lang, {"progress-number", "progress-passport"})) == 2


def _form_office_guard(web: Web, lang: str) -> None:
    """A command the rules refuse (no field is wrong): the title says so, the refusal takes focus, and what is
    shown in English (the engine's detail, the citations) is marked so."""
    import re

    case_id = apply(web, materials=ALL[:4])
    c, csrf = signed_in(web, "sh01.officer")
    data = {"csrf": csrf, "version": str(version(c, case_id)), "key": uuid.uuid4().hex}
    r = c.post(
        f"/office/cases/{case_id}/accept",
        data={**data, "retention_reason": "applicant_request"},
        params={"lang": lang},
    )
    assert r.status_code == 409
    title = re.search(r"<title>(.*?)</title>", r.text, re.S)
    assert title and title.group(1).startswith("错误：" if lang == "zh_CN" else "Error: "), title
    box = re.search(r'<div class="error"[^>]*>(.*?)</div>', r.text, re.S)
    assert box and "autofocus" in box.group(0).split(">")[0] and 'tabindex="-1"' in box.group(0).split(">")[0]
    if lang == "zh_CN":
        outside = re.sub(r'<(\w+)[^>]*lang="en"[^>]*>.*?</\1>', "", box.group(1), flags=re.S)
        outside = re.sub(r"<code>.*?</code>|<[^>]+>", "", outside)
        assert not re.search(r"[A-Za-z]{3,}", outside), outside  # English only where marked lang="en"


FORMS = {
    f.__name__.removeprefix("_form_"): f
    for f in (
        _form_private_stay,
        _form_private_stay_without_passport,
        _form_hotel_guest,
        _form_police_search,
        _form_police_day,
        _form_post_change,
        _form_api_token,
        _form_five_year,
        _form_supplement,
        _form_office_guard,
        _form_signin_empty,
        _form_progress_empty,
    )
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_newer_form_shows_all_errors_in_a_summary_in_the_page_language(web: Web, form: str) -> None:
    for lang in ("zh_CN", "en"):
        FORMS[form](web, lang)
