"""The web demo over `cnvisa demo setup`'s data (issue 8 item 11): a seeded case with a one-time notice has the
notice's PDF and says so on its page, and a seeded decision's public check says when it was decided."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from test_org import db
from test_pdf import pdf_text
from web_support import TODAY, Web

from cnvisa.cases.queries.documents import check_token
from cnvisa.demo.setup import setup
from cnvisa.store.tables import Case


async def _demo_setup(engine: AsyncEngine) -> dict[str, Any]:
    return await setup(engine, TODAY, cases=8)


@pytest.fixture
def db_content() -> tuple[str, Any]:
    """The demo setup's data instead of the bulk seed: every case played through the workflow (seeded once
    per engine into a template, as the bulk seed is)."""
    return ("demo_setup", _demo_setup)


def test_a_seeded_notice_issued_case_has_its_notice(web: Web, tmp_path: Path) -> None:
    case_id = web.ids["cases"]["deficient"][0]  # Kenji's residence permit: the work permit is missing
    csrf = web.signin("sh01.officer")
    assert csrf
    r = web.client.get(f"/cases/{case_id}/notice.pdf", params={"seq": 1})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    _, text = pdf_text(tmp_path, r.content)
    assert "TANAKA KENJI" in text and "work_permit" not in text  # the material's label, not its code
    page = web.client.get(f"/office/cases/{case_id}?lang=en")
    assert page.status_code == 200 and "notice.pdf?seq=1" in page.text


def test_a_seeded_decision_shows_its_date_on_the_public_check(web: Web) -> None:
    case_id = web.ids["cases"]["collected"][0]  # David's extension of stay, decided and collected

    async def number(s: AsyncSession) -> str:
        case = await s.get(Case, case_id)
        assert case is not None
        return case.number

    token = check_token("decision", db(web, number))
    page = web.client.get(f"/check/decision/{token}?lang=en")
    decided = re.search(r"Decided on</th><td>([^<]*)</td>", page.text)
    assert page.status_code == 200 and decided and decided.group(1).strip(), page.text


def test_the_demo_shows_a_paper_waived_a_paper_back_and_a_passport_check(web: Web) -> None:
    """Issue 10 §4, §5 for a newcomer: Kenji's notice puts the employer's licence back (revoked in the register)
    while his accommodation registration is used; María's accepted case used hers; accepted residence cases
    carry the passport's check."""
    kenji = web.ids["cases"]["deficient"][0]
    maria = web.ids["cases"]["accepted"][0]
    web.signin("sh01.officer")
    view = web.client.get(f"/api/v1/office/cases/{kenji}").json()
    used = {r["material"]: r for r in view["records_used"]}
    assert used["accommodation_registration"]["used_instead_of_paper"] is True
    licence = used["employer_business_licence"]
    assert licence["found"] and not licence["used_instead_of_paper"] and "revoked" in licence["reason"]
    assert "employer_business_licence" in view["documents"]["notices"][0]["items"]
    page = web.client.get(f"/office/cases/{kenji}?lang=zh_CN").text
    assert "以信息共享记录代替纸质材料" in page and "营业执照不在存续状态" in page
    view = web.client.get(f"/api/v1/office/cases/{maria}").json()
    assert {r["material"]: r["used_instead_of_paper"] for r in view["records_used"]} == {
        "accommodation_registration": True
    }
    passport = view["case"]["receipt"]["passport"]
    assert passport["outcome"] in ("returned", "kept") and passport["checked_by_name"]
    assert (
        passport["outcome"] == "kept"
        or passport["collection"]["day"] <= view["case"]["receipt"]["valid_until"]
    )
