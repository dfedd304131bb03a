"""The job queue in /metrics (issues 12 and 14): per entrypoint, the jobs waiting and the oldest one's age, read
from the queue table at each scrape — PostgreSQL only; on SQLite the families are there without samples."""

from __future__ import annotations

import asyncio
import re

from fastapi.testclient import TestClient
from sqlalchemy import text

from cnvisa.app import create_app
from cnvisa.http.settings import Settings
from cnvisa.store import queue
from cnvisa.store.db import make_engine, sessionmaker


def _samples(body: str, name: str) -> dict[str, float]:
    found = {}
    for line in body.splitlines():
        m = re.fullmatch(name + r'\{entrypoint="([^"]*)"\} (\S+)', line)
        if m:
            found[m[1]] = float(m[2])
    return found


async def _enqueue(url: str) -> None:
    engine = make_engine(url)
    try:
        async with sessionmaker(engine)() as s, s.begin():
            for n in range(3):
                await queue.enqueue(s, "remind", {"n": n})
            await queue.enqueue(s, "deliver", {})
            if (
                engine.dialect.name == "postgresql"
            ):  # one waiting for 90 s, one periodic job with none waiting
                await s.execute(
                    text("UPDATE pgqueuer SET created = now() - interval '90 seconds' WHERE id = 1")
                )
                await s.execute(
                    text(
                        "INSERT INTO pgqueuer_schedules (expression, entrypoint) VALUES ('5 16 * * *', 'daily_sweep')"
                    )
                )
    finally:
        await engine.dispose()


def test_job_queue_depth_and_oldest_age_per_entrypoint(db_url: str) -> None:
    with TestClient(create_app(Settings(database_url=db_url))) as client:
        empty = client.get("/metrics").text
        asyncio.run(_enqueue(db_url))
        body = client.get("/metrics").text
    for text_ in (empty, body):
        assert "# TYPE cnvisa_job_queue_depth gauge" in text_
        assert "# TYPE cnvisa_job_queue_oldest_age_seconds gauge" in text_
    assert _samples(empty, "cnvisa_job_queue_depth") == {}
    depth, age = (
        _samples(body, "cnvisa_job_queue_depth"),
        _samples(body, "cnvisa_job_queue_oldest_age_seconds"),
    )
    if db_url.startswith("sqlite"):  # no queue table: the families without samples
        assert depth == {} and age == {}
        return
    assert depth == {"daily_sweep": 0, "deliver": 1, "remind": 3}
    assert 90 <= age["remind"] < 900 and 0 <= age["deliver"] < 90 and age["daily_sweep"] == 0
