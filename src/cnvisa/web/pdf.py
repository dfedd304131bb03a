"""The documents an office hands out, as PDFs, and the public check of their authenticity.

- Acceptance receipt (受理回执; Regulations Art 13 para 1, Art 18 para 1, Art 36 para 2), one-time notice
  (一次性告知书; Art 13 para 2, Art 18 para 2) and decision letter (决定书; refusal grounds under Regulations
  Art 21, Law Art 21, 31; Law Art 21 para 2 and Art 36) are rendered by WeasyPrint from the Jinja2 templates in
  ``templates/pdf/`` — the same environment, per locale, as the pages, so a PDF is in the reader's language.
  Chinese text is set in Noto Sans CJK SC (Debian ``fonts-noto-cjk``), embedded in the PDF.
- Each carries a QR code to its public check page ``<public_base_url>/check/<kind>/<token>``. The token is
  ``<document number>.<HMAC-SHA256(secret, "<kind>:<number>") in hex, first 32 digits>``: the number lets the
  check find the document; the MAC, which only the server can compute, makes the URL unguessable (knowing a
  receipt number gives nothing). The check page says whether the document is genuine, its kind, number,
  dates and state — and nothing about the person.
- The secret: the ``CNVISA_SECRET`` environment variable; without it, a random value created once in
  ``var/secret`` (mode 0600). Changing it invalidates every QR code printed before.
- Who may download: the applicant of the case, an agent or organisation holding a mandate for the person,
  and staff of the case's office. Anyone else is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from babel import Locale
from babel.dates import format_datetime
from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from cnvisa.cases.clock import SHANGHAI
from cnvisa.cases.workflow import OPEN_FOR_DEADLINE, Role, State
from cnvisa.law.acceptance import notice_citations, receipt_working_days
from cnvisa.law.citations import Citation, guide, reg
from cnvisa.law.refusals import GROUNDS, check_refusal
from cnvisa.store.tables import AuditEvent, Case, Holding, Notice, Office, Person, TravelDocument
from cnvisa.web.deps import Platform, PlatformDep, Principal, require
from cnvisa.web.i18n import negotiate
from cnvisa.web.problems import Problem
from cnvisa.web.templating import TEMPLATES, environment

KINDS = ("receipt", "notice", "decision")
SECRET_FILE = Path("var") / "secret"
DECIDED = frozenset({State.APPROVED, State.ISSUED, State.COLLECTED, State.REFUSED})
DOWNLOADERS = (Role.APPLICANT, Role.AGENT, Role.ORG_STAFF, Role.OFFICER, Role.SUPERVISOR)


# --------------------------------------------------------------------------------------- the secret, tokens
@cache
def secret() -> bytes:
    """``CNVISA_SECRET``, else the random value in ``var/secret`` (created atomically on first use)."""
    env = os.environ.get("CNVISA_SECRET")
    if env:
        return env.encode()
    if not SECRET_FILE.exists():
        SECRET_FILE.parent.mkdir(parents=True, exist_ok=True)
        tmp = SECRET_FILE.with_name(f".secret.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, SECRET_FILE)  # atomic; another process may have won the race: then theirs counts
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return SECRET_FILE.read_text().strip().encode()


_TOKEN_MAC = re.compile(r"[0-9a-f]{32}")


def _mac(kind: str, number: str) -> str:
    return hmac.new(secret(), f"{kind}:{number}".encode(), hashlib.sha256).hexdigest()[:32]


def check_token(kind: str, number: str) -> str:
    return f"{number}.{_mac(kind, number)}"


def parse_token(kind: str, token: str) -> str | None:
    """The document number a token names, or None when the token is not one the server made. A token typed
    from paper may have lost its hyphens: each way the number may have been printed is tried against the MAC,
    which alone decides."""
    number, dot, mac = token.rpartition(".")
    if kind not in KINDS or not dot or not number or len(token) > 120 or not _TOKEN_MAC.fullmatch(mac):
        return None  # compare_digest refuses non-ASCII str, so anything but a hex MAC stops here
    for candidate in _printed_as(kind, number):
        if hmac.compare_digest(_mac(kind, candidate), mac):
            return candidate
    return None


_CASE_NUMBER = re.compile(r"([A-Z0-9]+)(\d{8})([A-Z0-9]{8})")  # cases.records.case_number, hyphens dropped
_NOTICE_TAIL = re.compile(r"(.+)N(\d+)")  # notice_number, hyphens dropped


def _printed_as(kind: str, number: str) -> list[str]:
    """The number as given, and the printed spellings it may stand for when typed without hyphens."""
    spellings = [number]
    bare = number.replace("-", "")
    case_part, seq = bare, None
    if kind == "notice" and (tail := _NOTICE_TAIL.fullmatch(bare)):
        case_part, seq = tail[1], tail[2]
    if kind != "receipt" and (m := _CASE_NUMBER.fullmatch(case_part)):
        case_number = f"{m[1]}-{m[2]}-{m[3]}"
        spellings.append(notice_number(case_number, int(seq)) if seq is not None else case_number)
    return list(dict.fromkeys(spellings))


def check_url(base: str, kind: str, number: str) -> str:
    return f"{base.rstrip('/')}/check/{kind}/{check_token(kind, number)}"


def notice_number(case_number: str, seq: int) -> str:
    return f"{case_number}-N{seq}"


def qr_data_uri(url: str) -> str:
    import segno

    return str(segno.make_qr(url, error="m").svg_data_uri(scale=3, border=2))


# --------------------------------------------------------------------------------------- labels per locale
INSTRUMENTS_ZH = {
    "Regulations": "《外国人入境出境管理条例》",
    "Exit and Entry Administration Law": "《出境入境管理法》",
    "Guide": "《外国人签证延期、换发、补发指南》",
    "Civil Code": "《民法典》",
    "NIA measures 2024-03-20": "国家移民管理局2024年3月20日便利措施",
    "MPS press conference 2023-08-03": "公安部2023年8月3日新闻发布会",
}


def cite_text(c: Citation | dict[str, Any], locale: str) -> str:
    """A citation in the reader's language: ``Regulations Art 13 para 1`` / 《外国人入境出境管理条例》第13条第1款."""
    d: dict[str, Any] = dict(c.as_dict()) if isinstance(c, Citation) else c
    if locale != "zh_CN" or d.get("instrument") not in INSTRUMENTS_ZH:
        return str(d.get("cite", ""))
    head = INSTRUMENTS_ZH[d["instrument"]]
    article = str(d.get("article") or "")
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


