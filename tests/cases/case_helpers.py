"""Shared data of the case-core tests: law-contract inputs per matter, files, seeding.

Imported by ``conftest.py``, the tests and ``crash_worker.py`` (a script run in a subprocess).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cnvisa.cases import audit
from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.cases.records import FileIn
from cnvisa.cases.service import Actor, CaseService
from cnvisa.cases.workflow import Role
from cnvisa.store.db import sessionmaker
from cnvisa.store.tables import (
    Account,
    AuditEvent,
    Case,
    Holding,
    Mandate,
    Movement,
    Office,
    Person,
)

ON = dt.date(2025, 11, 3)
"""A Monday: the day the lifecycle tests apply, are accepted and decided."""

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


def key() -> str:
    """A fresh idempotency key."""
    return uuid.uuid4().hex


def pdf(code: str) -> FileIn:
    return FileIn(code, f"{code}.pdf", PDF + code.encode())


def png(code: str) -> FileIn:
    return FileIn(code, f"{code}.png", PNG + code.encode())


@dataclass(frozen=True)
class Existing:
    """A document the person already holds, which the matter acts on (``inputs.holding_number``)."""

    kind: str
    number: str
    category: str | None
    valid_until: dt.date
    entries: str | None = None
    stay_days: int | None = None
    entry_on: dt.date | None = None


@dataclass(frozen=True)
class MatterCase:
    matter: str
    inputs: dict[str, Any]
    materials: tuple[str, ...]
    """Every material the law engine requires for these inputs, in checklist order."""
    existing: Existing | None = None
    new_kind: str | None = None
    """The kind of holding ``issue`` creates (None: the existing holding is updated, Art 14)."""
    approve: dict[str, Any] = field(default_factory=dict)
    """What the officer decides on approval (a residence-permit extension: the validity granted)."""


_L_VISA = {"category": "L", "entries": "single", "valid_until": "2026-01-10", "stay_days": 30}
_BASE = ("passport", "application_form", "photo")

MATTERS: dict[str, MatterCase] = {
    m.matter: m
    for m in (
        MatterCase(
            "visa_extension",
            {
                "entry_date": "2025-10-20",
                "applicant": {"nationality": "DEU", "first_entry": False, "good_record": True},
                "visa": _L_VISA,
                "requested": {"extension_days": 30},
                "holding_number": "V25900000001",
            },
            (*_BASE, "itinerary"),
            Existing("visa", "V25900000001", "L", dt.date(2026, 1, 10), "single", 30, dt.date(2025, 10, 20)),
            None,
        ),
        MatterCase(
            "visa_replacement",
            {
                "entry_date": "2025-10-20",
                "ground": "change_of_purpose",
                "visa": _L_VISA,
                "requested": {
                    "category": "M",
                    "entries": "multiple",
                    "entry_validity_days": 180,
                    "stay_days": 90,
                },
                "holding_number": "V25900000002",
            },
            (*_BASE, "letter_inviting_entity"),
            Existing("visa", "V25900000002", "L", dt.date(2026, 1, 10), "single", 30, dt.date(2025, 10, 20)),
            "visa",
        ),
        MatterCase(
            "visa_reissue",
            {
                "entry_date": "2025-10-20",
                "ground": "lost",
                "visa": {
                    "category": "Q2",
                    "entries": "double",
                    "entries_used": 1,
                    "valid_until": "2026-06-30",
                    "stay_days": 120,
                },
                "holding_number": "V25900000003",
            },
            ("new_passport", "application_form", "photo", "loss_report_or_embassy_note"),
            Existing(
                "visa", "V25900000003", "Q2", dt.date(2026, 6, 30), "double", 120, dt.date(2025, 10, 20)
            ),
            "visa",
        ),
        MatterCase(
            "stay_permit",
            {"entry_date": "2025-10-20", "visa": _L_VISA, "requested": {"validity_days": 90}},
            (*_BASE, "stay_reason_documents"),
            None,
            "stay_permit",
        ),
        MatterCase(
            "residence_permit",
            {
                "entry_date": "2025-10-20",
                "applicant": {"nationality": "FRA"},
                "visa": {"category": "Z", "entries": "single", "valid_until": "2025-12-01", "stay_days": 30},
                "requested": {"permit_type": "work", "validity_days": 365},
                "health_certificate_issued_on": "2025-10-01",
            },
            (*_BASE, "biometrics", "work_permit", "health_certificate"),
            None,
            "residence_permit",
        ),
        MatterCase(
            "residence_permit_extension",
            {
                "residence_permit": {"type": "work", "valid_until": "2026-06-30"},
                "requested": {"validity_days": 365},
                "health_certificate_issued_on": "2025-10-01",
                "holding_number": "J25900000004",
            },
            (*_BASE, "current_residence_permit", "work_permit", "health_certificate"),
            Existing("residence_permit", "J25900000004", "work", dt.date(2026, 6, 30)),
            "residence_permit",
            {"validity_days": 365},
        ),
        MatterCase(
            "residence_permit_replacement",
            {
                "ground": "particulars_changed",
                "particulars_changed_on": "2025-10-30",
                "residence_permit": {"type": "work", "valid_until": "2026-06-30"},
                "holding_number": "J25900000005",
            },
            (*_BASE, "current_residence_permit", "reason_documents"),
            Existing("residence_permit", "J25900000005", "work", dt.date(2026, 6, 30)),
            "residence_permit",
        ),
        MatterCase(
            "residence_permit_reissue",
            {
                "ground": "lost",
                "residence_permit": {"type": "study", "valid_until": "2026-06-30"},
                "holding_number": "J25900000006",
            },
            (*_BASE, "loss_report"),
            Existing("residence_permit", "J25900000006", "study", dt.date(2026, 6, 30)),
            "residence_permit",
        ),
        MatterCase(
            "study_work_annotation",
            {
                "purpose": "internship",
                "residence_permit": {"type": "study", "valid_until": "2026-06-30"},
                "holding_number": "J25900000007",
            },
            (*_BASE, "current_residence_permit", "school_approval", "internship_unit_letter"),
            Existing("residence_permit", "J25900000007", "study", dt.date(2026, 6, 30)),
            "residence_permit",
        ),
        MatterCase(
            "exit_without_passport",
            {"ground": "lost"},
            ("application_form", "photo", "loss_report", "home_mission_cannot_reissue"),
            None,
            "exit_permit",
        ),
    )
}

VISA_EXTENSION = MATTERS["visa_extension"]


@dataclass
class World:
    """One seeded database: an office with staff, a person with an account, an agent with a mandate."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: ManualClock
    svc: CaseService
    office_id: int
    other_office_id: int
    person_id: int
    other_person_id: int
    applicant: Actor
    other_applicant: Actor
    officer: Actor
    officer2: Actor
    supervisor: Actor
    foreign_officer: Actor
    agent: Actor
    agent_without_mandate: Actor
    extra: dict[str, Any] = field(default_factory=dict)

    # -- seeding ---------------------------------------------------------------------------------
    async def add_existing(self, e: Existing, person_id: int | None = None) -> int:
        """Seed a document the person holds (and, for a visa, the entry made on it)."""
        pid = person_id or self.person_id
        async with self.sessions() as s, s.begin():
            h = Holding(
                person_id=pid,
                kind=e.kind,
                number=e.number,
                category=e.category,
                entries=e.entries,
                entries_used=0,
                valid_from=(e.entry_on or ON) - dt.timedelta(days=30),
                valid_until=e.valid_until,
                stay_days=e.stay_days,
                extended_days=0,
                annotations=[],
                status="valid",
            )
            s.add(h)
            await s.flush()
            if e.entry_on is not None:
                s.add(Movement(person_id=pid, direction="entry", on=e.entry_on, port="PVG", holding_id=h.id))
            return h.id

    # -- reading back ----------------------------------------------------------------------------
    async def count(self, model: type[Any], *where: Any) -> int:
        async with self.sessions() as s:
            return int((await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one())

    async def audit_count(self) -> int:
        return await self.count(AuditEvent)

    async def actions(self, case_id: int | None = None) -> list[str]:
        async with self.sessions() as s:
            q = select(AuditEvent.action).order_by(AuditEvent.seq)
            if case_id is not None:
                q = q.where(AuditEvent.case_id == case_id)
            return list((await s.execute(q)).scalars())

    async def case(self, case_id: int) -> Case:
        async with self.sessions() as s:
            c = await s.get(Case, case_id)
            assert c is not None
            return c

    async def holding(self, holding_id: int | None = None, number: str | None = None) -> Holding:
        async with self.sessions() as s:
            q = select(Holding)
            q = (
                q.where(Holding.id == holding_id)
                if holding_id is not None
                else q.where(Holding.number == number)
            )
            return (await s.execute(q)).scalar_one()

    async def verify(self) -> audit.VerifyResult:
        async with self.sessions() as s:
            return await audit.verify(s)

    # -- driving ---------------------------------------------------------------------------------
    async def create(
        self,
        mc: MatterCase = VISA_EXTENSION,
        *,
        files: tuple[str, ...] | None = None,
        actor: Actor | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        codes = mc.materials if files is None else files
        return await self.svc.create(
            actor or self.applicant,
            key=key(),
            person_id=kw.pop("person_id", self.person_id),
            office_id=kw.pop("office_id", self.office_id),
            matter=mc.matter,
            inputs=kw.pop("inputs", mc.inputs),
            files=[pdf(c) for c in codes],
            **kw,
        )

    async def applied(
        self,
        mc: MatterCase = VISA_EXTENSION,
        *,
        files: tuple[str, ...] | None = None,
        k: str | None = None,
    ) -> dict[str, Any]:
        """The online form's one command (``apply``: open and submit), by the applicant, with ``mc``'s materials
        unless ``files`` names others, under key ``k`` (a fresh one by default)."""
        codes = mc.materials if files is None else files
        return await self.svc.apply(
            self.applicant,
            key=k or key(),
            person_id=self.person_id,
            office_id=self.office_id,
            matter=mc.matter,
            inputs=mc.inputs,
            files=[pdf(c) for c in codes],
        )

    async def submitted(self, mc: MatterCase = VISA_EXTENSION, **kw: Any) -> dict[str, Any]:
        c = await self.create(mc, **kw)
        return await self.svc.submit(self.applicant, c["case_id"], c["version"], key=key())

    async def accepted(self, mc: MatterCase = VISA_EXTENSION, **kw: Any) -> dict[str, Any]:
        c = await self.submitted(mc, **kw)
        # a residence document's passport is kept only with a reason (cnvisa.cases.passport_check); ignored for
        # the other matters, whose passport is kept as before
        return await self.svc.accept(
            self.officer, c["case_id"], c["version"], key=key(), retention_reason="applicant_request"
        )


async def seed_world(engine: AsyncEngine, clock: ManualClock) -> World:
    sessions = sessionmaker(engine)
    now = clock.now()
    async with sessions() as s, s.begin():
        office = Office(
            code="SH01",
            name_zh="上海市公安局出入境管理局",
            name_en="Shanghai Exit and Entry Administration",
            level="provincial",
            region="310000",
            opening_hours={"mon-fri": "09:00-17:00"},
            slot_minutes=30,
            slot_capacity=4,
        )
        other = Office(
            code="BJ01",
            name_zh="北京市公安局出入境管理总队",
            name_en="Beijing Exit and Entry Administration",
            level="provincial",
            region="110000",
            opening_hours={"mon-fri": "09:00-17:00"},
        )
        person = Person(
            surname="MUELLER",
            given_names="ANNA",
            birth_date=dt.date(1961, 5, 14),
            nationality="DEU",
            created_at=now,
        )
        other_person = Person(
            surname="SMITH",
            given_names="JOHN",
            birth_date=dt.date(1980, 1, 2),
            nationality="USA",
            created_at=now,
        )
        s.add_all([office, other, person, other_person])
        await s.flush()

        def account(username: str, role: Role, **kw: Any) -> Account:
            a = Account(username=username, display_name=username, role=str(role), **kw)
            s.add(a)
            return a

        acc = {
            "applicant": account("applicant", Role.APPLICANT, person_id=person.id),
            "other_applicant": account("other-applicant", Role.APPLICANT, person_id=other_person.id),
            "officer": account("officer-1", Role.OFFICER, office_id=office.id),
            "officer2": account("officer-2", Role.OFFICER, office_id=office.id),
            "supervisor": account("supervisor", Role.SUPERVISOR, office_id=office.id),
            "foreign_officer": account("officer-bj", Role.OFFICER, office_id=other.id),
            "agent": account("agent-relative", Role.AGENT),
            "agent_without_mandate": account("agent-other", Role.AGENT),
        }
        await s.flush()
        s.add(
            Mandate(
                agent_account_id=acc["agent"].id,
                person_id=person.id,
                capacity="relative",
                valid_from=dt.date(2025, 1, 1),
                valid_until=None,
            )
        )
        ids = {name: a.id for name, a in acc.items()}
        office_id, other_office_id, person_id, other_person_id = (
            office.id,
            other.id,
            person.id,
            other_person.id,
        )
    svc = CaseService(sessions, clock)
    return World(
        engine=engine,
        sessions=sessions,
        clock=clock,
        svc=svc,
        office_id=office_id,
        other_office_id=other_office_id,
        person_id=person_id,
        other_person_id=other_person_id,
        applicant=Actor(ids["applicant"], Role.APPLICANT, person_id=person_id),
        other_applicant=Actor(ids["other_applicant"], Role.APPLICANT, person_id=other_person_id),
        officer=Actor(ids["officer"], Role.OFFICER, office_id=office_id),
        officer2=Actor(ids["officer2"], Role.OFFICER, office_id=office_id),
        supervisor=Actor(ids["supervisor"], Role.SUPERVISOR, office_id=office_id),
        foreign_officer=Actor(ids["foreign_officer"], Role.OFFICER, office_id=other_office_id),
        agent=Actor(ids["agent"], Role.AGENT, represents=frozenset({person_id})),
        agent_without_mandate=Actor(ids["agent_without_mandate"], Role.AGENT),
    )


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)
