"""Passport not kept (免留存护照) and paper waived through shared records (信息共享免交) as the people see them
(issue 10 §4, §5): the officer's acceptance through the API and the case page — the passport read or confirmed,
returned with a collection slot within the receipt's validity or kept with a reason, errors named per field in
the page's language — the collection with the same or a new passport, the receipt's passport part on the
officer's and the applicant's pages and in the receipt PDF (zh and en), and the records used instead of paper.
On SQLite and PostgreSQL (the ``web`` fixture)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from html import unescape
from pathlib import Path
from typing import Any

from sqlalchemy import select
from test_office import apply, call, command, version
from test_pdf import pdf_text
from web_support import TODAY, Web

from cnvisa.demo.vocab import mrz
from cnvisa.store.register_tables import AccommodationRegistration, OfficePaper, OrganisationLicence
from cnvisa.store.tables import Organisation, OrgPerson, Person, TravelDocument


def _platform(web: Web) -> Any:
    return web.client.app.state.platform  # type: ignore[attr-defined]


async def _mrz_of(sessions: Any, person_id: int) -> tuple[str, str]:
    async with sessions() as s:
        doc = (
            await s.execute(
                select(TravelDocument).where(TravelDocument.person_id == person_id, TravelDocument.current)
            )
        ).scalar_one()
        line1, line2 = str(doc.mrz).split("\n")
        return line1, line2


async def _new_passport_mrz(sessions: Any, person_id: int, number: str) -> tuple[str, str]:
    """The MRZ of another passport of the same holder (a new passport, not on record yet)."""
    async with sessions() as s:
        p = await s.get(Person, person_id)
        assert p is not None
        line1, line2 = mrz(
            p.surname,
            p.given_names,
            p.nationality,
            number,
            p.birth_date,
            p.sex,
            TODAY + dt.timedelta(days=3650),
        ).split("\n")
        return line1, line2


def mrz_lines(web: Web, person: int = 0) -> tuple[str, str]:
    result: tuple[str, str] = call(web, _mrz_of, _platform(web).sessions, web.ids["people"][person])
    return result


def officer(web: Web) -> str:
    return web.signin("sh01.officer")


def form_key(page: str, command_name: str) -> str:
    m = re.search(rf'action="/office/cases/\d+/{command_name}".*?name="key" value="([^"]+)"', page, re.S)
    assert m is not None, command_name
    return m.group(1)


# ----------------------------------------------------------------------------------------------- the API
def test_api_returned_with_the_mrz_read_and_a_slot_then_collected_with_a_new_passport(web: Web) -> None:
    case_id = apply(web)
    csrf = officer(web)
    view = web.client.get(f"/api/v1/office/cases/{case_id}").json()
    pv = view["passport"]
    assert pv["in_scope"] is True and pv["on_record"]["number"] == "21FR04417" and pv["on_record"]["has_mrz"]
    assert "verification_art20" in pv["retention_reasons"]
    last = dt.date.fromisoformat(pv["receipt_last_day"])
    slots = pv["collection_slots"]
    assert slots and all(TODAY < dt.date.fromisoformat(d["day"]) <= last for d in slots)
    day = slots[-1]["day"]  # an earlier day than the default (the receipt's last)
    slot = slots[-1]["slots"][0]["slot"]

    line1, line2 = mrz_lines(web)
    r = command(
        web.client,
        csrf,
        case_id,
        "accept",
        1,
        passport_kept=False,
        passport_mrz_line1=line1,
        passport_mrz_line2=line2,
        collection_day=day,
        collection_slot=slot,
    )
    assert r["status"] == 200 and r["state"] == "accepted", r
    p = r["receipt"]["passport"]
    assert p["outcome"] == "returned" and p["collection"] == {**p["collection"], "day": day, "slot": slot}
    assert p["mrz_valid"] is True and p["holder_matches"] is True
    assert p["reading"].startswith("Reading") and "not an entry document" in p["warning"]
    # the applicant sees the appointment among theirs, made by the office
    web.signin("alice")
    mine = web.client.get(f"/api/v1/cases/{case_id}").json()
    assert mine["receipt"]["passport"]["collection"]["day"] == day

    csrf = officer(web)
    v = r["version"]
    v = command(web.client, csrf, case_id, "approve", v, validity_days=365)["version"]
    v = command(web.client, csrf, case_id, "issue", v)["version"]
    new1, new2 = call(web, _new_passport_mrz, _platform(web).sessions, web.ids["people"][0], "22FR00001")
    done = command(
        web.client,
        csrf,
        case_id,
        "collect",
        v,
        passport_presented=True,
        passport_mrz_line1=new1,
        passport_mrz_line2=new2,
    )
    assert done["state"] == "collected" and done["passport_check"]["outcome"] == "new"
    assert done["passport_check"]["travel_document"]["number"] == "22FR00001"
    view = web.client.get(f"/api/v1/office/cases/{case_id}").json()
    assert view["case"]["receipt"]["passport"]["collected"]["outcome"] == "new"


def test_api_refusals_name_the_field(web: Web) -> None:
    case_id = apply(web)
    csrf = officer(web)
    kept = command(web.client, csrf, case_id, "accept", 1)  # kept, but no reason
    assert kept["status"] == 422 and kept["field"] == "retention_reason"
    other = command(web.client, csrf, case_id, "accept", 1, retention_reason="other")
    assert other["status"] == 422 and other["field"] == "retention_note"
    unknown = command(web.client, csrf, case_id, "accept", 1, retention_reason="because")
    assert unknown["status"] == 422 and unknown["field"] == "retention_reason"
    bob1, bob2 = mrz_lines(web, person=1)  # another person's passport
    wrong = command(
        web.client,
        csrf,
        case_id,
        "accept",
        1,
        passport_kept=False,
        passport_mrz_line1=bob1,
        passport_mrz_line2=bob2,
    )
    assert wrong["status"] == 409 and wrong["code"] == "passport_checked_on_site"
    assert "passport.surname" in wrong["detail"] and "seed 001" in wrong["rule"]
    line1, line2 = mrz_lines(web)
    broken = line2[:9] + ("0" if line2[9] != "0" else "1") + line2[10:]  # a wrong check digit
    bad = command(
        web.client,
        csrf,
        case_id,
        "accept",
        1,
        passport_kept=False,
        passport_mrz_line1=line1,
        passport_mrz_line2=broken,
    )
    assert bad["status"] == 409 and "passport.mrz" in bad["detail"]
    late = command(
        web.client,
        csrf,
        case_id,
        "accept",
        1,
        passport_kept=False,
        passport_on_record=True,
        collection_day=(TODAY + dt.timedelta(days=400)).isoformat(),
        collection_slot="09:00",
    )
    assert late["status"] == 422 and late["field"] == "collection.day"
    garbage = command(web.client, csrf, case_id, "accept", 1, passport_mrz_line1="not an mrz")
    assert garbage["status"] == 422
    assert web.client.get(f"/api/v1/office/cases/{case_id}").json()["case"]["state"] == "submitted"
    ok = command(
        web.client, csrf, case_id, "accept", 1, retention_reason="other", retention_note="Art 20 visit"
    )
    assert ok["state"] == "accepted" and ok["receipt"]["passport"]["outcome"] == "kept"
    assert ok["receipt"]["passport"]["retention_note"] == "Art 20 visit"


# ----------------------------------------------------------------------------------------------- the pages
def test_page_accept_errors_per_field_in_the_pages_language(web: Web) -> None:
    case_id = apply(web)
    csrf = officer(web)
    page = web.client.get(f"/office/cases/{case_id}?lang=zh_CN").text
    assert 'id="passport_mrz_line1"' in page and 'name="passport_source" value="on_record"' in page
    assert 'id="collection"' in page and 'id="retention_reason"' in page and "机读码第一行" in page
    assert "21FR04417" in page and "领证预约" in page

    def post(lang: str, **data: str) -> Any:
        page = web.client.get(f"/office/cases/{case_id}?lang={lang}").text
        body = {"csrf": csrf, "version": "1", "key": form_key(page, "accept"), **data}
        return web.client.post(f"/office/cases/{case_id}/accept?lang={lang}", data=body)

    r = post("zh_CN", passport="kept")  # no reason
    assert r.status_code == 422 and 'href="#retention_reason"' in r.text
    assert "请选择留存护照的原因" in r.text and 'aria-invalid="true"' in r.text
    r = post("en", passport="kept", retention_reason="other")
    assert r.status_code == 422 and 'href="#retention_note"' in r.text
    assert "Write the reason for keeping the passport in the note." in r.text
    bob1, bob2 = mrz_lines(web, person=1)
    r = post(
        "en", passport="returned", passport_source="read", passport_mrz_line1=bob1, passport_mrz_line2=bob2
    )
    assert r.status_code == 409 and 'href="#passport_mrz_line1"' in r.text
    assert "The passport&#39;s surname is not the applicant&#39;s." in r.text
    assert "passport_checked_on_site" in r.text and bob1 in unescape(r.text)  # the rule named; the lines kept
    r = post(
        "zh_CN",
        passport="returned",
        passport_source="read",
        passport_mrz_line1="HELLO",
        passport_mrz_line2="",
    )
    assert r.status_code == 422 and "请读取护照的两行机读码" in r.text
    r = post("en", passport="returned", collection="2025-13-45 09:00")
    assert r.status_code == 422 and 'href="#collection"' in r.text
    assert web.client.get(f"/api/v1/office/cases/{case_id}").json()["case"]["state"] == "submitted"

    view = web.client.get(f"/api/v1/office/cases/{case_id}").json()
    first = view["passport"]["collection_slots"][0]
    chosen = f"{first['day']} {first['slots'][0]['slot']}"
    r = post("en", passport="returned", passport_source="on_record", collection=chosen)
    assert r.status_code == 303, r.text
    page = web.client.get(f"/office/cases/{case_id}?lang=en").text
    assert "Returned to the applicant after the on-site check" in page and "21FR04417" in page
    assert "still proof that its holder resides in China lawfully" in page
    assert "not an entry document" in page and first["slots"][0]["slot"] in page
    zh = web.client.get(f"/office/cases/{case_id}?lang=zh_CN").text
    assert "经现场查验后退还申请人" in zh and "本回执仍可作为持有人在境内合法居留的证明" in zh
    assert "本回执不是入境证件" in zh

    # the applicant's page says the same in plain words
    web.signin("alice")
    mine = web.client.get(f"/my/cases/{case_id}?lang=en").text
    assert "Your passport" in mine and "still proof that its holder resides in China lawfully" in mine
    assert "Leaving China while the application is processed" in mine
    mine_zh = web.client.get(f"/my/cases/{case_id}?lang=zh_CN").text
    assert "您的护照" in mine_zh and "领证预约" in mine_zh and "本回执不是入境证件" in mine_zh


def test_page_collect_reads_the_passport_presented(web: Web) -> None:
    case_id = apply(web)
    csrf = officer(web)
    r = command(web.client, csrf, case_id, "accept", 1, passport_kept=False, passport_on_record=True)
    v = command(web.client, csrf, case_id, "approve", r["version"], validity_days=365)["version"]
    v = command(web.client, csrf, case_id, "issue", v)["version"]
    page = web.client.get(f"/office/cases/{case_id}?lang=en").text
    assert 'id="collect_passport_mrz_line1"' in page and "The passport was returned at acceptance" in page
    body = {"csrf": csrf, "version": str(v), "passport_presented": "yes"}
    r = web.client.post(
        f"/office/cases/{case_id}/collect?lang=zh_CN",
        data={**body, "key": form_key(page, "collect"), "collect_passport_source": "read"},
    )
    assert r.status_code == 409 and 'href="#collect_passport_mrz_line1"' in r.text
    assert "collect_with_checked_passport" in r.text and "受理时已退还护照" in r.text
    page = web.client.get(f"/office/cases/{case_id}?lang=en").text
    r = web.client.post(
        f"/office/cases/{case_id}/collect",
        data={**body, "key": form_key(page, "collect"), "collect_passport_source": "on_record"},
    )
    assert r.status_code == 303
    page = web.client.get(f"/office/cases/{case_id}?lang=en").text
    assert "Passport at collection" in page and "the same passport" in page


# ----------------------------------------------------------------------------------------------- records used
async def _registers(sessions: Any, ids: dict[str, Any], person_id: int) -> None:
    now = dt.datetime.combine(TODAY, dt.time(1, 0), tzinfo=dt.UTC)
    async with sessions() as s, s.begin():
        s.add(
            OfficePaper(
                office_id=ids["offices"]["SH01"],
                material_code="accommodation_registration",
                source="test: the office's checklist",
                matters=[],
            )
        )
        s.add(
            OfficePaper(
                office_id=ids["offices"]["SH01"],
                material_code="employer_business_licence",
                source="test: the office's checklist",
                matters=[],
            )
        )
        s.add(
            AccommodationRegistration(
                person_id=person_id,
                address="Century Avenue 1, Pudong, Shanghai",
                division_code="310115",
                registered_from=TODAY - dt.timedelta(days=100),
                registered_until=None,
                registered_by="host",
                recorded_at=now,
            )
        )
        org = (
            await s.execute(
                select(Organisation).join(OrgPerson).where(OrgPerson.person_id == person_id).limit(1)
            )
        ).scalar_one()
        s.add(
            OrganisationLicence(
                organisation_id=org.id,
                uscc=org.uscc,
                status="revoked",
                valid_until=None,
                source="test",
                recorded_at=now,
            )
        )


def test_records_used_instead_of_paper_and_the_paper_back_in_the_notice(web: Web) -> None:
    call(web, _registers, _platform(web).sessions, web.ids, web.ids["people"][0])
    case_id = apply(web)
    csrf = officer(web)
    notice = command(web.client, csrf, case_id, "issue_notice", 1)
    assert notice["state"] == "deficient" and notice["notice"]["items"] == ["employer_business_licence"]
    assert notice["notice"]["waived"] == ["accommodation_registration"]

    view = web.client.get(f"/api/v1/office/cases/{case_id}").json()
    used = {r["material"]: r for r in view["records_used"]}
    assert used["accommodation_registration"]["used_instead_of_paper"] is True
    assert used["employer_business_licence"]["found"] is True
    assert not used["employer_business_licence"]["used_instead_of_paper"]
    assert "revoked" in used["employer_business_licence"]["reason"]
    actions = [e["action"] for e in view["history"]]
    assert "read_records_used" not in actions  # the case page's read is audited once, as "read"
    page = web.client.get(f"/office/cases/{case_id}?lang=en").text
    assert "Records used instead of paper" in page and "Record used: no paper needed" in page
    assert "The licence is not active (revoked or cancelled)." in page

    web.signin("alice")
    mine = web.client.get(f"/api/v1/cases/{case_id}").json()
    assert {r["material"] for r in mine["records_used"]} == set(used)
    item = mine["notices"][0]["labelled"][0]
    assert (
        item["code"] == "employer_business_licence" and item["paper_needed"]["register"] == "business_licence"
    )
    en = web.client.get(f"/my/cases/{case_id}?lang=en").text
    assert "Records used instead of paper" in en and "Record used: no paper needed" in en
    assert "Paper needed: Business licences (unified social credit code) gave no record" in en
    assert "The licence is not active (revoked or cancelled)." in en
    zh = web.client.get(f"/my/cases/{case_id}?lang=zh_CN").text
    assert "以信息共享记录代替纸质材料" in zh and "已使用记录：无需提交纸质材料" in zh
    assert "营业执照不在存续状态（已吊销或注销）。" in zh and "需要提交纸质材料" in zh


# ----------------------------------------------------------------------------------------------- the receipt PDF
def _receipt(web: Web, tmp_path: Path, lang: str, **passport: Any) -> str:
    case_id = apply(web)
    csrf = officer(web)
    r = command(web.client, csrf, case_id, "accept", version(web.client, case_id), **passport)
    assert r["state"] == "accepted", r
    pdf = web.client.get(f"/cases/{case_id}/receipt.pdf?lang={lang}")
    assert pdf.status_code == 200
    (tmp_path / f"receipt-{lang}.pdf").write_bytes(pdf.content)
    _, text = pdf_text(tmp_path, pdf.content, f"r-{uuid.uuid4().hex}.pdf")
    return " ".join(text.split())


def test_receipt_pdf_returned_in_english_and_chinese(web: Web, tmp_path: Path) -> None:
    en = _receipt(web, tmp_path, "en", passport_kept=False, passport_on_record=True)
    assert "Returned to the applicant after the on-site check" in en and "FRA 21FR04417" in en
    assert "Collection appointment" in en and "by " in en
    assert (
        "still proof that its holder resides in China lawfully" in en
        and "Reading of Regulations Art 18" in en
    )
    assert "not an entry document" in en and "Law Art 24" in en
    zh = _receipt(web, tmp_path, "zh_CN", passport_kept=False, passport_on_record=True)
    assert "经现场查验后退还申请人" in zh and "领证预约" in zh
    assert "本回执仍可作为持有人在境内合法居留的证明" in zh and "本回执不是入境证件" in zh


def test_receipt_pdf_kept_with_its_reason(web: Web, tmp_path: Path) -> None:
    en = _receipt(web, tmp_path, "en", retention_reason="verification_art20")
    assert "Kept by the office" in en and "being verified" in en
    assert "While the office keeps the passport, this receipt is proof" in en
    assert "Collection appointment" not in en


def test_notice_pdf_puts_the_paper_back_with_its_reason(web: Web, tmp_path: Path) -> None:
    call(web, _registers, _platform(web).sessions, web.ids, web.ids["people"][0])
    case_id = apply(web)
    csrf = officer(web)
    assert command(web.client, csrf, case_id, "issue_notice", 1)["state"] == "deficient"
    r = web.client.get(f"/cases/{case_id}/notice.pdf?seq=1&lang=en")
    assert r.status_code == 200
    (tmp_path / "notice-en.pdf").write_bytes(r.content)
    _, text = pdf_text(tmp_path, r.content)
    flat = " ".join(text.split())
    assert "Paper needed: Business licences (unified social credit code) gave no record" in flat
    assert "The licence is not active" in flat and "Records used instead of paper" in flat
    zh = web.client.get(f"/cases/{case_id}/notice.pdf?seq=1&lang=zh_CN")
    (tmp_path / "notice-zh_CN.pdf").write_bytes(zh.content)
    _, text = pdf_text(tmp_path, zh.content, "zh.pdf")
    flat = "".join(text.split())
    assert (
        "需要提交纸质材料" in flat and "以信息共享记录代替纸质材料" in flat and "营业执照不在存续状态" in flat
    )


def test_the_collection_appointment_is_not_one_of_the_applicants_own_bookings(web: Web) -> None:
    """The office rule against hoarding slots (appointment.per_person, 2) counts the person's own bookings, not
    the collection appointment the office agreed when it returned the passport."""
    case_id = apply(web)
    csrf = officer(web)
    r = command(web.client, csrf, case_id, "accept", 1, passport_kept=False, passport_on_record=True)
    assert r["receipt"]["passport"]["collection"]["appointment_id"]
    alice = web.new_client()
    a_csrf = web.signin("alice", alice)
    office = int(web.ids["offices"]["SH01"])
    booked = [
        alice.post(
            "/api/v1/appointments",
            json={"office_id": office, "day": day, "slot": "09:00", "matter": "visa_extension"},
            headers={"X-CSRF-Token": a_csrf},
        )
        for day in ("2025-11-21", "2025-11-24", "2025-11-25")
    ]
    assert [b.status_code for b in booked] == [201, 201, 409], [b.text for b in booked]
    mine = alice.get("/api/v1/appointments").json()
    assert any(a.get("case_id") == case_id for a in (mine if isinstance(mine, list) else mine["items"]))
