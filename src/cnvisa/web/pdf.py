"""The documents an office hands out, as PDFs: acceptance receipt (受理回执; Regulations Art 13 para 1,
Art 18 para 1, Art 36 para 2), one-time notice (一次性告知书; Art 13 para 2, Art 18 para 2) and decision letter
(决定书; refusal grounds under Regulations Art 21, Law Art 21, 31; Law Art 21 para 2 and Art 36).

- Rendered by WeasyPrint from the Jinja2 templates in ``templates/pdf/`` — the same environment, per locale, as
  the pages, so a PDF is in the reader's language. Chinese text is set in Noto Sans CJK SC (Debian
  ``fonts-noto-cjk``), embedded in the PDF.
- What they print and the QR check codes are the core's (``cnvisa.cases.queries.documents``).
- Who may download: the applicant of the case, an agent or organisation holding a mandate for the person,
  and staff of the case's office. Anyone else is refused.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from cnvisa.cases.queries import documents
from cnvisa.cases.workflow import Role
from cnvisa.http.deps import Platform, PlatformDep, Principal, require
from cnvisa.http.i18n import format_instant, negotiate
from cnvisa.http.problems import Problem
from cnvisa.law.acceptance import notice_citations
from cnvisa.law.citations import Citation
from cnvisa.store.tables import Case
from cnvisa.web.templating import TEMPLATES, environment

DOWNLOADERS = (Role.APPLICANT, Role.AGENT, Role.ORG_STAFF, Role.OFFICER, Role.SUPERVISOR)


# --------------------------------------------------------------------------------------- labels per locale
INSTRUMENTS_ZH = {
    "Regulations": "《外国人入境出境管理条例》",
    "Exit and Entry Administration Law": "《出境入境管理法》",
    "Guide": "《外国人签证延期、换发、补发指南》",
    "Civil Code": "《民法典》",
    "NIA measures 2024-03-20": "国家移民管理局2024年3月20日便利措施",
    "MPS press conference 2023-08-03": "公安部2023年8月3日新闻发布会",
    "NIA measures 2024-01-11": "国家移民管理局2024年1月11日便利措施",
    "Administrative Licensing Law": "《行政许可法》",
}


def cite_text(c: Citation | dict[str, Any], locale: str) -> str:
    """A citation in the reader's language: ``Regulations Art 13 para 1`` / 《外国人入境出境管理条例》第13条第1款."""
    d: dict[str, Any] = dict(c.as_dict()) if isinstance(c, Citation) else c
    if locale != "zh_CN" or d.get("instrument") not in INSTRUMENTS_ZH:
        return str(d.get("cite", ""))
    head = INSTRUMENTS_ZH[d["instrument"]]
    article = str(d.get("article") or "")
    if article.startswith("no. ") and article[4:].isdigit():  # a measure's number: 第3项
        return f"{head}第{article[4:]}项"
    if d["instrument"] == "Guide" or not article[:1].isdigit():
        return f"{head}{article}"
    out = f"{head}第{article}条"
    if d.get("paragraph") is not None:
        out += f"第{d['paragraph']}款"
    if d.get("item") is not None:
        out += f"第（{d['item']}）项"
    return out


def pick(label: dict[str, str] | tuple[str, str] | None, locale: str) -> str:
    """The reader's language of a law label ({"en", "zh"} or (en, zh))."""
    if label is None:
        return ""
    if isinstance(label, tuple):
        return label[1] if locale == "zh_CN" else label[0]
    return label.get("zh" if locale == "zh_CN" else "en") or label.get("en", "")


def helpers(locale: str) -> dict[str, Any]:
    """Functions the templates of the office, public and PDF areas call (the labels of codes are filters:
    cnvisa.web.labels)."""
    return {
        "cite": lambda c: cite_text(c, locale),
        "pick": lambda label: pick(label, locale),
        "dtfmt": lambda v: format_instant(v, locale),
    }


# --------------------------------------------------------------------------------------- rendering and routes
def render_pdf(locale: str, template: str, **context: Any) -> bytes:
    """Render ``templates/pdf/<template>`` in ``locale`` to PDF bytes (blocking: call it in a thread)."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    html = environment(locale).get_template(f"pdf/{template}").render(**helpers(locale), **context)
    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    return pdf


router = APIRouter(include_in_schema=False)
RowId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
Downloader = Annotated[Principal, Depends(require(*DOWNLOADERS))]


async def _facts(p: Platform, who: Principal, case_id: int) -> tuple[Case, dict[str, Any]]:
    """Authorised by the case core (``read``: own case, mandate, or staff of the office — staff reads are
    audited), then everything the documents print."""
    await p.cases.read(who.actor, case_id)
    facts = await documents.print_facts(p.sessions, case_id, p.settings.public_base_url)
    return facts["case"], {**facts, "today": p.today()}


async def _pdf(request: Request, template: str, filename: str, **context: Any) -> Response:
    locale = negotiate(request)
    data = await run_in_threadpool(render_pdf, locale, template, **context)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/cases/{case_id}/receipt.pdf")
async def receipt_pdf(case_id: RowId, request: Request, p: PlatformDep, who: Downloader) -> Response:
    case, facts = await _facts(p, who, case_id)
    receipt = facts["documents"]["receipt"]
    if receipt is None:
        raise Problem(409, "No receipt", "the application has not been accepted", code="no_receipt")
    return await _pdf(
        request,
        "receipt.html",
        f"{case.receipt_number}.pdf",
        **facts,
        receipt=receipt,
        check_url=receipt["check_url"],
        qr=documents.qr_data_uri(receipt["check_url"]),
        basis=documents.receipt_basis(case.matter),
        joint=await p.joint.joint_of_case(case_id),  # one receipt for both branches (issue 10 §1)
    )


@router.get("/cases/{case_id}/notice.pdf")
async def notice_pdf(
    case_id: RowId, request: Request, p: PlatformDep, who: Downloader, seq: int | None = None
) -> Response:
    case, facts = await _facts(p, who, case_id)
    notices = facts["documents"]["notices"]
    notice = next((n for n in notices if n["seq"] == seq), None) if seq is not None else None
    if notice is None and seq is None and notices:
        notice = notices[-1]
    if notice is None:
        raise Problem(
            404, "No notice", "no such one-time notice for this case", field="seq", code="no_notice"
        )
    used = await p.cases.records_used(who.actor, case_id, audited=False)  # the read above is audited
    return await _pdf(
        request,
        "notice.html",
        f"{notice['number']}.pdf",
        **facts,
        records_used=used,
        paper_needed={r["material"]: r for r in used if not r["used_instead_of_paper"]},
        notice=notice,
        check_url=notice["check_url"],
        qr=documents.qr_data_uri(notice["check_url"]),
        basis=list(notice_citations(case.matter)),
    )


@router.get("/cases/{case_id}/decision.pdf")
async def decision_pdf(case_id: RowId, request: Request, p: PlatformDep, who: Downloader) -> Response:
    case, facts = await _facts(p, who, case_id)
    decision = facts["documents"]["decision"]
    if decision is None:
        raise Problem(409, "No decision", "the application has not been decided", code="no_decision")
    refused = decision["outcome"] == "refused"
    basis = documents.decision_basis(
        case.matter, refused, list(case.refusal_grounds), documents.judged_on(case)
    )
    return await _pdf(
        request,
        "decision.html",
        f"{case.number}-decision.pdf",
        **facts,
        decision=decision,
        check_url=decision["check_url"],
        qr=documents.qr_data_uri(decision["check_url"]),
        basis=basis,
    )
