"""Post changes without a new residence permit (issue 10 §3; NIA measures 2024-03-20, seed 001 l.16).

The employer (role ``org_staff``) files a ``PostChange`` for one of its employees holding a residence permit. The
law engine (``cnvisa.law.post_change``) decides whether the measure covers it:
- covered → ``filed → acknowledged``: a notification, not an application. The new work location and position are
  recorded; the office responsible for the holder moves to the office of the new region (Law Art 30 para 1,
  Art 32; the office is chosen as an Art 26 report's is: ``org_reports.responsible_office``); on a change of region
  the employer's Regulations Art 26(1) report ("changed_work_location") is filed in the same transaction
  (``org_reports.add_report``); the answer lists what is still due (the work-permit change, Law Art 43(2); the
  Law Art 33 change within 10 days when a printed particular changed).
- not covered → ``filed → referred`` with the unmet condition (cited) and what to apply for instead; nothing else
  is written.
Every state change is audited; the command carries an idempotency key (a repeat returns the first answer, the
same key with another request is refused), as the case commands do (``cnvisa.cases.runner``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases import audit
from cnvisa.cases.actor import Actor, caseless_event
from cnvisa.cases.clock import Clocked
from cnvisa.cases.errors import BadInput, Forbidden, NotFound
from cnvisa.cases.obligations import open_particulars_change
from cnvisa.cases.org_reports import add_report, check_event, responsible_office
from cnvisa.cases.registry import holding_status
from cnvisa.cases.runner import fingerprint
from cnvisa.cases.work_permits import work_permit_on
from cnvisa.cases.workflow import STAFF, Role
from cnvisa.law.citations import law
from cnvisa.law.divisions import check_division
from cnvisa.law.errors import InvalidInput
from cnvisa.law.post_change import post_change
from cnvisa.store.post_change_tables import PostChange
from cnvisa.store.tables import Case, Holding, IdempotencyRecord, Office, Organisation, OrgPerson

COMMAND: Final = "file_post_change"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _text(value: str, field: str, limit: int) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit or _CONTROL.search(value):
        raise BadInput(field, f"text of 1 to {limit} characters, one line")
    return value


async def holder_office(s: AsyncSession, holding: Holding) -> Office | None:
    """The office responsible for the holder of ``holding``: that of the last acknowledged post change, else the
    office that issued the permit, else None."""
    moved = (
        await s.execute(
            select(PostChange.to_office_id)
            .where(PostChange.holding_id == holding.id, PostChange.state == "acknowledged")
            .order_by(PostChange.effective_on.desc(), PostChange.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if moved is not None:
        return await s.get(Office, moved)
    if holding.issued_by_case_id is not None:
        case = await s.get(Case, holding.issued_by_case_id)
        if case is not None:
            return await s.get(Office, case.office_id)
    return None


async def _work_region(s: AsyncSession, holding: Holding, org: Organisation | None) -> str | None:
    """Where the holder works now: the last acknowledged post change's region, else the employer's region."""
    last = (
        await s.execute(
            select(PostChange.to_region)
            .where(PostChange.holding_id == holding.id, PostChange.state == "acknowledged")
            .order_by(PostChange.effective_on.desc(), PostChange.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return last or (org.region if org else None)


async def _record_on_work_permit(
    s: AsyncSession, record: PostChange, org_id: int, to_region: str, position: str, effective_on: dt.date
) -> dict[str, Any] | None:
    """The work-permit change recorded on the holder's work permit for this employer (issue 10 §3: "records the
    work-permit change"): its position and work region become the new post's; None when the register holds no
    active work permit of the holder with this employer on the day (the change is then only listed as due).
    Reading: the register follows the change the employer notified; the change with the work-permit authority
    is still due (Law Art 43(2), listed in ``due``)."""
    permit = await work_permit_on(s, record.person_id, effective_on, employer_organisation_id=org_id)
    if permit is None:
        return None
    before = {"position": permit.position, "work_region": permit.work_region}
    permit.position, permit.work_region = position, to_region
    record.work_permit_id = permit.id
    return {
        "number": permit.number,
        "before": before,
        "after": {"position": position, "work_region": to_region},
        "citation": law(43, 2).cite,
    }


class PostChanges(Clocked):
    async def _replay(self, s: AsyncSession, key: str, actor: Actor, print_: str) -> dict[str, Any] | None:
        rec = await s.get(IdempotencyRecord, key)
        if rec is None:
            return None
        if rec.command != COMMAND or (rec.account_id, rec.role) != (actor.account_id, str(actor.role)):
            raise BadInput("idempotency_key", "already used for another command or account: use a fresh key")
        if rec.fingerprint != print_:
            raise BadInput(
                "idempotency_key",
                "this key was already used with a different request: a retry repeats the request unchanged "
                "(draft-ietf-httpapi-idempotency-key-header §2.7)",
            )
        return dict(rec.response, replayed=True)

    async def file(
        self,
        actor: Actor,
        *,
        person_id: int,
        holding_id: int,
        to_region: str,
        position: str,
        work_location: str,
        effective_on: dt.date,
        role: str,
        organisation: str = "same",
        kind: str = "post_change",
        printed_changes: Sequence[str] = (),
        idempotency_key: str,
        office_rule_report_days: int | None = None,
    ) -> dict[str, Any]:
        """File a post change for one of the organisation's employees; one transaction with its audit events."""
        if actor.role is not Role.ORG_STAFF or actor.organisation_id is None:
            raise Forbidden("only the employer's staff file a post change (Regulations Art 26)")
        org_id = actor.organisation_id
        if not idempotency_key or len(idempotency_key) > 80:
            raise BadInput("idempotency_key", "required, at most 80 characters")
        try:
            check_division(to_region, "to_region")
        except InvalidInput as exc:
            raise BadInput(exc.field, exc.message) from None
        position = _text(position, "position", 200)
        work_location = _text(work_location, "work_location", 300)
        if effective_on > self.today():
            raise BadInput("effective_on", "a change is notified after it took effect: not a future date")
        request = {
            "person_id": person_id,
            "holding_id": holding_id,
            "to_region": to_region,
            "position": position,
            "work_location": work_location,
            "effective_on": effective_on,
            "role": role,
            "organisation": organisation,
            "kind": kind,
            "printed_changes": list(printed_changes),
            "office_rule_report_days": office_rule_report_days,
        }
        print_ = fingerprint(COMMAND, None, request)
        now = self.clock.now()
        async with self.sessions() as s, s.begin():
            replay = await self._replay(s, idempotency_key, actor, print_)
            if replay is not None:
                return replay
            link = (
                (
                    await s.execute(
                        select(OrgPerson)
                        .where(
                            OrgPerson.organisation_id == org_id,
                            OrgPerson.person_id == person_id,
                            OrgPerson.relation == "employee",
                        )
                        .order_by(OrgPerson.since.desc(), OrgPerson.id.desc())
                    )
                )
                .scalars()
                .first()
            )
            if link is None or (link.until is not None and link.until < effective_on):
                raise BadInput("person_id", "not one of your organisation's employees")
            holding = await s.get(Holding, holding_id)
            if holding is None or holding.person_id != person_id or holding.kind != "residence_permit":
                raise BadInput("holding_id", "not a residence permit of this person")
            if holding_status(holding, effective_on) != "valid":
                raise BadInput(
                    "holding_id", f"the residence permit is not valid on {effective_on.isoformat()}"
                )
            org = await s.get(Organisation, org_id)
            from_office = await holder_office(s, holding)
            from_region = await _work_region(s, holding, org) or (from_office.region if from_office else None)
            if from_region is None:
                raise BadInput("holding_id", "where the holder works now is not known (no region)")
            facts = {
                "effective_on": effective_on,
                "kind": kind,
                "permit_type": holding.category,
                "role": role,
                "organisation": organisation,
                "from_region": from_region,
                "to_region": to_region,
                "printed_changes": list(printed_changes),
            }
            try:
                answer = post_change(facts, office_rule_report_days=office_rule_report_days)
            except InvalidInput as exc:
                field = "holding_id" if exc.field == "permit_type" else exc.field
                raise BadInput(field, exc.message) from None
            permit_change: dict[str, Any] | None = None
            record = PostChange(
                person_id=person_id,
                holding_id=holding_id,
                organisation_id=org_id,
                kind=kind,
                from_region=from_region,
                to_region=to_region,
                position=position,
                work_location=work_location,
                effective_on=effective_on,
                filed_by=actor.account_id,
                filed_at=now,
                state="filed",
                from_office_id=from_office.id if from_office else None,
                answer=_jsonable(answer),
            )
            s.add(record)
            await s.flush()
            events = [self._event(actor, now, record, None, "filed", "post_change_filed")]
            to_office = from_office
            report_id = None
            if answer["covered"]:
                record.state = "acknowledged"
                if kind == "post_change":
                    to_office = await responsible_office(s, to_region) or from_office
                record.to_office_id = to_office.id if to_office else None
                if kind == "post_change" and answer["cross_region"]:
                    ev = check_event("changed_work_location", "employee", on=self.today())
                    report, _ = await add_report(
                        s,
                        actor,
                        now,
                        org_id=org_id,
                        org=org,
                        person_id=person_id,
                        event=ev,
                        occurred_on=effective_on,
                        note=f"post change {record.id}: {position}, {work_location}",
                        events=events,  # written last with the others: the work permit is locked after it
                    )
                    record.org_report_id = report_id = report.id
                if kind == "post_change":
                    permit_change = await _record_on_work_permit(
                        s, record, org_id, to_region, position, effective_on
                    )
                    if permit_change is not None:
                        events.append(
                            caseless_event(
                                actor,
                                now,
                                "work_permit_changed",
                                {"post_change": record.id, **permit_change},
                                to_office.id if to_office else None,
                            )
                        )
                if printed_changes:  # Law Art 33 para 1: the holder's change, due within 10 days
                    duty = await open_particulars_change(
                        s, person_id=person_id, post_change_id=record.id, changed_on=effective_on, now=now
                    )
                    events.append(
                        caseless_event(
                            actor,
                            now,
                            "obligation_opened",
                            {"obligation": duty, "person": person_id, "kind": "change_of_particulars"},
                            to_office.id if to_office else None,
                        )
                    )
                events.append(
                    self._event(actor, now, record, "filed", "acknowledged", "post_change_acknowledged")
                )
            else:
                record.state = "referred"
                record.referred_reason = f"{answer['why']} ({'; '.join(answer['citations'])})"
                events.append(self._event(actor, now, record, "filed", "referred", "post_change_referred"))
            await s.flush()
            response = {
                "id": record.id,
                "state": record.state,
                "person_id": person_id,
                "holding_id": holding_id,
                "kind": kind,
                "from_region": from_region,
                "to_region": to_region,
                "position": position,
                "work_location": work_location,
                "effective_on": effective_on.isoformat(),
                "from_office": from_office.code if from_office else None,
                "responsible_office": to_office.code
                if to_office and record.state == "acknowledged"
                else None,
                "org_report_id": report_id,
                "work_permit_change": permit_change,
                "referred_reason": record.referred_reason,
                "due": record.answer["due"],
                "instead": record.answer["instead"],
                "citations": record.answer["citations"],
            }
            s.add(
                IdempotencyRecord(
                    key=idempotency_key,
                    command=COMMAND,
                    case_id=None,
                    account_id=actor.account_id,
                    role=str(actor.role),
                    response=response,
                    fingerprint=print_,
                    created_at=now,
                )
            )
            await s.flush()
            # last, in one call: no row is locked after an audit chain's head (cnvisa.cases.audit.append)
            await audit.append_many(s, events)
        return response

    @staticmethod
    def _event(
        actor: Actor, now: dt.datetime, record: PostChange, before: str | None, after: str, action: str
    ) -> dict[str, Any]:
        event = caseless_event(
            actor,
            now,
            action,
            {
                "post_change": record.id,
                "person": record.person_id,
                "holding": record.holding_id,
                "from_region": record.from_region,
                "to_region": record.to_region,
                "office": record.to_office_id,
                "report": record.org_report_id,
            },
            record.to_office_id or record.from_office_id,
        )
        event["state_before"] = before
        event["state_after"] = after
        return event

    async def responsible_office(self, actor: Actor, holding_id: int) -> dict[str, Any]:
        """The office now responsible for a residence permit's holder (staff, the holder, or the employer)."""
        async with self.sessions() as s:
            holding = await s.get(Holding, holding_id)
            if holding is None:
                raise NotFound(f"holding {holding_id}")
            allowed = actor.role in STAFF or actor.role is Role.ADMIN or actor.person_id == holding.person_id
            if not allowed and actor.role is Role.ORG_STAFF and actor.organisation_id is not None:
                allowed = (
                    await s.execute(
                        select(OrgPerson.id).where(
                            OrgPerson.organisation_id == actor.organisation_id,
                            OrgPerson.person_id == holding.person_id,
                        )
                    )
                ).first() is not None
            if not allowed:
                raise Forbidden("not your permit")
            office = await holder_office(s, holding)
        return {"holding_id": holding_id, "office": office.code if office else None}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
