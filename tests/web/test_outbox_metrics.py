"""The notifications outbox in /metrics (issues 12 and 14): per channel and state, the messages not sent and how
long the oldest one due has waited — read at each scrape, on both engines; sent messages are not counted."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

from fastapi.testclient import TestClient

from cnvisa.app import create_app
from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.http.settings import Settings
from cnvisa.store.db import make_engine, sessionmaker
from cnvisa.store.outbox_tables import Notification
from cnvisa.store.tables import Account

NOW = dt.datetime(2026, 5, 2, 0, 30, tzinfo=SHANGHAI)  # 00:30 Beijing: 16:30 UTC the day before


def _samples(body: str, name: str) -> dict[tuple[str, str], float]:
    found = {}
    for line in body.splitlines():
        m = re.fullmatch(name + r'\{channel="([^"]*)",state="([^"]*)"\} (\S+)', line)
        if m:
            found[(m[1], m[2])] = float(m[3])
    return found


async def _messages(url: str) -> None:
    engine = make_engine(url)
    try:
        async with sessionmaker(engine)() as s, s.begin():
            who = Account(username="holder", display_name="Holder", role="applicant")
            s.add(who)
            await s.flush()
            for n, (channel, state, due_in) in enumerate(
                [
                    ("email", "pending", dt.timedelta(minutes=-90)),  # due an hour and a half ago
                    ("email", "pending", dt.timedelta(minutes=-5)),
                    ("email", "pending", dt.timedelta(minutes=10)),  # a retry not yet due
                    ("email", "sending", dt.timedelta(minutes=3)),  # claimed, its lease running
                    ("sms", "failed", dt.timedelta(days=-2)),
                    ("inbox", "sent", dt.timedelta(days=-1)),
                ]
            ):
                s.add(
                    Notification(
                        subject_kind="obligation",
                        subject_id=n,
                        stage="T-7",
                        channel=channel,
                        recipient_account_id=who.id,
                        language="en",
                        template="reminder",
                        params={},
                        state=state,
                        attempts=0,
                        next_attempt_at=NOW + due_in,
                        created_at=NOW - dt.timedelta(days=3),
                    )
                )
    finally:
        await engine.dispose()


def test_outbox_messages_and_the_oldest_due_wait_per_channel(db_url: str) -> None:
    app = create_app(Settings(database_url=db_url), clock=ManualClock(NOW))
    with TestClient(app) as client:
        empty = client.get("/metrics").text
        asyncio.run(_messages(db_url))
        body = client.get("/metrics").text
    for text_ in (empty, body):
        assert "# TYPE cnvisa_outbox_messages gauge" in text_
        assert "# TYPE cnvisa_outbox_oldest_due_age_seconds gauge" in text_
    assert _samples(empty, "cnvisa_outbox_messages") == {}
    assert _samples(body, "cnvisa_outbox_messages") == {
        ("email", "pending"): 3,
        ("email", "sending"): 1,
        ("sms", "failed"): 1,
    }
    assert _samples(body, "cnvisa_outbox_oldest_due_age_seconds") == {
        ("email", "pending"): 90 * 60,  # the oldest due, not the one whose retry is still ahead
        ("email", "sending"): 0,  # nothing claimed is past its lease
    }
