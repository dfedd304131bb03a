"""Port-visa requests (Law Art 20; issue 11 §1) on both engines: filed by the inviting organisation or the
foreigner, decided at the port's desk, issued at the port with the passport and face checked (the visa in the
registry, its later extension bounded by the law engine), refused on cited grounds, lapsed as a no-show by the
sweep on the Beijing date, idempotent, and seen only by those it concerns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import pytest
from case_helpers import ON, World, key
from sqlalchemy import select

from cnvisa.cases.actor import Actor
from cnvisa.cases.clock import SHANGHAI
from cnvisa.cases.errors import BadInput, Conflict, Forbidden, GuardFailed, InvalidCommand, NotFound
from cnvisa.cases.port_visa.flow import TRANSITIONS, PvState
from cnvisa.cases.port_visa.service import Filing, PortVisaService, port_visa_window
from cnvisa.cases.queries.port_visa import PortVisaReads, extension_facts
from cnvisa.cases.workflow import Role
from cnvisa.law import assess
from cnvisa.store.port_visa_tables import PortVisaCheck, PortVisaRequest
from cnvisa.store.tables import Account, AuditEvent, Holding, Movement, Organisation, TravelDocument

PORT = "yinchuan_hedong_airport"
OTHER_PORT = "guiyang_longdongbao_airport"
ARRIVAL = ON + dt.timedelta(days=2)  # Wednesday 2025-11-05
ADMIN = Actor(None, Role.ADMIN)


@dataclass
class Cast:
    svc: PortVisaService
    reads: PortVisaReads
    inviter: Actor
    other_inviter: Actor
    desk: Actor
    other_desk: Actor
    no_desk: Actor


def bj(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


async def cast(world: World, window: int = 1) -> Cast:
    async with world.sessions() as s, s.begin():
        org = Organisation(uscc="91640100MA76PORT1X", name="Ningxia Trade Co.", kind="inviting_entity")
        other = Organisation(uscc="91520100MA6PORT22Y", name="Guizhou Repair Co.", kind="employer")
        s.add_all([org, other])
        await s.flush()
        accounts = {
            name: Account(username=name, display_name=name, role=str(role), organisation_id=org_id)
            for name, role, org_id in (
                ("inviter", Role.ORG_STAFF, org.id),
                ("other-inviter", Role.ORG_STAFF, other.id),
                ("pv-yinchuan", Role.PORT_VISA_OFFICER, None),
                ("pv-guiyang", Role.PORT_VISA_OFFICER, None),
                ("pv-nodesk", Role.PORT_VISA_OFFICER, None),
            )
        }
        s.add_all(accounts.values())
        # the person's passport on record (Anna MUELLER, DEU)
        s.add(
            TravelDocument(
                person_id=world.person_id, number="C01X00T47", issuing_state="DEU", valid_until=None
            )
        )
        await s.flush()
        ids = {n: a.id for n, a in accounts.items()}
        org_id, other_id = org.id, other.id
    svc = PortVisaService(world.sessions, world.clock, arrival_window_days=window)
    await svc.assign_desk(ADMIN, ids["pv-yinchuan"], PORT)
    await svc.assign_desk(ADMIN, ids["pv-guiyang"], OTHER_PORT)
    return Cast(
        svc=svc,
        reads=PortVisaReads(world.sessions, world.clock),
        inviter=Actor(ids["inviter"], Role.ORG_STAFF, organisation_id=org_id),
        other_inviter=Actor(ids["other-inviter"], Role.ORG_STAFF, organisation_id=other_id),
        desk=Actor(ids["pv-yinchuan"], Role.PORT_VISA_OFFICER),
        other_desk=Actor(ids["pv-guiyang"], Role.PORT_VISA_OFFICER),
        no_desk=Actor(ids["pv-nodesk"], Role.PORT_VISA_OFFICER),
    )


def filing(**kw: Any) -> Filing:
    base = Filing(
        purpose="trade",
        urgent=True,
        urgency="contract signing moved forward; no time to apply abroad",
        port=PORT,
        arrival_at=bj(ARRIVAL, 14, 5),
        flight="CA 1234",
        stay_days=30,
        surname="MUELLER",
        given_names="ANNA",
        birth_date=dt.date(1961, 5, 14),
        sex="F",
        nationality="DEU",
        passport_number="C01X00T47",
        passport_issuing_state="DEU",
        materials=("passport", "application_form", "photo", "port_visa_invitation"),
    )
    return replace(base, **kw)


async def count(world: World, model: type[Any]) -> int:
    return await world.count(model)


async def test_filed_approved_issued_at_the_port_then_extension_bounded(world: World) -> None:
    c = await cast(world)
    filed = await c.svc.file(c.inviter, filing(), idempotency_key=key())
    assert filed["state"] == "submitted" and filed["category"] == "M" and filed["flight"] == "CA1234"
    assert filed["person"]["id"] == world.person_id  # the passport on record names her
    assert filed["present_by"] == (ARRIVAL + dt.timedelta(days=1)).isoformat()
    assert "inviter_enterprise_documents" in filed["assessment"]["missing_materials"]  # brought to the port
    # the inviter and the foreigner both see its progress
    assert [r["number"] for r in await c.reads.mine(c.inviter)] == [filed["number"]]
    assert [r["number"] for r in await c.reads.mine(world.applicant)] == [filed["number"]]
    approved = await c.svc.approve(c.desk, filed["id"], version=1, idempotency_key=key())
    assert approved["state"] == "pre_approved"
    # presented before the arrival date: not yet (the window starts on the arrival date)
    with pytest.raises(GuardFailed) as early:
        await c.svc.issue(
            c.desk,
            filed["id"],
            version=2,
            passport_number="C01X00T47",
            face_matches=True,
            idempotency_key=key(),
        )
    assert early.value.guard == "presented_in_window"
    world.clock.set(bj(ARRIVAL, 14, 40))
    issued = await c.svc.issue(
        c.desk, filed["id"], version=2, passport_number="c01x00t47", face_matches=True, idempotency_key=key()
    )
    assert issued["state"] == "issued"
    visa = issued["visa"]
    assert visa["category"] == "M" and visa["entries"] == "single" and visa["stay_days"] == 30
    assert visa["port"] == PORT and visa["number"].startswith("V25")
    async with world.sessions() as s:
        h = (await s.execute(select(Holding).where(Holding.number == visa["number"]))).scalar_one()
        assert (h.person_id, h.kind, h.entries_used, h.valid_from) == (world.person_id, "visa", 1, ARRIVAL)
        entry = (await s.execute(select(Movement).where(Movement.holding_id == h.id))).scalar_one()
        assert (entry.direction, entry.on, entry.port) == ("entry", ARRIVAL, PORT)
        facts = await extension_facts(s, visa["number"])
        checks = (await s.execute(select(PortVisaCheck))).scalars().all()
    assert [(k.outcome, k.face_matches, k.number_matches) for k in checks] == [("issued", True, True)]
    assert (
        facts is not None
        and facts["visa"]["port_visa"] is True
        and facts["entry_date"] == ARRIVAL.isoformat()
    )
    # a later extension of the port visa: bounded by the stay it states (Law Art 20 para 4, Art 29 para 2)
    ext = assess(
        {
            "matter": "visa_extension",
            "on": (ARRIVAL + dt.timedelta(days=10)).isoformat(),
            "purpose": "trade",
            **facts,
            "requested": {"extension_days": 31},
        }
    )
    assert ext["max_extension_days"] <= 30
    assert "extension_exceeds_maximum" in {p["code"] for p in ext["problems"]}
    actions = await world.actions()
    assert {"port_visa_filed", "port_visa_approve", "port_visa_issue"} <= set(actions)


async def test_the_law_refuses_a_filing_naming_the_field_and_nothing_is_written(world: World) -> None:
    c = await cast(world)
    before = (await count(world, PortVisaRequest), await world.audit_count())
    cases = [
        (filing(port="tianjin_nowhere"), "port", "Law Art 20"),
        (filing(purpose="employment"), "purpose", "Art 20"),
        (filing(urgent=False), "urgent", "Art 20 para 1"),
        (filing(stay_days=31), "stay_days", "Art 20 para 4"),
        (filing(flight="??"), "flight", ""),
        (filing(arrival_at=bj(ON, 8)), "arrival_at", ""),
        (filing(arrival_at=bj(ON + dt.timedelta(days=91), 8)), "arrival_at", "office rule"),
        (filing(arrival_at=dt.datetime(9999, 12, 31, 23, tzinfo=SHANGHAI)), "arrival_at", "office rule"),
        (
            filing(arrival_at=dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(-dt.timedelta(hours=14)))),
            "arrival_at",
            "9999",
        ),
    ]
    for f, field, rule in cases:
        with pytest.raises(BadInput) as exc:
            await c.svc.file(c.inviter, f, idempotency_key=key())
        assert exc.value.field == field, (f, exc.value)
        assert rule in exc.value.message
    assert (await count(world, PortVisaRequest), await world.audit_count()) == before


async def test_refused_at_the_desk_on_cited_grounds_reasons_withheld(world: World) -> None:
    c = await cast(world)
    filed = await c.svc.file(c.inviter, filing(), idempotency_key=key())
    with pytest.raises(BadInput) as bad:
        await c.svc.refuse(c.desk, filed["id"], version=1, grounds=["law99_9"], idempotency_key=key())
    assert bad.value.field == "grounds"
    out = await c.svc.refuse(c.desk, filed["id"], version=1, grounds=["law21_3"], idempotency_key=key())
    assert out["state"] == "refused"
    assert out["refusal"]["grounds"] == ["law21_3"] and out["refusal"]["reasons_withheld"] is True
    assert out["refusal"]["reasons"] is None
    assert any("Art 21 para 2" in cite for cite in out["refusal"]["citations"])
    with pytest.raises(InvalidCommand):
        await c.svc.approve(c.desk, filed["id"], version=2, idempotency_key=key())
    assert (await c.reads.read(c.inviter, filed["id"]))["state"] == "refused"


async def test_a_passport_or_face_mismatch_at_the_port_refuses_issue_naming_the_field(world: World) -> None:
    c = await cast(world)
    filed = await c.svc.file(c.inviter, filing(), idempotency_key=key())
    await c.svc.approve(c.desk, filed["id"], version=1, idempotency_key=key())
    world.clock.set(bj(ARRIVAL, 15))
    for kw, field in (
        ({"passport_number": "X99999999", "face_matches": True}, "passport_number"),
        ({"passport_number": "C01X00T47", "face_matches": False}, "face_matches"),
    ):
        with pytest.raises(BadInput) as exc:
            await c.svc.issue(c.desk, filed["id"], version=2, idempotency_key=key(), **kw)
        assert exc.value.field == field
    after = await c.reads.read(c.desk, filed["id"])
    assert after["state"] == "pre_approved" and after["version"] == 2 and after["visa"] is None
    assert [(k["outcome"], k["field"]) for k in after["checks"]] == [
        ("mismatch", "passport_number"),
        ("mismatch", "face_matches"),
    ]
    assert await world.count(Holding) == 0
    assert (await world.actions()).count("port_visa_presentation_refused") == 2


# the arrival date is 2025-11-05; the window (office rule, 1 day) ends 2025-11-06 in Beijing. 07:59 and 00:30 in
# Beijing on the 7th are still the 6th in UTC: a sweep counting UTC dates would keep them open.
LAST = ARRIVAL + dt.timedelta(days=1)
BOUNDARY = [
    (bj(LAST, 0, 30), False),
    (bj(LAST, 7, 59), False),
    (bj(LAST, 16, 1), False),
    (bj(LAST, 23, 59), False),
    (bj(LAST + dt.timedelta(days=1), 0, 30), True),
    (bj(LAST + dt.timedelta(days=1), 7, 59), True),
    (bj(LAST + dt.timedelta(days=1), 16, 1), True),
    (bj(LAST + dt.timedelta(days=1), 23, 59), True),
]


@pytest.mark.parametrize(("when", "lapses"), BOUNDARY, ids=[f"{w:%d %H:%M}" for w, _ in BOUNDARY])
async def test_no_show_lapses_after_the_arrival_window_on_the_beijing_date(
    world: World, when: dt.datetime, lapses: bool
) -> None:
    c = await cast(world)
    waiting = await c.svc.file(c.inviter, filing(), idempotency_key=key())
    approved = await c.svc.file(c.inviter, filing(flight="MU5101"), idempotency_key=key())
    await c.svc.approve(c.desk, approved["id"], version=1, idempotency_key=key())
    world.clock.set(when)
    lapsed = await c.svc.lapse_due()
    assert sorted(lapsed) == (sorted([waiting["number"], approved["number"]]) if lapses else [])
    states = {(await c.reads.read(c.inviter, r["id"]))["state"] for r in (waiting, approved)}
    assert states == ({"lapsed"} if lapses else {"submitted", "pre_approved"})
    if lapses:
        assert await c.svc.lapse_due() == []  # once
        assert (await world.actions()).count("port_visa_lapse") == 2
        with pytest.raises(InvalidCommand):
            await c.svc.issue(
                c.desk,
                approved["id"],
                version=3,
                passport_number="C01X00T47",
                face_matches=True,
                idempotency_key=key(),
            )


async def test_the_arrival_window_is_an_office_rule_and_configurable(world: World) -> None:
    c = await cast(world, window=0)
    filed = await c.svc.file(c.inviter, filing(), idempotency_key=key())
    assert filed["present_by"] == ARRIVAL.isoformat()
    world.clock.set(bj(ARRIVAL + dt.timedelta(days=1), 0, 30))
    assert await c.svc.lapse_due() == [filed["number"]]
    with pytest.raises(ValueError, match="office rule"):
        PortVisaService(world.sessions, world.clock, arrival_window_days=30)


async def test_a_resubmission_with_the_same_key_changes_nothing(world: World) -> None:
    c = await cast(world)
    k = key()
    first = await c.svc.file(c.inviter, filing(), idempotency_key=k)
    events = await world.audit_count()
    again = await c.svc.file(c.inviter, filing(), idempotency_key=k)
    assert again["replayed"] is True and again["number"] == first["number"]
    assert await count(world, PortVisaRequest) == 1 and await world.audit_count() == events
    with pytest.raises(BadInput) as other:
        await c.svc.file(c.inviter, filing(flight="MU5101"), idempotency_key=k)
    assert other.value.field == "idempotency_key"
    k2 = key()
    one = await c.svc.approve(c.desk, first["id"], version=1, idempotency_key=k2)
    two = await c.svc.approve(c.desk, first["id"], version=1, idempotency_key=k2)
    assert two["replayed"] is True and two["version"] == one["version"] == 2
    with pytest.raises(Conflict):
        await c.svc.refuse(c.desk, first["id"], version=1, grounds=["law21_3"], idempotency_key=key())


async def test_only_the_inviter_the_foreigner_and_the_ports_desk_see_or_act(world: World) -> None:
    c = await cast(world)
    filed = await c.svc.file(c.inviter, filing(), idempotency_key=key())
    rid = filed["id"]
    for outsider in (c.other_inviter, c.other_desk, world.other_applicant):
        with pytest.raises(NotFound):
            await c.reads.read(outsider, rid)
    with pytest.raises(NotFound):  # another port's officer
        await c.svc.approve(c.other_desk, rid, version=1, idempotency_key=key())
    with pytest.raises(NotFound):  # another organisation's staff
        await c.svc.withdraw(c.other_inviter, rid, version=1, idempotency_key=key())
    with pytest.raises(Forbidden):  # the inviter does not decide
        await c.svc.approve(c.inviter, rid, version=1, idempotency_key=key())
    with pytest.raises(Forbidden):  # an officer whose desk serves no port
        await c.reads.queue(c.no_desk)
    for staff in (world.officer, world.agent):
        with pytest.raises(Forbidden):
            await c.svc.file(staff, filing(), idempotency_key=key())
    assert await c.reads.mine(c.other_inviter) == []
    assert await c.reads.mine(world.other_applicant) == []
    assert (await c.reads.queue(c.other_desk))["requests"] == []
    # the foreigner may withdraw their own request
    out = await c.svc.withdraw(world.applicant, rid, version=1, idempotency_key=key())
    assert out["state"] == "withdrawn"


async def test_the_foreigner_files_for_themself_and_the_queue_runs_by_arrival(world: World) -> None:
    c = await cast(world)
    own = await c.svc.file(
        world.applicant,
        Filing(
            purpose="visit",
            urgent=True,
            urgency="visit to a partner's plant",
            port=PORT,
            arrival_at=bj(ARRIVAL, 9, 10),
            flight="MU5101",
            inviter_kind="entity",
        ),
        idempotency_key=key(),
    )
    assert (
        own["category"] == "F" and own["organisation_id"] is None and own["passport"]["number"] == "C01X00T47"
    )
    later = await c.svc.file(c.inviter, filing(arrival_at=bj(ARRIVAL, 22, 0)), idempotency_key=key())
    earlier = await c.svc.file(
        c.inviter, filing(arrival_at=bj(ARRIVAL - dt.timedelta(days=1), 6)), idempotency_key=key()
    )
    await c.svc.file(c.inviter, filing(port=OTHER_PORT), idempotency_key=key())
    queue = await c.reads.queue(c.desk)
    assert [r["number"] for r in queue["requests"]] == [earlier["number"], own["number"], later["number"]]
    assert queue["port"]["name_zh"] == "银川河东国际机场"
    assert "port_visa_queue_read" in await world.actions()
    # the foreigner sees their own request, not the inviter's view of the organisation's others
    assert own["number"] in {r["number"] for r in await c.reads.mine(world.applicant)}


def test_every_transition_names_its_roles_and_only_the_system_lapses() -> None:
    for (state, command), t in TRANSITIONS.items():
        assert t.roles, (state, command)
        if command == "lapse":
            assert t.roles == {Role.SYSTEM} and t.next is PvState.LAPSED


async def test_a_request_audit_event_names_no_case(world: World) -> None:
    c = await cast(world)
    await c.svc.file(c.inviter, filing(), idempotency_key=key())
    async with world.sessions() as s:
        ev = (await s.execute(select(AuditEvent).where(AuditEvent.action == "port_visa_filed"))).scalar_one()
    assert ev.case_id is None and ev.state_after == "submitted" and ev.detail["port"] == PORT


def test_the_window_setting_is_read_and_bounded() -> None:
    assert port_visa_window({}) == 1
    assert port_visa_window({"CNVISA_PORT_VISA_ARRIVAL_WINDOW_DAYS": "3"}) == 3
    for bad in ("8", "-1", "one"):
        with pytest.raises(BadInput):
            port_visa_window({"CNVISA_PORT_VISA_ARRIVAL_WINDOW_DAYS": bad})


async def test_db_sweep_lapses_a_no_show_and_reads_the_window_setting(world: World, db_url: str) -> None:
    """`cnvisa db sweep` (daily, from cron) lapses port-visa requests past the arrival window (office rule), on the
    Beijing date, with the window from CNVISA_PORT_VISA_ARRIVAL_WINDOW_DAYS."""
    from test_cli_storage import cli

    c = await cast(world)
    filed = await c.svc.file(c.inviter, filing(), idempotency_key=key())
    # 07:59 in Beijing on the day after the window is still the day before in UTC
    after = bj(LAST + dt.timedelta(days=1), 7, 59).isoformat()
    wider = cli(
        "db",
        "sweep",
        "--database-url",
        db_url,
        env={"CNVISA_CLOCK_START": after, "CNVISA_PORT_VISA_ARRIVAL_WINDOW_DAYS": "2"},
    )
    # the window of a filed request was fixed when it was filed (1 day): the setting changes new requests only
    assert wider.returncode == 0 and filed["number"] in wider.stdout, wider.stderr
    assert (await c.reads.read(c.inviter, filed["id"]))["state"] == "lapsed"
    bad = cli("db", "sweep", "--database-url", db_url, env={"CNVISA_PORT_VISA_ARRIVAL_WINDOW_DAYS": "9"})
    assert bad.returncode == 2 and "CNVISA_PORT_VISA_ARRIVAL_WINDOW_DAYS" in bad.stderr
