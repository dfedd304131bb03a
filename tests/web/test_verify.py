"""Identity verification for institutions (Regulations Art 27) and the holder's "who checked my documents"."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from test_org import db, separate_organisations, signed_in
from web_support import TODAY, Web

from cnvisa.cases.clock import SHANGHAI
from cnvisa.cases.identity import name_matches
from cnvisa.http.settings import Settings
from cnvisa.store.tables import (
    AuditEvent,
    Holding,
    IdentityCheck,
    Movement,
    Organisation,
    Person,
    TravelDocument,
)

PURPOSE = "opening a bank account"


@pytest.fixture
def orgs(web: Web) -> dict[str, int]:
    return separate_organisations(web)


def identity(web: Web, index: int) -> dict[str, Any]:
    """A demo person's passport number, name and birth date (what a customer shows the bank)."""

    async def read(s: AsyncSession) -> dict[str, Any]:
        pid = web.ids["people"][index]
        person = await s.get(Person, pid)
        assert person is not None
        number = (
            await s.execute(select(TravelDocument.number).where(TravelDocument.person_id == pid))
        ).scalar_one()
        return {
            "document_number": number,
            "name": f"{person.surname} {person.given_names}",
            "birth_date": person.birth_date.isoformat(),
            "purpose": PURPOSE,
        }

    return db(web, read)


def ask(client: Any, csrf: str | None, **body: Any) -> Any:
    return client.post("/api/v1/verify", json=body, headers={"X-CSRF-Token": csrf} if csrf else {})


def test_match_and_covered_and_nothing_else(web: Web, orgs: dict[str, int]) -> None:
    bank, csrf = signed_in(web, "bank.teller")
    alice = identity(web, 0)  # a work-type residence permit valid until TODAY + 165 days
    r = ask(bank, csrf, **alice)
    assert r.status_code == 200 and r.json() == {"match": True, "covered": True}
    assert set(r.json()) == {"match", "covered"}  # no names, dates or document details
    # the permit number identifies her too; the given names may come first
    surname, given = alice["name"].split(" ", 1)
    r = ask(bank, csrf, **{**alice, "document_number": "J25DEMO0001", "name": f"{given}, {surname}".lower()})
    assert r.json() == {"match": True, "covered": True}
    # the check answers for today (Art 27: "while handling business"): on the permit's last day still
    # covered, the day after still her, no longer covered
    web.clock.set(dt.datetime.combine(TODAY + dt.timedelta(days=165), dt.time(9), tzinfo=SHANGHAI))
    bank, csrf = signed_in(web, "bank.teller")
    assert ask(bank, csrf, **alice).json() == {"match": True, "covered": True}
    web.clock.set(dt.datetime.combine(TODAY + dt.timedelta(days=166), dt.time(9), tzinfo=SHANGHAI))
    bank, csrf = signed_in(web, "bank.teller")
    assert ask(bank, csrf, **alice).json() == {"match": True, "covered": False}


def test_no_match(web: Web, orgs: dict[str, int]) -> None:
    bank, csrf = signed_in(web, "bank.teller")
    alice = identity(web, 0)
    wrong_birth = (dt.date.fromisoformat(alice["birth_date"]) + dt.timedelta(days=1)).isoformat()
    for body in (
        {**alice, "birth_date": wrong_birth},
        {**alice, "name": "SOMEONE ELSE"},
        {**alice, "document_number": "ZZ0000000"},
        {**alice, "document_number": identity(web, 1)["document_number"]},  # bob's passport
    ):
        r = ask(bank, csrf, **body)
        assert r.status_code == 200 and r.json() == {"match": False, "covered": False}


