"""The online application form after a rejected submission: the plain explanation comes before the field and
the rule, and the files that were accepted are kept, so only the rejected one is chosen again."""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_applicant import PDF, jpeg, office_id, person, signed_in
from web_support import Web

ANSWERS = {
    "matter": "visa_extension",
    "step": "check",
    "visa.category": "L",
    "visa.stay_days": "30",
    "entry_date": "2025-11-01",
    "requested.extension_days": "20",
}


def _form(web: Web, username: str = "alice", k: int = 1) -> tuple[Any, dict[str, str]]:
    c, csrf = signed_in(web, username)
    answers = {**ANSWERS, "person": str(person(web, k)), "office": str(office_id(web))}
    form = c.get("/apply", params={**answers, "lang": "en"})
    key = form.text.split('name="key" value="')[1].split('"')[0]
    return c, {k: v for k, v in answers.items() if k != "step"} | {"csrf": csrf, "key": key}


def test_error_texts_are_plain_and_link_to_the_field(web: Web) -> None:
    c, post = _form(web)
    bad = c.post(
        "/apply",
        data=post,
        files=[("photo", ("me.jpg", jpeg(353, 472), "image/jpeg"))],
        params={"lang": "en"},
    )
    assert bad.status_code == 422
    summary = bad.text.split('id="error-summary"')[1].split("</div>")[0]
    assert '<a href="#file-photo">The photo must be 354 to 480 pixels wide.</a>' in summary
    assert 'id="file-photo-error"' in bad.text and "photo.width" not in bad.text  # no internal rule names


def test_a_rejected_upload_keeps_the_accepted_files(web: Web) -> None:
    c, post = _form(web)
    bad = c.post(
        "/apply",
        data=post,
        files=[
            ("passport", ("passport.pdf", PDF, "application/pdf")),
            ("photo", ("me.jpg", jpeg(353, 472), "image/jpeg")),
        ],
        params={"lang": "en"},
    )
    assert bad.status_code == 422
    assert 'name="key" value="' + post["key"] + '"' in bad.text  # the same form, so what was kept stays
    kept = bad.text.split('id="kept-passport"')[1].split("</")[0]
    assert "passport.pdf" in kept
    assert 'id="kept-photo"' not in bad.text  # the rejected photo is to be chosen again
    ok = c.post("/apply", data=post, files=[("photo", ("me.jpg", jpeg(), "image/jpeg"))])
    assert ok.status_code == 303, ok.text
    case_id = int(ok.headers["location"].split("/")[3].split("?")[0])
    files = c.get(f"/api/v1/cases/{case_id}").json()["files"]
    assert sorted(f["material_code"] for f in files) == ["passport", "photo"]

    # what is kept is the account's own: another account's form with the same key finds nothing kept
    other, other_post = _form(web, "bob", 2)
    other_post["key"] = post["key"]
    first = other.post(
        "/apply",
        data=other_post,
        files=[("photo", ("me.jpg", jpeg(353, 472), "image/jpeg"))],
        params={"lang": "en"},
    )
    assert first.status_code == 422 and 'id="kept-' not in first.text


def test_files_are_kept_when_the_answers_are_refused(web: Web) -> None:
    c, post = _form(web)
    bad = c.post(
        "/apply",
        data={**post, "office": "0"},
        files=[
            ("passport", ("passport.pdf", PDF, "application/pdf")),
            ("photo", ("me.jpg", jpeg(), "image/jpeg")),
        ],
        params={"lang": "zh_CN"},
    )
    assert bad.status_code == 422
    assert "已收到：passport.pdf" in bad.text and "已收到：me.jpg" in bad.text


# ------------------------------------------------------------------------------------------------ every form
# Issue 15 item 3 (WCAG 3.3.1, 3.3.3, 3.1.2), after the GOV.UK Design System's error summary and error message:
# every form's error path, in Chinese and in English, shows every error at once in a summary at the top of main
# (role alert, "There is a problem", one link per error to an id on the page), each message beside its field in
# the page's language naming the visible label, aria-invalid on each field named, the title begins "Error: ".

ENGLISH_LEFT = (
    "Input should",
    "is required",
    "must be a date",
    "must be a whole number",
    "Field required",
    "one of ",
)
SUMMARY_HEADING = {"en": "There is a problem", "zh_CN": "出现问题"}
TITLE_PREFIX = {"en": "Error: ", "zh_CN": "错误："}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _tag(html: str, id_: str) -> str:
    m = re.search(r'<(?:input|select|textarea)\b[^>]*\bid="' + re.escape(id_) + r'"[^>]*>', html)
    assert m, f"no control with id {id_}"
    return m.group(0)


