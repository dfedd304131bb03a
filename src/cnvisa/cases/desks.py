"""Desk assignment by the administrator (issue 11): which police station (派出所) each police officer's desk serves
(Law Art 39 para 2: the public security organ of the place of residence) and which port each port-visa officer's
desk serves (Law Art 20 para 1: the port visa authority the MPS entrusts), and the police stations themselves,
each with its area. Every assignment and every look is an audit event.

A station's area is one county-level GB/T 2260 division inside its office's area (``cnvisa.store.police_tables``:
the register holds county-level codes; a station's streets and townships are finer and not held)."""

from __future__ import annotations

import re
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases import audit
from cnvisa.cases.accommodation.base import PREFIX
from cnvisa.cases.actor import Actor, caseless_event
from cnvisa.cases.clock import Clocked
from cnvisa.cases.errors import BadInput, Forbidden
from cnvisa.cases.port_visa.service import PortVisaService
from cnvisa.cases.workflow import Role
from cnvisa.law import port_visa as pv
from cnvisa.law.divisions import check_division
from cnvisa.law.errors import InvalidInput
from cnvisa.store.police_tables import PoliceDesk, PoliceStation
from cnvisa.store.port_visa_tables import PortVisaDesk
from cnvisa.store.tables import Account, Office

_CODE: Final = re.compile(r"[A-Z0-9][A-Z0-9-]{1,15}")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


def _admin(actor: Actor) -> None:
    if actor.role not in (Role.ADMIN, Role.SYSTEM):
        raise Forbidden("only an administrator assigns desks and keeps the police stations")


def _line(value: str | None, field: str, limit: int, *, required: bool = True) -> str | None:
    value = (value or "").strip()
    if not value and not required:
        return None
    if not value or len(value) > limit or _CONTROL.search(value):
        raise BadInput(field, f"text of 1 to {limit} characters, one line")
    return value


async def _account(s: AsyncSession, username: str, role: Role) -> Account:
    acc = (await s.execute(select(Account).where(Account.username == username))).scalar_one_or_none()
    if acc is None:
        raise BadInput("username", "no such account")
    if acc.role != str(role):
        raise BadInput("username", f"not a {role} account")
    return acc