def test_visa_stay_running_covers_until_its_last_day(web: Web, orgs: dict[str, int]) -> None:
    """A demo person entered on a 90-day visa (no permit): covered during the stay only (Art 36 para 1(3))."""
    person = web.ids["people"][3]

    async def entry(s: AsyncSession) -> tuple[dt.date, int]:
        m = (await s.execute(select(Movement).where(Movement.person_id == person))).scalars().first()
        h = await s.get(Holding, m.holding_id) if m else None
        assert m is not None and h is not None and h.stay_days
        return m.on, h.stay_days

    entered, stay = db(web, entry)
    who = identity(web, 3)
    last = entered + dt.timedelta(days=stay)
    web.clock.set(dt.datetime.combine(last, dt.time(9), tzinfo=SHANGHAI))
    bank, csrf = signed_in(web, "bank.teller")
    assert ask(bank, csrf, **who).json() == {"match": True, "covered": True}
    web.clock.set(dt.datetime.combine(last + dt.timedelta(days=1), dt.time(9), tzinfo=SHANGHAI))
    bank, csrf = signed_in(web, "bank.teller")
    assert ask(bank, csrf, **who).json() == {"match": True, "covered": False}


def test_every_check_is_logged_and_audited(web: Web, orgs: dict[str, int]) -> None:
    bank, csrf = signed_in(web, "bank.teller")
    ask(bank, csrf, **identity(web, 0))
    ask(bank, csrf, **{**identity(web, 0), "name": "NOBODY"})

    async def read(s: AsyncSession) -> tuple[list[tuple[bool, bool, int | None]], int]:
        rows = (await s.execute(select(IdentityCheck).order_by(IdentityCheck.id))).scalars().all()
        audited = (
            await s.execute(select(func.count()).where(AuditEvent.action == "identity_check"))
        ).scalar_one()
        return [(r.matched, r.covered, r.holder_person_id) for r in rows], audited

    rows, audited = db(web, read)
    alice = web.ids["people"][0]
    assert rows == [(True, True, alice), (False, False, alice)] and audited == 2


def test_rate_limit_per_verifier_account(web: Web, orgs: dict[str, int]) -> None:
    platform = web.client.app.state.platform  # type: ignore[attr-defined]
    web.client.app.state.platform = dataclasses.replace(  # type: ignore[attr-defined]
        platform, settings=dataclasses.replace(platform.settings, identity_checks_per_minute=3)
    )
    bank, csrf = signed_in(web, "bank.teller")
    alice = identity(web, 0)
    for _ in range(3):
        assert ask(bank, csrf, **alice).status_code == 200
    r = ask(bank, csrf, **alice)
    assert r.status_code == 429 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "rate_limited" and r.json()["retry_after"] >= 1
    page = bank.post("/verify", data={"csrf": csrf, **alice})
    assert page.status_code == 429 and 'role="alert"' in page.text
    assert "<title>Error: " in page.text  # an error page says so first (issue 15 item 3, GOV.UK)
    web.clock.advance(seconds=61)
    assert ask(bank, csrf, **alice).status_code == 200
    assert Settings().identity_checks_per_minute == 30  # the default


