"""The daily sweep of illegal residence (issue 12; Regulations Art 25; Law Art 78): one set-based query that must
agree with the law engine's answer for each person (``StatusQuery.person_status``) — checked on random people,
visas, permits, visa-free entries, exits and void documents — and counts days and the most the law allows as
``cnvisa.law.obligations.overstay`` does. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from case_helpers import MATTERS, World, key
from sqlalchemy import select, update

from cnvisa.cases.clock import SHANGHAI
from cnvisa.cases.errors import Forbidden
from cnvisa.cases.queries.overstay import illegal_residence
from cnvisa.cases.queries.presence import ensure_fresh
from cnvisa.store.presence_tables import Presence, PresenceState
from cnvisa.store.register_tables import AccommodationRegistration
from cnvisa.store.tables import Holding, Movement, Office, Person

ON = dt.date(2026, 3, 15)


async def seed_random(world: World, rng: random.Random, n: int) -> list[int]:
    ids = []
    async with world.sessions() as s, s.begin():
        for i in range(n):
            p = Person(
                surname=f"TEST{i}",
                given_names="X",
                birth_date=dt.date(1980, 1, 1),
                nationality="DEU",
                created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
            )
            s.add(p)
            await s.flush()
            ids.append(p.id)
            day = ON - dt.timedelta(days=rng.randint(5, 200))
            visa = Holding(
                person_id=p.id,
                kind="visa",
                number=f"V{p.id:08d}",
                category="M",
                entries="1",
                valid_from=day - dt.timedelta(days=30),
                valid_until=day + dt.timedelta(days=60),
                stay_days=rng.choice([30, 60, 90]),
                extended_days=rng.choice([0, 0, 30]),
                status=rng.choice(["valid", "valid", "valid", "void"]),
            )
            s.add(visa)
            await s.flush()
            entry = rng.random()
            if entry < 0.6:
                s.add(Movement(person_id=p.id, direction="entry", on=day, port="PVG", holding_id=visa.id))
            elif entry < 0.8:  # visa-free transit, in force from 2024-12-17
                s.add(
                    Movement(
                        person_id=p.id,
                        direction="entry",
                        on=day,
                        port="PVG",
                        visa_free_programme="transit_240h",
                    )
                )
            if rng.random() < 0.15:  # left again (out of the sweep), or left before the day asked about
                s.add(Movement(person_id=p.id, direction="exit", on=day + dt.timedelta(days=3), port="PVG"))
            if rng.random() < 0.35:
                s.add(
                    Holding(
                        person_id=p.id,
                        kind=rng.choice(["residence_permit", "stay_permit"]),
                        number=f"R{p.id:08d}",
                        category="work",
                        valid_from=day,
                        valid_until=ON + dt.timedelta(days=rng.randint(-40, 40)),
                        status=rng.choice(["valid", "valid", "cancelled"]),
                    )
                )
    return ids


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_sweep_agrees_with_the_law_engine_person_by_person(world: World, seed: int) -> None:
    rng = random.Random(seed)
    await fresh(world)  # from here on the presence rows are kept by each flush, not rebuilt
    ids = await seed_random(world, rng, 60)
    async with world.sessions() as s, s.begin():
        assert (await s.execute(select(PresenceState.stale))).scalar_one() is False
        found = {f.person_id: f for f in await illegal_residence(s, ON)}
        # the maintained rows give the same list, in the same order, as the full computation
        kept = await illegal_residence(s, ON, current=True)
        assert [f.as_dict() for f in kept] == [f.as_dict() for f in found.values()]
        inside = set()
        for pid in ids:
            last = (
                await s.execute(
                    Movement.__table__.select()
                    .where(Movement.person_id == pid, Movement.on <= ON)
                    .order_by(Movement.on.desc(), Movement.id.desc())
                    .limit(1)
                )
            ).first()
            if last is not None and last.direction == "entry":
                inside.add(pid)
    assert set(found) <= inside  # no one outside China is listed
    checked = 0
    for pid in inside:
        status = await world.svc.person_status(pid, ON)
        if status.lawful:
            assert pid not in found, (pid, status)
            continue
        checked += 1
        f = found[pid]
        if status.ground == "reg25_4":
            assert f.last_lawful_day is None and f.count is None
        else:
            assert f.last_lawful_day == status.until and f.count is not None
            assert f.count.days_overstayed == status.overstay_days
            assert f.count.max_fine_cny == min(500 * f.count.days_overstayed, 10_000)
    assert checked >= 5 and len(found) == checked  # the random mix has overstays, each found


async def fresh(world: World) -> None:
    async with world.sessions() as s, s.begin():
        await ensure_fresh(s, dt.datetime.now(dt.UTC))


async def kept(world: World, on: dt.date) -> list[int]:
    """The list from the maintained presence rows (the sweep of today), checked against the full computation."""
    async with world.sessions() as s, s.begin():
        full = [f.as_dict() for f in await illegal_residence(s, on)]
        found = [f.as_dict() for f in await illegal_residence(s, on, current=True)]
    assert found == full
    return [f["person_id"] for f in found]


async def test_the_presence_rows_follow_each_change_and_a_bulk_statement_rebuilds_them(world: World) -> None:
    """Kept in the transaction of each change (issue 12: the sweep reads one row per person): an entry lists the
    person once the stay ends, a residence permit covers, a bulk UPDATE through a session (names no person)
    marks the rows stale and the next sweep rebuilds them, an exit takes the person off, a rolled-back change
    leaves the rows as they were."""
    await fresh(world)
    pid = await overstayer(world, "KEPT")
    assert pid in await kept(world, ON)
    async with world.sessions() as s, s.begin():
        s.add(
            Holding(
                person_id=pid,
                kind="residence_permit",
                number="R-KEPT-1",
                category="work",
                valid_from=ON - dt.timedelta(days=5),
                valid_until=ON + dt.timedelta(days=300),
                status="valid",
            )
        )
    assert pid not in await kept(world, ON)
    async with world.sessions() as s, s.begin():
        await s.execute(update(Holding).where(Holding.number == "R-KEPT-1").values(status="cancelled"))
    async with world.sessions() as s:
        assert (await s.execute(select(PresenceState.stale))).scalar_one() is True
    assert pid in await kept(world, ON)
    async with world.sessions() as s:
        assert (await s.execute(select(PresenceState.stale))).scalar_one() is False
    with pytest.raises(RuntimeError):
        async with world.sessions() as s, s.begin():
            s.add(Movement(person_id=pid, direction="exit", on=ON - dt.timedelta(days=1), port="PVG"))
            await s.flush()
            raise RuntimeError("rolled back")
    assert pid in await kept(world, ON)
    async with world.sessions() as s, s.begin():
        s.add(Movement(person_id=pid, direction="exit", on=ON - dt.timedelta(days=1), port="PVG"))
    assert pid not in await kept(world, ON)
    async with world.sessions() as s:
        assert await s.get(Presence, pid) is None


async def stale(world: World) -> bool:
    async with world.sessions() as s:
        return bool((await s.execute(select(PresenceState.stale))).scalar_one())


async def test_a_submission_leaves_the_presence_rows_fresh(world: World) -> None:
    """A new case has no receipt yet (Regulations Art 13 para 3, 18 para 3: the receipt is the basis, issued at
    acceptance): its submission — a Core INSERT on the hot path — neither marks the rows stale (the next sweep
    would rebuild every person's row) nor locks the one state row until its commit (every submission would wait
    for the one before it). A new case that does carry a receipt still marks them stale."""
    from cnvisa.cases.runner import INSERT_CASE
    from cnvisa.store.tables import Case

    await fresh(world)
    mc = MATTERS["visa_extension"]
    for _ in range(2):
        await world.create(mc)
        assert not await stale(world)
        await world.applied(mc, files=())
        assert not await stale(world)
    async with world.sessions() as s, s.begin():
        row = (await s.execute(select(Case).limit(1))).scalar_one()
        values = {c.key: getattr(row, c.key) for c in Case.__table__.columns if c.key != "id"}
        values.update(number=values["number"] + "R", receipt_valid_until=ON, state="accepted")
        await s.execute(INSERT_CASE, values)
    assert await stale(world)


async def test_an_open_receipt_covers_and_a_decided_case_does_not(world: World) -> None:
    """Regulations Art 13 para 3, 18 para 3: the receipt of a case still open is proof of lawful stay."""
    async with world.sessions() as s, s.begin():
        visa = Holding(
            person_id=world.person_id,
            kind="visa",
            number="V00000001X",
            category="M",
            entries="1",
            valid_from=dt.date(2025, 9, 1),
            valid_until=dt.date(2026, 9, 1),
            stay_days=30,
            extended_days=0,
            status="valid",
        )
        s.add(visa)
        await s.flush()
        entered = world.svc.today() - dt.timedelta(days=20)
        s.add(
            Movement(person_id=world.person_id, direction="entry", on=entered, port="PVG", holding_id=visa.id)
        )
    stay_ends = entered + dt.timedelta(days=30)
    after = stay_ends + dt.timedelta(days=1)
    assert world.person_id in await kept(world, after)
    async with world.sessions() as s:
        assert [f.person_id for f in await illegal_residence(s, after)] == [world.person_id]
        assert (await illegal_residence(s, stay_ends)) == []  # the last lawful day is lawful
    c = await world.submitted(MATTERS["residence_permit"])
    c = await world.svc.accept(
        world.officer, c["case_id"], c["version"], key=key(), retention_reason="applicant_request"
    )
    receipt_until = dt.date.fromisoformat(c["receipt"]["valid_until"])
    # the acceptance refreshed the person's presence row in its own transaction
    assert world.person_id not in await kept(world, after)
    assert world.person_id in await kept(world, receipt_until + dt.timedelta(days=2))
    async with world.sessions() as s:
        assert receipt_until > after and await illegal_residence(s, after) == []
        late = await illegal_residence(s, receipt_until + dt.timedelta(days=2))
    assert [(f.last_lawful_day, f.count.days_overstayed if f.count else None) for f in late] == [
        (receipt_until, 2)
    ]


async def overstayer(world: World, surname: str, *, days_ago: int = 40, person_id: int | None = None) -> int:
    """Someone (new, or ``person_id``) who entered on a 30-day visa ``days_ago`` days before ON and never left."""
    async with world.sessions() as s, s.begin():
        p = await s.get(Person, person_id) if person_id else None
        if p is None:
            p = Person(
                surname=surname,
                given_names="Y",
                birth_date=dt.date(1985, 1, 1),
                nationality="FRA",
                created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
            )
            s.add(p)
            await s.flush()
        visa = Holding(
            person_id=p.id,
            kind="visa",
            number=f"VV{p.id:08d}",
            category="M",
            entries="1",
            valid_from=dt.date(2025, 1, 1),
            valid_until=dt.date(2027, 1, 1),
            stay_days=30,
            extended_days=0,
            status="valid",
        )
        s.add(visa)
        await s.flush()
        entered = ON - dt.timedelta(days=days_ago)
        s.add(Movement(person_id=p.id, direction="entry", on=entered, port="PVG", holding_id=visa.id))
        return p.id


async def registered(world: World, person_id: int, division: str) -> None:
    async with world.sessions() as s, s.begin():
        s.add(
            AccommodationRegistration(
                person_id=person_id,
                address="somewhere",
                division_code=division,
                registered_from=ON - dt.timedelta(days=35),
                registered_until=None,
                registered_by="hotel",
                recorded_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
            )
        )


async def test_each_office_sees_the_people_of_its_area_and_the_read_is_audited(world: World) -> None:
    """Reading: the office of the place of residence (Law Art 30, 32, 39): the registration covering the day
    in its area; else the office of the latest application; neither — the national list only."""
    in_shanghai = await overstayer(world, "SHANGHAI")
    await registered(world, in_shanghai, "310115")
    in_beijing = await overstayer(world, "BEIJING")
    await registered(world, in_beijing, "110105")
    unregistered = await overstayer(world, "NOWHERE")
    async with world.sessions() as s:
        offices = {o.id: (o.region, o.level) for o in (await s.execute(Office.__table__.select())).all()}
        sh = [f.person_id for f in await illegal_residence(s, ON, office_id=world.office_id)]
        bj = [f.person_id for f in await illegal_residence(s, ON, office_id=world.other_office_id)]
        national = {f.person_id for f in await illegal_residence(s, ON)}
    assert offices[world.office_id][0].startswith("31") and offices[world.other_office_id][0].startswith("11")
    assert sh == [in_shanghai] and bj == [in_beijing]
    assert {in_shanghai, in_beijing, unregistered} <= national
    world.clock.set(dt.datetime.combine(ON, dt.time(0, 30), tzinfo=SHANGHAI))  # 00:30 Beijing: ON already
    listed = await world.svc.illegal_residence(world.officer)
    assert [(r["person_id"], r["days_overstayed"], r["max_fine_cny"]) for r in listed] == [
        (in_shanghai, 10, 5000)
    ]
    assert "read_overstays" in await world.actions()
    with pytest.raises(Forbidden):
        await world.svc.illegal_residence(world.applicant)


async def test_without_a_registration_the_office_of_the_latest_application_sees_the_person(
    world: World,
) -> None:
    pid = await overstayer(world, "", person_id=world.person_id)
    async with world.sessions() as s:
        assert pid not in [f.person_id for f in await illegal_residence(s, ON, office_id=world.office_id)]
    await world.create(MATTERS["residence_permit"])  # a draft is not yet an application
    async with world.sessions() as s:
        assert pid not in [f.person_id for f in await illegal_residence(s, ON, office_id=world.office_id)]
    await world.submitted(MATTERS["residence_permit"])
    async with world.sessions() as s:
        assert pid in [f.person_id for f in await illegal_residence(s, ON, office_id=world.office_id)]
        assert pid not in [
            f.person_id for f in await illegal_residence(s, ON, office_id=world.other_office_id)
        ]
