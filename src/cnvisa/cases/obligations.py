"""The obligations register (issue 12): every duty with a deadline that a record on file starts becomes an
``Obligation`` with its citation, kept by a daily sweep (``cnvisa db sweep``) — open → met / late / waived, every
change audited. The deadlines are the law engine's (``cnvisa.law.obligations.due``); this module only finds the
records that start, meet or end them.

Which record starts which duty (Exit and Entry Administration Law; the Chinese governs):
- a residence permit in force → apply to extend it 30 days before it ends, if the holder needs to stay longer
  (Art 32 para 1: 需要延长居留期限的，应当在居留证件有效期限届满三十日前提出申请); met by an extension application
  for that permit;
- the person's latest entry, on a visa whose category the Guide lets be extended → apply to extend the stay 7 days
  before it ends, if needed (Art 29 para 1); met by a visa-extension application for that visa;
- the person's latest entry, on a visa whose category requires a residence permit after entry (Regulations Art 9)
  → apply for it within 30 days of the entry (Art 30 para 1); met by a residence-permit application made after the
  entry;
- a post change acknowledged (issue 10 §3) that changed a particular printed on the residence permit → apply for
  the change within 10 days of it (Art 33 para 1: 自登记事项发生变更之日起十日内); opened in the post change's own
  transaction (``open_particulars_change``); met by a replacement application for that permit (Regulations
  Art 17: the permit is renewed to carry the new particulars) made on or after the day of the change.
An application counts once it is made — submitted, whatever its outcome — and not withdrawn or lapsed; its time
is its first submission (the audit event). Made after the deadline: ``late``, with the case named. The deadline
passed with nothing made: ``late`` without a case.

Readings (beside each rule, not law): a duty to extend binds only while the person stays — Art 29 and 32 say
需要延长 (needing to extend): an exit after the entry ends an Art 29 or Art 30 duty (``waived``, reason recorded);
a residence permit no longer valid (replaced, cancelled, void) ends its Art 32 duty. A residence permit allows
re-entry, so leaving for a while does not end Art 32. Only holdings still in force on the sweep's day, and entries
not followed by another movement, open duties: the register starts from the records, not from history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cnvisa.cases import audit, outbox
from cnvisa.cases import obligation_sources as sources
from cnvisa.cases.actor import SYSTEM, Actor, caseless_event
from cnvisa.cases.appointments import people_for
from cnvisa.cases.clock import Clocked, beijing_date
from cnvisa.cases.errors import BadInput, Forbidden, NotFound
from cnvisa.cases.queries.escalation import NEAR_WORKING_DAYS
from cnvisa.cases.workflow import STAFF, Role, State
from cnvisa.law import categories
from cnvisa.law import obligations as rules
from cnvisa.law.errors import LawError
from cnvisa.law.extension import NoExtension, extension_rule
from cnvisa.law.status import last_day_of_stay
from cnvisa.store.obligation_tables import Obligation
from cnvisa.store.post_change_tables import PostChange
from cnvisa.store.tables import AuditEvent, Case, Holding, Movement, OrgPerson, Person

RP_EXTENSION: Final = "residence_permit_extension"
VISA_STAY: Final = "visa_stay_extension"
RP_AFTER_ENTRY: Final = "residence_permit_after_entry"
PARTICULARS: Final = "change_of_particulars"
APPLIED: Final = tuple(str(s) for s in State if s not in (State.DRAFT, State.WITHDRAWN, State.LAPSED))
"""An application made (submitted, whatever came of it); a draft, or one withdrawn or lapsed, meets nothing."""
MEETS: Final = {
    RP_EXTENSION: "residence_permit_extension",
    VISA_STAY: "visa_extension",
    RP_AFTER_ENTRY: "residence_permit",
    PARTICULARS: "residence_permit_replacement",
}
"""The matter of the application that meets each duty."""
ENDED_BY_EXIT: Final = (VISA_STAY, RP_AFTER_ENTRY)
ENDED_WITH_PERMIT: Final = (RP_EXTENSION, PARTICULARS)
"""Duties about one residence permit: they end when it is no longer valid (reading in the module docstring)."""
STATES: Final = ("open", "met", "late", "waived")


def _needs_residence_permit(category: str | None, on: dt.date) -> bool:
    """Regulations Art 9: the visa's category names a residence permit to apply for after entry."""
    try:
        return bool(category) and categories.visa_category(category or "", on).residence_permit is not None
    except LawError:  # a code the law engine does not know on that day: it starts no duty
        return False


