"""`cnvisa db sweep` writes the reminders at the office's steps and `cnvisa db deliver` sends them — to a real
SMTP server the test starts — on SQLite and PostgreSQL; a bad office rule stops either command, naming it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
from case_helpers import MATTERS, World
from notify_helpers import SmtpHandler, smtp_server
from sqlalchemy import select
from test_cli_storage import ROOT, cli

from cnvisa.cases.channels import EMAIL, INBOX
from cnvisa.cases.inbox import InboxService
from cnvisa.store.outbox_tables import Notification, NotificationAttempt

pytestmark = pytest.mark.timeout(300)


async def test_sweep_then_deliver_from_the_command_line(world: World, db_url: str) -> None:
    rp = MATTERS["residence_permit_extension"]
    assert rp.existing is not None
    await world.add_existing(rp.existing)  # apply by 31 May 2026 (Law Art 32 para 1)
    await InboxService(world.sessions, world.clock, (INBOX, EMAIL)).set_preferences(
        world.applicant, language="en", channels=[EMAIL], email="anna@example.com"
    )
    env = {"CNVISA_CLOCK_START": "2026-05-02T09:00+08:00", "CNVISA_REMINDER_STEPS_DAYS": "60,45"}
    swept = cli("db", "sweep", "--database-url", db_url, env=env)
    assert swept.returncode == 0, swept.stderr
    async with world.sessions() as s:
        stages = set((await s.execute(select(Notification.stage, Notification.channel))).all())
    assert stages == {("T-45", INBOX), ("T-45", EMAIL)}  # 29 days left: the last step's window (office rule)

    handler = SmtpHandler(fail=1)
    with smtp_server(handler) as port:
        smtp = {
            **env,
            "CNVISA_CLOCK_START": "2026-05-02T09:01+08:00",  # the sweep's clock ran on while it worked
            "CNVISA_SMTP_HOST": "127.0.0.1",
            "CNVISA_SMTP_PORT": str(port),
        }
        first = cli("db", "deliver", "--limit", "10", "--database-url", db_url, env=smtp)
        assert first.returncode == 0, first.stderr
        out = json.loads(first.stdout)
        # the inbox of the holder and of the relative acting for her (world's mandate); the e-mail retried
        assert out["sent"] == 2 and out["retry"] == 1 and out["channels"] == ["inbox", "email"]
        later = {**smtp, "CNVISA_CLOCK_START": "2026-05-02T09:05+08:00"}  # past the backoff (60 s)
        second = json.loads(cli("db", "deliver", "--database-url", db_url, env=later).stdout)
        assert second["sent"] == 1 and second["outbox"] == {"sent": 3}
    [mail] = handler.received
    assert mail["To"] == "anna@example.com" and "Art 32 para 1" in mail.get_content()

    bad = cli("db", "sweep", "--database-url", db_url, env={"CNVISA_REMINDER_STEPS_DAYS": "30,soon"})
    assert bad.returncode == 2 and "CNVISA_REMINDER_STEPS_DAYS" in bad.stderr
    bad = cli("db", "deliver", "--database-url", db_url, env={"CNVISA_NOTIFY_MAX_ATTEMPTS": "0"})
    assert bad.returncode == 2 and "CNVISA_NOTIFY_MAX_ATTEMPTS" in bad.stderr
    bad = cli(
        "db", "deliver", "--database-url", db_url, env={"CNVISA_SMTP_HOST": "h", "CNVISA_SMTP_FROM": "x"}
    )
    assert bad.returncode == 2 and "CNVISA_SMTP_FROM" in bad.stderr


@dataclass
class HoldFirst(SmtpHandler):
    """Holds the first message's DATA until released (the deliverer is killed meanwhile), then answers 451 to a
    client that is gone; accepts every later one."""

    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.started.is_set():
            self.started.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
            return "451 4.3.0 The client went away"
        return await super().handle_DATA(server, session, envelope)


async def test_a_deliverer_killed_mid_send_sends_the_message_once(world: World, db_url: str) -> None:
    """SIGKILL while the SMTP server holds the message: the attempt recorded before sending stays open
    (``sending``); after the lease the next pass sends it, once, with the same Message-ID."""
    rp = MATTERS["residence_permit_extension"]
    assert rp.existing is not None
    await world.add_existing(rp.existing)
    await InboxService(world.sessions, world.clock, (INBOX, EMAIL)).set_preferences(
        world.applicant, language="en", channels=[EMAIL], email="anna@example.com"
    )
    env = {"CNVISA_CLOCK_START": "2026-05-02T09:00+08:00"}
    assert cli("db", "sweep", "--database-url", db_url, env=env).returncode == 0
    handler = HoldFirst()
    with smtp_server(handler) as port:
        smtp = {
            **os.environ,
            "CNVISA_CLOCK_START": "2026-05-02T09:01+08:00",
            "CNVISA_SMTP_HOST": "127.0.0.1",
            "CNVISA_SMTP_PORT": str(port),
            "CNVISA_SMTP_TIMEOUT": "60",
        }
        args = [sys.executable, "-m", "cnvisa.cli", "db", "deliver", "--database-url", db_url]
        proc = subprocess.Popen(args, env=smtp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        try:
            assert await asyncio.get_running_loop().run_in_executor(None, handler.started.wait, 120)
            os.kill(proc.pid, signal.SIGKILL)
            assert proc.wait(timeout=30) == -signal.SIGKILL
        finally:
            handler.release.set()
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=30)
        async with world.sessions() as s:
            [row] = (await s.execute(select(Notification).where(Notification.channel == EMAIL))).scalars()
            outcomes = (await s.execute(select(NotificationAttempt.outcome))).scalars().all()
        # every row claimed (the holder's two, the inbox of the relative acting for her) and their attempts
        # recorded; the pass died before recording any outcome
        assert row.state == "sending" and outcomes == ["sending", "sending", "sending"]
        soon = cli(
            "db",
            "deliver",
            "--database-url",
            db_url,
            env={**smtp, "CNVISA_CLOCK_START": "2026-05-02T09:02+08:00"},
        )
        assert json.loads(soon.stdout)["sent"] == 0  # leased: no one takes it yet
        later = cli(
            "db",
            "deliver",
            "--database-url",
            db_url,
            env={**smtp, "CNVISA_CLOCK_START": "2026-05-02T09:10+08:00"},
        )
        assert json.loads(later.stdout)["sent"] == 3, later.stderr  # the inbox rows too: shown once
    [mail] = handler.received
    assert mail["Message-ID"] == row.message_id
    async with world.sessions() as s:
        tries = (
            (
                await s.execute(
                    select(NotificationAttempt.outcome)
                    .where(NotificationAttempt.notification_id == row.id)
                    .order_by(NotificationAttempt.number)
                )
            )
            .scalars()
            .all()
        )
    assert tries == ["sending", "sent"]
