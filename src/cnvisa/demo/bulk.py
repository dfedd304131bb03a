"""``cnvisa demo seed``: realistic, deterministic synthetic data — offices, organisations, people with
passports and entries, visas and permits, and cases in every state. Bulk inserts (no per-row ORM), so a
million cases load in minutes on PostgreSQL. The same ``--seed`` always gives the same data."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases import audit
from cnvisa.cases.clock import SHANGHAI
from cnvisa.cases.queries.presence import mark_stale
from cnvisa.demo.records import DECIDED, Implied
from cnvisa.demo.vocab import (
    ACCEPTED_STATES,
    ALNUM,
    GIVEN,
    MATTERS,
    NATIONS,
    OFFICES,
    STATES,
    SURNAMES,
    batches,
    inputs,
    mrz,
    uscc,
    visa_category,
)
from cnvisa.law import calendar as workdays
from cnvisa.law.acceptance import receipt_valid_until
from cnvisa.law.versions import law_version
from cnvisa.store.db import sessionmaker
from cnvisa.store.tables import (
    Account,
    CalendarState,
    Case,
    Holding,
    Movement,
    Notice,
    Office,
    Organisation,
    Person,
    TravelDocument,
    Verification,
)


async def seed(
    engine: AsyncEngine,
    cases: int,
    seed_value: int = 1,
    today: dt.date | None = None,
    batch_size: int = 5000,
    population: int | None = None,
) -> dict[str, int]:
    """Load deterministic demo data: ``population`` people (two for every three cases unless given) and
    ``cases`` cases, each with the records its state implies (``cnvisa.demo.records``). Returns counts."""
    rng = random.Random(seed_value)
    today = today or dt.date(2025, 11, 20)
    sessions = sessionmaker(engine)
    now = dt.datetime.combine(today, dt.time(9, 0), tzinfo=dt.UTC)
    async with engine.begin() as conn:
        start = {
            t.__tablename__: int((await conn.execute(select(func.coalesce(func.max(t.id), 0)))).scalar_one())
            for t in (Office, Organisation, Person, TravelDocument, Holding, Movement, Account, Case)
        }
        office_ids: list[int] = []
        existing = {r[0]: r[1] for r in await conn.execute(select(Office.code, Office.id))}
        new_offices: list[dict[str, Any]] = []
        for i, (code, zh, en, level, region) in enumerate(OFFICES):
            if code in existing:
                office_ids.append(existing[code])
                continue
            oid = start["offices"] + len(new_offices) + 1
            new_offices.append(
                {
                    "id": oid,
                    "code": code,
                    "name_zh": zh,
                    "name_en": en,
                    "level": level,
                    "region": region,
                    "slot_minutes": 30,
                    "slot_capacity": 4 + i % 3,
                    "opening_hours": {"mon-fri": ["09:00-12:00", "13:30-17:00"]},
                }
            )
            office_ids.append(oid)
        if new_offices:
            await conn.execute(insert(Office), new_offices)
        orgs = [
            {
                "id": start["organisations"] + k + 1,
                "uscc": uscc(rng, OFFICES[k % len(OFFICES)][4]),
                "name": f"Demo {kind.replace('_', ' ').title()} {k + 1}",
                "kind": kind,
                "region": OFFICES[k % len(OFFICES)][4],
            }
            for k, kind in enumerate(
                ["employer", "school", "service_agency", "travel_agency", "inviting_entity"] * 8
            )
        ]
        await conn.execute(insert(Organisation), orgs)
        accounts: list[dict[str, Any]] = []
        aid = start["accounts"]
        for oid, (code, *_rest) in zip(office_ids, OFFICES, strict=True):
            for role, n in (("officer", 3), ("supervisor", 1)):
                for k in range(n):
                    aid += 1
                    accounts.append(
                        {
                            "id": aid,
                            "username": f"{code.lower()}-{role}{k + 1}-{seed_value}-{aid}",
                            "display_name": f"{role.title()} {k + 1} ({code})",
                            "role": role,
                            "office_id": oid,
                            "active": True,
                        }
                    )
        await conn.execute(insert(Account), accounts)
    officers: dict[int, list[int]] = {}
    for a in accounts:
        if a["role"] == "officer":
            officers.setdefault(int(a["office_id"]), []).append(int(a["id"]))

    people = population if population is not None else max(1, cases * 2 // 3)
    counts = {
        "offices": len(OFFICES),
        "organisations": len(orgs),
        "accounts": len(accounts),
        "people": people,
        "cases": cases,
    }

    def person_rows() -> Iterator[dict[str, Any]]:
        for k in range(people):
            birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 26000))
            yield {
                "id": start["people"] + k + 1,
                "surname": rng.choice(SURNAMES),
                "given_names": rng.choice(GIVEN),
                "birth_date": birth,
                "sex": rng.choice("MF"),
                "nationality": rng.choice(NATIONS),
                "created_at": now,
            }

    person_info: list[tuple[dt.date, str]] = []
    async with engine.begin() as conn:
        for batch in batches(person_rows(), batch_size):
            person_info.extend((r["birth_date"], r["nationality"]) for r in batch)
            await conn.execute(insert(Person), batch)
            docs = []
            for r in batch:
                number = "".join(rng.choice(ALNUM[:10] + "CEFGHJKLMN") for _ in range(9))
                docs.append(
                    {
                        "id": start["travel_documents"] + r["id"] - start["people"],
                        "person_id": r["id"],
                        "number": number,
                        "issuing_state": r["nationality"],
                        "kind": "passport",
                        "valid_until": today + dt.timedelta(days=rng.randint(200, 3000)),
                        "current": True,
                    }
                )
                docs[-1]["mrz"] = mrz(  # the MRZ states the passport's own expiry date
                    r["surname"],
                    r["given_names"],
                    r["nationality"],
                    number,
                    r["birth_date"],
                    r["sex"],
                    docs[-1]["valid_until"],
                )
            await conn.execute(insert(TravelDocument), docs)
            holdings, moves = [], []
            for r in batch:
                hid = start["holdings"] + r["id"] - start["people"]
                category = visa_category(rng, r["birth_date"], today)
                # still within the stay: 30 days on a Z or X1 visa, 90 on the others
                entry = today - dt.timedelta(days=rng.randint(1, 28 if category in ("Z", "X1") else 80))
                holdings.append(
                    {
                        "id": hid,
                        "person_id": r["id"],
                        "kind": "visa",
                        "number": f"V{hid:011d}",
                        "category": category,
                        # a Z or X1 visa brings its holder in once, for 30 days, to apply for a residence
                        # permit (Law Art 30); the others are for a stay of 90 days
                        "entries": "single" if category in ("Z", "X1") else "multiple",
                        "entries_used": 1,
                        "valid_from": entry - dt.timedelta(days=30),
                        "valid_until": entry + dt.timedelta(days=300),
                        "stay_days": 30 if category in ("Z", "X1") else 90,
                        "extended_days": 0,
                        "annotations": [],
                        "status": "valid",
                    }
                )
                moves.append(
                    {
                        "id": start["movements"] + r["id"] - start["people"],
                        "person_id": r["id"],
                        "direction": "entry",
                        "on": entry,
                        "port": rng.choice(["PVG", "PEK", "CAN", "SZX"]),
                        "holding_id": hid,
                    }
                )
            await conn.execute(insert(Holding), holdings)
            await conn.execute(insert(Movement), moves)
        await mark_stale(
            conn
        )  # written with Core: the sweep's presence rows are rebuilt before it next reads

    states = [s for s, _ in STATES]
    weights = [w for _, w in STATES]
    mats = [m for m, _ in MATTERS]
    mweights = [w for _, w in MATTERS]
    receipt_cache: dict[tuple[str, dt.date], dt.date | None] = {}
    implied = Implied(today, officers, start["holdings"] + people + 1, rng)

    def case_rows() -> Iterator[dict[str, Any]]:
        for k in range(cases):
            cid = start["cases"] + k + 1
            pidx = rng.randrange(people)
            office_idx = rng.randrange(len(office_ids))
            state = rng.choices(states, weights)[0]
            matter = rng.choices(mats, mweights)[0]
            created = implied.created_on(state, today - dt.timedelta(days=rng.randint(0, 40)))
            birth, nat = person_info[pidx]
            row: dict[str, Any] = {
                "id": cid,
                "number": f"{OFFICES[office_idx][0]}-{created:%Y%m%d}-{cid:08d}",
                "person_id": start["people"] + pidx + 1,
                "office_id": office_ids[office_idx],
                "matter": matter,
                "inputs": inputs(
                    rng, matter, created, created - dt.timedelta(days=rng.randint(5, 25)), birth, nat
                ),
                "state": str(state),
                "version": 1 + states.index(state),
                "submitted_by": "self",
                "proxy_grounds": [],
                "refusal_grounds": [],
                "refusal_proposed_by": None,
                "decided_by": None,
                "issued_holding_id": None,
                "created_at": dt.datetime.combine(created, dt.time(10, 0), tzinfo=dt.UTC),
                "updated_at": now,
                "law_version": None,
                "calendar_version": None,
                "receipt_number": None,
                "accepted_on": None,
                "receipt_issued_at": None,
                "receipt_valid_until": None,
                "passport_kept": None,
                "deadline": None,
            }
            if state in ACCEPTED_STATES:
                # a decided case was decided before the demo's day, after its acceptance
                latest = today - dt.timedelta(days=1) if state in DECIDED else today
                accepted = min(latest, created + dt.timedelta(days=rng.randint(0, 5)))
                keyc = (matter, accepted)
                if keyc not in receipt_cache:
                    receipt_cache[keyc] = receipt_valid_until(matter, accepted)
                until = receipt_cache[keyc]
                row |= {
                    "law_version": law_version(accepted),
                    "calendar_version": workdays.calendar_version(),
                    "accepted_on": accepted,
                    # issued during the morning of acceptance, in Beijing time (stored in UTC)
                    "receipt_issued_at": dt.datetime.combine(
                        accepted, dt.time(9, 0), tzinfo=SHANGHAI
                    ).astimezone(dt.UTC)
                    + dt.timedelta(minutes=cid % 180),
                    "receipt_number": f"R{OFFICES[office_idx][0]}{accepted:%y%m%d}{cid:08d}",
                    "receipt_valid_until": until,
                    "deadline": until,
                    "passport_kept": rng.random() < 0.3,
                }
            implied.add(row, state, created)
            yield row

    async with sessions() as s, s.begin():
        conn = await s.connection()
        for batch in batches(case_rows(), batch_size):
            await conn.execute(insert(Case), batch)
            extra = implied.take()
            for model, key in ((Holding, "holdings"), (Notice, "notices"), (Verification, "verifications")):
                if extra[key]:
                    await conn.execute(insert(model), extra[key])
            await audit.append_many(s, extra["events"])  # the decisions' events: their dates
        if engine.dialect.name == "postgresql":
            for table in (
                "offices",
                "organisations",
                "people",
                "travel_documents",
                "holdings",
                "movements",
                "accounts",
                "cases",
            ):
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                    )
                )
    async with sessions() as s, s.begin():
        if await s.get(CalendarState, 1) is None:
            # every deadline above was computed under this calendar: `cnvisa db sweep` has nothing to redo
            s.add(CalendarState(id=1, version=workdays.calendar_version()))
        await audit.append(
            s,
            at=now,
            actor_account_id=None,
            role="system",
            office_id=None,
            case_id=None,
            action="demo_seed",
            detail={"seed": seed_value, **counts},
        )
    return counts