def fmt_datetime(value: dt.datetime | str | None, locale: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)  # stored in UTC
    return format_datetime(value, format="medium", tzinfo=SHANGHAI, locale=Locale.parse(locale))


def helpers(locale: str) -> dict[str, Any]:
    """Functions the templates of the office, public and PDF areas call (the labels of codes are filters:
    cnvisa.web.labels)."""
    return {
        "cite": lambda c: cite_text(c, locale),
        "pick": lambda label: pick(label, locale),
        "dtfmt": lambda v: fmt_datetime(v, locale),
    }


# --------------------------------------------------------------------------------------- facts of a document
def _date(value: dt.datetime) -> dt.date:
    v = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return v.astimezone(SHANGHAI).date()


async def _decision_event(s: AsyncSession, case_id: int) -> AuditEvent | None:
    event: AuditEvent | None = (
        (
            await s.execute(
                select(AuditEvent)
                .where(AuditEvent.case_id == case_id, AuditEvent.action.in_(("approve", "confirm_refusal")))
                .order_by(AuditEvent.seq.desc())
            )
        )
        .scalars()
        .first()
    )
    return event


async def case_documents(p: Platform, case: Case) -> dict[str, Any]:
    """The documents a case has produced so far: receipt, notices, decision (numbers, dates, check URLs)."""
    base = p.settings.public_base_url
    out: dict[str, Any] = {"receipt": None, "notices": [], "decision": None}
    async with p.sessions() as s:
        notices = (
            (await s.execute(select(Notice).where(Notice.case_id == case.id).order_by(Notice.seq)))
            .scalars()
            .all()
        )
        event = await _decision_event(s, case.id) if State(case.state) in DECIDED else None
        holding = await s.get(Holding, case.issued_holding_id) if case.issued_holding_id else None
    if case.receipt_number:
        out["receipt"] = {
            "number": case.receipt_number,
            "accepted_on": case.accepted_on,
            "valid_until": case.receipt_valid_until,
            "passport_kept": case.passport_kept,
            "pdf": f"/cases/{case.id}/receipt.pdf",
            "check_url": check_url(base, "receipt", case.receipt_number),
        }
    for n in notices:
        number = notice_number(case.number, n.seq)
        out["notices"].append(
            {
                "seq": n.seq,
                "number": number,
                "items": list(n.items),
                "issued_at": n.issued_at,
                "issued_on": _date(n.issued_at),
                "respond_by": n.respond_by,
                "pdf": f"/cases/{case.id}/notice.pdf?seq={n.seq}",
                "check_url": check_url(base, "notice", number),
            }
        )
    if State(case.state) in DECIDED:
        refused = case.state == State.REFUSED
        check = (
            check_refusal(case.matter, list(case.refusal_grounds), on=_judged_on(case)) if refused else None
        )
        out["decision"] = {
            "number": case.number,
            "outcome": "refused" if refused else "approved",
            "decided_on": _date(event.at) if event else None,
            "grounds": [
                {"code": g.code, "en": g.en, "zh": g.zh, "citation": g.citation.as_dict()}
                for g in (GROUNDS[c] for c in case.refusal_grounds if c in GROUNDS)
            ],
            "final": bool(check and check.final),
            "reasons_may_be_withheld": bool(check and check.reasons_may_be_withheld),
            "document": None
            if holding is None
            else {
                "kind": holding.kind,
                "number": holding.number,
                "category": holding.category,
                "valid_from": holding.valid_from,
                "valid_until": holding.valid_until,
            },
            "pdf": f"/cases/{case.id}/decision.pdf",
            "check_url": check_url(base, "decision", case.number),
        }
    return out


