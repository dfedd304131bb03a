"""Records (issue 3): people, travel documents (MRZ checked), visas and permits with status, entries and
exits, organisations (GB 32100-2015), offices, accounts and mandates — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases.audit import verify
from cnvisa.cases.clock import ManualClock
from cnvisa.cases.errors import BadInput, Forbidden
from cnvisa.cases.registry import Registry
from cnvisa.cases.service import Actor
from cnvisa.cases.workflow import Role
from cnvisa.law.documents import social_credit_check_char
from cnvisa.store.db import sessionmaker
from cnvisa.store.tables import AuditEvent, Organisation, TravelDocument

ADMIN = Actor(None, Role.ADMIN)
L1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
L2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"


@pytest.fixture
def reg(engine: AsyncEngine) -> Registry:
    return Registry(sessionmaker(engine), ManualClock(dt.date(2025, 10, 9)))


async def _office(reg: Registry) -> int:
    return await reg.register_office(
        ADMIN,
        code="SH01",
        name_zh="上海市公安局出入境管理局",
        name_en="Shanghai Exit-Entry Administration Bureau",
        level="provincial",
        region="310000",
        opening_hours={"mon-fri": ["09:00-17:00"]},
    )


async def test_person_passport_mrz_checked_and_agrees(reg: Registry) -> None:
    pid = await reg.register_person(
        ADMIN,
        surname="Eriksson",
        given_names="Anna Maria",
        birth_date=dt.date(1974, 8, 12),
        nationality="UTO",
        sex="F",
    )
    doc = await reg.add_travel_document(
        ADMIN,
        person_id=pid,
        number="L898902C3",
        issuing_state="UTO",
        valid_until=dt.date(2030, 4, 15),
        mrz=(L1, L2),
    )
    with pytest.raises(BadInput) as bad:  # one check digit changed
        await reg.add_travel_document(
            ADMIN,
            person_id=pid,
            number="L898902C3",
            issuing_state="UTO",
            valid_until=None,
            mrz=(L1, L2[:-1] + "1"),
        )
    assert bad.value.field == "mrz"
    with pytest.raises(BadInput, match="number"):  # the MRZ belongs to another document
        await reg.add_travel_document(
            ADMIN, person_id=pid, number="X1234567", issuing_state="UTO", valid_until=None, mrz=(L1, L2)
        )
    # a second passport over time: the new one is current
    doc2 = await reg.add_travel_document(
        ADMIN, person_id=pid, number="N1234567", issuing_state="UTO", valid_until=dt.date(2035, 1, 1)
    )
    async with reg.sessions() as s:
        docs = {d.id: d for d in (await s.execute(select(TravelDocument))).scalars()}
    assert not docs[doc].current and docs[doc2].current and docs[doc].mrz is not None


async def test_organisation_needs_a_valid_social_credit_code(reg: Registry) -> None:
    body = "91310000MA1FL0000"
    good = body + social_credit_check_char(body)
    # GB 32100-2015: a single wrong character is caught by the check character
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(BadInput) as info:
        await reg.register_organisation(ADMIN, uscc=bad, name="Demo Employer", kind="employer")
    assert info.value.field == "uscc"
    async with reg.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(Organisation))).scalar_one() == 0


async def test_entries_use_the_visa_and_status_by_date(reg: Registry) -> None:
    pid = await reg.register_person(
        ADMIN, surname="Kim", given_names="Min", birth_date=dt.date(1990, 1, 1), nationality="KOR"
    )
    visa = await reg.register_holding(
        ADMIN,
        person_id=pid,
        kind="visa",
        number="V25000000001",
        category="M",
        valid_from=dt.date(2025, 1, 1),
        valid_until=dt.date(2025, 6, 30),
        entries="single",
        stay_days=30,
    )
    await reg.record_movement(
        ADMIN, person_id=pid, direction="entry", on=dt.date(2025, 3, 1), port="PVG", holding_id=visa
    )
    await reg.record_movement(ADMIN, person_id=pid, direction="exit", on=dt.date(2025, 3, 20), port="PVG")
    with pytest.raises(BadInput, match="no entries left"):  # Regulations Art 36 para 1(1)
        await reg.record_movement(
            ADMIN, person_id=pid, direction="entry", on=dt.date(2025, 4, 1), port="PEK", holding_id=visa
        )
    docs = await reg.documents_of(pid, dt.date(2025, 7, 1))
    assert docs[0]["entries_used"] == 1 and docs[0]["status"] == "expired"
    assert (await reg.documents_of(pid, dt.date(2025, 6, 30)))[0]["status"] == "valid"


async def test_entry_outside_entry_validity_is_refused(reg: Registry) -> None:
    pid = await reg.register_person(
        ADMIN, surname="Rossi", given_names="Luca", birth_date=dt.date(1980, 5, 5), nationality="ITA"
    )
    visa = await reg.register_holding(
        ADMIN,
        person_id=pid,
        kind="visa",
        number="V25000000002",
        category="L",
        valid_from=dt.date(2025, 1, 1),
        valid_until=dt.date(2025, 1, 31),
        entries="multiple",
        stay_days=30,
    )
    with pytest.raises(BadInput, match="Art 36"):
        await reg.record_movement(
            ADMIN, person_id=pid, direction="entry", on=dt.date(2025, 2, 1), port="PVG", holding_id=visa
        )


async def test_accounts_roles_and_mandates(reg: Registry) -> None:
    office = await _office(reg)
    pid = await reg.register_person(
        ADMIN, surname="Smith", given_names="John", birth_date=dt.date(2015, 2, 2), nationality="USA"
    )
    with pytest.raises(BadInput) as info:
        await reg.create_account(ADMIN, username="officer1", display_name="Officer", role=Role.OFFICER)
    assert info.value.field == "office_id"
    await reg.create_account(
        ADMIN, username="officer1", display_name="Officer", role=Role.OFFICER, office_id=office
    )
    agent = await reg.create_account(ADMIN, username="parent", display_name="Parent", role=Role.AGENT)
    with pytest.raises(Forbidden):
        await reg.create_account(
            Actor(agent, Role.AGENT), username="x-user", display_name="X", role=Role.ADMIN
        )
    await reg.grant_mandate(
        ADMIN,
        agent_account_id=agent,
        person_id=pid,
        capacity="relative",
        valid_from=dt.date(2025, 1, 1),
        valid_until=dt.date(2025, 12, 31),
    )
    assert await reg.represented(agent, dt.date(2025, 10, 9)) == frozenset({pid})
    assert await reg.represented(agent, dt.date(2026, 1, 1)) == frozenset()
    with pytest.raises(BadInput, match="capacity"):
        await reg.grant_mandate(
            ADMIN, agent_account_id=agent, person_id=pid, capacity="friend", valid_from=dt.date(2025, 1, 1)
        )


async def test_every_record_write_is_audited_and_the_chain_holds(reg: Registry) -> None:
    await _office(reg)
    await reg.register_person(
        ADMIN, surname="Ivanov", given_names="Ivan", birth_date=dt.date(1970, 1, 1), nationality="RUS"
    )
    with pytest.raises(Forbidden):
        await reg.register_person(
            Actor(5, Role.APPLICANT, person_id=1),
            surname="X",
            given_names="Y",
            birth_date=dt.date(1970, 1, 1),
            nationality="RUS",
        )
    async with reg.sessions() as s:
        actions = [a for (a,) in await s.execute(select(AuditEvent.action).order_by(AuditEvent.seq))]
        result = await verify(s)
    assert actions == ["register_office", "register_person"]
    assert result.ok and result.events == 2


async def test_staff_list_reads_are_audited(engine: AsyncEngine, reg: Registry) -> None:
    """Issue 3: every read by staff appends an audit event; an officer reads only their own office's lists."""
    from cnvisa.cases.errors import Forbidden as Refused
    from cnvisa.cases.service import CaseService

    office = await _office(reg)
    svc = CaseService(sessionmaker(engine), ManualClock(dt.date(2025, 10, 9)))
    officer = Actor(None, Role.OFFICER, office_id=office)
    await svc.queue(office, actor=officer)
    await svc.overdue(office, actor=officer)
    await svc.person_status(1, actor=officer)
    with pytest.raises(Refused):
        await svc.queue(office + 1, actor=officer)
    async with reg.sessions() as s:
        actions = [a for (a,) in await s.execute(select(AuditEvent.action).order_by(AuditEvent.seq))]
    assert actions == ["register_office", "read_queue", "read_overdue", "read_status"]


