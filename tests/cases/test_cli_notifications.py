"""`cnvisa db sweep` writes the reminders at the office's steps and `cnvisa db deliver` sends them — to a real
SMTP server the test starts — on SQLite and PostgreSQL; a bad office rule stops either command, naming it."""

from __future__ import annotations

import json

import pytest
from case_helpers import MATTERS, World
from notify_helpers import SmtpHandler, smtp_server
from sqlalchemy import select
from test_cli_storage import cli

from cnvisa.cases.channels import EMAIL, INBOX
from cnvisa.cases.inbox import InboxService
from cnvisa.store.outbox_tables import Notification

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
        assert out["sent"] == 1 and out["retry"] == 1 and out["channels"] == ["inbox", "email"]
        later = {**smtp, "CNVISA_CLOCK_START": "2026-05-02T09:05+08:00"}  # past the backoff (60 s)
        second = json.loads(cli("db", "deliver", "--database-url", db_url, env=later).stdout)
        assert second["sent"] == 1 and second["outbox"] == {"sent": 2}
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
