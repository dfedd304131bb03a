"""Employers and schools — Regulations Art 26: their people's documents, and the events they report.

- Organisation staff (role ``org_staff``) see only their own organisation's invitees, employees and students
  (``OrgPerson``) with the expiry of each visa and permit (``registry.holding_status``), the person whose
  document runs out first at the top. A document ending within ``EXPIRY_WARNING_DAYS`` (30, counted with the
  day itself: 以内 includes the number, Civil Code Art 1259) is flagged: a residence permit's extension is
  applied for at least 30 days before it expires (Exit and Entry Administration Law Art 32).
- A report names one of the organisation's people and an Art 26 event valid for the relationship
  (``cnvisa.law.reports.report_event``): items (1) employees, (2) students, (3)-(4) both. An *invitee* is
  neither employed nor enrolled, so only the events of items (3)-(4) can be reported for them (checked as for
  an employee).
- **Which office receives a report** (Art 26: "the exit-entry administration … in their locality"): the office
  whose administrative division code equals the organisation's region; failing that, an office of the same
  prefecture (first four digits of the code), then of the same province (first two digits) — the higher level
  first there (provincial, then prefecture, then county), since it covers the whole prefecture or province
  while a county office covers only its county; failing all, the first office registered (lowest id). Ties go
  to the lowest id.
- Officers and supervisors see the reports routed to their own office; every such read is audited, as every
  report filed is (audit events without a case).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases import audit, obligation_sources
from cnvisa.cases.clock import Clocked
from cnvisa.cases.errors import BadInput, Forbidden
from cnvisa.cases.registry import holding_status
from cnvisa.cases.service import Actor, caseless_event
from cnvisa.cases.workflow import STAFF, Role
from cnvisa.law import obligations as obligations_law
from cnvisa.law.errors import InvalidInput
from cnvisa.law.reports import EVENTS, ReportEvent, report_event
from cnvisa.store.instant import as_utc
from cnvisa.store.tables import Holding, Office, Organisation, OrgPerson, OrgReport, Person

EXPIRY_WARNING_DAYS: Final = 30
"""Law Art 32: extend a residence permit at least 30 days before it expires."""
NOTE_MAX: Final = 2000
REPORTS_SHOWN: Final = 500
"""The newest reports a list shows."""
RELATIONS: Final = ("employee", "student", "invitee")
INVITEE_ITEMS: Final = frozenset({3, 4})
"""Art 26 items that concern an invitee (neither employed nor enrolled): violations, death, missing, other."""
_LEVEL_ORDER: Final = {"provincial": 0, "prefecture": 1, "county": 2}


class RuleRefused(BadInput):
    """Bad input refused by a named rule (the problem names both the field and the rule)."""

    def __init__(self, field: str, message: str, rule: str) -> None:
        super().__init__(field, message)
        self.rule = rule


def events_for(relation: str) -> list[ReportEvent]:
    """The Art 26 events an organisation may report for a person in ``relation``."""
    if relation == "invitee":
        return [e for e in EVENTS.values() if e.citation.item in INVITEE_ITEMS]
    return [e for e in EVENTS.values() if relation in e.relationships]


def check_event(code: str, relation: str, *, on: dt.date) -> ReportEvent:
    """Art 26: the event ``code`` for a person in ``relation``, reported on ``on``; ``RuleRefused`` names field and rule."""
    if relation not in RELATIONS:
        raise BadInput("relation", f"one of {', '.join(RELATIONS)}")
    known = EVENTS.get(code)
    if known is None:
        raise RuleRefused(
            "event",
            f"not an event of Regulations Art 26: {code!r} (known: {', '.join(EVENTS)})",
            "Regulations Art 26",
        )
    if relation == "invitee":
        if known.citation.item not in INVITEE_ITEMS:
            raise RuleRefused(
                "event",
                f"{code} is reported for a {' or '.join(sorted(known.relationships))}; for an invitee only the "
                "events of Regulations Art 26(3)-(4) can be reported",
                known.citation.cite,
            )
        relation = "employee"
    try:
        return report_event(code, relation, on=on)
    except InvalidInput as exc:
        raise RuleRefused(exc.field, exc.message, known.citation.cite) from None


def _need_org(actor: Actor) -> int:
    if actor.role is not Role.ORG_STAFF or actor.organisation_id is None:
        raise Forbidden("only an organisation's staff see its people and reports")
    return actor.organisation_id


def _name(p: Person) -> str:
    return f"{p.surname} {p.given_names}".strip()


async def responsible_office(s: AsyncSession, region: str | None) -> Office | None:
    """The office that receives an organisation's reports (rule in the module docstring)."""
    offices = (await s.execute(select(Office).order_by(Office.id))).scalars().all()
    if not offices:
        return None
    if region:
        for width in (6, 4, 2):
            near = [o for o in offices if o.region[:width] == region[:width]]
            if near:
                return min(near, key=lambda o: (_LEVEL_ORDER.get(o.level, 3), o.id))
    return offices[0]


