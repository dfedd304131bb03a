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
from cnvisa.cases.workflow import State
from cnvisa.law import calendar as workdays
from cnvisa.law.acceptance import receipt_valid_until
from cnvisa.law.documents import icao_check_digit, social_credit_check_char
from cnvisa.law.versions import law_version
from cnvisa.store.db import sessionmaker
from cnvisa.store.tables import (
    Account,
    CalendarState,
    Case,
    Holding,
    Movement,
    Office,
    Organisation,
    Person,
    TravelDocument,
)

OFFICES = [
    ("SH01", "上海市公安局出入境管理局", "Shanghai Exit-Entry Administration Bureau", "provincial", "310000"),
    ("BJ01", "北京市公安局出入境管理总队", "Beijing Exit-Entry Administration", "provincial", "110000"),
    ("GZ01", "广州市公安局出入境管理支队", "Guangzhou Exit-Entry Administration", "prefecture", "440100"),
    ("SZ01", "深圳市公安局出入境管理支队", "Shenzhen Exit-Entry Administration", "prefecture", "440300"),
    ("HZ01", "杭州市公安局出入境管理局", "Hangzhou Exit-Entry Administration", "prefecture", "330100"),
    ("CD01", "成都市公安局出入境管理支队", "Chengdu Exit-Entry Administration", "prefecture", "510100"),
    ("YW01", "义乌市公安局出入境管理大队", "Yiwu Exit-Entry Administration", "county", "330782"),
    ("XA01", "西安市公安局出入境管理支队", "Xi'an Exit-Entry Administration", "prefecture", "610100"),
]
NATIONS = [
    "USA",
    "GBR",
    "D",
    "FRA",
    "JPN",
    "KOR",
    "RUS",
    "ITA",
    "ESP",
    "CAN",
    "AUS",
    "BRA",
    "IND",
    "SGP",
    "THA",
    "VNM",
    "NGA",
    "EGY",
    "MEX",
    "NLD",
]
SURNAMES = [
    "SMITH",
    "MUELLER",
    "DUBOIS",
    "TANAKA",
    "KIM",
    "IVANOV",
    "ROSSI",
    "GARCIA",
    "BROWN",
    "SILVA",
    "NGUYEN",
    "OKAFOR",
    "HASSAN",
    "LOPEZ",
    "JANSEN",
    "WILSON",
    "SATO",
    "PARK",
    "PETROV",
    "MARTIN",
]
GIVEN = [
    "ANNA",
    "JOHN",
    "MARIA",
    "DAVID",
    "YUKI",
    "MIN",
    "OLGA",
    "LUCA",
    "SOFIA",
    "JAMES",
    "EMMA",
    "NOAH",
    "LI",
    "AISHA",
    "CARLOS",
    "EVA",
    "HIRO",
    "JI WOO",
    "IVAN",
    "CLAIRE",
]
MATTERS = [
    ("visa_extension", 30),
    ("residence_permit", 20),
    ("residence_permit_extension", 20),
    ("visa_replacement", 10),
    ("stay_permit", 6),
    ("visa_reissue", 4),
    ("residence_permit_replacement", 4),
    ("residence_permit_reissue", 2),
    ("study_work_annotation", 3),
    ("exit_without_passport", 1),
]
STATES = [
    (State.DRAFT, 5),
    (State.SUBMITTED, 10),
    (State.DEFICIENT, 8),
    (State.ACCEPTED, 25),
    (State.UNDER_VERIFICATION, 5),
    (State.REFUSAL_PROPOSED, 2),
    (State.APPROVED, 8),
    (State.REFUSED, 3),
    (State.ISSUED, 6),
    (State.COLLECTED, 20),
    (State.WITHDRAWN, 4),
    (State.LAPSED, 4),
]
ACCEPTED_STATES = {
    State.ACCEPTED,
    State.UNDER_VERIFICATION,
    State.REFUSAL_PROPOSED,
    State.APPROVED,
    State.REFUSED,
    State.ISSUED,
    State.COLLECTED,
}
ALNUM = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _uscc(rng: random.Random, region: str) -> str:
    body = "91" + region + "".join(rng.choice("0123456789") for _ in range(8))
    from cnvisa.law.documents import organisation_code_check_char

    body += organisation_code_check_char(body[8:16])
    return body + social_credit_check_char(body)


def _mrz(surname: str, given: str, nat: str, number: str, birth: dt.date, sex: str, expiry: dt.date) -> str:
    line1 = f"P<{nat:<<3}{surname.replace(' ', '<')}<<{given.replace(' ', '<')}".ljust(44, "<")[:44]
    num = number.ljust(9, "<")
    b, e = birth.strftime("%y%m%d"), expiry.strftime("%y%m%d")
    parts = (
        num + icao_check_digit(num) + f"{nat:<<3}" + b + icao_check_digit(b) + sex + e + icao_check_digit(e)
    )
    optional = "<" * 14
    line2 = parts + optional + "0"
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    return line1 + "\n" + line2 + icao_check_digit(composite)


