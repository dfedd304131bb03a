"""The single window's passport (免留存护照, issue 10 §4) on its pages, as at a plain case's page: at the one
acceptance the officer reads the passport (the one on record, or another one's MRZ), returns it and agrees a
collection slot within the receipt, or keeps it with a reason; the window, the progress page and the receipt PDF
say so; at the collection of both permits the same passport or the holder's new one must be read and checked.
On SQLite and PostgreSQL (the ``web`` fixture)."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from test_joint_pages import SUMMARY, joint, signed_in
from test_org import db
from web_support import Web

from cnvisa.demo.vocab import mrz
from cnvisa.store.joint_tables import JointApplication
from cnvisa.store.passport_tables import PassportCheck
from cnvisa.store.tables import Appointment, Person, TravelDocument

SLOT = re.compile(r'<option value="(\d{4}-\d{2}-\d{2} \d{2}:\d{2})"')


def _person_and_checks(web: Web, joint_id: int) -> tuple[Person, TravelDocument, list[PassportCheck]]:
    async def go(s: AsyncSession) -> tuple[Person, TravelDocument, list[PassportCheck]]:
        j = await s.get(JointApplication, joint_id)
        assert j is not None
        person = await s.get(Person, j.person_id)
        assert person is not None
        doc = (
            (
                await s.execute(
                    select(TravelDocument)
                    .where(TravelDocument.person_id == person.id, TravelDocument.current.is_(True))
                    .order_by(TravelDocument.id.desc())
                )
            )
            .scalars()
            .first()
        )
        assert doc is not None
        checks = (
            (
                await s.execute(
                    select(PassportCheck).where(PassportCheck.case_id == j.case_id).order_by(PassportCheck.id)
                )
            )
            .scalars()
            .all()
        )
        return person, doc, list(checks)

    return db(web, go)


def test_the_one_acceptance_reads_the_passport_returns_it_and_books_the_slot_agreed(web: Web) -> None:
    c, csrf = signed_in(web, "sh01.officer")
    jid = joint(web, "submitted")
    view = c.get(f"/api/v1/joint-applications/{jid}").json()
    page = c.get(f"/office/joint-applications/{jid}?lang=zh_CN")
    assert page.status_code == 200
    for control in (
        'id="passport_mrz_line1"',
        'id="passport-returned"',
        'id="collection"',
        'id="retention_reason"',
    ):
        assert control in page.text, control
    slots = SLOT.findall(page.text)
    assert slots, "the office's free collection slots within the receipt are offered"
    _person, doc, before = _person_and_checks(web, jid)
    assert doc.mrz and not before
    line1, line2 = doc.mrz.split("\n")

    # a malformed MRZ: named beside its field, nothing written
    bad = c.post(
        f"/office/joint-applications/{jid}/accept?lang=en",
        data={"csrf": csrf, "version": str(view["version"]), "passport_source": "read",
              "passport_mrz_line1": "P<NOT", "passport_mrz_line2": "AN MRZ", "passport": "returned"},
    )  # fmt: skip
    assert bad.status_code == 422
    summary = SUMMARY.search(bad.text)
    assert summary and 'href="#passport_mrz_line1"' in summary.group(0)
    assert 'value="P&lt;NOT"' in bad.text or 'value="P<NOT"' in bad.text  # what was typed is shown again
    assert c.get(f"/api/v1/joint-applications/{jid}").json()["state"] == "submitted"

    # the MRZ read at the window, the passport returned, the slot agreed: the one receipt says so
    day, slot = slots[-1].split(" ")
    r = c.post(
        f"/office/joint-applications/{jid}/accept",
        data={"csrf": csrf, "version": str(view["version"]), "passport_source": "read",
              "passport_mrz_line1": line1, "passport_mrz_line2": line2, "passport": "returned",
              "collection": f"{day} {slot}"},
    )  # fmt: skip
    assert r.status_code == 303, r.text[:600]
    _person, _doc, checks = _person_and_checks(web, jid)
    (check,) = checks
    assert (check.stage, check.outcome, check.travel_document_id) == ("acceptance", "returned", doc.id)
    assert (
        check.checked_by == web.ids["accounts"]["sh01.officer"] and check.mrz_valid and check.holder_matches
    )

    async def appointment(s: AsyncSession) -> Appointment | None:
        return await s.get(Appointment, check.appointment_id)

    appt = db(web, appointment)
    assert appt is not None and (appt.day.isoformat(), appt.slot) == (day, slot)
    receipt_end = c.get(f"/api/v1/joint-applications/{jid}").json()["clocks"]["residence_receipt_valid_until"]
    assert dt.date.fromisoformat(day) <= dt.date.fromisoformat(receipt_end)

    for who, url in (
        ("sh01.officer", f"/office/joint-applications/{jid}"),
        ("employer.hr", f"/joint-applications/{jid}"),
    ):
        reader, _ = signed_in(web, who) if who != "sh01.officer" else (c, csrf)
        for lang, returned, proof in (
            (
                "en",
                "Returned to the applicant after the on-site check",
                "still proof that its holder resides",
            ),
            ("zh_CN", "经现场查验后退还申请人", "合法居留"),
        ):
            shown = reader.get(f"{url}?lang={lang}")
            assert shown.status_code == 200, (who, lang)
            assert returned in shown.text and proof in shown.text, (who, lang)
            assert doc.number in shown.text and slot in shown.text, (who, lang)
    pdf = c.get(f"/cases/{view['residence_branch']['case_id']}/receipt.pdf?lang=en")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"


def test_the_collection_of_both_takes_the_same_or_a_new_passport_read_again(web: Web) -> None:
    c, csrf = signed_in(web, "sh01.officer")
    jid = joint(web, "issued")  # the demo accepted it with the passport read and returned
    page = c.get(f"/office/joint-applications/{jid}?lang=en")
    assert page.status_code == 200 and 'id="collect_passport_mrz_line1"' in page.text
    person, doc, checks = _person_and_checks(web, jid)
    assert [(x.stage, x.outcome) for x in checks] == [("acceptance", "returned")]
    version = str(c.get(f"/api/v1/joint-applications/{jid}").json()["version"])

    # presented, but no passport read: refused, the MRZ field named (Guide X; the measure's own rule)
    r = c.post(
        f"/office/joint-applications/{jid}/collect_together?lang=en",
        data={
            "csrf": csrf,
            "version": version,
            "passport_presented": "yes",
            "collect_passport_source": "read",
        },
    )
    assert r.status_code == 422
    summary = SUMMARY.search(r.text)
    assert summary and 'href="#collect_passport_mrz_line1"' in summary.group(0), r.text[:800]
    # another person's passport: refused
    stranger = mrz("SMITH", "JOHN", "USA", "X12345678", dt.date(1980, 1, 2), "M", dt.date(2033, 1, 1))
    r = c.post(
        f"/office/joint-applications/{jid}/collect_together?lang=en",
        data={"csrf": csrf, "version": version, "passport_presented": "yes", "collect_passport_source": "read",
              "collect_passport_mrz_line1": stranger.split("\n")[0],
              "collect_passport_mrz_line2": stranger.split("\n")[1]},
    )  # fmt: skip
    assert r.status_code == 422
    assert c.get(f"/api/v1/joint-applications/{jid}").json()["state"] == "issued"
    # the holder's new passport, read and checked again: both permits handed over
    assert person.birth_date is not None
    new = mrz(person.surname, person.given_names, person.nationality, "N0NEW7788", person.birth_date,
              person.sex or "F", dt.date(2035, 3, 1))  # fmt: skip
    assert doc.number != "N0NEW7788"
    r = c.post(
        f"/office/joint-applications/{jid}/collect_together",
        data={"csrf": csrf, "version": version, "passport_presented": "yes", "collect_passport_source": "read",
              "collect_passport_mrz_line1": new.split("\n")[0], "collect_passport_mrz_line2": new.split("\n")[1]},
    )  # fmt: skip
    assert r.status_code == 303, r.text[:600]
    assert c.get(f"/api/v1/joint-applications/{jid}").json()["state"] == "collected"
    _person, current, checks = _person_and_checks(web, jid)
    assert [(x.stage, x.outcome) for x in checks] == [("acceptance", "returned"), ("collection", "new")]
    assert current.number == "N0NEW7788" and checks[-1].travel_document_id == current.id
    shown = c.get(f"/office/joint-applications/{jid}?lang=en").text
    assert "a new passport, checked again" in shown
