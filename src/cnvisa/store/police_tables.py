"""Police stations (派出所) and which station each police officer's desk serves (issue 11 §3; Law Art 39 para 2:
a stay outside a hotel is registered with the public security organ of the place of residence)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cnvisa.store.tables import TS, Base, Id


class PoliceStation(Base):
    """A police station under an exit-entry administration's public security bureau, with its area.

    Reading (recorded beside the register, ``cnvisa.cases.accommodation.stations``): the register keeps the GB/T 2260
    county-level code of each address (six digits), so a station's area is one county-level division inside its
    office's area; a station's real jurisdiction (streets and townships, GB/T 10114) is finer and is not held."""

    __tablename__ = "police_stations"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    """The exit-entry administration whose area holds the station's."""
    division_code: Mapped[str] = mapped_column(String(6))
    """The station's area: a county-level GB/T 2260 code inside the office's area."""
    source: Mapped[str] = mapped_column(String(300))
    """Where the station's record comes from (the demo's are labelled demo data)."""


class PoliceDesk(Base):
    """Which station a police officer's desk serves (assigned by the administrator, audited)."""

    __tablename__ = "police_desks"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("police_stations.id"))
    assigned_at: Mapped[dt.datetime] = mapped_column(TS)
    note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_police_desks_station", "station_id"),)
