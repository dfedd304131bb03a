"""Every date shown is the Beijing date, whatever the hour (issue 8).

One whole application (apply -> one-time notice -> supplement -> accept with receipt -> decide -> issue), each
step on its own day with the clock at 00:30, 07:59, 08:00, 16:01 and 23:59 Beijing time (before and after
midnight UTC), on both engines. Each date on the case pages (applicant and officer), the notice, receipt and
decision PDFs, the public check and the API answers is compared with the Beijing date of the step it records;
the pages, PDFs and checks are read again at the end, days later."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from fastapi.testclient import TestClient
from test_office import ALL, apply, call, command, files
from test_pdf import pdf_text
from web_support import Web

from cnvisa.cases.clock import SHANGHAI
from cnvisa.cases.service import Actor
from cnvisa.cases.workflow import Role
from cnvisa.law import calendar as workdays
from cnvisa.law.acceptance import receipt_valid_until

HOURS = (dt.time(0, 30), dt.time(7, 59), dt.time(8, 0), dt.time(16, 1), dt.time(23, 59))
FIRST_MONDAY = dt.date(2025, 11, 24)
STEPS = {"apply": 0, "notice": 1, "supplement": 2, "accept": 3, "decide": 4, "issue": 7}  # days after Monday
NOTICE_REPLY_WORKING_DAYS = 15  # the office rule (README: Cases and storage)
MATTER = "residence_permit_extension"


def medium(day: dt.date) -> str:
    return format_date(day, "medium", locale="en")


def long(day: dt.date) -> str:
    return format_date(day, "long", locale="en")


def flat(markup: str) -> str:
    """A page's or PDF's text on one line, tags and runs of white space as one space."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def day_of(instant: str) -> dt.date | str:
    """The Beijing date of an instant in an API answer (ISO 8601 with its offset); without an offset the
    answer names no instant, and that is what is compared (and reported)."""
    at = dt.datetime.fromisoformat(instant)
    return at.astimezone(SHANGHAI).date() if at.tzinfo else f"{instant} (no offset)"


class Checks:
    """Collects every wrong date of every hour and engine, to be reported at once."""

    def __init__(self, web: Web, tmp_path: Path) -> None:
        self.web, self.tmp_path = web, tmp_path
        self.wrong: list[str] = []
        self.label = ""

    def equal(self, what: str, got: object, want: object) -> None:
        if got != want:
            self.wrong.append(f"{self.label} {what}: {got!r}, expected {want!r}")

    def shows(self, what: str, text: str, *expected: str) -> None:
        for e in (" ".join(e.split()) for e in expected):  # Babel's narrow no-break spaces, as ``flat``
            if e not in text:
                self.wrong.append(f"{self.label} {what}: {e!r} not shown")

    def client(self, username: str) -> TestClient:
        """A browser signed in now (a day later the last one's session has expired)."""
        c = self.web.new_client()
        c.headers["X-CSRF-Token"] = self.web.signin(username, c)
        return c

    def pdf(self, client: TestClient, url: str) -> str:
        r = client.get(url, params={"lang": "en"})
        assert r.status_code == 200, (url, r.text)
        return " ".join(pdf_text(self.tmp_path, r.content, f"{uuid.uuid4().hex}.pdf")[1].split())

    def check_page(self, url: str) -> tuple[str, dict[str, Any]]:
        """The public check (page and API answer) behind a QR code, read by anyone."""
        path = url[url.index("/check/") :]
        anyone = self.web.new_client()
        page = anyone.get(path, params={"lang": "en"})
        api = anyone.get("/api/v1/public" + path)
        assert page.status_code == 200 and api.status_code == 200, (path, page.text, api.text)
        return flat(page.text), api.json()


