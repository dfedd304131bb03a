"""The notifications outbox (issue 12 "Shown by": reminders enqueued ≥ 20,000/s; delivered ≥ 1,000/s) —
``cnvisa.cases.outbox.reminders`` (set-based, in the sweep's transaction) and ``OutboxService.deliver_due``.

    PYTHONPATH=src .venv/bin/python benchmarks/outbox.py build --people 100000   # fresh PostgreSQL database
    PYTHONPATH=src .venv/bin/python benchmarks/outbox.py run [--deliver 20000] [--smtp 2000]
    PYTHONPATH=src .venv/bin/python benchmarks/outbox.py drop

The data (bulk SQL with generate_series, benchmark data): N people, each with an applicant account and one open
duty due 7 days after the day swept (the ``T-7`` step); one person in ten chose e-mail as well. ``run`` times
writing the reminders (one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` per stage and channel), then delivery
passes of 1,000 over the inbox rows, then over the e-mail rows to a local aiosmtpd server.
PostgreSQL: postgresql://postgres@127.0.0.1:5432 (``CNVISA_BENCH_PG_ADMIN``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import time

import asyncpg
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text, update

from cnvisa.cases.channels import ChannelConfig, SmtpConfig, channels
from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.cases.delivery import OutboxService
from cnvisa.cases.outbox import reminders
from cnvisa.store.db import make_engine, sessionmaker
from cnvisa.store.migrate import upgrade
from cnvisa.store.outbox_tables import Notification
from cnvisa.web.notify_texts import NotificationTexts

PG_ADMIN = os.environ.get("CNVISA_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
DB = "cnvisa_bench_outbox"
ON = dt.date(2026, 5, 24)
LAW = "Exit and Entry Administration Law"
CITES = json.dumps(
    [{"cite": f"{LAW} Art 32 para 1", "instrument": LAW, "article": "32", "paragraph": 1, "item": None}]
)


def _url(name: str, driver: str = "postgresql+asyncpg") -> str:
    return f"{PG_ADMIN.rsplit('/', 1)[0].replace('postgresql', driver, 1)}/{name}"


async def build(people: int) -> None:
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{DB}"')
    await admin.close()
    await asyncio.to_thread(upgrade, _url(DB))
    conn = await asyncpg.connect(_url(DB, "postgresql"))
    t = time.perf_counter()
    await conn.execute(
        """INSERT INTO people (id, surname, given_names, birth_date, sex, nationality, created_at)
           SELECT g, 'P' || g, 'X', DATE '1980-01-01', 'F', 'DEU', now() FROM generate_series(1, $1) g""",
        people,
    )
    await conn.execute(
        """INSERT INTO accounts (id, username, display_name, role, person_id, active)
           SELECT g, 'u' || g, 'P' || g, 'applicant', g, true FROM generate_series(1, $1) g""",
        people,
    )
    await conn.execute(
        """INSERT INTO notification_preferences (account_id, language, email, email_on, sms_on, changed_at)
           SELECT g, CASE WHEN g % 2 = 0 THEN 'en' ELSE 'zh_CN' END, 'u' || g || '@example.com', true, false,
                  now()
           FROM generate_series(1, $1) g WHERE g % 10 = 0""",
        people,
    )
    await conn.execute(
        f"""INSERT INTO obligations (person_id, kind, basis, basis_id, due_by, label, citations, holidays_known,
                                    state, opened_at, changed_at)
            SELECT g, 'residence_permit_extension', 'holding', g, $2::date + 7, 'law', '{CITES}', true, 'open',
                   now(), now()
            FROM generate_series(1, $1) g""",
        people,
        ON,
    )
    for seq, table in (("people_id_seq", "people"), ("accounts_id_seq", "accounts")):
        await conn.execute(f"SELECT setval('{seq}', (SELECT max(id) FROM {table}))")
    await conn.execute("ANALYZE")
    await conn.close()
    print(f"built {people:,} people, accounts and duties in {time.perf_counter() - t:.1f} s")


class _Accept:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


async def run(deliver: int, smtp: int) -> None:
    engine = make_engine(_url(DB))
    sessions = sessionmaker(engine)
    clock = ManualClock(dt.datetime.combine(ON, dt.time(9), tzinfo=SHANGHAI))
    async with sessions() as s, s.begin():
        await s.execute(text("DELETE FROM notification_attempts"))
        await s.execute(text("DELETE FROM notifications"))
    async with sessions() as s, s.begin():
        t = time.perf_counter()
        written = await reminders(s, ON, clock.now(), (30, 7, 1))
        took = time.perf_counter() - t
    print(
        f"enqueue: {written:,} rows in {took:.2f} s = {written / took:,.0f}/s (load {os.getloadavg()[0]:.1f})"
    )

    async def only(channel: str, keep: int) -> None:
        """Leave pending only the first ``keep`` rows of ``channel``; park every other pending row."""
        async with sessions() as s, s.begin():
            await s.execute(
                update(Notification).where(Notification.state == "pending").values(state="parked")
            )
            first = (
                select(Notification.id)
                .where(Notification.channel == channel, Notification.state == "parked")
                .order_by(Notification.id)
                .limit(keep)
            )
            await s.execute(update(Notification).where(Notification.id.in_(first)).values(state="pending"))

    controller = Controller(_Accept(), hostname="127.0.0.1", port=8025)
    controller.start()
    try:
        config = ChannelConfig(SmtpConfig("127.0.0.1", 8025, sender="noreply@cnvisa.test"))
        box = OutboxService(sessions, clock, channels=channels(config), texts=NotificationTexts())
        for channel, keep in (("inbox", deliver), ("email", smtp)):
            await only(channel, keep)
            sent, t = 0, time.perf_counter()
            while True:
                done = await box.deliver_due(limit=1000)
                if not any(done.values()):
                    break
                sent += len(done["sent"])
            took = time.perf_counter() - t
            print(f"deliver {channel}: {sent:,} sent in {took:.2f} s = {sent / took:,.0f}/s")
        async with sessions() as s:
            counts = (
                await s.execute(select(Notification.state, func.count()).group_by(Notification.state))
            ).all()
        print("outbox:", dict(counts))  # type: ignore[arg-type]
    finally:
        controller.stop()
        await engine.dispose()


async def drop() -> None:
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    await admin.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--people", type=int, default=100_000)
    r = sub.add_parser("run")
    r.add_argument("--deliver", type=int, default=20_000)
    r.add_argument("--smtp", type=int, default=2_000)
    sub.add_parser("drop")
    args = ap.parse_args()
    if args.cmd == "build":
        asyncio.run(build(args.people))
    elif args.cmd == "run":
        asyncio.run(run(args.deliver, args.smtp))
    else:
        asyncio.run(drop())


if __name__ == "__main__":
    main()
