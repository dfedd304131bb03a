"""The documents a case produces — acceptance receipt, one-time notices, decision — and the public check of
their authenticity (the reads; ``cnvisa.web.pdf`` renders them).

- Each document carries a QR code to its public check page ``<public_base_url>/check/<kind>/<token>``. The token
  is ``<document number>.<HMAC-SHA256(secret, "<kind>:<number>") in hex, first 32 digits>``: the number lets
  the check find the document; the MAC, which only the server can compute, makes the URL unguessable (knowing
  a receipt number gives nothing). The check says whether the document is genuine, its kind, number, dates
  and state — and nothing about the person.
- The secret: the ``CNVISA_SECRET`` environment variable; without it, a random value created once in
  ``var/secret`` (mode 0600). Rotation (docs/operations.md): the new value in ``CNVISA_SECRET``, the old ones
  in ``CNVISA_SECRET_PREVIOUS`` (comma-separated) — new documents are signed with the new secret, and the QR
  codes printed before still check for as long as their secret is listed. Dropping a secret from the list
  invalidates what it signed.
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
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases.clock import beijing_date
from cnvisa.cases.passport_check import receipt_passport
from cnvisa.cases.workflow import OPEN_FOR_DEADLINE, State
from cnvisa.law.acceptance import notice_citations, receipt_working_days
from cnvisa.law.citations import Citation, guide, reg
from cnvisa.law.refusals import GROUNDS, check_refusal
from cnvisa.store.tables import AuditEvent, Case, Holding, Notice, Office, Person, TravelDocument

KINDS = ("receipt", "notice", "decision")
SECRET_FILE = Path("var") / "secret"
DECIDED = frozenset({State.APPROVED, State.ISSUED, State.COLLECTED, State.REFUSED})


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


@cache
def previous_secrets() -> tuple[bytes, ...]:
    """``CNVISA_SECRET_PREVIOUS``: secrets rotated out, still accepted by the check (never used to sign)."""
    raw = os.environ.get("CNVISA_SECRET_PREVIOUS", "")
    return tuple(part.strip().encode() for part in raw.split(",") if part.strip())


def _mac(kind: str, number: str, key: bytes | None = None) -> str:
    return hmac.new(key or secret(), f"{kind}:{number}".encode(), hashlib.sha256).hexdigest()[:32]


def check_token(kind: str, number: str) -> str:
    return f"{number}.{_mac(kind, number)}"


def parse_token(kind: str, token: str) -> str | None:
    """The document number a token names, or None when the token is not one the server made. A token typed
    from paper may have lost its hyphens: each way the number may have been printed is tried against the MAC,
    which alone decides."""
    number, dot, mac = token.rpartition(".")
    if kind not in KINDS or not dot or not number or len(token) > 120 or not _TOKEN_MAC.fullmatch(mac):
        return None  # compare_digest refuses non-ASCII str, so anything but a hex MAC stops here
    for key in (secret(), *previous_secrets()):
        for candidate in _printed_as(kind, number):
            if hmac.compare_digest(_mac(kind, candidate, key), mac):
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


# --------------------------------------------------------------------------------------- facts of a document


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


async def case_documents(sessions: async_sessionmaker[AsyncSession], case: Case, base: str) -> dict[str, Any]:
    """The documents a case has produced so far: receipt, notices, decision (numbers, dates, check URLs under
    ``base``, the public address)."""
    out: dict[str, Any] = {"receipt": None, "notices": [], "decision": None}
    async with sessions() as s:
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
                "issued_on": beijing_date(n.issued_at),
                "respond_by": n.respond_by,
                "pdf": f"/cases/{case.id}/notice.pdf?seq={n.seq}",
                "check_url": check_url(base, "notice", number),
            }
        )
    if State(case.state) in DECIDED:
        refused = case.state == State.REFUSED
        check = (
            check_refusal(case.matter, list(case.refusal_grounds), on=judged_on(case)) if refused else None
        )
        out["decision"] = {
            "number": case.number,
            "outcome": "refused" if refused else "approved",
            "decided_on": beijing_date(event.at) if event else None,
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


def judged_on(case: Case) -> dt.date:
    """A decision is judged under the law in force on the day of acceptance (the workflow decides only accepted
    cases; the day the case was opened stands in should a record lack it)."""
    return case.accepted_on or beijing_date(case.created_at)


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
        return decision_basis(case.matter, False, [], judged_on(case))
    articles: dict[Citation, None] = {}
    for c in check_refusal(case.matter, list(case.refusal_grounds), on=judged_on(case)).citations:
        articles[Citation(c.instrument, c.article)] = None
    return list(articles)


async def parties(s: AsyncSession, case: Case) -> tuple[Person | None, Office | None, list[TravelDocument]]:
    """A case's person, its office and the person's travel documents, the current one first."""
    person = await s.get(Person, case.person_id)
    office = await s.get(Office, case.office_id)
    passports = (
        (
            await s.execute(
                select(TravelDocument)
                .where(TravelDocument.person_id == case.person_id)
                .order_by(TravelDocument.current.desc(), TravelDocument.id.desc())
            )
        )
        .scalars()
        .all()
    )
    return person, office, list(passports)


async def print_facts(sessions: async_sessionmaker[AsyncSession], case_id: int, base: str) -> dict[str, Any]:
    """Everything a case's documents print: the case, person, office, current passport, the passport's part of
    the receipt (passport not kept: ``cnvisa.cases.passport_check.receipt_passport``) and the documents.
    The caller has authorised the read (``CaseService.read``)."""
    async with sessions() as s:
        case = await s.get(Case, case_id)
        assert case is not None
        person, office, passports = await parties(s, case)
        checked = await receipt_passport(s, case) if case.receipt_number else None
    return {
        "case": case,
        "person": person,
        "office": office,
        "passport": passports[0] if passports else None,
        "passport_check": checked,
        "documents": await case_documents(sessions, case, base),
    }


# --------------------------------------------------------------------------------------- the public check
async def check(
    sessions: async_sessionmaker[AsyncSession], kind: str, token: str, today: dt.date
) -> dict[str, Any] | None:
    """What the public check may say about a document: genuine, kind, number, office, dates, state. None when
    the token is not genuine or names no document. Never the person's name, birth date or nationality."""
    number = parse_token(kind, token)
    if number is None:
        return None
    async with sessions() as s:
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
                "valid_from": beijing_date(notice.issued_at).isoformat(),
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
                "valid_from": beijing_date(event.at).isoformat() if event else None,
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