async def test_void_and_cancel_by_the_regulations(reg: Registry) -> None:
    """Art 34: the issuer declares a document void; Art 35: a void (or misused) one is cancelled. Each is an
    audited command citing its article; the status by date then stays void / cancelled."""
    officer = Actor(7, Role.OFFICER, office_id=1)
    pid = await reg.register_person(
        ADMIN, surname="Lee", given_names="Ann", birth_date=dt.date(1985, 3, 3), nationality="CAN"
    )
    await reg.register_holding(
        ADMIN,
        person_id=pid,
        kind="residence_permit",
        number="J25000000009",
        category="work",
        valid_from=dt.date(2025, 1, 1),
        valid_until=dt.date(2026, 1, 1),
    )
    with pytest.raises(BadInput) as info:
        await reg.declare_void(officer, number="J25000000009", ground="looked_suspicious")
    assert info.value.field == "ground" and "Art 34" in info.value.message
    with pytest.raises(Forbidden):
        await reg.declare_void(
            Actor(8, Role.APPLICANT, person_id=pid),
            number="J25000000009",
            ground="damaged_lost_stolen_robbed",
        )
    with pytest.raises(BadInput) as info:
        await reg.cancel(officer, number="J99999999999", ground="obtained_illegally")
    assert info.value.field == "number"

    void = await reg.declare_void(officer, number="J25000000009", ground="damaged_lost_stolen_robbed")
    assert void["status"] == "void" and "Art 34" in void["citation"]
    assert (await reg.documents_of(pid, dt.date(2025, 6, 1)))[0]["status"] == "void"
    with pytest.raises(BadInput) as info:  # void once is void
        await reg.declare_void(officer, number="J25000000009", ground="damaged_lost_stolen_robbed")
    assert info.value.field == "state"
    gone = await reg.cancel(officer, number="j25000000009", ground="declared_void_or_used_by_others")
    assert gone["status"] == "cancelled" and "Art 35" in gone["citation"]
    assert (await reg.documents_of(pid, dt.date(2025, 6, 1)))[0]["status"] == "cancelled"
    async with reg.sessions() as s:
        events = (
            (await s.execute(select(AuditEvent).where(AuditEvent.action.in_(["declare_void", "cancel"]))))
            .scalars()
            .all()
        )
        result = await verify(s)
    assert [(e.action, e.detail["from"], e.detail["to"]) for e in sorted(events, key=lambda e: e.seq)] == [
        ("declare_void", "valid", "void"),
        ("cancel", "void", "cancelled"),
    ]
    assert all(e.actor_account_id == 7 and e.role == "officer" for e in events) and result.ok