def test_bearer_token_works_without_csrf(web: Web, orgs: dict[str, int]) -> None:
    bank, csrf = signed_in(web, "bank.teller")
    assert bank.post("/api/v1/verify/tokens", json={"label": "core banking"}).status_code == 403  # CSRF
    made = bank.post("/api/v1/verify/tokens", json={"label": "core banking"}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201 and made.json()["token"].startswith("cnv_")
    token = made.json()["token"]
    api = web.new_client()  # no cookie: an institution's server
    auth = {"Authorization": f"Bearer {token}"}
    r = api.post("/api/v1/verify", json=identity(web, 0), headers=auth)
    assert r.status_code == 200 and r.json() == {"match": True, "covered": True}
    # a token does not mint tokens; an unknown token is refused
    assert api.post("/api/v1/verify/tokens", json={"label": "x"}, headers=auth).status_code == 403
    bad = api.post("/api/v1/verify", json=identity(web, 0), headers={"Authorization": "Bearer cnv_nope"})
    assert bad.status_code == 401
    # a session without the CSRF token is refused
    r = ask(bank, None, **identity(web, 0))
    assert r.status_code == 403 and r.json()["code"] == "csrf"


def test_non_verifiers_are_refused(web: Web, orgs: dict[str, int]) -> None:
    body = identity(web, 0)
    assert web.new_client().post("/api/v1/verify", json=body).status_code == 401
    for username in ("alice", "carol", "sh01.officer", "employer.hr", "admin"):
        client, csrf = signed_in(web, username)
        r = ask(client, csrf, **body)
        assert r.status_code == 403 and r.json()["code"] == "forbidden", username
        assert (
            client.post(
                "/api/v1/verify/tokens", json={"label": "x"}, headers={"X-CSRF-Token": csrf}
            ).status_code
            == 403
        )
        assert client.get("/verify").status_code == 403
    assert web.new_client().get("/verify").status_code == 303


def test_a_verifier_outside_the_art_27_sectors_is_refused(web: Web, orgs: dict[str, int]) -> None:
    async def make_travel_agency(s: AsyncSession) -> None:
        await s.execute(
            update(Organisation).where(Organisation.id == orgs["bank"]).values(kind="travel_agency")
        )

    db(web, make_travel_agency)
    bank, csrf = signed_in(web, "bank.teller")
    r = ask(bank, csrf, **identity(web, 0))
    assert r.status_code == 403 and r.json()["rule"] == "Regulations Art 27"
    assert r.json()["code"] == "sector_not_allowed"
    assert [(x["reason"], x["rule"]) for x in _refusals(web)] == [
        ("sector_not_allowed", "Regulations Art 27")
    ]

    async def count(s: AsyncSession) -> int:
        return int((await s.execute(select(func.count()).select_from(IdentityCheck))).scalar_one())

    assert db(web, count) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("document_number", "12"),
        ("name", "  "),
        ("purpose", ""),
        ("birth_date", "someday"),
        ("on", "1.1.2025"),
        ("on", (TODAY + dt.timedelta(days=1)).isoformat()),  # only today is answered (Art 27)
        ("on", (TODAY - dt.timedelta(days=1)).isoformat()),
    ],
)
def test_bad_input_names_the_field(web: Web, orgs: dict[str, int], field: str, value: str) -> None:
    bank, csrf = signed_in(web, "bank.teller")
    r = ask(bank, csrf, **{**identity(web, 0), field: value})
    assert r.status_code == 422 and r.json()["field"] == field


def test_names_match_in_either_order() -> None:
    assert name_matches("Li Hassan", "HASSAN", "LI")
    assert name_matches("hassan,  li", "HASSAN", "LI")
    assert name_matches("SMITH<<JOHN<PAUL", "SMITH", "JOHN PAUL")
    assert not name_matches("HASSAN", "HASSAN", "LI")
    assert not name_matches("", "HASSAN", "")


# --- who checked my documents ----------------------------------------------------------------------------


def test_the_holder_sees_the_checks_of_their_documents_only(web: Web, orgs: dict[str, int]) -> None:
    bank, csrf = signed_in(web, "bank.teller")
    ask(bank, csrf, **identity(web, 0))
    ask(bank, csrf, **{**identity(web, 0), "name": "AN IMPOSTOR"})  # her passport, someone else's name
    ask(bank, csrf, **{**identity(web, 2), "purpose": "SIM card"})  # carol's relative
    alice, _ = signed_in(web, "alice")
    mine = alice.get("/api/v1/me/checks")
    assert mine.status_code == 200
    checks = mine.json()
    assert len(checks) == 2 and {c["person_id"] for c in checks} == {web.ids["people"][0]}
    assert {(c["match"], c["covered"]) for c in checks} == {(True, True), (False, False)}
    first = checks[-1]
    assert (
        first["institution"] == "Demo Bank" and first["purpose"] == PURPOSE and first["sector"] == "finance"
    )
    assert first["at"].startswith("2025-11-20T01:00")  # 09:00 Beijing time, in UTC
    bob, _ = signed_in(web, "bob")
    assert bob.get("/api/v1/me/checks").json() == []
    carol, _ = signed_in(web, "carol")  # an agent sees the checks of the person she holds a mandate for
    theirs = carol.get("/api/v1/me/checks").json()
    assert [c["purpose"] for c in theirs] == ["SIM card"] and theirs[0]["person_id"] == web.ids["people"][2]
    for username in ("bank.teller", "sh01.officer", "employer.hr"):
        client, _ = signed_in(web, username)
        assert client.get("/api/v1/me/checks").status_code == 403


