"""The check code printed on a one-time notice or decision: printed on one line, so that no hyphen falls at a
line end, and accepted when typed without its hyphens."""

from __future__ import annotations

from pathlib import Path

from test_office import ALL, apply, command
from test_pdf import pdf_text, view
from web_support import Web


def test_the_check_code_is_printed_whole_and_accepted_without_hyphens(web: Web, tmp_path: Path) -> None:
    officer = web.new_client()
    csrf = web.signin("sh01.officer", officer)
    case_id = apply(web, materials=ALL[:4])
    assert command(officer, csrf, case_id, "issue_notice", 1)["state"] == "deficient"
    token = view(web, case_id)["documents"]["notices"][0]["check_url"].rsplit("/", 1)[1]
    number = token.rpartition(".")[0]
    assert number.count("-") == 3  # e.g. SH01-20251120-7KQ4M2XD-N1: the hyphens a reader may drop

    web.signin("alice")
    for lang in ("en", "zh_CN"):
        pdf = web.client.get(f"/cases/{case_id}/notice.pdf?lang={lang}")
        _, text = pdf_text(tmp_path, pdf.content, f"{lang}.pdf")
        assert any(token in line for line in text.splitlines()), text  # the whole code on one line

    anonymous = web.new_client()
    bare = number.replace("-", "") + "." + token.rpartition(".")[2]
    one_dropped = number.replace("-", "", 1) + "." + token.rpartition(".")[2]
    for typed in (token, bare, one_dropped):
        page = anonymous.get(f"/check/notice/{typed}?lang=en")
        assert page.status_code == 200 and "Genuine" in page.text and number in page.text, typed
        api = anonymous.get(f"/api/v1/public/check/notice/{typed}")
        assert api.status_code == 200 and api.json()["number"] == number, typed
    # without hyphens it is still the MAC that decides: another kind, another number or a forged MAC is not genuine
    assert anonymous.get(f"/check/decision/{bare}").status_code == 404
    forged = bare[:-1] + ("0" if bare[-1] != "0" else "1")
    assert anonymous.get(f"/api/v1/public/check/notice/{forged}").status_code == 404
    other = number.replace("-", "")[:-1] + "2." + token.rpartition(".")[2]
    assert anonymous.get(f"/check/notice/{other}").status_code == 404