def _shows_errors(r: Any, lang: str, invalid: set[str]) -> list[str]:
    """The checks of the pattern; returns the messages of the summary."""
    assert r.status_code in (401, 403, 422, 429), (r.status_code, r.text[:500])
    html = r.text
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title and title.group(1).startswith(TITLE_PREFIX[lang]), title
    main = html.split('<main id="main" tabindex="-1">')[1]
    assert main.lstrip().startswith('<div class="error-summary" id="error-summary" role="alert"'), main[:200]
    summary = main.split("</div>")[0]
    opening = summary.split(">")[0]  # focused on load without a script (test_error_focus.py measures it)
    assert 'tabindex="-1"' in opening and " autofocus" in opening, opening
    assert SUMMARY_HEADING[lang] in summary
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)
    assert links
    for target, text in links:
        assert f'id="{target}"' in html, f"the summary links to #{target}, which the page does not have"
        assert f'id="{target}-error"' in html, f"no message beside #{target}"
        if lang == "zh_CN":
            assert CJK.search(text) and not any(e in text for e in ENGLISH_LEFT), text
    for id_ in invalid:
        tag = _tag(html, id_)
        assert 'aria-invalid="true"' in tag, tag
        described = re.search(r'aria-describedby="([^"]+)"', tag)
        assert described and any(d.endswith("-error") for d in described.group(1).split()), tag
    if lang == "zh_CN":
        errors = re.findall(r'<p class="error-message"[^>]*>(.*?)</p>', html, re.S)
        assert errors and not any(e in m for m in errors for e in ENGLISH_LEFT), errors
    assert '<script src="/static/error-summary.js' in html
    return [text for _t, text in links]


def _apply_query(web: Web, **answers: str) -> dict[str, str]:
    return {"person": str(person(web, 1)), "matter": "visa_extension", "step": "check", **answers}


def _case_for_withdrawal(web: Web, c: Any, csrf: str) -> int:
    form = c.get("/apply", params={**ANSWERS, "person": str(person(web, 1)), "office": str(office_id(web))})
    key = form.text.split('name="key" value="')[1].split('"')[0]
    post = {k: v for k, v in ANSWERS.items() if k != "step"} | {
        "person": str(person(web, 1)),
        "office": str(office_id(web)),
        "csrf": csrf,
        "key": key,
    }
    ok = c.post("/apply", data=post, files=[("photo", ("me.jpg", jpeg(), "image/jpeg"))])
    assert ok.status_code == 303, ok.text
    return int(ok.headers["location"].split("/")[3].split("?")[0])


def _form_apply_answers(web: Web, lang: str) -> None:
    """Malformed answers and no office: all three at once (only the first was shown before)."""
    c, _csrf = signed_in(web, "alice")
    q = _apply_query(web, **{"entry_date": "2025-13-45", "visa.stay_days": "thirty", "visa.category": "L"})
    r = c.get("/apply", params={**q, "lang": lang})
    messages = _shows_errors(r, lang, {"f-entry-date", "f-visa-stay-days", "f-office"})
    assert len(messages) == 3
    label = {"en": "Duration of stay stated on the visa (days)", "zh_CN": None}[lang]
    if label:
        assert any(label in m for m in messages) and not any("visa.stay_days" in m for m in messages)


def _form_apply_limits(web: Web, lang: str) -> None:
    """A pydantic bound (le) and a grouped key: the message names the label and the limit, in the language."""
    c, _csrf = signed_in(web, "alice")
    q = _apply_query(
        web,
        **{"entry_date": "2025-11-01", "visa.category": "L", "visa.stay_days": "30"},
        office=str(office_id(web)),
    )
    r = c.get("/apply", params={**q, "requested.extension_days": "99999", "lang": lang})
    (message,) = _shows_errors(r, lang, {"f-requested-extension-days"})
    assert "3660" in message and ("不能大于" in message if lang == "zh_CN" else "or less" in message)
    r = c.get("/apply", params={**_apply_query(web), "office": str(office_id(web)), "lang": lang})
    visa = {f"f-visa-{n}" for n in ("category", "stay-days")}
    (message,) = _shows_errors(r, lang, visa)  # "visa is required": every control of the group is marked
    assert ("所持签证" if lang == "zh_CN" else "The visa held") in message


def _form_apply_post(web: Web, lang: str) -> None:
    c, post = _form(web)
    bad = c.post(
        "/apply",
        data={**post, "office": "", "entry_date": "yesterday"},
        files=[("photo", ("me.jpg", jpeg(), "image/jpeg"))],
        params={"lang": lang},
    )
    _shows_errors(bad, lang, {"f-office", "f-entry-date"})


