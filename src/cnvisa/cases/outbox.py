"""The notifications outbox (issue 12; reforms.md §8): rows written in the same transaction as the change that
causes them, one per (subject, stage, channel, recipient) — unique, so writing it twice changes nothing — and
delivered later by ``cnvisa.cases.delivery``.

What writes rows:
- a case command (``cnvisa.cases.runner.Runner._step``): the one-time notice (Regulations Art 13 para 2, Art 18
  para 2: 一次性告知), approval, confirmed refusal (Art 21) and issuance — to the person's own accounts and the
  account that filed the application (an agent, an organisation's staff);
- the daily sweep (``cnvisa.cases.obligations.ObligationRegister.sweep``), set-based (INSERT … SELECT … ON
  CONFLICT DO NOTHING, no loop per row): reminders at the steps before each open duty's deadline, a notice that a
  duty went late, to the person's accounts, their current organisations' staff and their mandates' agents; and
  escalations — a case of the office entering the near or overdue set (cnvisa.cases.queries.escalation) — to the
  office's supervisors.

Recipients get the inbox always; e-mail and SMS when they chose them (``NotificationPreference``). Reminder
steps are an **office rule**, not law: the law sets the deadline (Law Art 29, 30, 32), not when to remind of
it — ``CNVISA_REMINDER_STEPS_DAYS`` (days before the deadline, default "30,7,1"). Each stage is reached once:
the step whose window (after the next smaller step, up to this one) holds the days left; a step the sweep did not
run in is not sent late.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import JSON, CursorResult, Select, String, and_, func, literal, or_, select, text, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases.channels import EMAIL, INBOX, SMS
from cnvisa.cases.errors import BadInput
from cnvisa.cases.obligation_sources import ORGANISATION_DUTIES
from cnvisa.cases.queries.escalation import NEAR_WORKING_DAYS, near_cutoff
from cnvisa.store import queue
from cnvisa.store.obligation_tables import Obligation
from cnvisa.store.outbox_tables import Notification, NotificationPreference
from cnvisa.store.tables import DEADLINE_PREDICATE, Account, Case, Mandate, Notice, OrgPerson

DEFAULT_STEPS: Final = (30, 7, 1)
"""Office rule: days before a duty's deadline at which its holder is reminded (``CNVISA_REMINDER_STEPS_DAYS``)."""
DEFAULT_LANGUAGE: Final = "zh_CN"
"""The language of an account that chose none: Chinese, the language of the texts that govern."""
LANGUAGES: Final = ("zh_CN", "en")
MAX_STEP: Final = 366

OBLIGATION: Final = "obligation"
CASE: Final = "case"
LATE: Final = "late"
CASE_STAGES: Final = {
    "issue_notice": "notice",
    "approve": "approved",
    "confirm_refusal": "refused",
    "issue": "issued",
    # a joint application (issue 10): the work-permit authority's decision; its refusal's text also says that the
    # residence branch ends as not issuable (Law Art 41; Regulations Art 16(1)) — one message, not two
    "work_permit_granted": "work_permit_granted",
    "work_permit_refused": "work_permit_refused",
}
"""The case commands (and a joint application's decisions) that notify the applicant, and the stage (template)
each writes."""


def reminder_steps(environ: Mapping[str, str] | None = None) -> tuple[int, ...]:
    """The reminder steps (OFFICE RULE): ``CNVISA_REMINDER_STEPS_DAYS`` — whole days before the deadline,
    comma-separated, each 0 to 366 — largest first; unset: ``DEFAULT_STEPS``. A bad value is refused naming the
    variable (``cnvisa.http.settings`` reads it at start-up)."""
    raw = (os.environ if environ is None else environ).get("CNVISA_REMINDER_STEPS_DAYS", "").strip()
    if not raw:
        return DEFAULT_STEPS
    parts = [p.strip() for p in raw.split(",")]
    if not all(p.isdigit() and int(p) <= MAX_STEP for p in parts):
        raise BadInput(
            "CNVISA_REMINDER_STEPS_DAYS",
            f"whole days before the deadline, comma-separated, each 0 to {MAX_STEP} (office rule), got {raw!r}",
        )
    return tuple(sorted({int(p) for p in parts}, reverse=True))


