"""The demo's port visas (issue 11 §1, Law Art 20), played through ``PortVisaService`` with the demo clock set to
each step's moment — nothing written into the request tables directly:

- the desks (assigned with the cast): ``pv.yinchuan`` serves Yinchuan Hedong airport, ``pv.guiyang`` Guiyang
  Longdongbao airport;
- Demo Employer's HR files, for engineers it invites for urgent business at Yinchuan: one arriving the day after
  tomorrow (submitted, in the desk's queue), one arriving tomorrow (preliminarily approved), one who arrived three
  days ago and was issued an M visa at the port (passport and face checked; the visa in the registry), one refused
  on a cited ground (reasons withheld), and one who never came (lapsed by the sweep: office rule);
- one request at Guiyang, which the Yinchuan desk never sees.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases.actor import Actor
from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.cases.port_visa.service import Filing, PortVisaService
from cnvisa.cases.workflow import Role
from cnvisa.demo.cast import PORT_DESKS
from cnvisa.store.db import sessionmaker
from cnvisa.store.tables import Account

YINCHUAN = "yinchuan_hedong_airport"
GUIYANG = "guiyang_longdongbao_airport"
MATERIALS = ("passport", "application_form", "photo", "port_visa_invitation", "inviter_enterprise_documents")
GUESTS: tuple[tuple[str, str, str, str, str, str, int, int, str], ...] = (
    # key, surname, given names, nationality, passport, sex, birth year, arrival (days from today), port
    ("submitted", "WEBER", "HANS", "DEU", "C4PV00101", "M", 1978, 2, YINCHUAN),
    ("approved", "MENSAH", "KOFI", "GHA", "G4PV00102", "M", 1985, 1, YINCHUAN),
    ("issued", "ROSSI", "GIULIA", "ITA", "YA4PV0103", "F", 1982, -3, YINCHUAN),
    ("refused", "NOVAK", "PETR", "CZE", "CZ4PV0104", "M", 1970, 4, YINCHUAN),
    ("lapsed", "SILVA", "ANA", "BRA", "BR4PV0105", "F", 1990, -5, YINCHUAN),
    ("guiyang", "KIM", "MINJUN", "KOR", "M4PV00106", "M", 1988, 3, GUIYANG),
)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


async def seed_port_visas(engine: AsyncEngine, today: dt.date) -> dict[str, Any]:
    """Plays the requests (the desks are assigned with the cast, ``seed_web``); returns their ids by key."""
    sessions = sessionmaker(engine)
    async with sessions() as s:
        accounts = {
            a.username: a
            for a in (
                await s.execute(select(Account).where(Account.username.in_(("employer.hr", *PORT_DESKS))))
            ).scalars()
        }
    clock = ManualClock(_at(today - dt.timedelta(days=8), 9))
    svc = PortVisaService(sessions, clock)
    hr = accounts["employer.hr"]
    inviter = Actor(hr.id, Role.ORG_STAFF, organisation_id=hr.organisation_id)
    desks = {port: Actor(accounts[u].id, Role.PORT_VISA_OFFICER) for u, port in PORT_DESKS.items()}
    out: dict[str, Any] = {}
    for key, surname, given, nat, passport, sex, born, days, port in GUESTS:
        arrival = today + dt.timedelta(days=days)
        clock.set(_at(min(today, arrival - dt.timedelta(days=2)), 10, 15))
        filed = await svc.file(
            inviter,
            Filing(
                purpose="installation_repair" if key == "issued" else "trade",
                urgent=True,
                urgency="urgent repair of a production line"
                if key == "issued"
                else "contract talks moved forward",
                port=port,
                arrival_at=_at(arrival, 14, 5),
                flight="CA1234" if port == YINCHUAN else "CZ3601",
                surname=surname,
                given_names=given,
                birth_date=dt.date(born, 4, 1),
                sex=sex,
                nationality=nat,
                passport_number=passport,
                passport_issuing_state=nat,
                materials=MATERIALS,
            ),
            idempotency_key=f"demo-port-visa-{key}",
        )
        rid, desk = filed["id"], desks[port]
        if key in ("approved", "issued"):
            clock.advance(hours=3)
            await svc.approve(desk, rid, version=1, idempotency_key=f"demo-pv-approve-{key}")
        if key == "issued":
            clock.set(_at(arrival, 14, 50))
            await svc.issue(
                desk,
                rid,
                version=2,
                passport_number=passport,
                face_matches=True,
                idempotency_key="demo-pv-issue",
            )
        if key == "refused":
            clock.advance(hours=5)
            await svc.refuse(desk, rid, version=1, grounds=["law21_3"], idempotency_key="demo-pv-refuse")
        out[key] = rid
    clock.set(_at(today, 0, 30))
    out["lapsed_by_sweep"] = await svc.lapse_due()
    return out
