"""The office's overstay list over HTTP (issue 12, "the officer's overstay … lists"): the API and the page in
both languages give the core's sweep for the officer's own office, the days and the most the law allows, never
a penalty; others are refused."""

from __future__ import annotations

import datetime as dt

import pytest
from test_office import call
from web_support import TODAY, Web

from cnvisa.cases.actor import SYSTEM


def test_the_officer_sees_the_sweep_of_the_office_in_both_languages(web: Web) -> None:
    # months later: stays of the demo's people have run out, some are still recorded in China
    later = TODAY + dt.timedelta(days=200)
    web.clock.set(dt.datetime.combine(later, dt.time(7, 59), tzinfo=web.clock.now().tzinfo))
    web.signin("sh01.officer")
    v = web.client.get("/api/v1/office/overstays?limit=500").json()
    assert v["on"] == later.isoformat() and v["imposed"] is False
    assert v["citations"] == ["Regulations Art 25", "Exit and Entry Administration Law Art 78 para 1"]
    office = v["office_id"]
    cases = web.client.app.state.platform.cases  # type: ignore[attr-defined]
    core = call(web, cases.illegal_residence, SYSTEM, office_id=office, limit=500)
    assert v["people"] == core and core, "the demo has people past their stay at this date"
    worst = v["people"][0]
    assert worst["days_overstayed"] >= v["people"][-1]["days_overstayed"]
    assert worst["max_fine_cny"] == min(500 * worst["days_overstayed"], 10_000)

    for lang, heading, note in (
        ("en", "In illegal residence", "Nothing here is imposed"),
        ("zh_CN", "非法居留人员", "本页不作任何处罚"),
    ):
        page = web.client.get(f"/office/overstays?lang={lang}")
        assert page.status_code == 200 and heading in page.text and note in page.text
        assert worst["name"] in page.text

    one = web.client.get("/api/v1/office/overstays?limit=1").json()
    assert one["people"] == v["people"][:1] and one["more"] is (len(v["people"]) > 1)
    assert web.client.get("/api/v1/office/overstays?limit=0").json()["field"] == "limit"


@pytest.mark.parametrize("who", ["alice", "employer.hr", "bank.teller"])
def test_only_office_staff_are_answered(web: Web, who: str) -> None:
    web.signin(who)
    assert web.client.get("/api/v1/office/overstays").status_code == 403


def test_a_penalty_decided_after_the_hearing_is_recorded_over_http(web: Web) -> None:
    """Issue 12: "a penalty is an officer's decision after the person was heard, recorded with its article"."""
    later = TODAY + dt.timedelta(days=200)
    web.clock.set(dt.datetime.combine(later, dt.time(23, 59), tzinfo=web.clock.now().tzinfo))
    csrf = web.signin("sh01.officer")
    h = {"X-CSRF-Token": csrf}
    worst = web.client.get("/api/v1/office/overstays?limit=1").json()["people"][0]
    pid, days = worst["person_id"], worst["days_overstayed"]
    url = f"/api/v1/office/people/{pid}/penalty"
    body = {
        "warning": True,
        "authority": "exit_entry",
        "heard_on": later.isoformat(),
        "statement": "my flight",
    }
    too_much = {
        **body,
        "warning": False,
        "serious": True,
        "serious_reason": "worked",
        "fine_cny": min(500 * days, 10_000) + 1,
    }
    refused = web.client.post(url, json=too_much, headers=h)
    assert refused.status_code == 422 and refused.json()["field"] in (
        "fine_cny",
        "authority",
        "body.fine_cny",
    )
    made = web.client.post(url, json=body, headers=h)
    assert made.status_code == 200, made.text
    d = made.json()
    assert d["days_overstayed"] == days and d["imposed_by_the_platform"] is False
    assert "Administrative Penalty Law Art 45" in [c["cite"] for c in d["citations"]]
    assert web.client.post(url, json=body, headers=h).json()["id"] == d["id"]
    listed = web.client.get(f"/api/v1/office/people/{pid}/penalties").json()["decisions"]
    assert [x["id"] for x in listed] == [d["id"]] and listed[0]["statement"] == "my flight"
    bj = web.new_client()
    bj_csrf = web.signin("bj01.officer", bj)
    assert bj.post(url, json=body, headers={"X-CSRF-Token": bj_csrf}).status_code == 403


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_penalty_page_records_a_decision_and_names_the_field_it_refuses(web: Web, lang: str) -> None:
    later = TODAY + dt.timedelta(days=200)
    web.clock.set(dt.datetime.combine(later, dt.time(0, 30), tzinfo=web.clock.now().tzinfo))
    csrf = web.signin("sh01.officer")
    listing = web.client.get(f"/office/overstays?lang={lang}")
    worst = web.client.get("/api/v1/office/overstays?limit=1").json()["people"][0]
    url = f"/office/people/{worst['person_id']}/penalty"
    assert f'href="{url}"' in listing.text
    form = web.client.get(f"{url}?lang={lang}")
    assert form.status_code == 200 and ("处罚决定" if lang == "zh_CN" else "Penalty decision") in form.text
    bad = web.client.post(
        f"{url}?lang={lang}",
        data={"csrf": csrf, "fine_cny": "500", "authority": "exit_entry", "heard_on": later.isoformat()},
    )
    assert bad.status_code == 422 and 'href="#serious"' in bad.text
    assert (
        "未认定情节严重的，给予警告" if lang == "zh_CN" else "Without a finding that it is serious"
    ) in bad.text
    ok = web.client.post(
        f"{url}?lang={lang}",
        data={"csrf": csrf, "warning": "yes", "authority": "exit_entry", "heard_on": later.isoformat()},
    )
    assert ok.status_code == 303
    shown = web.client.get(f"{url}&lang={lang}" if "?" in url else f"{url}?lang={lang}")
    assert ("警告" if lang == "zh_CN" else "a warning") in shown.text
    assert (
        "《出境入境管理法》第78条第1款"
        if lang == "zh_CN"
        else "Exit and Entry Administration Law Art 78 para 1"
    ) in shown.text
