"""Past the last loaded State Council holiday notice (Regulations Art 36 last para: receipts and approval periods
in working days): a step whose receipt or deadline would reach into a year without its notice answers 503 naming
the rule and the year, in the page's language, with nothing written; ``/readyz`` and ``/metrics`` warn the
operator weeks before. The real date of this finding: 2026-12-04, a joint application's 20 working days reach
January 2027, whose notice is not in ``law/data/calendar``."""

from __future__ import annotations

import datetime as dt

import pytest
from test_joint_http import INPUTS, apply, client, mandate
from test_joint_pages import signed_in
from web_support import Web

from cnvisa.cases.clock import SHANGHAI
from cnvisa.law import calendar

LAST = calendar.loaded_years()[1]
"""The last year whose notice is loaded; the tests move the clock to its December."""


def december(day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(LAST, 12, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize("at", [(4, 0, 30), (4, 7, 59), (4, 16, 1), (4, 23, 59)])
def test_joint_acceptance_past_the_loaded_calendar_is_503_and_writes_nothing(
    web: Web, at: tuple[int, int, int]
) -> None:
    web.clock.set(december(*at))
    mandate(web, "employer.hr", web.ids["people"][0])
    hr, hh = client(web, "employer.hr")
    entered = (december(*at).date() - dt.timedelta(days=10)).isoformat()
    made = apply(web, hr, hh, inputs={**INPUTS, "entry_date": entered})
    assert made.status_code == 201, made.text
    jid = made.json()["joint_id"]
    c, csrf = signed_in(web, "sh01.officer")
    before = c.get(f"/api/v1/joint-applications/{jid}").json()
    r = c.post(
        f"/api/v1/office/joint-applications/{jid}/accept",
        json={"version": before["version"], "passport_kept": False, "passport_on_record": True},
        headers={"X-CSRF-Token": csrf, "Idempotency-Key": f"horizon-{at[1]}-{at[2]}"},
    )
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["retry-after"]) >= 60
    body = r.json()
    assert body["code"] == "calendar_year_not_loaded" and body["rule"] == "Regulations Art 36"
    assert body["year"] == LAST + 1 and f"{LAST + 1}.toml" in body["detail"]
    after = c.get(f"/api/v1/joint-applications/{jid}").json()
    assert after["state"] == "submitted" and after["version"] == before["version"]
    assert after.get("receipt") is None and after["clocks"] is None

    # the page: the error page in the reader's language, nothing written either
    for lang, words in (
        ("zh_CN", "国务院节假日安排通知尚未载入"),
        ("en", "holiday notice for that year is not loaded"),
    ):
        page = c.post(
            f"/office/joint-applications/{jid}/accept?lang={lang}",
            data={"csrf": csrf, "version": str(before["version"]), "passport_source": "on_record",
                  "passport": "returned"},
        )  # fmt: skip
        assert page.status_code == 503 and words in page.text, page.text[:800]
        title = "工作日暂时无法计算" if lang == "zh_CN" else "Working days not countable"
        assert f"<h1>{title}</h1>" in page.text or f">{title}</h1>" in page.text, page.text[:800]
        assert page.headers["retry-after"]
    assert c.get(f"/api/v1/joint-applications/{jid}").json()["version"] == before["version"]


def test_the_operator_is_warned_before_the_loaded_calendar_ends(web: Web) -> None:
    web.clock.set(dt.datetime(LAST, 10, 1, 9, 0, tzinfo=SHANGHAI))
    calm = web.client.get("/readyz").json()["checks"]["calendar"]
    assert calm["ok"] and calm["days_left"] == (dt.date(LAST, 12, 31) - dt.date(LAST, 10, 1)).days
    assert "warning" not in calm

    web.clock.set(december(4, 23, 59))  # Beijing's date, not UTC's (15:59 UTC on the 4th)
    r = web.client.get("/readyz")
    assert r.status_code == 200, r.json()  # every instance alike: not a reason to leave the balancer
    warned = r.json()["checks"]["calendar"]
    assert warned["days_left"] == 27 and f"{LAST + 1}" in warned["warning"]
    web.clock.set(december(5, 0, 30))  # 16:30 UTC on the 4th: already the 5th in Beijing
    assert web.client.get("/readyz").json()["checks"]["calendar"]["days_left"] == 26
    metrics = web.client.get("/metrics").text
    assert "cnvisa_calendar_days_left 26.0" in metrics
