"""Messages that tell the reader what they need: how long a lockout lasts, what the fee of a residence-permit
matter is and who states it."""

from __future__ import annotations

from test_auth import page_signin
from web_support import PASSWORDS, Web


def test_the_lockout_message_says_for_how_long(web: Web) -> None:
    for _ in range(5):
        assert page_signin(web.client, "bob", "nope").status_code == 401
    web.clock.advance(minutes=3)
    api = web.client.post("/api/v1/auth/signin", json={"username": "bob", "password": PASSWORDS["bob"]})
    assert api.status_code == 429 and api.json()["code"] == "locked_out"
    assert 11 * 60 < int(api.headers["retry-after"]) <= 12 * 60 + 1  # locked 15 minutes from 09:00
    assert "09:15 Beijing time" in api.json()["detail"]
    web.client.cookies.set("lang", "en")
    en = page_signin(web.client, "bob", PASSWORDS["bob"])
    assert en.status_code == 429 and "locked for 12 more minutes, until 09:15 Beijing time" in en.text
    web.client.cookies.set("lang", "zh_CN")
    zh = page_signin(web.client, "bob", PASSWORDS["bob"])
    assert zh.status_code == 429 and "12" in zh.text and "北京时间09:15" in zh.text


def test_the_fee_of_a_residence_permit_extension_says_who_states_it(web: Web) -> None:
    query = (
        "check=1&residence_permit.type=work&residence_permit.valid_until=2026-01-31"
        "&requested.validity_days=365"
    )
    en = web.client.get(f"/what-do-i-need/residence_permit_extension?lang=en&{query}")
    assert en.status_code == 200, en.text
    fee = en.text.split("<dt>Fee</dt>")[1].split("</dd>")[0]
    assert "Not set by the Guide" not in fee
    # 365 days is the one-to-three-years band of 发改价格〔2004〕2230号: who sets it and who charges it
    assert "CNY 800" in fee and "发改价格〔2004〕2230号" in fee
    assert "exit-entry administration that receives the application" in fee
    zh = web.client.get(f"/what-do-i-need/residence_permit_extension?lang=zh_CN&{query}")
    zh_fee = zh.text.split("<dt>收费</dt>")[1].split("</dd>")[0]
    assert "出入境管理机构" in zh_fee and "发改价格〔2004〕2230号" in zh_fee and "800" in zh_fee
    # without the validity asked for, no amount, but the standard and the office that charges it
    no_validity = query.replace("&requested.validity_days=365", "")
    en = web.client.get(f"/what-do-i-need/residence_permit_extension?lang=en&{no_validity}")
    fee = en.text.split("<dt>Fee</dt>")[1].split("</dd>")[0]
    assert "CNY" not in fee and "发改价格〔2004〕2230号" in fee and "give the validity you ask for" in fee