def step_windows(today: dt.date, steps: tuple[int, ...]) -> list[tuple[str, dt.date, dt.date]]:
    """Each step's stage and the deadlines it covers today: days left in (next smaller step, step] — the last
    step down to the deadline day itself (0 days left)."""
    ordered = sorted(set(steps), reverse=True)
    out = []
    for i, step in enumerate(ordered):
        floor = ordered[i + 1] + 1 if i + 1 < len(ordered) else 0
        out.append((f"T-{step}", today + dt.timedelta(days=floor), today + dt.timedelta(days=step)))
    return out


# ------------------------------------------------------------------------------------------------- writing rows
def _insert(s: AsyncSession) -> Any:
    return pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert


async def enqueue(
    s: AsyncSession,
    recipients: Select[Any] | Any,
    *,
    subject_kind: str,
    template: str,
    now: dt.datetime,
    params: Mapping[str, Any] | None = None,
) -> int:
    """Write the rows for ``recipients`` — a SELECT of (subject_id, stage, account_id) — on every channel each
    account chose: the inbox for all, e-mail and SMS where chosen with an address. Set-based; an existing
    (subject, stage, channel, recipient) is left as it is. Returns the rows written."""
    r = recipients.subquery("r")
    pref = NotificationPreference
    language = func.coalesce(pref.language, DEFAULT_LANGUAGE)
    cols = [
        "subject_kind",
        "subject_id",
        "stage",
        "channel",
        "recipient_account_id",
        "address",
        "language",
        "template",
        "params",
        "state",
        "attempts",
        "next_attempt_at",
        "created_at",
    ]
    written = 0
    for channel, address, where in (
        (INBOX, literal(None, String), None),
        (EMAIL, pref.email, and_(pref.email_on, pref.email.is_not(None))),
        (SMS, pref.phone, and_(pref.sms_on, pref.phone.is_not(None))),
    ):
        q = select(
            literal(subject_kind, String),
            r.c.subject_id,
            r.c.stage,
            literal(channel, String),
            r.c.account_id,
            address,
            language,
            literal(template, String),
            literal(dict(params or {}), JSON),
            literal("pending", String),
            literal(0),
            literal(now, Notification.next_attempt_at.type),
            literal(now, Notification.created_at.type),
        ).select_from(r)
        q = (
            q.outerjoin(pref, pref.account_id == r.c.account_id)
            if where is None
            else q.join(pref, pref.account_id == r.c.account_id).where(where)
        )
        stmt = _insert(s)(Notification).from_select(cols, q).on_conflict_do_nothing()
        result: CursorResult[Any] = await s.execute(stmt)  # type: ignore[assignment]
        written += result.rowcount or 0
    return written


def _active() -> Any:
    return Account.active.is_(True)


DELIVERY_JOB: Final = "deliver_outbox"
"""The queue's delivery job (cnvisa.worker.registry), also its tick's dedupe key."""


async def case_event(s: AsyncSession, case: Case, command: str, now: dt.datetime) -> int:
    """In the command's transaction: the notice, decision or issuance to the person's accounts and the account
    that filed the case. A later one-time notice is a new stage (``notice-2``)."""
    stage = CASE_STAGES.get(command)
    if stage is None:
        return 0
    params: dict[str, Any] = {"case": case.number, "matter": case.matter}
    if stage == "notice":
        n = await s.execute(
            select(Notice.seq, Notice.respond_by, Notice.items)
            .where(Notice.case_id == case.id)
            .order_by(Notice.seq.desc())
            .limit(1)
        )
        last = n.one()
        stage = f"notice-{last.seq}"
        params |= {"respond_by": last.respond_by.isoformat(), "items": list(last.items)}
    who = or_(Account.person_id == case.person_id, Account.id == case.submitter_account_id)
    recipients = select(
        literal(case.id).label("subject_id"),
        literal(stage, String).label("stage"),
        Account.id.label("account_id"),
    ).where(who, _active())
    template = stage if stage.startswith("work_permit_") else stage.split("-")[0]
    written = await enqueue(s, recipients, subject_kind=CASE, template=template, now=now, params=params)
    if written:
        # the delivery job queued in the command's transaction (PostgreSQL; issue 12): a worker delivers as the
        # command commits, not at the next tick; one waits at a time (the schedule's dedupe key), none if it rolls
        # back. SQLite queues nothing: its in-process runner's ticks deliver.
        await queue.enqueue(s, DELIVERY_JOB, dedupe_key=DELIVERY_JOB)
    return written