def lifecycle(c: Checks, hour: dt.time, monday: dt.date) -> None:
    web = c.web
    on = {step: monday + dt.timedelta(days=n) for step, n in STEPS.items()}
    at = {step: dt.datetime.combine(day, hour, tzinfo=SHANGHAI) for step, day in on.items()}
    c.label = f"[{hour:%H:%M}]"
    alice_actor = Actor(web.ids["accounts"]["alice"], Role.APPLICANT, person_id=web.ids["people"][0])
    platform = web.client.app.state.platform  # type: ignore[attr-defined]

    web.clock.set(at["apply"])
    case_id = apply(web, materials=ALL[:4])
    alice = c.client("alice")
    mine = next(x for x in alice.get("/api/v1/cases").json() if x["case_id"] == case_id)
    number = mine["number"]
    c.equal("case number's date", number.split("-")[1], f"{on['apply']:%Y%m%d}")
    c.equal("API: applied at", day_of(mine["created_at"]), on["apply"])

    web.clock.set(at["notice"])
    officer = c.client("sh01.officer")
    notice = command(officer, officer.headers["X-CSRF-Token"], case_id, "issue_notice", 1)
    respond_by = workdays.add_working_days(on["notice"], NOTICE_REPLY_WORKING_DAYS)
    c.equal("API: notice reply by", notice["notice"]["respond_by"], respond_by.isoformat())
    alice = c.client("alice")
    text = c.pdf(alice, f"/cases/{case_id}/notice.pdf")
    c.shows(
        "notice PDF on the day", text, f"Issued on {long(on['notice'])}", f"Printed on {long(on['notice'])}"
    )

    web.clock.set(at["supplement"])
    call(
        web,
        platform.cases.supplement,
        alice_actor,
        case_id,
        notice["version"],
        key=uuid.uuid4().hex,
        files=files("work_permit", "health_certificate"),
    )

    web.clock.set(at["accept"])
    officer = c.client("sh01.officer")
    csrf = officer.headers["X-CSRF-Token"]
    version = officer.get(f"/api/v1/office/cases/{case_id}").json()["case"]["version"]
    accepted = command(
        officer, csrf, case_id, "accept", version, passport_kept=False, passport_on_record=True
    )
    until = receipt_valid_until(MATTER, on["accept"])
    assert until is not None
    c.equal("API: receipt valid until", accepted["receipt_valid_until"], until.isoformat())
    text = c.pdf(officer, f"/cases/{case_id}/receipt.pdf")
    c.shows(
        "receipt PDF on the day",
        text,
        f"Accepted on {long(on['accept'])}",
        f"Printed on {long(on['accept'])}",
    )

    web.clock.set(at["decide"])
    officer = c.client("sh01.officer")
    # the case core takes the validity the officer grants (cnvisa.cases.grants); the approval is theirs
    officer_actor = Actor(
        web.ids["accounts"]["sh01.officer"], Role.OFFICER, office_id=web.ids["offices"]["SH01"]
    )
    decided = call(
        web,
        platform.cases.approve,
        officer_actor,
        case_id,
        accepted["version"],
        key=uuid.uuid4().hex,
        validity_days=365,
    )

    web.clock.set(at["issue"])
    officer = c.client("sh01.officer")
    issued = command(officer, officer.headers["X-CSRF-Token"], case_id, "issue", decided["version"])
    assert issued["state"] == "issued", issued

    # --- everything read again on the last day
    view = officer.get(f"/api/v1/office/cases/{case_id}").json()
    case, docs = view["case"], view["documents"]
    c.equal("office API: applied at", day_of(case["created_at"]), on["apply"])
    c.equal("office API: updated at", day_of(case["updated_at"]), on["issue"])
    c.equal("office API: accepted on", case["accepted_on"], on["accept"].isoformat())
    c.equal("office API: receipt issued at", day_of(case["receipt"]["issued_at"]), on["accept"])
    c.equal("office API: receipt valid until", docs["receipt"]["valid_until"], until.isoformat())
    c.equal("office API: deadline", case["deadline"], until.isoformat())
    uploaded = sorted(day_of(f["uploaded_at"]) for f in view["files"])
    c.equal("office API: uploads", uploaded, [on["apply"]] * 4 + [on["supplement"]] * 2)
    n = docs["notices"][0]
    c.equal("office API: notice issued at", day_of(n["issued_at"]), on["notice"])
    c.equal("office API: notice issued on", n["issued_on"], on["notice"].isoformat())
    c.equal("office API: notice reply by", n["respond_by"], respond_by.isoformat())
    c.equal("office API: decided on", docs["decision"]["decided_on"], on["decide"].isoformat())
    c.equal(
        "office API: document valid from", docs["decision"]["document"]["valid_from"], on["issue"].isoformat()
    )
    history = {e["action"]: day_of(e["at"]) for e in view["history"] if e["action"] != "read"}
    c.equal(
        "office API: history",
        history,
        {
            "apply": on["apply"],
            "issue_notice": on["notice"],
            "supplement": on["supplement"],
            "accept": on["accept"],
            "approve": on["decide"],
            "issue": on["issue"],
        },
    )

    page = flat(officer.get(f"/office/cases/{case_id}", params={"lang": "en"}).text)
    c.shows(
        "officer's case page",
        page,
        f"Issued on {medium(on['notice'])} · Reply by {medium(respond_by)}",
        f"Accepted on {long(on['accept'])}",
        f"Decided on {medium(on['decide'])}",
        *(
            format_datetime(at[s], "medium", tzinfo=SHANGHAI, locale="en")
            for s in ("apply", "notice", "issue")
        ),
    )

    alice = c.client("alice")
    row = re.search(
        rf"<tr>(?:(?!</tr>).)*{number}(?:(?!</tr>).)*</tr>", alice.get("/my/cases?lang=en").text, re.S
    )
    c.shows("applicant's list", flat(row.group(0)) if row else "", medium(on["apply"]), medium(until))
    page = flat(alice.get(f"/my/cases/{case_id}", params={"lang": "en"}).text)
    c.shows(
        "applicant's case page",
        page,
        f"accepted on {medium(on['accept'])}",
        f"answer by {medium(respond_by)}",
    )
    progress = alice.get(f"/api/v1/cases/{case_id}").json()
    c.equal("applicant API: receipt issued at", day_of(progress["receipt"]["issued_at"]), on["accept"])
    c.equal("applicant API: accepted on", progress["accepted_on"], on["accept"].isoformat())
    c.equal("applicant API: notice reply by", progress["notices"][0]["respond_by"], respond_by.isoformat())
    printed = f"Printed on {long(on['issue'])}"
    text = c.pdf(alice, f"/cases/{case_id}/notice.pdf")
    c.shows("notice PDF", text, f"Issued on {long(on['notice'])}", f"Reply by {long(respond_by)}", printed)
    text = c.pdf(alice, f"/cases/{case_id}/receipt.pdf")
    c.shows("receipt PDF", text, f"Accepted on {long(on['accept'])}", f"Valid until {long(until)}", printed)
    text = c.pdf(alice, f"/cases/{case_id}/decision.pdf")
    c.shows(
        "decision PDF", text, f"Decided on {long(on['decide'])}", f"Valid from {long(on['issue'])}", printed
    )

    for kind, url, label, day in (
        ("notice", n["check_url"], "Issued on", on["notice"]),
        ("receipt", docs["receipt"]["check_url"], "Accepted on", on["accept"]),
        ("decision", docs["decision"]["check_url"], "Decided on", on["decide"]),
    ):
        shown, answer = c.check_page(url)
        c.shows(
            f"public check of the {kind}", shown, f"{label} {long(day)}", f"Checked on {long(on['issue'])}"
        )
        c.equal(f"public check API of the {kind}: from", answer["valid_from"], day.isoformat())
        c.equal(f"public check API of the {kind}: checked on", answer["checked_on"], on["issue"].isoformat())


def test_every_date_is_the_beijing_date_at_any_hour(web: Web, tmp_path: Path) -> None:
    c = Checks(web, tmp_path)
    for i, hour in enumerate(HOURS):
        lifecycle(c, hour, FIRST_MONDAY + dt.timedelta(weeks=2 * i))
    assert not c.wrong, f"{len(c.wrong)} wrong date(s) on {web.db_url.split(':')[0]}:\n" + "\n".join(c.wrong)
