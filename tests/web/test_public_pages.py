"""Public pages without sign-in: the progress inquiry page (the API's inquiry, for people) and the site icon."""

from __future__ import annotations

from test_progress import _a_case
from web_support import Web


def test_the_home_page_progress_inquiry_leads_to_a_public_page(web: Web) -> None:
    home = web.client.get("/?lang=en")
    assert 'href="/progress"' in home.text
    number, passport, _state = _a_case(web)
    form = web.client.get("/progress?lang=en")
    assert (
        form.status_code == 200
        and 'for="progress-number"' in form.text
        and 'for="progress-passport"' in form.text
    )
    en = web.client.get("/progress", params={"number": number, "passport": passport.lower(), "lang": "en"})
    assert en.status_code == 200, en.text
    assert number in en.text and "Accepted" in en.text and "Receipt valid until" in en.text
    assert en.headers["cache-control"] == "no-store"
    zh = web.client.get("/progress", params={"number": number, "passport": passport, "lang": "zh_CN"})
    assert zh.status_code == 200 and 'lang="zh-CN"' in zh.text and "已受理" in zh.text and "下一步" in zh.text
    api = web.client.get("/api/v1/progress", params={"number": number, "passport": passport}).json()
    assert api["receipt_valid_until"] and str(api["working_days_left"]) in en.text


def test_the_progress_page_says_not_found_without_saying_which_half(web: Web) -> None:
    number, _passport, _ = _a_case(web)
    wrong = web.client.get("/progress", params={"number": number, "passport": "X0000000", "lang": "en"})
    assert (
        wrong.status_code == 404
        and "No application matches this case number and passport number" in wrong.text
    )
    bad = web.client.get("/progress", params={"number": "short", "passport": "X0000000", "lang": "en"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text and "8-24 letters" in bad.text


def test_favicon_is_served(web: Web) -> None:
    r = web.client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/x-icon"
    assert r.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert 'rel="icon"' in web.client.get("/").text
