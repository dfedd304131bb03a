"""The online application form after a rejected submission: the plain explanation comes before the field and
the rule, and the files that were accepted are kept, so only the rejected one is chosen again."""

from __future__ import annotations

from typing import Any

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


def test_error_texts_put_the_plain_explanation_before_the_field_and_rule(web: Web) -> None:
    c, post = _form(web)
    bad = c.post(
        "/apply",
        data=post,
        files=[("photo", ("me.jpg", jpeg(353, 472), "image/jpeg"))],
        params={"lang": "en"},
    )
    assert bad.status_code == 422
    box = bad.text.split('id="form-error"')[1].split("</div>")[0]
    plain = box.index("The photo must be 354 to 480 pixels wide.")
    assert plain < box.index("files.photo") and plain < box.index("photo.width")
    assert "— photo.width" not in box  # the technical detail no longer leads the sentence


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