def _form_upload(web: Web, lang: str) -> None:
    c, post = _form(web)
    bad = c.post(
        "/apply",
        data=post,
        files=[("photo", ("me.jpg", jpeg(353, 472), "image/jpeg"))],
        params={"lang": lang},
    )
    _shows_errors(bad, lang, {"file-photo"})


def _form_need(web: Web, lang: str) -> None:
    r = web.new_client().get(
        "/what-do-i-need/visa_extension",
        params={"check": "1", "on": "2025-02-30", "visa.stay_days": "-3", "lang": lang},
    )
    _shows_errors(r, lang, {"f-on", "f-visa-stay-days"})


def _form_withdraw(web: Web, lang: str) -> None:
    c, csrf = signed_in(web, "alice")
    case_id = _case_for_withdrawal(web, c, csrf)
    page = c.get(f"/my/cases/{case_id}")
    version = page.text.split('name="version" value="')[1].split('"')[0]
    r = c.post(
        f"/my/cases/{case_id}/withdraw",
        data={"csrf": csrf, "key": "k1", "version": version},
        params={"lang": lang},
    )
    _shows_errors(r, lang, {"withdraw-confirm"})


def _form_appointments(web: Web, lang: str) -> None:
    c, csrf = signed_in(web, "alice")
    r = c.post("/appointments", data={"csrf": csrf, "office": str(office_id(web))}, params={"lang": lang})
    _shows_errors(r, lang, {"day"})


def _form_office_decision(web: Web, lang: str) -> None:
    from test_office import apply as office_apply
    from test_office import command, version

    case_id = office_apply(web)
    c, csrf = signed_in(web, "sh01.officer")
    assert (
        command(c, csrf, case_id, "accept", version(c, case_id), retention_reason="applicant_request")[
            "status"
        ]
        == 200
    )
    page = c.get(f"/office/cases/{case_id}")
    assert f'action="/office/cases/{case_id}/request_verification"' in page.text
    r = c.post(
        f"/office/cases/{case_id}/request_verification",
        data={
            "csrf": csrf,
            "version": str(version(c, case_id)),
            "key": "k-1",
            "method": "pigeon",
            "scheduled_for": "soon",
        },
        params={"lang": lang},
    )
    assert len(_shows_errors(r, lang, {"method", "scheduled_for"})) == 2


def _form_office_search(web: Web, lang: str) -> None:
    c, _csrf = signed_in(web, "sh01.officer")
    _shows_errors(c.get("/office/search", params={"q": "x", "lang": lang}), lang, {"q"})


def _form_office_day(web: Web, lang: str) -> None:
    c, _csrf = signed_in(web, "sh01.officer")
    _shows_errors(c.get("/office/appointments", params={"day": "tomorrow", "lang": lang}), lang, {"day"})


def _form_org_report(web: Web, lang: str) -> None:
    c, csrf = signed_in(web, "employer.hr")
    r = c.post("/org/reports", data={"csrf": csrf, "occurred_on": "x"}, params={"lang": lang})
    assert len(_shows_errors(r, lang, {"person_id", "event", "occurred_on"})) == 3


def _form_verify(web: Web, lang: str) -> None:
    c, csrf = signed_in(web, "bank.teller")
    r = c.post("/verify", data={"csrf": csrf, "birth_date": "1990-02-31"}, params={"lang": lang})
    invalid = {"document_number", "name", "birth_date", "purpose"}
    assert len(_shows_errors(r, lang, invalid)) == 4


def _form_signin(web: Web, lang: str) -> None:
    c = web.new_client()
    form = c.get("/signin", params={"lang": lang})
    token = form.text.split('name="csrf" value="')[1].split('"')[0]
    r = c.post(
        "/signin", data={"username": "alice", "password": "wrong", "csrf": token}, params={"lang": lang}
    )
    _shows_errors(r, lang, {"username", "password"})


def _form_progress(web: Web, lang: str) -> None:
    r = web.new_client().get("/progress", params={"number": "x", "passport": "!", "lang": lang})
    assert len(_shows_errors(r, lang, {"progress-number", "progress-passport"})) == 2


FORMS = {
    f.__name__.removeprefix("_form_"): f
    for f in (
        _form_apply_answers,
        _form_apply_limits,
        _form_apply_post,
        _form_upload,
        _form_need,
        _form_withdraw,
        _form_appointments,
        _form_office_decision,
        _form_office_search,
        _form_office_day,
        _form_org_report,
        _form_verify,
        _form_signin,
        _form_progress,
    )
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_form_shows_all_errors_in_a_summary_in_the_page_language(web: Web, form: str) -> None:
    for lang in ("zh_CN", "en"):
        FORMS[form](web, lang)