async def add_report(
    s: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    *,
    org_id: int,
    org: Organisation | None,
    person_id: int,
    event: ReportEvent,
    occurred_on: dt.date,
    note: str | None,
    events: list[dict[str, Any]] | None = None,
) -> tuple[OrgReport, Office | None]:
    """Record an Art 26 report inside the caller's transaction (routed to ``responsible_office``) with its
    audit event; ``event`` was checked by ``check_event``. Used by ``OrgReports.file`` and by the commands that
    file a report as part of their own work (a post change: ``cnvisa.cases.post_change``).

    ``events``: the caller's list of audit events, written by the caller in one ``audit.append_many`` once
    its other writes are done; the report's event is added to it instead of being written here — the chain's
    head must be the last lock a command takes (``audit.append``), and a caller that writes after the report
    would otherwise hold a head while it waits for a row (tests/cases/test_audit_lock_order.py)."""
    office = await responsible_office(s, org.region if org else None)
    report = OrgReport(
        organisation_id=org_id,
        person_id=person_id,
        office_id=office.id if office else None,
        event=event.code,
        occurred_on=occurred_on,
        note=note,
        reported_by=actor.account_id,
        reported_at=as_utc(now),
    )
    s.add(report)
    await s.flush()
    audited = caseless_event(
        actor,
        now,
        "org_report",
        {
            "report": report.id,
            "organisation": org_id,
            "person": person_id,
            "event": event.code,
            "occurred_on": occurred_on.isoformat(),
            "office": report.office_id,
        },
        report.office_id,
    )
    if events is not None:
        events.append(audited)
    else:  # the caller writes nothing after the report (OrgReports.file)
        await audit.append(s, **audited)
    return report, office


