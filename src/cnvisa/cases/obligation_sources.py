"""Two more records that start duties in the obligations register (issue 12; ``cnvisa.cases.obligations``):

- **A private stay registered** (Law Art 39 para 2: 在旅馆以外的其他住所居住或者住宿的，应当在入住后二十四小时内由本人或者
  留宿人 … 办理登记): the duty to register within 24 hours of moving in, counted in hours from the moment of moving
  in (``cnvisa.law.obligations.due``), is recorded with its instant (``due_at``) and its day in Beijing time
  (``due_by``). The register learns of a stay only when it is registered, so the duty is born met (registered by
  then) or late (registered after), with the registration's time. Reading: a hotel's report (para 1) is the
  hotel's duty, not the guest's — it stays on the registration itself (its due time and whether it was on time,
  shown to the police) and opens nothing in the guest's register. A stay nobody registered leaves only the trace the
  police's "possibly missing" list reads (``cnvisa.cases.accommodation.area``) — a reading for an officer to look
  into, never a duty found late.
- **An employee's or a student's relationship ended** on the organisation's roster (``OrgPerson.until``): the
  employer or school reports it to the exit-entry office (Regulations Art 26 items (1) 离职, (2) 毕业、结业、肄业、
  退学、离开原招收单位). The Regulations say 及时 (promptly) and count no days; the count here is an **office rule**,
  ``CNVISA_EMPLOYER_REPORT_DAYS`` (default 10, the brief's proposal after Law Art 33's ten days; "none": no count,
  the duty never goes late), labelled so. Met by the organisation's report of one of those events for that person
  occurring on or after the relationship began; late when reported after the count. The duty is the
  organisation's: its staff are reminded, not the person (``cnvisa.cases.outbox.reminders``).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any, Final

from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases.clock import beijing_date
from cnvisa.cases.errors import BadInput
from cnvisa.law import obligations as rules
from cnvisa.law.reports import EVENTS
from cnvisa.store.obligation_tables import Obligation
from cnvisa.store.register_tables import AccommodationRegistration as Reg
from cnvisa.store.tables import OrgPerson, OrgReport

ACCOMMODATION: Final = "accommodation_registration"
EMPLOYER_REPORT: Final = "employer_report"
ORGANISATION_DUTIES: Final = (EMPLOYER_REPORT,)
"""Duties of an organisation about a person: shown to its staff, not in the person's own list."""
PERSON_REGISTERS: Final = ("self", "host", "police")
"""Registrations of a private stay (Art 39 para 2); ``hotel`` is para 1 (module docstring)."""
EMPLOYER_REPORT_DAYS: Final = 10
"""OFFICE RULE (Regulations Art 26 says 及时, promptly): the default count of days to report."""
ENDED_EVENTS: Final = {
    relation: tuple(
        code
        for code, e in EVENTS.items()
        if relation in e.relationships and e.citation.item == item and code != "changed_work_location"
    )
    for relation, item in (("employee", 1), ("student", 2))
}
"""The Art 26 events that report an ended relationship: item (1)'s leaving (离职; a change of work location is not an
end) for an employee, every event of item (2) for a student."""
BATCH: Final = 1000


def employer_report_days(environ: dict[str, str] | None = None) -> int | None:
    """The office rule's count (``CNVISA_EMPLOYER_REPORT_DAYS``: 0 to 60 days, or "none" for no count)."""
    raw = (os.environ if environ is None else environ).get("CNVISA_EMPLOYER_REPORT_DAYS", "").strip().lower()
    if not raw:
        return EMPLOYER_REPORT_DAYS
    if raw == "none":
        return None
    if not raw.isdigit() or int(raw) > 60:
        raise BadInput(
            "CNVISA_EMPLOYER_REPORT_DAYS",
            "0 to 60 days, or none (office rule: Regulations Art 26 says promptly)",
        )
    return int(raw)


def _base(
    kind: str, basis: str, basis_id: int, person_id: int, d: rules.Due, now: dt.datetime
) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "kind": kind,
        "basis": basis,
        "basis_id": basis_id,
        "due_by": d.by,
        "due_at": d.by_at,
        "label": d.label,
        "citations": [c.as_dict() for c in d.citations],
        "holidays_known": d.holidays_known,
        "state": "open",
        "opened_at": now,
        "changed_at": now,
    }