class DeskAssignments(Clocked):
    async def add_station(
        self,
        actor: Actor,
        *,
        code: str,
        name_zh: str,
        name_en: str,
        office_code: str,
        division_code: str,
        source: str,
    ) -> dict[str, Any]:
        """A police station under ``office_code`` whose area is ``division_code`` (a county-level code inside the
        office's area); ``source``: where its record comes from (demo data is labelled so)."""
        _admin(actor)
        code = code.strip().upper()
        if not _CODE.fullmatch(code):
            raise BadInput("code", "2 to 16 capital letters, digits or dashes")
        try:
            division = check_division(division_code, "division_code")
        except InvalidInput as exc:
            raise BadInput(exc.field, exc.message) from None
        values = {
            "name_zh": _line(name_zh, "name_zh", 200),
            "name_en": _line(name_en, "name_en", 200),
            "source": _line(source, "source", 300),
        }
        now = self.now()
        async with self.sessions() as s, s.begin():
            office = (await s.execute(select(Office).where(Office.code == office_code))).scalar_one_or_none()
            if office is None:
                raise BadInput("office", "no such office")
            prefix = office.region[: PREFIX.get(office.level, 6)]
            if not division.startswith(prefix):
                raise BadInput("division_code", f"outside the office's area ({prefix})")
            if (await s.execute(select(PoliceStation.id).where(PoliceStation.code == code))).first():
                raise BadInput("code", "a police station with this code is on record")
            st = PoliceStation(code=code, office_id=office.id, division_code=division, **values)
            s.add(st)
            await s.flush()
            detail = {"station": code, "office": office.code, "area": division}
            await audit.append(s, **caseless_event(actor, now, "police_station_added", detail, office.id))
            return {"id": st.id, **detail}

    async def assign_police(
        self, actor: Actor, username: str, station_code: str, note: str | None = None
    ) -> dict[str, Any]:
        """The station a police officer's desk serves from now on (its area is what the officer sees)."""
        _admin(actor)
        note = _line(note, "note", 300, required=False)
        now = self.now()
        async with self.sessions() as s, s.begin():
            acc = await _account(s, username, Role.POLICE_OFFICER)
            st = (
                await s.execute(select(PoliceStation).where(PoliceStation.code == station_code))
            ).scalar_one_or_none()
            if st is None:
                raise BadInput("station", "no such police station")
            desk = (
                await s.execute(select(PoliceDesk).where(PoliceDesk.account_id == acc.id))
            ).scalar_one_or_none()
            before = None
            if desk is None:
                s.add(PoliceDesk(account_id=acc.id, station_id=st.id, assigned_at=now, note=note))
            else:
                before = desk.station_id
                desk.station_id, desk.assigned_at, desk.note = st.id, now, note
            await s.flush()
            detail = {"account": acc.id, "username": acc.username, "station": st.code, "before": before}
            await audit.append(s, **caseless_event(actor, now, "police_desk_assigned", detail, st.office_id))
        return {"username": acc.username, "station": st.code, "area": st.division_code}

    async def assign_port(
        self, actor: Actor, username: str, port: str, note: str | None = None
    ) -> dict[str, Any]:
        """The port a port-visa officer's desk serves (``PortVisaService.assign_desk``: the port must be listed)."""
        _admin(actor)
        note = _line(note, "note", 300, required=False)
        async with self.sessions() as s:
            acc = await _account(s, username, Role.PORT_VISA_OFFICER)
        out = await PortVisaService(self.sessions, self.clock).assign_desk(actor, acc.id, port, note)
        return {"username": acc.username, "port": out["port"]}

    async def overview(self, actor: Actor) -> dict[str, Any]:
        """The stations with their areas and officers, the listed ports, who serves which desk; audited."""
        _admin(actor)
        async with self.sessions() as s, s.begin():
            stations = [
                {
                    "code": st.code,
                    "name_zh": st.name_zh,
                    "name_en": st.name_en,
                    "office": office,
                    "area": st.division_code,
                    "source": st.source,
                }
                for st, office in (
                    await s.execute(
                        select(PoliceStation, Office.code)
                        .join(Office, Office.id == PoliceStation.office_id)
                        .order_by(PoliceStation.code)
                    )
                ).all()
            ]
            police = [
                {"username": u, "name": n, "station": code}
                for u, n, code in (
                    await s.execute(
                        select(Account.username, Account.display_name, PoliceStation.code)
                        .outerjoin(PoliceDesk, PoliceDesk.account_id == Account.id)
                        .outerjoin(PoliceStation, PoliceStation.id == PoliceDesk.station_id)
                        .where(Account.role == str(Role.POLICE_OFFICER))
                        .order_by(Account.username)
                    )
                ).all()
            ]
            port_desks = [
                {"username": u, "name": n, "port": port}
                for u, n, port in (
                    await s.execute(
                        select(Account.username, Account.display_name, PortVisaDesk.port)
                        .outerjoin(PortVisaDesk, PortVisaDesk.account_id == Account.id)
                        .where(Account.role == str(Role.PORT_VISA_OFFICER))
                        .order_by(Account.username)
                    )
                ).all()
            ]
            detail = {"stations": len(stations), "police": len(police), "port_desks": len(port_desks)}
            await audit.append(s, **caseless_event(actor, self.now(), "desks_viewed", detail, None))
        ports = [
            {"code": p.code, "name_zh": p.name_zh, "name_en": p.name_en}
            for p in sorted(pv.PORTS.values(), key=lambda p: p.code)
        ]
        return {"stations": stations, "police": police, "port_desks": port_desks, "ports": ports}