async def reminders(s: AsyncSession, day: dt.date, now: dt.datetime, steps: tuple[int, ...]) -> int:
    """In the sweep's transaction: each open duty whose days left fall in a step's window, and each duty gone
    late with nothing made, to its holder's accounts, their current organisations' staff and the agents of their
    mandates in force; an organisation's own duty (Regulations Art 26) to its staff only."""
    written = 0
    windows = [
        (stage, low, high, Obligation.state == "open") for stage, low, high in step_windows(day, steps)
    ]
    gone = and_(Obligation.state == "late", Obligation.met_at.is_(None))
    personal = Obligation.kind.not_in(ORGANISATION_DUTIES)
    for stage, low, high, state in [*windows, (LATE, None, day - dt.timedelta(days=1), gone)]:
        due = [state, Obligation.due_by <= high] + ([Obligation.due_by >= low] if low else [])
        own = (
            select(
                Obligation.id.label("subject_id"),
                literal(stage, String).label("stage"),
                Account.id.label("account_id"),
            )
            .join(Account, Account.person_id == Obligation.person_id)
            .where(*due, personal, _active())
        )
        staff = (
            select(Obligation.id, literal(stage, String), Account.id)
            .join(OrgPerson, OrgPerson.person_id == Obligation.person_id)
            .join(Account, Account.organisation_id == OrgPerson.organisation_id)
            .where(
                *due,
                personal,
                _active(),
                Account.role == "org_staff",
                or_(OrgPerson.until.is_(None), OrgPerson.until >= day),
                OrgPerson.since <= day,
            )
        )
        # the organisation's own duty (Regulations Art 26): its staff, about a person who may have left it
        reporter = (
            select(Obligation.id, literal(stage, String), Account.id)
            .join(OrgPerson, and_(Obligation.basis == "org_person", OrgPerson.id == Obligation.basis_id))
            .join(Account, Account.organisation_id == OrgPerson.organisation_id)
            .where(*due, Obligation.kind.in_(ORGANISATION_DUTIES), _active(), Account.role == "org_staff")
        )
        # an agent acting for the person under a mandate in force (Regulations Art 19: 亲友、邀请单位或者代理机构)
        agent = (
            select(Obligation.id, literal(stage, String), Account.id)
            .join(Mandate, Mandate.person_id == Obligation.person_id)
            .join(Account, Account.id == Mandate.agent_account_id)
            .where(
                *due,
                personal,
                _active(),
                Mandate.valid_from <= day,
                or_(Mandate.valid_until.is_(None), Mandate.valid_until >= day),
            )
        )
        both = union_all(own, staff, reporter, agent).subquery("b")
        recipients = select(both.c.subject_id, both.c.stage, both.c.account_id).distinct()
        written += await enqueue(
            s, recipients, subject_kind=OBLIGATION, template="late" if stage == LATE else "reminder", now=now
        )
    return written


async def escalations(s: AsyncSession, day: dt.date, now: dt.datetime, near_working_days: int) -> int:
    """In the sweep's transaction: each open case of an office entering the near or overdue set, to that
    office's supervisors (the same sets as ``EscalationQueries.escalations``)."""
    sets: list[tuple[str, Any]] = [("overdue", Case.deadline < day)]
    cutoff = near_cutoff(day, near_working_days)
    if cutoff is not None:
        sets.append(("near", and_(Case.deadline >= day, Case.deadline <= cutoff)))
    written = 0
    for stage, where in sets:
        recipients = (
            select(
                Case.id.label("subject_id"),
                literal(stage, String).label("stage"),
                Account.id.label("account_id"),
            )
            .join(Account, and_(Account.office_id == Case.office_id, Account.role == "supervisor"))
            .where(text(f"cases.{DEADLINE_PREDICATE}"), where, _active())
        )
        written += await enqueue(s, recipients, subject_kind=CASE, template=stage, now=now)
    return written


async def sweep(
    s: AsyncSession,
    day: dt.date,
    now: dt.datetime,
    steps: tuple[int, ...] = DEFAULT_STEPS,
    near_working_days: int = NEAR_WORKING_DAYS,
) -> dict[str, int]:
    """The sweep's part: reminders and escalations, in the caller's transaction."""
    return {
        "reminders": await reminders(s, day, now, steps),
        "escalations": await escalations(s, day, now, near_working_days),
    }
