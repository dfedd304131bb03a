"""Reads of port-visa requests (cnvisa.cases.port_visa): the port desk's queue by arrival, one request, the
inviting organisation's and the foreigner's own requests, the visa facts a later extension reads.

Who sees what: the inviting organisation's staff its organisation's requests; the foreigner their own; a port-visa
officer the requests for the port of their desk (``PortVisaDesk``); the administrator any. Every other reader is
refused; a request that does not exist and one not the reader's look the same (NotFound)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases import audit
from cnvisa.cases.actor import Actor, caseless_event
from cnvisa.cases.clock import Clock, Clocked, beijing_date
from cnvisa.cases.errors import Forbidden, NotFound
from cnvisa.cases.workflow import Role
from cnvisa.law import port_visa as pv
from cnvisa.store.port_visa_tables import PortVisaCheck, PortVisaDesk, PortVisaRequest
from cnvisa.store.tables import Holding, Movement, Person, TravelDocument

QUEUE_LIMIT: Final = 500
OPEN_STATES: Final = ("submitted", "pre_approved")


async def desk_port(s: AsyncSession, actor: Actor) -> str:
    """The port of a port-visa officer's desk; Forbidden for anyone else or an officer without a desk."""
    if actor.role is not Role.PORT_VISA_OFFICER or actor.account_id is None:
        raise Forbidden("the port visa authority's desk only")
    port = (
        await s.execute(select(PortVisaDesk.port).where(PortVisaDesk.account_id == actor.account_id))
    ).scalar_one_or_none()
    if port is None:
        raise Forbidden("this account serves no port yet: the administrator assigns its desk")
    return port


async def authorised(s: AsyncSession, actor: Actor, r: PortVisaRequest | None) -> None:
    """May ``actor`` see (and, as the table allows, act on) request ``r``?"""
    if r is None:
        raise NotFound("no such port-visa request")
    if actor.role in (Role.ADMIN, Role.SYSTEM):
        return
    if actor.role is Role.PORT_VISA_OFFICER:
        if await desk_port(s, actor) != r.port:
            raise NotFound("no such port-visa request at your port")
        return
    if actor.role is Role.ORG_STAFF and actor.organisation_id is not None:
        if r.organisation_id == actor.organisation_id:
            return
    elif actor.role is Role.APPLICANT and actor.person_id is not None and r.person_id == actor.person_id:
        return
    raise NotFound("no such port-visa request of yours")


def _port(code: str) -> dict[str, Any]:
    p = pv.PORTS.get(code)
    return {"code": code, "name_zh": p.name_zh if p else code, "name_en": p.name_en if p else code}


def view(
    r: PortVisaRequest, person: Person, doc: TravelDocument, holding: Holding | None = None
) -> dict[str, Any]:
    """A request as shown to those who may see it (instants with their offset, dates in Beijing)."""
    refusal = r.refusal
    return {
        "id": r.id,
        "number": r.number,
        "version": r.version,
        "state": r.state,
        "person": {
            "id": person.id,
            "name": f"{person.surname} {person.given_names}".strip(),
            "nationality": person.nationality,
            "birth_date": person.birth_date.isoformat(),
        },
        "passport": {"number": doc.number, "issuing_state": doc.issuing_state},
        "organisation_id": r.organisation_id,
        "filed_role": r.filed_role,
        "filed_at": r.filed_at.isoformat(),
        "filed_on": beijing_date(r.filed_at).isoformat(),
        "purpose": r.purpose,
        "urgent": r.urgent,
        "urgency": r.urgency,
        "inviter_kind": r.inviter_kind,
        "port": _port(r.port),
        "arrival_at": r.arrival_at.isoformat(),
        "arrival_date": r.arrival_date.isoformat(),
        "flight": r.flight,
        "stay_days": r.stay_days,
        "category": r.category,
        "entries": pv.ENTRIES,
        "usable_only_at_port": True,
        "present_by": r.lapses_after.isoformat(),
        "decided_at": r.decided_at.isoformat() if r.decided_at else None,
        "refusal": refusal,
        "issued_at": r.issued_at.isoformat() if r.issued_at else None,
        "visa": _visa(holding) if holding is not None else None,
        "closed_at": r.closed_at.isoformat() if r.closed_at else None,
        "assessment": r.assessment,
    }


def _visa(h: Holding) -> dict[str, Any]:
    return {
        "number": h.number,
        "category": h.category,
        "entries": h.entries,
        "stay_days": h.stay_days,
        "extended_days": h.extended_days,
        "valid_from": h.valid_from.isoformat(),
        "port": port_of_holding(h),
    }


def port_of_holding(h: Holding) -> str | None:
    """The port a port visa was issued at (its annotation), None for any other visa."""
    for note in h.annotations or []:
        if isinstance(note, dict) and isinstance(note.get("port_visa"), dict):
            return str(note["port_visa"].get("port"))
    return None


