"""Crash worker (run by test_crash.py): create and submit applications in a loop until killed.

Usage: ``python crash_worker.py <database-url>``. The database must hold the world seeded by the tests
(account ``applicant``, office ``SH01``). Each case number is printed (and flushed) only after ``submit``
returned — an acknowledgement the test then holds the database to.
"""

from __future__ import annotations

import asyncio
import sys

from case_helpers import ON, VISA_EXTENSION, at, key, pdf
from sqlalchemy import select

from cnvisa.cases.clock import ManualClock
from cnvisa.cases.service import Actor, CaseService
from cnvisa.cases.workflow import Role
from cnvisa.store.db import make_engine, sessionmaker
from cnvisa.store.tables import Account, Office


async def main(url: str) -> None:
    engine = make_engine(url)
    sessions = sessionmaker(engine)
    async with sessions() as s:
        account = (await s.execute(select(Account).where(Account.username == "applicant"))).scalar_one()
        office = (await s.execute(select(Office).where(Office.code == "SH01"))).scalar_one()
    assert account.person_id is not None
    actor = Actor(account.id, Role.APPLICANT, person_id=account.person_id)
    svc = CaseService(sessions, ManualClock(at(ON)))
    files = [pdf(code) for code in VISA_EXTENSION.materials]
    print("ready", flush=True)
    while True:
        c = await svc.create(
            actor,
            key=key(),
            person_id=account.person_id,
            office_id=office.id,
            matter=VISA_EXTENSION.matter,
            inputs=VISA_EXTENSION.inputs,
            files=files,
        )
        c = await svc.submit(actor, c["case_id"], c["version"], key=key())
        assert c["state"] == "submitted"
        sys.stdout.write(f"{c['number']}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
