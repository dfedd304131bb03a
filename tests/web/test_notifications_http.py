"""Notifications over HTTP (issue 12, "the holder's … inbox"): a one-time notice reaches the applicant's inbox
once the delivery pass runs, in the language she chose; the inbox and the settings pages in zh and en; read and
unread; e-mail not offered without an SMTP server, and the page says so; a supervisor's inbox holds the
escalations the sweep wrote. Each account sees only its own."""

from __future__ import annotations

import datetime as dt
from typing import Any

from test_authorisation_matrix import _client
from test_office import ALL, apply, call, command
from web_support import Web


def _deliver(web: Web) -> dict[str, list[int]]:
    platform = web.client.app.state.platform  # type: ignore[attr-defined]
    out: dict[str, list[int]] = call(web, platform.outbox.deliver_due)
    return out


def _notice(web: Web) -> int:
    officer, csrf = _client(web, "sh01.officer")
    assert csrf is not None
    case_id = apply(web, materials=ALL[:4])
    assert command(officer, csrf, case_id, "issue_notice", 1)["status"] == 200
    return case_id


def test_a_notice_reaches_the_applicants_inbox_in_her_language(web: Web) -> None:
    csrf = web.signin("alice")
    r = web.client.put(
        "/api/v1/me/notifications", json={"language": "en", "channels": []}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 200 and r.json()["language"] == "en" and r.json()["channels"] == ["inbox"]
    case_id = _notice(web)
    assert web.client.get("/api/v1/me/inbox").json()["unread"] == 0  # written, not yet delivered
    sent = _deliver(web)["sent"]
    assert sent
    box = web.client.get("/api/v1/me/inbox").json()
    [m] = [i for i in box["items"] if i["about"] == {"kind": "case", "id": case_id}]
    assert box["unread"] >= 1 and not m["read"] and m["language"] == "en"
    assert "one-time notice" in m["subject"] and "Regulations Art 13 para 2" in m["body"]
    assert _deliver(web)["sent"] == []  # once

    en = web.client.get("/inbox?lang=en").text
    assert "<h1>Inbox</h1>" in en and m["subject"] in en and "Mark as read" in en
    zh = web.client.get("/inbox?lang=zh_CN").text
    assert "<h1>消息</h1>" in zh and "未读" in zh and "标为已读" in zh

    r = web.client.post(f"/inbox/{m['id']}/read", data={"csrf": csrf, "read": "1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/inbox#message-{m['id']}"
    [again] = [i for i in web.client.get("/api/v1/me/inbox").json()["items"] if i["id"] == m["id"]]
    assert again["read"] is True
    assert m["id"] not in [i["id"] for i in web.client.get("/api/v1/me/inbox?unread=true").json()["items"]]
    r = web.client.post(
        f"/api/v1/me/inbox/{m['id']}/read", json={"read": False}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 200 and r.json()["read"] is False

    # another account's message is not found, whoever asks
    other, other_csrf = _client(web, "bob")
    r = other.post(
        f"/api/v1/me/inbox/{m['id']}/read", json={"read": True}, headers={"X-CSRF-Token": other_csrf or ""}
    )
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert m["id"] not in [i["id"] for i in other.get("/api/v1/me/inbox").json()["items"]]


def test_the_chosen_language_by_default_is_chinese(web: Web) -> None:
    web.signin("alice")
    _notice(web)
    _deliver(web)
    [m, *_] = web.client.get("/api/v1/me/inbox").json()["items"]
    assert m["language"] == "zh_CN" and "一次性告知" in m["subject"]


def test_settings_say_email_is_not_offered_and_refuse_it(web: Web) -> None:
    csrf = web.signin("alice")
    prefs = web.client.get("/api/v1/me/notifications").json()
    assert prefs["offered"] == ["inbox"] and prefs["channels"] == ["inbox"]
    en = web.client.get("/my/notifications?lang=en").text
    assert "E-mail is not offered: this platform has no mail server configured." in en
    zh = web.client.get("/my/notifications?lang=zh_CN").text
    assert "暂不提供电子邮件：本平台未配置邮件服务器。" in zh and "消息设置" in zh

    r = web.client.put(
        "/api/v1/me/notifications",
        json={"language": "en", "channels": ["email"], "email": "alice@example.com"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 422 and r.json()["field"] == "channels", r.text
    page = web.client.post(
        "/my/notifications?lang=zh_CN",
        data={"csrf": csrf, "language": "en", "channels": "email", "email": "alice@example.com"},
    )
    assert page.status_code == 422 and "出现问题" in page.text and 'href="#channels"' in page.text
    page = web.client.post("/my/notifications?lang=en", data={"csrf": csrf, "language": "fr"})
    assert page.status_code == 422 and "Choose Chinese or English." in page.text
    assert web.client.get("/api/v1/me/notifications").json()["language"] == "zh_CN"  # nothing changed

    r = web.client.post("/my/notifications", data={"csrf": csrf, "language": "en"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/my/notifications?saved=1"
    assert web.client.get("/api/v1/me/notifications").json()["language"] == "en"
    assert "Your notification settings are saved." in web.client.get("/my/notifications?saved=1&lang=en").text


def test_a_supervisor_is_told_once_when_a_case_turns_near_then_overdue(web: Web) -> None:
    platform: Any = web.client.app.state.platform  # type: ignore[attr-defined]
    csrf = web.signin("sh01.officer")
    case_id = apply(web)
    command(web.client, csrf, case_id, "accept", 1, retention_reason="applicant_request")
    queue = web.client.get("/api/v1/office/queue?limit=500").json()["items"]
    deadline = dt.date.fromisoformat(next(i["deadline"] for i in queue if i["case_id"] == case_id))
    number = next(i["number"] for i in queue if i["case_id"] == case_id)

    def told() -> list[tuple[str, str]]:
        call(web, platform.obligations.sweep)
        call(web, platform.obligations.sweep)  # the same day twice: told once
        _deliver(web)
        web.signin("sh01.supervisor")
        box = web.client.get("/api/v1/me/inbox?limit=200").json()["items"]
        return sorted(
            (m["stage"], m["subject"]) for m in box if m["about"] == {"kind": "case", "id": case_id}
        )

    assert told() == []
    web.clock.set(dt.datetime.combine(deadline, dt.time(23, 59), tzinfo=web.clock.now().tzinfo))
    assert told() == [("near", f"案件{number}临近法定办理期限")]
    web.clock.advance(minutes=2)  # 00:01 the next day, Beijing time
    assert told() == [
        ("near", f"案件{number}临近法定办理期限"),
        ("overdue", f"案件{number}已超过法定办理期限"),
    ]
    web.signin("sh01.officer")  # an officer is not the one escalated to
    assert not [m for m in web.client.get("/api/v1/me/inbox").json()["items"] if m["about"]["id"] == case_id]
