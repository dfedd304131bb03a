"""Where a joint submission's time goes (issue 10): one submitter, in-process, on a fresh PostgreSQL (or SQLite)
database — the statements each command sends (counted on the engine) and the CPU a submission takes
(``time.process_time``, this process only: the database server's CPU is not in it), beside the plain submission
(``CaseService.apply``, as ``benchmarks/cases.py submissions``) in the same run.

    .venv/bin/python benchmarks/joint_profile.py --rounds 200            # PostgreSQL (dropped afterwards)
    .venv/bin/python benchmarks/joint_profile.py --rounds 200 --sqlite
    .venv/bin/python benchmarks/joint_profile.py --rounds 1 --show       # and print each statement sent

Prints per command the statements sent (per call) and the CPU (median ms per call, after 20 warm-up rounds).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import event, insert, select

from cnvisa.cases import audit
from cnvisa.cases.actor import Actor
from cnvisa.cases.clock import ManualClock
from cnvisa.cases.joint.service import JointService
from cnvisa.cases.records import FileIn
from cnvisa.cases.service import CaseService
from cnvisa.cases.workflow import Role
from cnvisa.demo import seed
from cnvisa.store.db import make_engine, sessionmaker
from cnvisa.store.migrate import upgrade
from cnvisa.store.tables import Account, Office, Organisation

try:  # run as a script from the repository root
    from joint import (  # type: ignore[import-not-found]
        CODES,
        PDF,
        RP_INPUTS,
        TODAY,
        WP,
        drop_pg,
        fresh_pg,
        passport_at_window,
    )
except ImportError:  # pragma: no cover
    from benchmarks.joint import CODES, PDF, RP_INPUTS, TODAY, WP, drop_pg, fresh_pg, passport_at_window

PROFILE_DB = "cnvisa_bench_joint_profile"
PLAIN = {
    "applicant": {"birth_date": "1990-01-01", "nationality": "USA"},
    "entry_date": "2025-11-01",
    "visa": {"category": "L", "entries": "single", "valid_until": "2026-03-01", "stay_days": 30},
    "requested": {"extension_days": 30},
    "materials": ["application_form", "photo"],
}


async def run(rounds: int, sqlite: bool, show: bool, returned: bool, warm: int = 20) -> dict[str, Any]:
    tmp = None
    if sqlite:
        tmp = tempfile.mkdtemp(prefix="cnvisa-joint-profile-")
        url = f"sqlite+aiosqlite:///{tmp}/p.db"
    else:
        url = await fresh_pg(PROFILE_DB)
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    await seed(engine, cases=0, seed_value=1, population=40, today=TODAY)
    async with engine.begin() as conn:
        office = (await conn.execute(select(Office.id).where(Office.code == "SH01"))).scalar_one()
        employer = (await conn.execute(select(Organisation.id).order_by(Organisation.id))).scalars().first()
        ids = []
        for a in (
            {"username": "p-hr", "role": "org_staff", "organisation_id": employer},
            {"username": "p-officer", "role": "officer", "office_id": office},
            {"username": "p-applicant", "role": "applicant", "person_id": 30},
        ):
            row = await conn.execute(insert(Account).values(display_name=a["username"], active=True, **a))
            ids.append(row.inserted_primary_key[0])
    service = JointService(sessionmaker(engine), ManualClock(TODAY))
    plain = CaseService(sessionmaker(engine), ManualClock(TODAY))
    officer = Actor(ids[1], Role.OFFICER, office_id=office)
    applicant = Actor(ids[2], Role.APPLICANT, person_id=30)
    files = [FileIn(code, f"{code}.pdf", PDF) for code in CODES]
    plain_files = [FileIn("passport", "passport.pdf", PDF), FileIn("itinerary", "plan.pdf", PDF)]
    sent: list[str] = []
    passports = {p: await passport_at_window(engine, p, returned) for p in range(1, 21)}

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    stmts: dict[str, Counter[int]] = {"apply_joint": Counter(), "joint_accept": Counter(), "apply": Counter()}
    cpu: dict[str, list[float]] = {k: [] for k in stmts}
    cpu["joint_submission"] = []
    shown: dict[str, list[str]] = {}
    for i in range(warm + rounds):
        person = 1 + i % 20
        hr = Actor(ids[0], Role.ORG_STAFF, organisation_id=employer, represents=frozenset({person}))
        sent.clear()
        t = time.process_time()
        j = await service.apply_joint(
            hr,
            key=f"j-{i}-{uuid.uuid4().hex[:8]}",
            person_id=person,
            office_id=office,
            employer_organisation_id=employer,
            work_permit=WP,
            inputs=RP_INPUTS,
            files=files,
        )
        t1 = time.process_time()
        n_apply, shown["apply_joint"] = len(sent), list(sent)
        sent.clear()
        await service.joint_accept(
            officer, j["joint_id"], j["version"], key=f"a-{i}-{uuid.uuid4().hex[:8]}", **passports[person]
        )
        t2 = time.process_time()
        n_accept, shown["joint_accept"] = len(sent), list(sent)
        sent.clear()
        await plain.apply(
            applicant,
            key=f"p-{i}-{uuid.uuid4().hex[:8]}",
            person_id=30,
            office_id=1,
            matter="visa_extension",
            inputs=PLAIN,
            files=plain_files,
        )
        t3 = time.process_time()
        n_plain, shown["apply"] = len(sent), list(sent)
        if i >= warm:
            stmts["apply_joint"][n_apply] += 1
            stmts["joint_accept"][n_accept] += 1
            stmts["apply"][n_plain] += 1
            cpu["apply_joint"].append(t1 - t)
            cpu["joint_accept"].append(t2 - t1)
            cpu["joint_submission"].append(t2 - t)
            cpu["apply"].append(t3 - t2)
    event.remove(engine.sync_engine, "before_cursor_execute", count)
    async with sessionmaker(engine)() as s:
        checked = await audit.verify(s)
    await engine.dispose()
    if tmp is None:
        await drop_pg(PROFILE_DB)
    if show:
        for name, texts in shown.items():
            print(f"--- {name}: {len(texts)} statements")
            for s in texts:
                print("  ", " ".join(s.split())[:200])
    out: dict[str, Any] = {"engine": "sqlite" if sqlite else "postgresql", "rounds": rounds}
    out["audit_chain_verifies"] = f"{checked.ok} ({checked.events} events)"
    for name, c in stmts.items():
        out[f"{name}_statements"] = ", ".join(f"{n}×{k}" for n, k in sorted(c.items()))
    for name, xs in cpu.items():
        out[f"{name}_cpu_ms_median"] = f"{statistics.median(xs) * 1000:.2f}"
    out["loadavg"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=200)
    p.add_argument("--sqlite", action="store_true")
    p.add_argument("--show", action="store_true", help="print the statements of the last round")
    p.add_argument("--returned", action="store_true", help="the passport read and returned (default: kept)")
    args = p.parse_args()
    for k, v in asyncio.run(run(args.rounds, args.sqlite, args.show, args.returned)).items():
        print(f"{k:32s} {v}")


if __name__ == "__main__":
    main()