def receipt_basis(matter: str) -> list[Citation]:
    """Receipt: Art 13 para 1 (visas, stay permits) or Art 18 para 1 (residence permits), Art 36 para 2,
    the receipt as proof of lawful stay (para 3), Guide X (collection)."""
    spec = receipt_working_days(matter)
    art = 18 if spec is not None and spec[1][0].article == "18" else 13
    return [reg(art, paragraph=1), reg(art, paragraph=3), reg(36, paragraph=2), guide("X")]


def _judged_on(case: Case) -> dt.date:
    """A decision is judged under the law in force on the day of acceptance (the workflow decides only accepted
    cases; the day the case was opened stands in should a record lack it)."""
    return case.accepted_on or case.created_at.astimezone(SHANGHAI).date()


def decision_basis(matter: str, refused: bool, grounds: list[str], on: dt.date) -> list[Citation]:
    if refused:
        check = check_refusal(matter, grounds, on=on)
        return list(check.citations)
    spec = receipt_working_days(matter)
    art = 18 if spec is not None and spec[1][0].article == "18" else 13
    return [reg(art, paragraph=1), guide("VII(IV)")]


def public_decision_basis(case: Case) -> list[Citation]:
    """What the public check cites for a decision: the articles, never the items — the item of a refusal
    ground would tell the reason, which only the applicant is given."""
    if case.state != State.REFUSED:
        return decision_basis(case.matter, False, [], _judged_on(case))
    articles: dict[Citation, None] = {}
    for c in check_refusal(case.matter, list(case.refusal_grounds), on=_judged_on(case)).citations:
        articles[Citation(c.instrument, c.article)] = None
    return list(articles)


