"""The case read: one case as its reader may see it, the summary every command answers with, its receipt and
the working days left to its statutory deadline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from cnvisa.cases import audit
from cnvisa.cases.actor import Actor
from cnvisa.cases.clock import beijing_time
from cnvisa.cases.passport_check import receipt_passport
from cnvisa.cases.queries.reader import Reader
from cnvisa.cases.workflow import APPLICANT_SIDE, OPEN_FOR_DEADLINE, State
from cnvisa.law import LawError
from cnvisa.law import calendar as workdays
from cnvisa.store.tables import Case, CaseFile, Notice

_FILE_FIELDS = ("material_code", "filename", "sha256", "size", "media_type")


def summary(case: Case) -> dict[str, Any]:
    """What every command answers with: the case's number, state and version, its receipt and document."""
    return {
        "case_id": case.id,
        "number": case.number,
        "state": case.state,
        "version": case.version,
        "receipt_number": case.receipt_number,
        "receipt_valid_until": case.receipt_valid_until.isoformat() if case.receipt_valid_until else None,
        "issued_holding_id": case.issued_holding_id,
    }


def _instant(at: dt.datetime | None) -> str | None:
    """A stored instant (aware: cnvisa.store.instant), in Beijing time."""
    if at is None:
        return None
    return beijing_time(at).isoformat()


def receipt(case: Case, passport: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The acceptance receipt (Regulations Art 13 para 1, Art 18 para 1): its number, when it was issued, the
    last day it is valid (the statutory decision deadline) and whether the office kept the passport; with
    ``passport`` (``cnvisa.cases.passport_check.receipt_passport``) the on-site check, the collection
    appointment and what the receipt proves (the Regulations Art 18 para 3 reading)."""
    if case.receipt_number is None:
        return None
    out: dict[str, Any] = {
        "number": case.receipt_number,
        "issued_at": _instant(case.receipt_issued_at),
        "valid_until": case.receipt_valid_until.isoformat() if case.receipt_valid_until else None,
        "passport_kept": case.passport_kept,
    }
    if passport is not None:
        out["passport"] = passport
    return out


class CaseRead(Reader):
    async def read(self, actor: Actor, case_id: int) -> dict[str, Any]:
        """A case as its reader may see it; every read by staff is audited."""
        async with self.sessions() as s, s.begin():
            case = await self._load(s, case_id, None)
            self._may_touch(actor, case)
            files = (
                await s.execute(
                    select(
                        CaseFile.material_code,
                        CaseFile.filename,
                        CaseFile.sha256,
                        CaseFile.size,
                        CaseFile.media_type,
                    )
                    .where(CaseFile.case_id == case.id)
                    .order_by(CaseFile.id)
                )
            ).all()
            notices = (
                (await s.execute(select(Notice).where(Notice.case_id == case.id).order_by(Notice.seq)))
                .scalars()
                .all()
            )
            out = {
                **summary(case),
                "matter": case.matter,
                "person_id": case.person_id,
                "office_id": case.office_id,
                "inputs": case.inputs,
                "submitted_by": case.submitted_by,
                "proxy_grounds": case.proxy_grounds,
                "law_version": case.law_version,
                "calendar_version": case.calendar_version,
                "accepted_on": case.accepted_on.isoformat() if case.accepted_on else None,
                "receipt": receipt(case, await receipt_passport(s, case) if case.receipt_number else None),
                "deadline": case.deadline.isoformat() if case.deadline else None,
                "working_days_left": self.working_days_left(case),
                "refusal_grounds": case.refusal_grounds,
                "files": [dict(zip(_FILE_FIELDS, f, strict=True)) for f in files],
                "notices": [
                    {
                        "seq": n.seq,
                        "items": n.items,
                        "respond_by": n.respond_by.isoformat() if n.respond_by else None,
                    }
                    for n in notices
                ],
            }
            if actor.role not in APPLICANT_SIDE:  # staff, admin, system: every such read is audited
                await audit.append(
                    s,
                    at=self.now(),
                    actor_account_id=actor.account_id,
                    role=str(actor.role),
                    office_id=actor.office_id if actor.is_staff else case.office_id,
                    case_id=case.id,
                    action="read",
                    state_before=case.state,
                    state_after=case.state,
                )
        return out

    def working_days_left(self, case: Case) -> int | None:
        """Working days from today to the statutory deadline (negative when overdue); None when not running."""
        return self._days_left(case.state, case.deadline, self.today())

    @staticmethod
    def _days_left(state: str, deadline: dt.date | None, on: dt.date) -> int | None:
        if deadline is None or State(state) not in OPEN_FOR_DEADLINE:
            return None
        try:
            if on <= deadline:
                return workdays.working_days_between(on, deadline)
            return -workdays.working_days_between(deadline, on)
        except LawError:  # a year without a loaded notice: the count is unknown, not guessed
            return None