class OrgReports(Clocked):
    async def people(self, actor: Actor, on: dt.date | None = None) -> list[dict[str, Any]]:
        """The organisation's current people with their visas and permits, nearest expiry first (people with
        no valid document before everyone: they need attention now)."""
        org_id = _need_org(actor)
        on = on or self.today()
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    select(OrgPerson, Person)
                    .join(Person, Person.id == OrgPerson.person_id)
                    .where(
                        OrgPerson.organisation_id == org_id,
                        (OrgPerson.until.is_(None)) | (OrgPerson.until >= on),
                    )
                    .order_by(Person.id)
                )
            ).all()
            person_ids = [p.id for _, p in rows]
            holdings = (
                (
                    await s.execute(
                        select(Holding)
                        .where(Holding.person_id.in_(person_ids))
                        .order_by(Holding.valid_until, Holding.id)
                    )
                )
                .scalars()
                .all()
                if person_ids
                else []
            )
        by_person: dict[int, list[Holding]] = {}
        for h in holdings:
            by_person.setdefault(h.person_id, []).append(h)
        out: list[dict[str, Any]] = []
        seen: set[int] = set()
        for link, person in rows:
            if person.id in seen:  # one line per person, even with two relations
                continue
            seen.add(person.id)
            docs: list[dict[str, Any]] = []
            for h in by_person.get(person.id, []):
                status = holding_status(h, on)
                days_left = (h.valid_until - on).days
                docs.append(
                    {
                        "kind": h.kind,
                        "number": h.number,
                        "category": h.category,
                        "valid_from": h.valid_from.isoformat(),
                        "valid_until": h.valid_until.isoformat(),
                        "status": status,
                        "days_left": days_left if status == "valid" else None,
                        "expiring_soon": status == "valid" and days_left <= EXPIRY_WARNING_DAYS,
                    }
                )
            valid = [d for d in docs if d["status"] == "valid"]
            nearest: str | None = min((str(d["valid_until"]) for d in valid), default=None)
            out.append(
                {
                    "person_id": person.id,
                    "name": _name(person),
                    "nationality": person.nationality,
                    "birth_date": person.birth_date.isoformat(),
                    "relation": link.relation,
                    "since": link.since.isoformat(),
                    "nearest_expiry": nearest,
                    "days_left": None if nearest is None else (dt.date.fromisoformat(nearest) - on).days,
                    "expiring_soon": any(d["expiring_soon"] for d in valid),
                    "no_valid_document": not valid,
                    "documents": docs,
                }
            )
        out.sort(key=lambda r: (r["nearest_expiry"] is not None, r["nearest_expiry"] or "", r["person_id"]))
        return out

    async def file(
        self,
        actor: Actor,
        *,
        person_id: int,
        event: str,
        occurred_on: dt.date,
        note: str | None = None,
    ) -> dict[str, Any]:
        """File an Art 26 report for one of the organisation's people; audited in the same transaction."""
        org_id = _need_org(actor)
        note = (note or "").strip() or None
        if occurred_on > self.today():
            raise BadInput("occurred_on", "an event is reported after it happened: not a future date")
        if occurred_on < dt.date(1900, 1, 1):
            raise BadInput("occurred_on", "not a plausible date")
        if note is not None and (
            len(note) > NOTE_MAX or re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", note)
        ):
            raise BadInput("note", f"text of at most {NOTE_MAX} characters")
        async with self.sessions() as s, s.begin():
            link = (
                (
                    await s.execute(
                        select(OrgPerson)
                        .where(OrgPerson.organisation_id == org_id, OrgPerson.person_id == person_id)
                        .order_by(OrgPerson.since.desc(), OrgPerson.id.desc())
                    )
                )
                .scalars()
                .first()
            )
            if link is None:
                raise BadInput("person_id", "not one of your organisation's invitees, employees or students")
            ev = check_event(event, link.relation, on=self.today())
            if ev.code == "other" and note is None:
                raise RuleRefused("note", "describe the circumstance reported as 'other'", ev.citation.cite)
            org = await s.get(Organisation, org_id)
            person = await s.get(Person, person_id)
            report, office = await add_report(
                s,
                actor,
                self.clock.now(),
                org_id=org_id,
                org=org,
                person_id=person_id,
                event=ev,
                occurred_on=occurred_on,
                note=note,
            )
        out = _report_dict(report, link.relation, org.name if org else "", office)
        out["person_name"] = _name(person) if person else None
        return out

    async def end(self, actor: Actor, *, person_id: int, on: dt.date) -> dict[str, Any]:
        """The organisation records that a person's employment, studies or invitation ends (or ended) on ``on``:
        the roster's end (``OrgPerson.until``), audited. For an employee or a student it starts the duty to report
        it (Regulations Art 26 items (1)-(2), ``cnvisa.cases.obligation_sources``), opened here when ``on`` is
        today or past, else by the sweep of that day. Sent again with the same day it is answered as it stands."""
        org_id = _need_org(actor)
        today = self.today()
        if on > today + dt.timedelta(days=366):
            raise BadInput("on", "a day within a year from today")
        now = self.clock.now()
        async with self.sessions() as s, s.begin():
            link = (
                (
                    await s.execute(
                        select(OrgPerson)
                        .where(
                            OrgPerson.organisation_id == org_id,
                            OrgPerson.person_id == person_id,
                            (OrgPerson.until.is_(None)) | (OrgPerson.until >= min(on, today)),
                        )
                        .order_by(OrgPerson.since.desc(), OrgPerson.id.desc())
                        .with_for_update()
                    )
                )
                .scalars()
                .first()
            )
            if link is None:
                raise BadInput(
                    "person_id", "not one of your organisation's current invitees, employees or students"
                )
            if on < link.since:
                raise BadInput("on", f"not before the relationship began ({link.since.isoformat()})")
            days = obligation_sources.employer_report_days()
            if link.until != on:
                link.until = on
                detail = {"person": person_id, "relation": link.relation, "until": on.isoformat()}
                await s.flush()
                if on <= today:
                    await obligation_sources.open_reports(s, today, now, days, link_id=link.id)
                # last: no row is locked after the audit chain's head (cnvisa.cases.audit.append)
                await audit.append(s, **caseless_event(actor, now, "org_person_ended", detail, None))
            due = None
            if link.relation in obligation_sources.ENDED_EVENTS:
                due = obligations_law.due(obligation_sources.EMPLOYER_REPORT, on, office_rule_days=days)
        return {
            "person_id": person_id,
            "relation": link.relation,
            "since": link.since.isoformat(),
            "until": on.isoformat(),
            "report": None
            if due is None
            else {**due.as_dict(), "events": list(obligation_sources.ENDED_EVENTS[link.relation])},
        }

    async def reports(self, actor: Actor) -> list[dict[str, Any]]:
        """Organisation staff: their organisation's reports. Officers and supervisors: the reports routed to
        their office (the read is audited). The newest ``REPORTS_SHOWN``, newest first."""
        async with self.sessions() as s:
            q = (
                select(OrgReport, Organisation, Person, Office)
                .join(Organisation, Organisation.id == OrgReport.organisation_id)
                .join(Person, Person.id == OrgReport.person_id)
                .outerjoin(Office, Office.id == OrgReport.office_id)
                .order_by(OrgReport.reported_at.desc(), OrgReport.id.desc())
                .limit(REPORTS_SHOWN)
            )
            if actor.role is Role.ORG_STAFF:
                q = q.where(OrgReport.organisation_id == _need_org(actor))
            elif actor.role in STAFF and actor.office_id is not None:
                q = q.where(OrgReport.office_id == actor.office_id)
            else:
                raise Forbidden(f"a {actor.role} does not see organisations' reports")
            rows = (await s.execute(q)).all()
            relations = {
                (o, p): r
                for o, p, r in await s.execute(
                    select(OrgPerson.organisation_id, OrgPerson.person_id, OrgPerson.relation).where(
                        OrgPerson.person_id.in_(sorted({r.person_id for r, *_ in rows}) or [0])
                    )
                )
            }
        out = []
        for report, org, person, office in rows:
            d = _report_dict(report, relations.get((org.id, person.id), ""), org.name, office)
            d["person_name"] = _name(person)
            out.append(d)
        if actor.role in STAFF:
            async with self.sessions() as s, s.begin():
                await audit.append(
                    s,
                    **caseless_event(
                        actor, self.clock.now(), "read_org_reports", {"count": len(out)}, actor.office_id
                    ),
                )
        return out


def _report_dict(report: OrgReport, relation: str, org_name: str, office: Office | None) -> dict[str, Any]:
    ev = EVENTS[report.event]
    at = as_utc(report.reported_at)
    return {
        "id": report.id,
        "organisation_id": report.organisation_id,
        "organisation": org_name,
        "person_id": report.person_id,
        "relation": relation,
        "event": ev.code,
        "event_en": ev.en,
        "event_zh": ev.zh,
        "rule": ev.citation.cite,
        "occurred_on": report.occurred_on.isoformat(),
        "note": report.note,
        "office_id": report.office_id,
        "office_code": office.code if office else None,
        "reported_at": at.isoformat(),
    }