# --------------------------------------------------------------------------------------- the public check
async def check(p: Platform, kind: str, token: str) -> dict[str, Any] | None:
    """What the public check may say about a document: genuine, kind, number, office, dates, state. None when
    the token is not genuine or names no document. Never the person's name, birth date or nationality."""
    number = parse_token(kind, token)
    if number is None:
        return None
    today = p.today()
    async with p.sessions() as s:
        if kind == "receipt":
            case = (await s.execute(select(Case).where(Case.receipt_number == number))).scalar_one_or_none()
        else:
            case_number = number.rpartition("-N")[0] if kind == "notice" else number
            case = (await s.execute(select(Case).where(Case.number == case_number))).scalar_one_or_none()
        if case is None:
            return None
        office = await s.get(Office, case.office_id)
        out: dict[str, Any] = {
            "genuine": True,
            "kind": kind,
            "number": number,
            "office": {"code": office.code, "en": office.name_en, "zh": office.name_zh} if office else None,
            "checked_on": today.isoformat(),
        }
        state = State(case.state)
        if kind == "receipt":
            in_effect = state in OPEN_FOR_DEADLINE or state is State.APPROVED
            expired = case.receipt_valid_until is not None and today > case.receipt_valid_until
            status = "valid" if in_effect and not expired else "expired" if expired else "concluded"
            out |= {
                "valid_from": case.accepted_on.isoformat() if case.accepted_on else None,
                "valid_until": case.receipt_valid_until.isoformat() if case.receipt_valid_until else None,
                "status": status,
                "basis": [c.as_dict() for c in receipt_basis(case.matter)[:3]],
            }
        elif kind == "notice":
            seq_text = number.rpartition("-N")[2]
            seq = int(seq_text) if seq_text.isdigit() else -1
            notice = (
                await s.execute(select(Notice).where(Notice.case_id == case.id, Notice.seq == seq))
            ).scalar_one_or_none()
            if notice is None:
                return None
            if state is State.DEFICIENT and notice.respond_by is not None and today <= notice.respond_by:
                status = "awaiting_reply"
            elif state is State.LAPSED:
                status = "lapsed"
            else:
                status = "answered"
            out |= {
                "valid_from": _date(notice.issued_at).isoformat(),
                "valid_until": notice.respond_by.isoformat() if notice.respond_by else None,
                "status": status,
                "basis": [c.as_dict() for c in notice_citations(case.matter)],
            }
        else:
            if state not in DECIDED:
                return None
            event = await _decision_event(s, case.id)
            holding = await s.get(Holding, case.issued_holding_id) if case.issued_holding_id else None
            out |= {
                "valid_from": _date(event.at).isoformat() if event else None,
                "valid_until": None,
                "status": "refused" if state is State.REFUSED else str(state),
                "document": None
                if holding is None
                else {
                    "kind": holding.kind,
                    "valid_from": holding.valid_from.isoformat(),
                    "valid_until": holding.valid_until.isoformat(),
                },
                "basis": [c.as_dict() for c in public_decision_basis(case)],
            }
            if holding is not None:
                out["valid_until"] = holding.valid_until.isoformat()
    return out


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
    async with p.sessions() as s:
        case = await s.get(Case, case_id)
        assert case is not None
        person = await s.get(Person, case.person_id)
        office = await s.get(Office, case.office_id)
        passport = (
            (
                await s.execute(
                    select(TravelDocument)
                    .where(TravelDocument.person_id == case.person_id)
                    .order_by(TravelDocument.current.desc(), TravelDocument.id.desc())
                )
            )
            .scalars()
            .first()
        )
    return case, {
        "case": case,
        "person": person,
        "office": office,
        "passport": passport,
        "documents": await case_documents(p, case),
        "today": p.today(),
    }


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
        qr=qr_data_uri(receipt["check_url"]),
        basis=receipt_basis(case.matter),
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
    return await _pdf(
        request,
        "notice.html",
        f"{notice['number']}.pdf",
        **facts,
        notice=notice,
        check_url=notice["check_url"],
        qr=qr_data_uri(notice["check_url"]),
        basis=list(notice_citations(case.matter)),
    )


@router.get("/cases/{case_id}/decision.pdf")
async def decision_pdf(case_id: RowId, request: Request, p: PlatformDep, who: Downloader) -> Response:
    case, facts = await _facts(p, who, case_id)
    decision = facts["documents"]["decision"]
    if decision is None:
        raise Problem(409, "No decision", "the application has not been decided", code="no_decision")
    refused = decision["outcome"] == "refused"
    basis = decision_basis(case.matter, refused, list(case.refusal_grounds), _judged_on(case))
    return await _pdf(
        request,
        "decision.html",
        f"{case.number}-decision.pdf",
        **facts,
        decision=decision,
        check_url=decision["check_url"],
        qr=qr_data_uri(decision["check_url"]),
        basis=basis,
    )