def _extendable(category: str | None, stay_days: int | None, on: dt.date) -> bool:
    if not category or stay_days is None:
        return False
    try:
        return not isinstance(extension_rule(category, on=on, stay_days=stay_days), NoExtension)
    except LawError:  # a code the law engine does not know on that day: it starts no duty
        return False


async def open_particulars_change(
    s: AsyncSession, *, person_id: int, post_change_id: int, changed_on: dt.date, now: dt.datetime
) -> int:
    """Law Art 33 para 1: the duty a post change starts when a printed particular changed, written in the
    caller's transaction (the post change's own); its id."""
    row = ObligationRegister._row(PARTICULARS, "post_change", post_change_id, person_id, changed_on, now)
    return int((await s.execute(insert(Obligation).returning(Obligation.id), [row])).scalar_one())


class ObligationRegister(Clocked):
    """The sweep that keeps the register, an officer's waiver, and the reads (holder, organisation, office).
    The sweep also writes the outbox's reminders and escalations (``cnvisa.cases.outbox``) in its transaction, at
    ``reminder_steps`` (office rule) and ``near_working_days`` (office rule)."""

    reminder_steps: tuple[int, ...] = outbox.DEFAULT_STEPS
    near_working_days: int = NEAR_WORKING_DAYS
    report_days_rule: tuple[int | None] | None = None
    """The office rule of Regulations Art 26 reports (``obligation_sources.employer_report_days``); None: read
    from ``CNVISA_EMPLOYER_REPORT_DAYS`` at each sweep."""

    async def sweep(self, on: dt.date | None = None) -> dict[str, list[int]]:
        """One transaction: open the duties new records start, then mark met, late and waived ones; one audit
        event lists every change. Run it again the same day: nothing changes."""
        day = on or self.today()
        now = self.now()
        rule = self.report_days_rule
        report_days = sources.employer_report_days() if rule is None else rule[0]
        async with self.sessions() as s, s.begin():
            opened = await self._open(s, day, now)
            stays_met, stays_late = await sources.open_stays(s, now)
            opened += [*stays_met, *stays_late, *await sources.open_reports(s, day, now, report_days)]
            met = await self._met(s, now) + await sources.met_reports(s, now)
            late = list(
                (
                    await s.execute(
                        update(Obligation)
                        .where(Obligation.state == "open", Obligation.due_by < day)
                        .values(state="late", changed_at=now)
                        .returning(Obligation.id)
                    )
                ).scalars()
            )
            waived = await self._waive_ended(s, now)
            changes = {
                "opened": sorted(opened),
                "met": sorted([*met, *stays_met]),
                "late": sorted([*late, *stays_late]),
                "waived": waived,
            }
            queued = await outbox.sweep(s, day, now, self.reminder_steps, self.near_working_days)
            if any(changes.values()) or any(queued.values()):
                detail = {"on": day.isoformat(), **changes, "notifications": queued}
                await audit.append(s, **caseless_event(SYSTEM, now, "obligations_swept", detail, None))
        return changes

    async def _open(self, s: AsyncSession, day: dt.date, now: dt.datetime) -> list[int]:
        rows: list[dict[str, Any]] = []
        known = select(Obligation.id).where(Obligation.basis_id == Holding.id, Obligation.basis == "holding")
        permits = await s.execute(
            select(Holding.id, Holding.person_id, Holding.valid_until).where(
                Holding.kind == "residence_permit",
                Holding.status == "valid",
                Holding.valid_until >= day,
                ~exists(known.where(Obligation.kind == RP_EXTENSION)),
            )
        )
        for h in permits:
            rows.append(self._row(RP_EXTENSION, "holding", h.id, h.person_id, h.valid_until, now))
        later = aliased(Movement)
        entries = await s.execute(
            select(
                Movement.id,
                Movement.person_id,
                Movement.on,
                Holding.category,
                Holding.stay_days,
                Holding.extended_days,
            )
            .join(Holding, Holding.id == Movement.holding_id)
            .where(
                Movement.direction == "entry",
                Holding.kind == "visa",
                ~exists(
                    select(later.id).where(
                        later.person_id == Movement.person_id,
                        or_(later.on > Movement.on, and_(later.on == Movement.on, later.id > Movement.id)),
                    )
                ),
                ~exists(
                    select(Obligation.id).where(
                        Obligation.basis == "entry", Obligation.basis_id == Movement.id
                    )
                ),
            )
        )
        for e in entries:
            if _needs_residence_permit(e.category, e.on):
                rows.append(self._row(RP_AFTER_ENTRY, "entry", e.id, e.person_id, e.on, now))
            elif _extendable(e.category, e.stay_days, e.on):
                end = last_day_of_stay(e.on, e.stay_days, e.extended_days or 0)
                if end >= day:
                    rows.append(self._row(VISA_STAY, "entry", e.id, e.person_id, end, now))
        if not rows:
            return []
        ids = await s.execute(insert(Obligation).returning(Obligation.id, sort_by_parameter_order=True), rows)
        return sorted(ids.scalars())

    @staticmethod
    def _row(
        kind: str, basis: str, basis_id: int, person_id: int, trigger: dt.date, now: dt.datetime
    ) -> dict[str, Any]:
        d = rules.due(kind, trigger)
        return {
            "person_id": person_id,
            "kind": kind,
            "basis": basis,
            "basis_id": basis_id,
            "due_by": d.by,
            "label": d.label,
            "citations": [c.as_dict() for c in d.citations],
            "holidays_known": d.holidays_known,
            "state": "open",
            "opened_at": now,
            "changed_at": now,
        }

    async def _met(self, s: AsyncSession, now: dt.datetime) -> list[int]:
        """Open or late duties with no application yet, and the first application that meets each."""
        made = (
            select(AuditEvent.case_id, func.min(AuditEvent.at).label("at"))
            .where(AuditEvent.action.in_(("apply", "submit")))
            .group_by(AuditEvent.case_id)
            .subquery()
        )
        waiting = and_(Obligation.state.in_(("open", "late")), Obligation.met_at.is_(None))
        applied = and_(Case.person_id == Obligation.person_id, Case.state.in_(APPLIED))
        number = Case.inputs["holding_number"].as_string()
        found: list[Any] = []
        for kind, on_basis in (
            (RP_EXTENSION, and_(Obligation.basis == "holding", Holding.id == Obligation.basis_id)),
            (VISA_STAY, Holding.id == Movement.holding_id),
        ):
            q = select(Obligation.id, Obligation.due_by, Case.id.label("case_id"), made.c.at).select_from(
                Obligation
            )
            if kind == VISA_STAY:
                q = q.join(Movement, and_(Obligation.basis == "entry", Movement.id == Obligation.basis_id))
            q = (
                q.join(Holding, on_basis)
                .join(Case, and_(applied, Case.matter == MEETS[kind], number == Holding.number))
                .join(made, made.c.case_id == Case.id)
            )
            found += (
                await s.execute(q.where(waiting, Obligation.kind == kind).order_by(Obligation.id, made.c.at))
            ).all()
        q = (
            select(Obligation.id, Obligation.due_by, Case.id.label("case_id"), made.c.at, Movement.on)
            .select_from(Obligation)
            .join(Movement, and_(Obligation.basis == "entry", Movement.id == Obligation.basis_id))
            .join(Case, and_(applied, Case.matter == MEETS[RP_AFTER_ENTRY]))
            .join(made, made.c.case_id == Case.id)
            .where(waiting, Obligation.kind == RP_AFTER_ENTRY)
            .order_by(Obligation.id, made.c.at)
        )
        found += [r for r in (await s.execute(q)).all() if beijing_date(r.at) >= r.on]  # made after the entry
        q = (
            select(
                Obligation.id, Obligation.due_by, Case.id.label("case_id"), made.c.at, PostChange.effective_on
            )
            .select_from(Obligation)
            .join(PostChange, and_(Obligation.basis == "post_change", PostChange.id == Obligation.basis_id))
            .join(Holding, Holding.id == PostChange.holding_id)
            .join(Case, and_(applied, Case.matter == MEETS[PARTICULARS], number == Holding.number))
            .join(made, made.c.case_id == Case.id)
            .where(waiting, Obligation.kind == PARTICULARS)
            .order_by(Obligation.id, made.c.at)
        )
        # made on or after the day of the change (an earlier replacement could not carry it)
        found += [r for r in (await s.execute(q)).all() if beijing_date(r.at) >= r.effective_on]
        done: list[int] = []
        for r in found:
            if r.id in done:  # the first application only
                continue
            on_time = r.due_by is None or beijing_date(r.at) <= r.due_by
            await s.execute(
                update(Obligation)
                .where(Obligation.id == r.id)
                .values(
                    state="met" if on_time else "late", met_by_case_id=r.case_id, met_at=r.at, changed_at=now
                )
            )
            done.append(r.id)
        # Art 30 met by a residence permit issued after the entry through another procedure (a joint
        # application, a record from before this platform): met, the time of the application unknown
        permit = aliased(Holding)
        issued = (
            await s.execute(
                update(Obligation)
                .where(
                    waiting,
                    Obligation.kind == RP_AFTER_ENTRY,
                    Obligation.id.not_in(done or [0]),
                    exists(
                        select(permit.id)
                        .join(Movement, Movement.id == Obligation.basis_id)
                        .where(
                            permit.person_id == Obligation.person_id,
                            permit.kind == "residence_permit",
                            permit.valid_from >= Movement.on,
                        )
                    ),
                )
                .values(state="met", changed_at=now)
                .returning(Obligation.id)
            )
        ).scalars()
        return sorted([*done, *issued])

    async def _waive_ended(self, s: AsyncSession, now: dt.datetime) -> list[int]:
        """The Readings of the module docstring: an exit after the entry ends an Art 29 or 30 duty; a permit no
        longer valid ends its Art 32 duty."""
        entry = aliased(Movement)
        left = exists(
            select(Movement.id).where(
                Movement.person_id == entry.person_id,
                Movement.direction == "exit",
                or_(Movement.on > entry.on, and_(Movement.on == entry.on, Movement.id > entry.id)),
            )
        )
        waiting = and_(Obligation.state.in_(("open", "late")), Obligation.met_at.is_(None))
        exited = (
            (
                await s.execute(
                    update(Obligation)
                    .where(
                        waiting,
                        Obligation.kind.in_(ENDED_BY_EXIT),
                        exists(select(entry.id).where(entry.id == Obligation.basis_id, left)),
                    )
                    .values(
                        state="waived",
                        reason="exit recorded: the duty binds only while the person stays",
                        changed_at=now,
                    )
                    .returning(Obligation.id)
                )
            )
            .scalars()
            .all()
        )
        invalid = Holding.status != "valid"
        permit_ended = or_(
            and_(
                Obligation.basis == "holding",
                exists(select(Holding.id).where(Holding.id == Obligation.basis_id, invalid)),
            ),
            and_(
                Obligation.basis == "post_change",
                exists(
                    select(Holding.id)
                    .join(PostChange, PostChange.holding_id == Holding.id)
                    .where(PostChange.id == Obligation.basis_id, invalid)
                ),
            ),
        )
        ended = (
            (
                await s.execute(
                    update(Obligation)
                    .where(
                        waiting,
                        Obligation.kind.in_(ENDED_WITH_PERMIT),
                        permit_ended,
                    )
                    .values(state="waived", reason="the residence permit is no longer valid", changed_at=now)
                    .returning(Obligation.id)
                )
            )
            .scalars()
            .all()
        )
        return sorted([*exited, *ended])

    # ------------------------------------------------------------------------------------------- an officer
    async def waive(self, actor: Actor, obligation_id: int, reason: str) -> dict[str, Any]:
        """An officer records that a duty no longer binds (e.g. the person left by another port), with the reason;
        audited. Only staff of an office where the person has a case; a met duty stays met. Sent again with the
        same reason, the waiver is answered as it stands (a retried request changes nothing)."""
        if actor.role not in STAFF:
            raise Forbidden("only an officer or supervisor waives an obligation")
        reason = " ".join(reason.split())
        if not 3 <= len(reason) <= 500:
            raise BadInput("reason", "say why, in 3 to 500 characters")
        now = self.now()
        async with self.sessions() as s, s.begin():
            ob = await s.get(Obligation, obligation_id)
            if ob is None:
                raise NotFound(f"obligation {obligation_id}")
            known = await s.execute(
                select(Case.id)
                .where(Case.person_id == ob.person_id, Case.office_id == actor.office_id)
                .limit(1)
            )
            if known.first() is None:
                raise Forbidden("the person has no case at this office")
            if ob.state == "waived" and ob.reason == reason:
                return _out(ob)
            if ob.state not in ("open", "late") or ob.met_at is not None:
                raise BadInput("state", f"an obligation {ob.state} cannot be waived")
            ob.state, ob.reason, ob.changed_at = "waived", reason, now
            detail = {"obligation": ob.id, "person": ob.person_id, "kind": ob.kind, "reason": reason}
            await audit.append(s, **caseless_event(actor, now, "obligation_waived", detail, actor.office_id))
            return _out(ob)

    # ------------------------------------------------------------------------------------------- reads
    async def of_person(self, person_id: int, states: tuple[str, ...] = STATES) -> list[dict[str, Any]]:
        """A person's obligations, nearest deadline first (the caller has checked who may read them)."""
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    select(Obligation)
                    .where(
                        Obligation.person_id == person_id,
                        Obligation.state.in_(states),
                        Obligation.kind.not_in(sources.ORGANISATION_DUTIES),
                    )
                    .order_by(Obligation.due_by.asc().nulls_last(), Obligation.id)
                )
            ).scalars()
            return [_out(o) for o in rows]

    async def of_people(self, actor: Actor) -> list[dict[str, Any]]:
        """The obligations of each person an applicant or agent follows (themself; the people of their mandates),
        nearest deadline first."""
        ids = sorted(people_for(actor))
        async with self.sessions() as s:
            people = {
                p.id: f"{p.surname} {p.given_names}"
                for p in (await s.execute(select(Person).where(Person.id.in_(ids)))).scalars()
            }
        return [
            {"person": {"id": pid, "name": people.get(pid, "")}, "obligations": await self.of_person(pid)}
            for pid in ids
        ]

    async def of_organisation(self, actor: Actor, limit: int = 200) -> list[dict[str, Any]]:
        """The open and late duties of an organisation's current people, and its own Regulations Art 26 reports
        (its staff's page), nearest first."""
        if actor.role is not Role.ORG_STAFF or actor.organisation_id is None:
            raise Forbidden("an organisation's staff read their own people's obligations")
        on = self.today()
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    select(Obligation, Person.surname, Person.given_names)
                    .join(Person, Person.id == Obligation.person_id)
                    .where(
                        Obligation.state.in_(("open", "late")),
                        or_(
                            and_(
                                Obligation.kind.not_in(sources.ORGANISATION_DUTIES),
                                Obligation.person_id.in_(
                                    select(OrgPerson.person_id).where(
                                        OrgPerson.organisation_id == actor.organisation_id,
                                        or_(OrgPerson.until.is_(None), OrgPerson.until >= on),
                                    )
                                ),
                            ),
                            # its own Art 26 reports, about people who may have left it
                            and_(
                                Obligation.basis == "org_person",
                                Obligation.basis_id.in_(
                                    select(OrgPerson.id).where(
                                        OrgPerson.organisation_id == actor.organisation_id
                                    )
                                ),
                            ),
                        ),
                    )
                    .order_by(Obligation.due_by.asc().nulls_last(), Obligation.id)
                    .limit(limit)
                )
            ).all()
        return [{**_out(o), "name": f"{sn} {gn}"} for o, sn, gn in rows]


def _out(o: Obligation) -> dict[str, Any]:
    return {
        "id": o.id,
        "person_id": o.person_id,
        "kind": o.kind,
        "due_by": o.due_by.isoformat() if o.due_by else None,
        "due_at": o.due_at.isoformat() if o.due_at else None,
        "label": o.label,
        "citations": list(o.citations),
        "holidays_known": o.holidays_known,
        "state": o.state,
        "met_by_case_id": o.met_by_case_id,
        "met_on": beijing_date(o.met_at).isoformat() if o.met_at else None,
        "reason": o.reason,
    }
