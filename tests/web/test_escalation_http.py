"""The supervisor's escalations over HTTP (issue 12): the API and the page in both languages, the office rule's
count from the settings (CNVISA_ESCALATION_WORKING_DAYS) on the queue and the escalations alike, officers and
others refused."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from fastapi.testclient import TestClient
from test_office import apply, command
from web_support import TODAY, Web

from cnvisa.app import create_app
from cnvisa.http.settings import Settings


def test_the_supervisor_sees_a_case_turn_near_then_overdue(web: Web) -> None:
    csrf = web.signin("sh01.officer")
    case_id = apply(web)
    command(web.client, csrf, case_id, "accept", 1, retention_reason="applicant_request")
    queue = web.client.get("/api/v1/office/queue?limit=500").json()["items"]
    deadline = dt.date.fromisoformat(next(i["deadline"] for i in queue if i["case_id"] == case_id))

    web.signin("sh01.supervisor")
    v = web.client.get("/api/v1/office/escalations?limit=500").json()
    assert v["today"] == TODAY.isoformat() and v["near_working_days"] == 2 and v["rule"] == "office rule"
    assert case_id not in {i["case_id"] for i in v["near"]["items"] + v["overdue"]["items"]}

    web.clock.set(dt.datetime.combine(deadline, dt.time(23, 59), tzinfo=web.clock.now().tzinfo))
    web.signin("sh01.supervisor")
    v = web.client.get("/api/v1/office/escalations?limit=500").json()
    assert case_id in {i["case_id"] for i in v["near"]["items"]}
    number = next(i["number"] for i in queue if i["case_id"] == case_id)
    for lang, heading, rule in (
        ("en", "Near the deadline", "Office rule, not law"),
        ("zh_CN", "临近期限", "本机关规定，非法律规定"),
    ):
        page = web.client.get(f"/office/escalations?lang={lang}")
        assert page.status_code == 200 and heading in page.text and rule in page.text and number in page.text

    web.clock.advance(days=1)
    web.signin("sh01.supervisor")
    v = web.client.get("/api/v1/office/escalations?limit=500").json()
    assert case_id in {i["case_id"] for i in v["overdue"]["items"]}
    assert case_id not in {i["case_id"] for i in v["near"]["items"]}
    assert 'href="/office/escalations"' in web.client.get("/office/queue?lang=en").text

    bad = web.client.get("/api/v1/office/escalations?limit=0")
    assert bad.status_code == 422 and bad.json()["field"] == "limit"


@pytest.mark.parametrize("who", ["sh01.officer", "alice", "employer.hr"])
def test_only_a_supervisor_is_answered(web: Web, who: str) -> None:
    web.signin(who)
    assert web.client.get("/api/v1/office/escalations").status_code == 403
    assert 'href="/office/escalations"' not in web.client.get("/").text


def test_the_office_rule_comes_from_the_settings(web: Web) -> None:
    settings = dataclasses.replace(Settings(database_url=web.db_url), escalation_working_days=20)
    with TestClient(create_app(settings, clock=web.clock), follow_redirects=False) as client:
        web.signin("sh01.supervisor", client)
        v = client.get("/api/v1/office/escalations?limit=500").json()
        assert v["near_working_days"] == 20
        near = {i["case_id"] for i in v["near"]["items"]}
        queue = client.get("/api/v1/office/queue?limit=500").json()["items"]
        flagged = {i["case_id"] for i in queue if i["flag"] == "near"}
        assert near and flagged == near  # the queue and the escalations apply one rule
        assert "20 working days or fewer left (office rule)" in client.get("/office/queue?lang=en").text


def test_a_negative_office_rule_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNVISA_ESCALATION_WORKING_DAYS", "-1")
    with pytest.raises(ValueError, match="CNVISA_ESCALATION_WORKING_DAYS"):
        Settings()
