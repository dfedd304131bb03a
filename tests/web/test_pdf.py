"""PDFs (receipt, one-time notice, decision) and the public check of their authenticity (issue 4).

The PDFs are read back with poppler-utils (``pdffonts``, ``pdftotext``; Debian package poppler-utils)."""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from test_office import ALL, apply, call, command
from web_support import Web

from cnvisa.cases.service import Actor
from cnvisa.cases.workflow import Role


def pdf_text(tmp_path: Path, data: bytes, name: str = "doc.pdf") -> tuple[str, str]:
    """(pdffonts output, pdftotext output) of a PDF."""
    path = tmp_path / name
    path.write_bytes(data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return fonts, text.stdout


def accepted_case(web: Web, person: int | None = None, **passport: Any) -> tuple[int, int]:
    """A case accepted by sh01.officer (in a browser of its own): (case id, version). The passport is kept for a
    reason unless ``passport`` says otherwise (e.g. returned after the on-site check)."""
    officer = web.new_client()
    csrf = web.signin("sh01.officer", officer)
    case_id = apply(web, person=person)
    r = command(
        officer, csrf, case_id, "accept", 1, **(passport or {"retention_reason": "applicant_request"})
    )
    assert r["state"] == "accepted", r
    return case_id, int(r["version"])


def view(web: Web, case_id: int) -> dict[str, Any]:
    officer = web.new_client()
    web.signin("sh01.officer", officer)
    out: dict[str, Any] = officer.get(f"/api/v1/office/cases/{case_id}").json()
    return out


def test_receipt_in_chinese_embeds_the_cjk_font(web: Web, tmp_path: Path) -> None:
    case_id, _ = accepted_case(web)
    web.signin("alice")
    r = web.client.get(f"/cases/{case_id}/receipt.pdf?lang=zh_CN")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    fonts, text = pdf_text(tmp_path, r.content)
    cjk = [line for line in fonts.splitlines() if "NotoSansCJK" in re.sub(r"[ -]", "", line.split(" ")[0])]
    assert cjk, fonts
    # columns: name type encoding emb sub uni object ID — every Noto CJK font is embedded
    assert all(re.search(r"\syes\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", line) for line in cjk), fonts
    assert "受理回执" in text
    receipt = view(web, case_id)["documents"]["receipt"]
    assert receipt["number"] in text
    assert "《外国人入境出境管理条例》第18条第1款" in text and "第36条第2款" in text
    assert "/check/receipt/" in text.replace("\n", "")


def test_receipt_in_english_cites_its_articles(web: Web, tmp_path: Path) -> None:
    case_id, _ = accepted_case(web)
    web.signin("sh01.officer")
    r = web.client.get(f"/cases/{case_id}/receipt.pdf?lang=en")
    assert r.status_code == 200
    _, text = pdf_text(tmp_path, r.content)
    flat = " ".join(text.split())
    assert "Acceptance receipt" in flat
    assert "Regulations Art 18 para 1" in flat and "Regulations Art 36 para 2" in flat
    assert "Regulations Art 18 para 3" in flat  # passport kept: the receipt is the proof of lawful residence


def test_who_may_download(web: Web) -> None:
    case_id, _ = accepted_case(web)
    url = f"/cases/{case_id}/receipt.pdf"
    anonymous = web.new_client()
    r = anonymous.get(url)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")
    for username, status in (
        ("alice", 200),
        ("sh01.officer", 200),
        ("sh01.supervisor", 200),
        ("bob", 403),
        ("carol", 403),
        ("bj01.officer", 403),
        ("bank.teller", 403),
        ("employer.hr", 403),  # employs alice but holds no mandate for her
    ):
        client: TestClient = web.new_client()
        web.signin(username, client)
        assert client.get(url).status_code == status, username
    # a mandated agent downloads the receipt of the person they act for
    carols_person = web.ids["people"][2]
    case2, _ = accepted_case(web, person=carols_person)
    carol = web.new_client()
    web.signin("carol", carol)
    assert carol.get(f"/cases/{case2}/receipt.pdf").status_code == 200
    assert carol.get(url).status_code == 403


def test_notice_pdf(web: Web, tmp_path: Path) -> None:
    officer = web.new_client()
    csrf = web.signin("sh01.officer", officer)
    case_id = apply(web, materials=ALL[:4])
    web.signin("alice")
    assert web.client.get(f"/cases/{case_id}/notice.pdf").status_code == 404  # none issued yet
    assert web.client.get(f"/cases/{case_id}/receipt.pdf").status_code == 409  # not accepted
    r = command(officer, csrf, case_id, "issue_notice", 1)
    assert r["state"] == "deficient"
    pdf = web.client.get(f"/cases/{case_id}/notice.pdf?lang=en")
    assert pdf.status_code == 200
    _, text = pdf_text(tmp_path, pdf.content)
    flat = " ".join(text.split())
    assert "One-time notification" in flat and "Regulations Art 18 para 2" in flat and "Guide VII(II)" in flat
    assert "Work permit" in flat or "work permit" in flat
    zh = web.client.get(f"/cases/{case_id}/notice.pdf?seq=1&lang=zh_CN")
    _, text = pdf_text(tmp_path, zh.content, "zh.pdf")
    assert "一次性告知书" in text and "第18条第2款" in text


def test_decision_pdfs_refusal_and_approval(web: Web, tmp_path: Path) -> None:
    case_id, v = accepted_case(web)
    web.signin("alice")
    assert web.client.get(f"/cases/{case_id}/decision.pdf").status_code == 409  # not decided
    one, two = web.new_client(), web.new_client()
    csrf1, csrf2 = web.signin("sh01.officer", one), web.signin("sh01.officer2", two)
    r = command(one, csrf1, case_id, "propose_refusal", v, grounds=["law31_3", "reg21_1"])
    r = command(two, csrf2, case_id, "confirm_refusal", r["version"])
    assert r["state"] == "refused"
    pdf = web.client.get(f"/cases/{case_id}/decision.pdf?lang=en")
    assert pdf.status_code == 200
    _, text = pdf_text(tmp_path, pdf.content)
    flat = " ".join(text.split())
    assert "Decision not to approve" in flat
    assert "Exit and Entry Administration Law Art 31(3)" in flat and "Regulations Art 21(1)" in flat
    assert "This decision is final." in flat and "Exit and Entry Administration Law Art 36" in flat
    assert "reasons may be withheld" not in flat  # a residence permit: Law Art 21 para 2 is for visas only
    zh = web.client.get(f"/cases/{case_id}/decision.pdf?lang=zh_CN")
    _, text = pdf_text(tmp_path, zh.content, "zh.pdf")
    assert "不予批准决定书" in text and "本决定为最终决定" in text and "不能按照规定提供相关证明材料" in text

    # an approval that has been issued names the document
    case2, v2 = accepted_case(web)
    r = command(one, csrf1, case2, "approve", v2, validity_days=365)
    r = command(one, csrf1, case2, "issue", r["version"])
    pdf = web.client.get(f"/cases/{case2}/decision.pdf?lang=en")
    _, text = pdf_text(tmp_path, pdf.content, "ok.pdf")
    flat = " ".join(text.split())
    assert (
        "Decision to approve" in flat and "Residence permit" in flat and "Regulations Art 18 para 1" in flat
    )


def test_visa_refusal_says_reasons_may_be_withheld(web: Web, tmp_path: Path) -> None:
    person = web.ids["people"][0]
    actor = Actor(web.ids["accounts"]["alice"], Role.APPLICANT, person_id=person)
    platform = web.client.app.state.platform  # type: ignore[attr-defined]
    from test_office import files

    out = call(
        web,
        platform.cases.apply,
        actor,
        key=uuid.uuid4().hex,
        person_id=person,
        office_id=web.ids["offices"]["SH01"],
        matter="visa_extension",
        inputs={
            "entry_date": "2025-11-01",
            "applicant": {"first_entry": False, "good_record": True},
            "visa": {"category": "L", "entries": "single", "valid_until": "2026-01-10", "stay_days": 30},
            "requested": {"extension_days": 30},
        },
        files=files("passport", "application_form", "photo", "itinerary"),
    )
    one, two = web.new_client(), web.new_client()
    csrf1, csrf2 = web.signin("sh01.officer", one), web.signin("sh01.officer2", two)
    r = command(one, csrf1, out["case_id"], "accept", out["version"], retention_reason="applicant_request")
    assert r["state"] == "accepted", r
    r = command(one, csrf1, out["case_id"], "propose_refusal", r["version"], grounds=["law21_4"])
    r = command(two, csrf2, out["case_id"], "confirm_refusal", r["version"])
    pdf = two.get(f"/cases/{out['case_id']}/decision.pdf?lang=en")
    _, text = pdf_text(tmp_path, pdf.content)
    flat = " ".join(text.split())
    assert "reasons may be withheld" in flat and "Exit and Entry Administration Law Art 21 para 2" in flat
    assert "Exit and Entry Administration Law Art 21(4)" in flat and "This decision is final." in flat


def test_public_check_shows_no_personal_data(web: Web) -> None:
    case_id, _ = accepted_case(web)
    v = view(web, case_id)
    person, receipt = v["person"], v["documents"]["receipt"]
    url = receipt["check_url"]
    path = url[url.index("/check/") :]
    token = path.rsplit("/", 1)[1]
    anonymous = web.new_client()
    page = anonymous.get(path + "?lang=en")
    assert page.status_code == 200 and "Genuine" in page.text and receipt["number"] in page.text
    api = anonymous.get(f"/api/v1/public/check/receipt/{token}")
    assert api.status_code == 200
    body = api.json()
    assert body["genuine"] is True and body["number"] == receipt["number"] and body["status"] == "valid"
    assert body["valid_until"] == receipt["valid_until"]
    personal = [
        person["surname"],
        person["given_names"],
        person["birth_date"],
        person["passports"][0]["number"],
    ]
    flat = str(body)
    for value in personal:
        assert value not in flat and value not in page.text, value
    assert person["nationality"] not in {str(x) for x in body.values()}
    assert f">{person['nationality']}<" not in page.text
    assert not {"surname", "given_names", "name", "birth_date", "nationality", "person_id"} & set(body)
    zh = anonymous.get(path + "?lang=zh_CN")
    assert zh.status_code == 200 and "真实" in zh.text and "受理回执" in zh.text

    # forged, altered or misdirected tokens are not genuine
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert anonymous.get(f"/check/receipt/{forged}").status_code == 404
    assert anonymous.get(f"/check/decision/{token}").status_code == 404
    assert anonymous.get("/check/receipt/nothing").status_code == 404
    r = anonymous.get(f"/api/v1/public/check/receipt/{forged}")
    assert r.status_code == 404 and r.json()["field"] == "token"
    guessed = receipt["number"] + "." + "0" * 32
    assert anonymous.get(f"/api/v1/public/check/receipt/{guessed}").status_code == 404
    # a non-ASCII MAC (found by schemathesis: "0.\u0080") is simply not genuine, never a server error
    for odd in ("0.%C2%80", f"{receipt['number']}.%E4%B8%AD", f"{receipt['number']}.{token[-32:].upper()}"):
        assert anonymous.get(f"/api/v1/public/check/receipt/{odd}").status_code == 404, odd
        assert anonymous.get(f"/check/receipt/{odd}").status_code == 404, odd


def test_public_check_of_notice_and_decision_follows_the_case(web: Web) -> None:
    officer, second = web.new_client(), web.new_client()
    csrf, csrf2 = web.signin("sh01.officer", officer), web.signin("sh01.officer2", second)
    case_id = apply(web, materials=ALL[:4])
    command(officer, csrf, case_id, "issue_notice", 1)
    docs = view(web, case_id)["documents"]
    token = docs["notices"][0]["check_url"].rsplit("/", 1)[1]
    anonymous = web.new_client()
    body = anonymous.get(f"/api/v1/public/check/notice/{token}").json()
    assert body["status"] == "awaiting_reply" and body["number"].endswith("-N1")
    # the applicant hands in the rest; the case is accepted and refused
    platform = web.client.app.state.platform  # type: ignore[attr-defined]
    from test_office import files

    alice = Actor(web.ids["accounts"]["alice"], Role.APPLICANT, person_id=web.ids["people"][0])
    call(
        web,
        platform.cases.supplement,
        alice,
        case_id,
        2,
        key=uuid.uuid4().hex,
        files=files("work_permit", "health_certificate"),
    )
    r = command(officer, csrf, case_id, "accept", 3, retention_reason="applicant_request")
    r = command(officer, csrf, case_id, "propose_refusal", r["version"], grounds=["law31_2"])
    r = command(second, csrf2, case_id, "confirm_refusal", r["version"])
    assert anonymous.get(f"/api/v1/public/check/notice/{token}").json()["status"] == "answered"
    docs = view(web, case_id)["documents"]
    receipt_token = docs["receipt"]["check_url"].rsplit("/", 1)[1]
    assert anonymous.get(f"/api/v1/public/check/receipt/{receipt_token}").json()["status"] == "concluded"
    decision_token = docs["decision"]["check_url"].rsplit("/", 1)[1]
    decided = anonymous.get(f"/api/v1/public/check/decision/{decision_token}").json()
    assert decided["status"] == "refused" and decided["valid_from"] == "2025-11-20"
    cites = [c["cite"] for c in decided["basis"]]
    assert (
        "Exit and Entry Administration Law Art 31" in cites
        and "Exit and Entry Administration Law Art 36" in cites
    )
    assert "law31_2" not in str(decided) and "31(2)" not in str(decided)  # the reason stays private
    page = anonymous.get(f"/check/decision/{decision_token}?lang=zh_CN")
    assert page.status_code == 200 and "不予批准" in page.text