def _weighted(rng: random.Random, table: list[tuple[Any, int]]) -> Any:
    return rng.choices([x for x, _ in table], [w for _, w in table])[0]


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _inputs(
    rng: random.Random, matter: str, on: dt.date, entry: dt.date, birth: dt.date, nat: str
) -> dict[str, Any]:
    base: dict[str, Any] = {"applicant": {"birth_date": birth.isoformat(), "nationality": nat}}
    if matter.startswith("visa"):
        cat = rng.choice(["L", "M", "F", "Q2", "S2"])
        base |= {
            "entry_date": entry.isoformat(),
            "visa": {
                "category": cat,
                "entries": rng.choice(["single", "double", "multiple"]),
                "valid_until": (on + dt.timedelta(days=rng.randint(30, 300))).isoformat(),
                "stay_days": rng.choice([30, 60, 90]),
            },
        }
        if matter == "visa_extension":
            base["requested"] = {"extension_days": 30}
        elif matter == "visa_replacement":
            base |= {
                "ground": "change_of_purpose",
                "requested": {
                    "category": "M",
                    "entries": "multiple",
                    "entry_validity_days": 180,
                    "stay_days": 90,
                },
            }
        else:
            base["ground"] = rng.choice(["lost", "stolen", "damaged"])
    elif matter == "residence_permit":
        base |= {
            "entry_date": entry.isoformat(),
            "visa": {"category": "Z", "entries": "single", "stay_days": 30},
            "requested": {"permit_type": "work", "validity_days": rng.choice([365, 730, 1095])},
        }
    elif matter.startswith("residence_permit") or matter == "study_work_annotation":
        ptype = (
            "study" if matter == "study_work_annotation" else rng.choice(["work", "study", "family_reunion"])
        )
        base["residence_permit"] = {
            "type": ptype,
            "valid_until": (on + dt.timedelta(days=rng.randint(31, 200))).isoformat(),
        }
        if matter == "residence_permit_extension":
            base["requested"] = {"validity_days": 365}
        elif matter == "residence_permit_replacement":
            base["ground"] = "new_passport"
        elif matter == "residence_permit_reissue":
            base["ground"] = "lost"
    elif matter == "stay_permit":
        base |= {"entry_date": entry.isoformat(), "requested": {"validity_days": 60}}
    else:
        base["ground"] = "lost"
    return base


async def seed(
    engine: AsyncEngine, cases: int, seed_value: int = 1, today: dt.date | None = None, batch_size: int = 5000
) -> dict[str, int]:
    """Load deterministic demo data. Returns counts of what was written."""
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
                "uscc": _uscc(rng, OFFICES[k % len(OFFICES)][4]),
                "name": f"Demo {kind.replace('_', ' ').title()} {k + 1}",
                "kind": kind,
                "region": OFFICES[k % len(OFFICES)][4],
            }
            for k, kind in enumerate(
                ["employer", "school", "service_agency", "travel_agency", "inviting_entity"] * 8
            )
        ]
        await conn.execute(insert(Organisation), orgs)
        accounts = []
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

    people = max(1, cases * 2 // 3)
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
        for batch in _batches(person_rows(), batch_size):
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
                docs[-1]["mrz"] = _mrz(  # the MRZ states the passport's own expiry date
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
                entry = today - dt.timedelta(days=rng.randint(1, 120))
                holdings.append(
                    {
                        "id": hid,
                        "person_id": r["id"],
                        "kind": "visa",
                        "number": f"V{hid:011d}",
                        "category": rng.choice(["L", "M", "F", "Z", "X1", "Q2"]),
                        "entries": "multiple",
                        "entries_used": 1,
                        "valid_from": entry - dt.timedelta(days=30),
                        "valid_until": entry + dt.timedelta(days=300),
                        "stay_days": 90,
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

    states = [s for s, _ in STATES]
    weights = [w for _, w in STATES]
    mats = [m for m, _ in MATTERS]
    mweights = [w for _, w in MATTERS]
    receipt_cache: dict[tuple[str, dt.date], dt.date | None] = {}

    def case_rows() -> Iterator[dict[str, Any]]:
        for k in range(cases):
            cid = start["cases"] + k + 1
            pidx = rng.randrange(people)
            office_idx = rng.randrange(len(office_ids))
            state = rng.choices(states, weights)[0]
            matter = rng.choices(mats, mweights)[0]
            created = today - dt.timedelta(days=rng.randint(0, 40))
            birth, nat = person_info[pidx]
            row: dict[str, Any] = {
                "id": cid,
                "number": f"{OFFICES[office_idx][0]}-{created:%Y%m%d}-{cid:08d}",
                "person_id": start["people"] + pidx + 1,
                "office_id": office_ids[office_idx],
                "matter": matter,
                "inputs": _inputs(
                    rng, matter, created, created - dt.timedelta(days=rng.randint(5, 25)), birth, nat
                ),
                "state": str(state),
                "version": 1 + states.index(state),
                "submitted_by": "self",
                "proxy_grounds": [],
                "refusal_grounds": ["reg21_1"] if state is State.REFUSED else [],
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
                accepted = min(today, created + dt.timedelta(days=rng.randint(0, 5)))
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
            yield row

    async with engine.begin() as conn:
        for batch in _batches(case_rows(), batch_size):
            await conn.execute(insert(Case), batch)
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
