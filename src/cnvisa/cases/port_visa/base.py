"""The plumbing every port-visa command shares: the idempotency key, the request read at its version, the transition
table asked, the audit event (cnvisa.cases.port_visa.flow)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases import audit
from cnvisa.cases.actor import Actor, caseless_event
from cnvisa.cases.clock import Clock, Clocked
from cnvisa.cases.errors import BadInput, Conflict, Forbidden, InvalidCommand
from cnvisa.cases.port_visa import flow
from cnvisa.cases.port_visa.flow import PvCommand, PvState
from cnvisa.cases.queries.port_visa import authorised, view
from cnvisa.cases.runner import fingerprint
from cnvisa.store.port_visa_tables import PortVisaRequest
from cnvisa.store.tables import (
    Holding,
    IdempotencyRecord,
    Person,
    TravelDocument,
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _text(value: str | None, field: str, limit: int) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit or _CONTROL.search(value):
        raise BadInput(field, f"text of 1 to {limit} characters, one line")
    return value


class PortVisaBase(Clocked):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock | None = None,
        *,
        arrival_window_days: int = flow.ARRIVAL_WINDOW_DAYS,
    ) -> None:
        super().__init__(sessions, clock)
        if not 0 <= arrival_window_days <= flow.ARRIVAL_WINDOW_MAX:
            raise ValueError(f"the arrival window is 0 to {flow.ARRIVAL_WINDOW_MAX} days (office rule)")
        self.arrival_window_days = arrival_window_days

    # ------------------------------------------------------------------------------------------ plumbing
    @staticmethod
    async def _replay(
        s: AsyncSession, key: str, actor: Actor, command: str, print_: str
    ) -> dict[str, Any] | None:
        if not key or len(key) > 80:
            raise BadInput("idempotency_key", "required, at most 80 characters")
        rec = await s.get(IdempotencyRecord, key)
        if rec is None:
            return None
        if rec.command != command or (rec.account_id, rec.role) != (actor.account_id, str(actor.role)):
            raise BadInput("idempotency_key", "already used for another command or account: use a fresh key")
        if rec.fingerprint != print_:
            raise BadInput(
                "idempotency_key",
                "this key was already used with a different request: a retry repeats the request unchanged "
                "(draft-ietf-httpapi-idempotency-key-header §2.7)",
            )
        return dict(rec.response, replayed=True)

    @staticmethod
    def _remember(
        s: AsyncSession,
        key: str,
        actor: Actor,
        command: str,
        print_: str,
        response: dict[str, Any],
        now: dt.datetime,
    ) -> None:
        s.add(
            IdempotencyRecord(
                key=key,
                command=command,
                case_id=None,
                account_id=actor.account_id,
                role=str(actor.role),
                response=response,
                fingerprint=print_,
                created_at=now,
            )
        )

    @staticmethod
    def _event(
        actor: Actor, now: dt.datetime, r: PortVisaRequest, before: str | None, action: str, **detail: Any
    ) -> dict[str, Any]:
        event = caseless_event(
            actor,
            now,
            action,
            {"port_visa_request": r.id, "number": r.number, "port": r.port, **detail},
            actor.office_id,
        )
        event["state_before"], event["state_after"] = before, r.state
        return event

    async def _load(
        self, s: AsyncSession, actor: Actor, request_id: int, version: int, command: PvCommand
    ) -> tuple[PortVisaRequest, flow.PvTransition]:
        r = await s.get(PortVisaRequest, request_id, with_for_update=True)
        await authorised(s, actor, r)
        assert r is not None
        t = flow.transition(PvState(r.state), command)
        if t is None:
            raise InvalidCommand(f"no {command} of a request in state {r.state}")
        if actor.role not in t.roles:
            raise Forbidden(f"a {actor.role} may not {command} a port-visa request")
        if r.version != version:
            raise Conflict(f"the request is at version {r.version}, not {version}: read it again")
        return r, t

    async def _command(
        self,
        actor: Actor,
        request_id: int,
        version: int,
        command: PvCommand,
        key: str,
        params: dict[str, Any],
        act: Any,
    ) -> dict[str, Any]:
        name = f"port_visa_{command}"
        print_ = fingerprint(name, request_id, {"version": version, **params})
        now = self.now()
        async with self.sessions() as s, s.begin():
            replay = await self._replay(s, key, actor, name, print_)
            if replay is not None:
                return replay
            r, t = await self._load(s, actor, request_id, version, command)
            before = r.state
            detail = await act(s, r, now)
            r.state = str(t.next)
            r.version += 1
            if t.next in flow.TERMINAL:
                r.closed_at = now
            await s.flush()
            person = await s.get(Person, r.person_id)
            doc = await s.get(TravelDocument, r.travel_document_id)
            assert person is not None and doc is not None
            holding = await s.get(Holding, r.holding_id) if r.holding_id else None
            response = view(r, person, doc, holding)
            self._remember(s, key, actor, name, print_, response, now)
            await s.flush()
            await audit.append_many(s, [self._event(actor, now, r, before, name, **detail)])
            return response