async def _full(s: AsyncSession, r: PortVisaRequest) -> dict[str, Any]:
    person = await s.get(Person, r.person_id)
    doc = await s.get(TravelDocument, r.travel_document_id)
    assert person is not None and doc is not None
    holding = await s.get(Holding, r.holding_id) if r.holding_id else None
    return view(r, person, doc, holding)


def _row(r: PortVisaRequest, surname: str, given: str, nationality: str, passport: str) -> dict[str, Any]:
    return {
        "id": r.id,
        "number": r.number,
        "state": r.state,
        "version": r.version,
        "name": f"{surname} {given}".strip(),
        "nationality": nationality,
        "passport": passport,
        "purpose": r.purpose,
        "category": r.category,
        "port": _port(r.port),
        "arrival_at": r.arrival_at.isoformat(),
        "arrival_date": r.arrival_date.isoformat(),
        "flight": r.flight,
        "stay_days": r.stay_days,
        "present_by": r.lapses_after.isoformat(),
    }


_LISTED = (PortVisaRequest, Person.surname, Person.given_names, Person.nationality, TravelDocument.number)


def _listing() -> Any:
    return (
        select(*_LISTED)
        .join(Person, Person.id == PortVisaRequest.person_id)
        .join(TravelDocument, TravelDocument.id == PortVisaRequest.travel_document_id)
    )


class PortVisaReads(Clocked):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock | None = None) -> None:
        super().__init__(sessions, clock)

    async def queue(self, actor: Actor, *, include_closed: bool = False) -> dict[str, Any]:
        """The desk's queue: its port's open requests by scheduled arrival (then filing); audited as a staff read."""
        async with self.sessions() as s:
            port = await desk_port(s, actor)
            q = _listing().where(PortVisaRequest.port == port)
            if not include_closed:
                q = q.where(PortVisaRequest.state.in_(OPEN_STATES))
            rows = (
                await s.execute(q.order_by(PortVisaRequest.arrival_at, PortVisaRequest.id).limit(QUEUE_LIMIT))
            ).all()
        await self._read_audit(actor, "port_visa_queue_read", {"port": port, "rows": len(rows)})
        return {"port": _port(port), "requests": [_row(*r) for r in rows]}

    async def read(self, actor: Actor, request_id: int) -> dict[str, Any]:
        async with self.sessions() as s:
            r = await s.get(PortVisaRequest, request_id)
            await authorised(s, actor, r)
            assert r is not None
            out = await _full(s, r)
            checks = (
                await s.execute(
                    select(PortVisaCheck).where(PortVisaCheck.request_id == r.id).order_by(PortVisaCheck.id)
                )
            ).scalars()
            out["checks"] = [
                {
                    "checked_at": c.checked_at.isoformat(),
                    "number_matches": c.number_matches,
                    "mrz_valid": c.mrz_valid,
                    "holder_matches": c.holder_matches,
                    "face_matches": c.face_matches,
                    "outcome": c.outcome,
                    "field": (c.result or {}).get("field"),
                }
                for c in checks
            ]
        if actor.role is Role.PORT_VISA_OFFICER:
            await self._read_audit(actor, "port_visa_request_read", {"port_visa_request": request_id})
        return out

    async def mine(self, actor: Actor) -> list[dict[str, Any]]:
        """The inviting organisation's requests (its staff), or the foreigner's own; newest arrival first."""
        q = _listing()
        if actor.role is Role.ORG_STAFF and actor.organisation_id is not None:
            q = q.where(PortVisaRequest.organisation_id == actor.organisation_id)
        elif actor.role is Role.APPLICANT and actor.person_id is not None:
            q = q.where(PortVisaRequest.person_id == actor.person_id)
        else:
            raise Forbidden("the inviting organisation's staff or the foreigner")
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    q.order_by(PortVisaRequest.arrival_at.desc(), PortVisaRequest.id.desc()).limit(200)
                )
            ).all()
        return [_row(*r) for r in rows]

    async def _read_audit(self, actor: Actor, action: str, detail: dict[str, Any]) -> None:
        async with self.sessions() as s, s.begin():
            await audit.append(s, **caseless_event(actor, self.now(), action, detail, actor.office_id))


async def extension_facts(s: AsyncSession, holding_number: str) -> dict[str, Any] | None:
    """The facts a visa extension of a port visa asks the law engine (matter ``visa_extension``): the visa as
    recorded (``port_visa`` true, so the ceiling of Law Art 20 para 4 and Art 29 para 2 applies) and its entry."""
    h = (await s.execute(select(Holding).where(Holding.number == holding_number))).scalar_one_or_none()
    if h is None or h.kind != "visa":
        return None
    entry = (
        await s.execute(
            select(Movement.on)
            .where(Movement.holding_id == h.id, Movement.direction == "entry")
            .order_by(Movement.on.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return {
        "visa": {
            "category": h.category,
            "entries": h.entries,
            "entries_used": h.entries_used,
            "valid_until": h.valid_until.isoformat(),
            "stay_days": h.stay_days,
            "extended_days": h.extended_days,
            "port_visa": port_of_holding(h) is not None,
        },
        "entry_date": entry.isoformat() if isinstance(entry, dt.date) else None,
    }