@pytest.mark.parametrize(
    ("hours", "field"),
    [
        ({}, "opening_hours"),
        ({"weekdays": "09:00-17:00"}, "opening_hours.weekdays"),
        ({"mon-fri": "9 to 5"}, "opening_hours.mon-fri"),
        ({"mon-fri": ["09:00-12:00", "17:00-13:30"]}, "opening_hours.mon-fri"),
        ({"mon-fri": []}, "opening_hours.mon-fri"),
    ],
)
async def test_office_opening_hours_are_checked(reg: Registry, hours: dict[str, object], field: str) -> None:
    with pytest.raises(BadInput) as info:
        await reg.register_office(
            ADMIN,
            code="GZ01",
            name_zh="广州市公安局出入境管理支队",
            name_en="Guangzhou Exit-Entry Administration",
            level="prefecture",
            region="440100",
            opening_hours=hours,
        )
    assert info.value.field == field
    async with reg.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(AuditEvent))).scalar_one() == 0


async def test_record_conflicts_name_the_field(reg: Registry) -> None:
    office = await _office(reg)
    with pytest.raises(BadInput) as info:  # the office code is taken
        await _office(reg)
    assert info.value.field == "code"
    pid = await reg.register_person(
        ADMIN, surname="Ng", given_names="Wei", birth_date=dt.date(1992, 2, 2), nationality="SGP"
    )
    visa = {
        "kind": "visa",
        "number": "V25000000077",
        "category": "M",
        "valid_from": dt.date(2025, 1, 1),
        "valid_until": dt.date(2025, 12, 31),
        "entries": "multiple",
        "stay_days": 30,
    }
    with pytest.raises(BadInput) as info:
        await reg.register_holding(ADMIN, person_id=pid + 100, **visa)  # type: ignore[arg-type]
    assert info.value.field == "person_id"
    await reg.register_holding(ADMIN, person_id=pid, **visa)  # type: ignore[arg-type]
    with pytest.raises(BadInput) as info:
        await reg.register_holding(ADMIN, person_id=pid, **visa)  # type: ignore[arg-type]
    assert info.value.field == "number"
    officer = await reg.create_account(
        ADMIN, username="officer9", display_name="Officer", role=Role.OFFICER, office_id=office
    )
    with pytest.raises(BadInput) as info:
        await reg.create_account(ADMIN, username="officer9", display_name="Again", role=Role.AGENT)
    assert info.value.field == "username"
    with pytest.raises(BadInput) as info:
        await reg.create_account(
            ADMIN, username="officer10", display_name="Nowhere", role=Role.OFFICER, office_id=office + 50
        )
    assert info.value.field == "office_id"
    with pytest.raises(BadInput) as info:  # Art 19: a mandate is given to an agent, not to an officer
        await reg.grant_mandate(
            ADMIN,
            agent_account_id=officer,
            person_id=pid,
            capacity="relative",
            valid_from=dt.date(2025, 1, 1),
        )
    assert info.value.field == "agent_account_id"
    agent = await reg.create_account(ADMIN, username="agency1", display_name="Agency", role=Role.AGENT)
    with pytest.raises(BadInput) as info:
        await reg.grant_mandate(
            ADMIN,
            agent_account_id=agent,
            person_id=pid + 100,
            capacity="service_agency",
            valid_from=dt.date(2025, 1, 1),
        )
    assert info.value.field == "person_id"
    async with reg.sessions() as s:
        actions = [a for (a,) in await s.execute(select(AuditEvent.action).order_by(AuditEvent.seq))]
    assert actions == [
        "register_office",
        "register_person",
        "register_holding",
        "create_account",
        "create_account",
    ]


