"""What the register's services share: the clock, the values of a new stay, moving out, the audit of a staff
read, and the area a reader of the police sees.

The area (Law Art 39 para 2: the public security organ of the place of residence):
- a police station's officer (``police_officer``): the station's county-level division (``PoliceStation``), exactly;
- an exit-entry administration's officers and supervisors: the office's area (its GB/T 2260 division: a
  provincial office the province, a prefecture's its prefecture, a county's its county)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases import audit
from cnvisa.cases.accommodation.checks import Stay
from cnvisa.cases.actor import Actor, caseless_event
from cnvisa.cases.clock import Clock, Clocked, beijing_date
from cnvisa.cases.errors import BadInput, Forbidden
from cnvisa.cases.workflow import STAFF, Role
from cnvisa.law import accommodation as rules
from cnvisa.store.police_tables import PoliceDesk, PoliceStation
from cnvisa.store.register_tables import AccommodationRegistration as Reg
from cnvisa.store.tables import Office

PREFIX: Final = {"provincial": 2, "prefecture": 4, "county": 6}
"""How much of the division code an office's area shares, by the office's level (Guide III)."""
POLICE: Final = STAFF | {Role.POLICE_OFFICER}
"""Who reads an area of the register: an office's officers and supervisors, a police station's officers."""


@dataclass(frozen=True)
class Area:
    """What a reader of the police sees: the division codes starting with ``prefix``."""

    prefix: str
    office_id: int
    office_code: str
    station_id: int | None = None
    station_code: str | None = None
    station_name: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"office": self.office_code, "area": self.prefix}
        if self.station_code is not None:
            out["station"] = {"code": self.station_code, **(self.station_name or {})}
        return out


async def area_of(s: AsyncSession, actor: Actor) -> Area:
    """The area ``actor`` reads and registers in; ``Forbidden`` for anyone else, or a police officer whose desk
    is not assigned to a station."""
    if actor.role == Role.POLICE_OFFICER:
        row = (
            await s.execute(
                select(PoliceStation, Office.code)
                .join(PoliceDesk, PoliceDesk.station_id == PoliceStation.id)
                .join(Office, Office.id == PoliceStation.office_id)
                .where(PoliceDesk.account_id == actor.account_id)
            )
        ).first()
        if row is None:
            raise Forbidden("this police officer's desk is not assigned to a police station (administration)")
        st, office_code = row
        return Area(
            st.division_code,
            st.office_id,
            office_code,
            st.id,
            st.code,
            {"name_zh": st.name_zh, "name_en": st.name_en},
        )
    if actor.role not in STAFF or actor.office_id is None:
        raise Forbidden("the police of the area only")
    office = await s.get(Office, actor.office_id)
    assert office is not None
    return Area(office.region[: PREFIX.get(office.level, 6)], office.id, office.code)


class AccommodationBase(Clocked):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock | None = None,
        *,
        hotel_report_hours: int = rules.HOTEL_REPORT_HOURS_DEFAULT,
    ) -> None:
        super().__init__(sessions, clock)
        self.hotel_report_hours = hotel_report_hours

    def _new(self, *args: Any) -> Reg:
        return Reg(**self._values(*args))

    @staticmethod
    def _values(
        person_id: int, doc_id: int, c: dict[str, Any], stay: Stay, now: dt.datetime, by: str, actor: Actor
    ) -> dict[str, Any]:
        a: rules.Assessment = c["assessed"]
        return {
            "person_id": person_id,
            "travel_document_id": doc_id,
            "address": c["address"],
            "division_code": c["division"],
            "registered_from": beijing_date(stay.moved_in_at),
            "registered_until": beijing_date(stay.moved_out_at) if stay.moved_out_at else None,
            "registered_by": by,
            "recorded_at": now,
            "moved_in_at": stay.moved_in_at,
            "moved_out_at": stay.moved_out_at,
            "host_name": c["host_name"],
            "recorded_by": actor.account_id,
            "due_at": a.due_at,
            "on_time": a.on_time,
            "organisation_id": None,
            "stay_ref": None,
        }

    @staticmethod
    def _move_out(reg: Reg, at: dt.datetime) -> None:
        if reg.moved_in_at is not None and at < reg.moved_in_at:
            raise BadInput("moved_out_at", "not before moving in")
        reg.moved_out_at = at
        reg.registered_until = beijing_date(at)

    async def _read_audit(
        self, actor: Actor, action: str, detail: dict[str, Any], office_id: int | None = None
    ) -> None:
        async with self.sessions() as s, s.begin():
            await audit.append(
                s, **caseless_event(actor, self.now(), action, detail, office_id or actor.office_id)
            )