async def _insert(s: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    ids: list[int] = []
    for i in range(0, len(rows), BATCH):
        chunk = rows[i : i + BATCH]
        got = await s.execute(
            insert(Obligation).returning(Obligation.id, sort_by_parameter_order=True), chunk
        )
        ids += got.scalars()
    return ids


async def open_stays(s: AsyncSession, now: dt.datetime) -> tuple[list[int], list[int]]:
    """Art 39 para 2: one duty per private stay registered since the last sweep, born met or late; the ids of
    each."""
    known = exists().where(Obligation.basis == "stay", Obligation.basis_id == Reg.id)
    regs = await s.execute(
        select(Reg.id, Reg.person_id, Reg.moved_in_at, Reg.recorded_at).where(
            Reg.registered_by.in_(PERSON_REGISTERS), Reg.moved_in_at.is_not(None), ~known
        )
    )
    rows: list[dict[str, Any]] = []
    for r in regs:
        d = rules.due(ACCOMMODATION, r.moved_in_at)
        assert d.by_at is not None  # a period in hours has its instant
        on_time = r.recorded_at <= d.by_at
        rows.append(
            {
                **_base(ACCOMMODATION, "stay", r.id, r.person_id, d, now),
                "state": "met" if on_time else "late",
                "met_at": r.recorded_at,
            }
        )
    ids = await _insert(s, rows)
    met = [i for i, r in zip(ids, rows, strict=True) if r["state"] == "met"]
    late = [i for i, r in zip(ids, rows, strict=True) if r["state"] == "late"]
    return met, late


async def open_reports(
    s: AsyncSession, day: dt.date, now: dt.datetime, days: int | None, *, link_id: int | None = None
) -> list[int]:
    """Regulations Art 26: one duty per employee or student whose relationship ended on or before ``day`` (only
    the roster line ``link_id`` when given: the organisation's own command)."""
    known = exists().where(Obligation.basis == "org_person", Obligation.basis_id == OrgPerson.id)
    ended = await s.execute(
        select(OrgPerson.id, OrgPerson.person_id, OrgPerson.until).where(
            OrgPerson.until.is_not(None),
            OrgPerson.until <= day,
            OrgPerson.relation.in_(tuple(ENDED_EVENTS)),
            ~known,
            *([OrgPerson.id == link_id] if link_id is not None else []),
        )
    )
    rows = [
        _base(
            EMPLOYER_REPORT,
            "org_person",
            r.id,
            r.person_id,
            rules.due(EMPLOYER_REPORT, r.until, office_rule_days=days),
            now,
        )
        for r in ended
    ]
    return await _insert(s, rows)


async def met_reports(s: AsyncSession, now: dt.datetime) -> list[int]:
    """Art 26 duties still waiting, met by the organisation's first report of an ended relationship for that
    person, made about this relationship (occurring on or after it began): met, or late when reported after the
    office rule's day (Beijing date)."""
    waiting = and_(
        Obligation.kind == EMPLOYER_REPORT,
        Obligation.state.in_(("open", "late")),
        Obligation.met_at.is_(None),
    )
    found = await s.execute(
        select(Obligation.id, Obligation.due_by, OrgPerson.relation, OrgReport.event, OrgReport.reported_at)
        .join(OrgPerson, and_(Obligation.basis == "org_person", OrgPerson.id == Obligation.basis_id))
        .join(
            OrgReport,
            and_(
                OrgReport.organisation_id == OrgPerson.organisation_id,
                OrgReport.person_id == OrgPerson.person_id,
                OrgReport.occurred_on >= OrgPerson.since,
            ),
        )
        .where(waiting)
        .order_by(Obligation.id, OrgReport.reported_at, OrgReport.id)
    )
    done: list[int] = []
    for r in found:
        if r.id in done or r.event not in ENDED_EVENTS.get(r.relation, ()):
            continue
        on_time = r.due_by is None or beijing_date(r.reported_at) <= r.due_by
        await s.execute(
            update(Obligation)
            .where(Obligation.id == r.id)
            .values(state="met" if on_time else "late", met_at=r.reported_at, changed_at=now)
        )
        done.append(r.id)
    return done