@pytest.mark.parametrize(
    ("kind", "category"),
    [
        ("stay_permit", "ZZ"),  # issue 13: stored and accepted
        ("stay_permit", "L\u0000"),
        ("stay_permit", "l"),  # the table's codes are capitals
        ("visa", "ZZ"),
        ("visa", None),
        ("visa", "J3"),
        ("residence_permit", "L"),  # a permit's category is its type, not a visa category
        ("residence_permit", "holiday"),
    ],
)
async def test_a_holdings_category_is_checked_against_the_laws_table(
    reg: Registry, kind: str, category: str | None
) -> None:
    pid = await reg.register_person(
        ADMIN, surname="Roe", given_names="Ann", birth_date=dt.date(1991, 3, 3), nationality="CAN"
    )
    visa_only = {"entries": "single", "stay_days": 30} if kind == "visa" else {}
    with pytest.raises(BadInput) as info:
        await reg.register_holding(
            ADMIN,
            person_id=pid,
            kind=kind,
            number="T25000000001",
            category=category,
            valid_from=dt.date(2025, 1, 1),
            valid_until=dt.date(2025, 6, 30),
            **visa_only,  # type: ignore[arg-type]
        )
    assert info.value.field == "category"
    ok = {"stay_permit": "L", "visa": "L", "residence_permit": "work"}[kind]
    assert await reg.register_holding(
        ADMIN,
        person_id=pid,
        kind=kind,
        number="T25000000001",
        category=ok,
        valid_from=dt.date(2025, 1, 1),
        valid_until=dt.date(2025, 6, 30),
        **visa_only,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("nationality", "ZZZ"), ("nationality", "QQ"), ("surname", "ROE\u0000"), ("given_names", "A\nB")],
)
async def test_a_persons_codes_and_texts_are_checked(reg: Registry, field: str, value: str) -> None:
    person = {"surname": "Roe", "given_names": "Ann", "birth_date": dt.date(1991, 3, 3), "nationality": "CAN"}
    with pytest.raises(BadInput) as info:
        await reg.register_person(ADMIN, **{**person, field: value})  # type: ignore[arg-type]
    assert info.value.field == field