# --- pages ---------------------------------------------------------------------------------------------------


def test_verify_page_answers_only_match_and_covered(web: Web, orgs: dict[str, int]) -> None:
    bank, csrf = signed_in(web, "bank.teller")
    form = bank.get("/verify")
    assert (
        form.status_code == 200
        and 'name="csrf"' in form.text
        and '<label for="document_number">' in form.text
    )
    alice = identity(web, 0)
    r = bank.post("/verify", data={"csrf": csrf, **alice})
    assert r.status_code == 200 and "Match" in r.text and "Covered" in r.text
    assert "J25DEMO0001" not in r.text  # nothing about her documents
    assert bank.post("/verify", data=alice).status_code == 403  # no CSRF token
    bad = bank.post("/verify", data={"csrf": csrf, **alice, "birth_date": "x"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    made = bank.post("/verify/tokens", data={"csrf": csrf, "label": "teller desk"})
    assert made.status_code == 200 and "cnv_" in made.text


def test_pages_in_chinese(web: Web, orgs: dict[str, int]) -> None:
    bank, csrf = signed_in(web, "bank.teller")
    page = bank.get("/verify?lang=zh_CN")
    assert page.status_code == 200 and 'lang="zh-CN"' in page.text and "身份信息核查" in page.text
    r = bank.post("/verify?lang=zh_CN", data={"csrf": csrf, **identity(web, 0)})
    assert "一致" in r.text and "《条例》第二十七条" in r.text
    alice, _ = signed_in(web, "alice")
    mine = alice.get("/my/checks?lang=zh_CN")
    assert mine.status_code == 200 and "谁核查了我的证件" in mine.text
    assert "Demo Bank" in mine.text and "金融" in mine.text and PURPOSE in mine.text
    assert "2025年11月20日" in mine.text
    assert web.new_client().get("/my/checks").status_code == 303  # to the sign-in page
    bob, _ = signed_in(web, "bob")
    assert "尚无单位核查您的证件" in bob.get("/my/checks?lang=zh_CN").text


def _limits(web: Web, **limits: int) -> None:
    platform = web.client.app.state.platform  # type: ignore[attr-defined]
    web.client.app.state.platform = dataclasses.replace(  # type: ignore[attr-defined]
        platform, settings=dataclasses.replace(platform.settings, **limits)
    )


def _refusals(web: Web) -> list[dict[str, Any]]:
    async def read(s: AsyncSession) -> list[dict[str, Any]]:
        q = (
            select(AuditEvent.detail)
            .where(AuditEvent.action == "identity_check_refused")
            .order_by(AuditEvent.at, AuditEvent.seq)
        )
        return [dict(d) for d in (await s.execute(q)).scalars()]

    return db(web, read)


def test_bisection_on_the_date_cannot_find_the_last_valid_day(web: Web, orgs: dict[str, int]) -> None:
    """Issue 13, defect 7: asking for dates between today and two years ahead and halving the interval found the
    permit's last day in 14 calls. The check now answers for today only: every other date is refused (422 naming
    ``on``, audited), so the answers carry nothing about the expiry."""
    _limits(
        web, identity_checks_per_document_per_day=100
    )  # the bisection alone, not the daily cap, is tested
    bank, csrf = signed_in(web, "bank.teller")
    alice = identity(web, 0)
    lo, hi = TODAY, TODAY + dt.timedelta(days=730)
    answers = []
    for _ in range(14):
        mid = lo + (hi - lo) / 2
        r = ask(bank, csrf, **alice, on=mid.isoformat())
        if mid != TODAY:  # halving from today ends by asking for today itself, which is answered
            answers.append((r.status_code, r.json().get("field"), r.json().get("covered")))
        if r.status_code == 200 and r.json()["covered"]:
            lo = mid
        else:
            hi = mid
    assert answers == [(422, "on", None)] * len(answers) and len(answers) >= 9
    assert hi < TODAY + dt.timedelta(days=2)  # what the attack "found" is not the permit's last day (+165)
    assert "Art 27" in ask(bank, csrf, **alice, on=hi.isoformat()).json()["detail"]
    today = ask(bank, csrf, **alice, on=TODAY.isoformat())  # today, named or not, is answered
    assert today.status_code == 200 and today.json() == ask(bank, csrf, **alice).json()
    refused = _refusals(web)
    assert len(refused) == len(answers) + 1 and {r["reason"] for r in refused} == {"bad_input"}
    assert {r["field"] for r in refused} == {"on"} and refused[0]["document"] == alice["document_number"]
    assert (
        "name" not in refused[0] and "birth_date" not in refused[0]
    )  # what was asked about the person is not kept
    # the page offers no date: it checks today
    form = bank.get("/verify?lang=en")
    assert 'name="on"' not in form.text and "today" in form.text


def test_daily_caps_per_verifier_and_per_document(web: Web, orgs: dict[str, int]) -> None:
    """Probing is limited per verifier account: a minute (``identity_checks_per_minute``), a Beijing day
    (``identity_checks_per_day``), and a day per institution and document number
    (``identity_checks_per_document_per_day``: guessing names or birth dates for one passport); refusals are
    audited."""
    _limits(
        web, identity_checks_per_minute=100, identity_checks_per_day=5, identity_checks_per_document_per_day=3
    )
    bank, csrf = signed_in(web, "bank.teller")
    alice, bob = identity(web, 0), identity(web, 1)
    wrong = {**alice, "birth_date": "1990-01-01"}
    assert [ask(bank, csrf, **b).status_code for b in (alice, wrong, wrong)] == [200, 200, 200]
    fourth = ask(bank, csrf, **wrong)
    assert fourth.status_code == 429 and fourth.json()["code"] == "rate_limited"
    assert fourth.json()["rule"] == "Settings.identity_checks_per_document_per_day"
    assert fourth.json()["retry_after"] >= 1 and "match" not in fourth.json()
    assert [ask(bank, csrf, **bob).status_code for _ in range(2)] == [200, 200]  # another document: 5 today
    sixth = ask(bank, csrf, **bob)
    assert sixth.status_code == 429 and sixth.json()["rule"] == "Settings.identity_checks_per_day"
    web.clock.advance(seconds=3600)
    assert ask(bank, csrf, **bob).status_code == 429  # a day, not a minute
    page = bank.post("/verify?lang=zh_CN", data={"csrf": csrf, **bob})
    assert page.status_code == 429 and 'role="alert"' in page.text and "今日" in page.text
    assert [r["reason"] for r in _refusals(web)] == ["rate_limited"] * 4
    assert {r["rule"] for r in _refusals(web)} == {
        "Settings.identity_checks_per_document_per_day",
        "Settings.identity_checks_per_day",
    }
    web.clock.set(dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(9), tzinfo=SHANGHAI))
    bank, csrf = signed_in(web, "bank.teller")
    assert ask(bank, csrf, **wrong).status_code == 200  # a new Beijing day
    defaults = Settings()
    assert (defaults.identity_checks_per_day, defaults.identity_checks_per_document_per_day) == (500, 5)


def test_a_rate_limited_check_is_audited(web: Web, orgs: dict[str, int]) -> None:
    _limits(web, identity_checks_per_minute=1)
    bank, csrf = signed_in(web, "bank.teller")
    assert ask(bank, csrf, **identity(web, 0)).status_code == 200
    assert ask(bank, csrf, **identity(web, 0)).status_code == 429
    refused = _refusals(web)
    assert [(r["reason"], r["rule"]) for r in refused] == [
        ("rate_limited", "Settings.identity_checks_per_minute")
    ]


def test_a_token_id_beyond_64_bits_is_bad_input_not_a_server_error(web: Web) -> None:
    """A row id is a 64-bit integer: a larger one is refused naming it (it overflowed PostgreSQL's BIGINT)."""
    teller, csrf = signed_in(web, "bank.teller")
    huge = 2**63
    r = teller.delete(f"/api/v1/verify/tokens/{huge}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and r.json()["field"].endswith("token_id"), r.text
    page = teller.post(f"/verify/tokens/{huge}/revoke", data={"csrf": csrf})
    assert page.status_code == 422
