"""The notifications outbox (issue 12), on both engines with a clock travelling through months: reminders at
each step before a duty's deadline, once per stage; the notice and decisions written in the command's own
transaction (none when it rolls back); delivery over a real SMTP server (aiosmtpd) that answers 451, 554 or is
not there, retried with backoff and sent once; SMS through a stub gateway on a real socket; a deliverer that
died after claiming re-sends with the same Message-ID."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from case_helpers import MATTERS, World, at, key
from notify_helpers import SmsGateway, SmtpHandler, free_port, outbox, served, smtp_server
from sqlalchemy import select, text, update

from cnvisa.cases import audit as audit_module
from cnvisa.cases.channels import EMAIL, INBOX, SMS, ChannelConfig
from cnvisa.cases.delivery import RetryRules
from cnvisa.cases.errors import BadInput
from cnvisa.cases.inbox import InboxService
from cnvisa.cases.obligations import ObligationRegister
from cnvisa.cases.outbox import DEFAULT_STEPS, reminder_steps, step_windows
from cnvisa.store.outbox_tables import Notification, NotificationAttempt
from cnvisa.store.tables import Account, AuditEvent, Mandate, Organisation, OrgPerson

pytestmark = pytest.mark.timeout(120)

RP = MATTERS[
    "residence_permit_extension"
]  # permit valid to 30 June 2026: apply by 31 May (Law Art 32 para 1)
DUE = dt.date(2026, 5, 31)


async def rows(world: World, *where: Any) -> list[Notification]:
    async with world.sessions() as s:
        q = select(Notification).where(*where).order_by(Notification.id)
        return list((await s.execute(q)).scalars())


async def attempts(world: World, notification_id: int) -> list[NotificationAttempt]:
    async with world.sessions() as s:
        q = select(NotificationAttempt).where(NotificationAttempt.notification_id == notification_id)
        return list((await s.execute(q.order_by(NotificationAttempt.number))).scalars())


def touched(done: dict[str, list[int]]) -> set[int]:
    """Every row a pass claimed, whatever came of it."""
    return {i for ids in done.values() for i in ids}


def prefs(world: World, offered: tuple[str, ...] = (INBOX, EMAIL, SMS)) -> InboxService:
    return InboxService(world.sessions, world.clock, offered)


async def test_reminders_once_per_stage_through_the_months(world: World) -> None:
    assert RP.existing is not None
    await world.add_existing(RP.existing)
    register = ObligationRegister(world.sessions, world.clock)
    first_seen: dict[str, dt.date] = {}
    day = dt.date(2026, 4, 20)
    while day <= dt.date(2026, 6, 5):
        world.clock.set(at(day))
        await register.sweep()
        if day == dt.date(2026, 5, 10):
            await register.sweep()  # the same day twice: nothing new
        for n in await rows(world, Notification.subject_kind == "obligation"):
            first_seen.setdefault(n.stage, day)
        day += dt.timedelta(days=1)
    assert first_seen == {
        "T-30": dt.date(2026, 5, 1),  # 30 days left
        "T-7": dt.date(2026, 5, 24),
        "T-1": dt.date(2026, 5, 30),
        "late": dt.date(2026, 6, 1),  # the day after the deadline (Beijing date)
    }
    mine = await rows(world, Notification.recipient_account_id == world.applicant.account_id)
    assert sorted((n.stage, n.channel) for n in mine) == [
        ("T-1", INBOX),
        ("T-30", INBOX),
        ("T-7", INBOX),
        ("late", INBOX),
    ]
    assert {n.language for n in mine} == {"zh_CN"}  # none chosen: the governing language


async def test_reminder_steps_are_an_office_rule_checked_at_start() -> None:
    assert reminder_steps({}) == DEFAULT_STEPS
    assert reminder_steps({"CNVISA_REMINDER_STEPS_DAYS": "7, 60,14"}) == (60, 14, 7)
    for bad in ("x", "-1", "30,,7", "400"):
        with pytest.raises(BadInput) as err:
            reminder_steps({"CNVISA_REMINDER_STEPS_DAYS": bad})
        assert err.value.field == "CNVISA_REMINDER_STEPS_DAYS"
    today = dt.date(2026, 5, 1)
    assert step_windows(today, (30, 7, 1)) == [
        ("T-30", dt.date(2026, 5, 9), dt.date(2026, 5, 31)),
        ("T-7", dt.date(2026, 5, 3), dt.date(2026, 5, 8)),
        ("T-1", dt.date(2026, 5, 1), dt.date(2026, 5, 2)),
    ]


async def test_a_reminder_by_email_in_english_cites_the_article_and_is_sent_once(world: World) -> None:
    assert RP.existing is not None
    await world.add_existing(RP.existing)
    await prefs(world).set_preferences(
        world.applicant, language="en", channels=[EMAIL], email="anna@example.com"
    )
    world.clock.set(
        at(dt.date(2026, 5, 24), 0) + dt.timedelta(minutes=30)
    )  # 00:30 Beijing, 16:30 UTC the day before
    await ObligationRegister(world.sessions, world.clock).sweep()
    queued = await rows(world, Notification.recipient_account_id == world.applicant.account_id)
    assert sorted((n.stage, n.channel) for n in queued) == [("T-7", EMAIL), ("T-7", INBOX)]
    everyone = await rows(world)  # and the relative acting for her: the inbox, the only channel offered
    assert {(n.recipient_account_id, n.channel) for n in everyone if n.id not in {q.id for q in queued}} == {
        (world.agent.account_id, INBOX)
    }
    handler = SmtpHandler()
    with smtp_server(handler) as port:
        box = outbox(world.sessions, world.clock, smtp_port=port)
        done = await box.deliver_due()
        assert (
            sorted(done["sent"]) == sorted(n.id for n in everyone)
            and not done["retry"]
            and not done["failed"]
        )
        assert (await box.deliver_due()) == {"sent": [], "retry": [], "failed": []}  # sent once
    [mail] = handler.received
    assert handler.rcpt == [["anna@example.com"]]
    body = mail.get_payload(decode=True).decode()
    assert mail["Subject"].startswith("Reminder: Apply to extend the residence permit")
    assert "Exit and Entry Administration Law Art 32 para 1" in body and "office rule" in body
    assert "7 days" in body and "May 31, 2026" in body
    email_row = next(n for n in queued if n.channel == EMAIL)
    assert (
        mail["Message-ID"]
        == f"<obligation.{email_row.subject_id}.T-7.email.{world.applicant.account_id}@cnvisa.test>"
    )
    inbox = await prefs(world).inbox(world.applicant)
    assert inbox["unread"] == 1 and inbox["items"][0]["subject"] == mail["Subject"]
    async with world.sessions() as s:
        events = await s.execute(
            select(AuditEvent.detail).where(AuditEvent.action == "notifications_delivered")
        )
        assert [sorted(d["sent"]) for d in events.scalars()] == [sorted(n.id for n in everyone)]


async def test_the_chinese_reminder_cites_the_law_in_chinese(world: World) -> None:
    assert RP.existing is not None
    await world.add_existing(RP.existing)
    world.clock.set(at(dt.date(2026, 5, 30), 23) + dt.timedelta(minutes=59))
    await ObligationRegister(world.sessions, world.clock).sweep()
    await outbox(world.sessions, world.clock).deliver_due()
    [m] = (await prefs(world).inbox(world.applicant))["items"]
    assert m["stage"] == "T-1" and m["language"] == "zh_CN"
    assert "《出境入境管理法》第32条第1款" in m["body"] and m["subject"].startswith("提醒")


async def delivery_jobs(world: World) -> list[str]:
    """The delivery jobs waiting in the queue (PostgreSQL's pgqueuer table; none on SQLite)."""
    if world.engine.dialect.name != "postgresql":
        return []
    async with world.engine.connect() as conn:
        got = await conn.execute(text("SELECT entrypoint FROM pgqueuer WHERE entrypoint = 'deliver_outbox'"))
        return [str(e) for e in got.scalars()]


async def test_a_notice_writes_its_rows_in_the_command_transaction(world: World, monkeypatch: Any) -> None:
    c = await world.create(files=("passport",))
    sub = await world.svc.submit(world.applicant, c["case_id"], c["version"], key=key())

    real = audit_module.append_many  # a command's events are written as one group (Runner._run)

    async def failing(s: Any, events: Any, **kw: Any) -> Any:
        if any(e.get("action") == "issue_notice" for e in events):
            raise RuntimeError("the audit log is full")
        return await real(s, events, **kw)

    monkeypatch.setattr(audit_module, "append_many", failing)
    with pytest.raises(RuntimeError):
        await world.svc.issue_notice(world.officer, c["case_id"], sub["version"], key=key())
    assert await rows(world) == []  # rolled back with the command
    assert await delivery_jobs(world) == []  # and the delivery job with them
    monkeypatch.setattr(audit_module, "append_many", real)
    k = key()
    out = await world.svc.issue_notice(world.officer, c["case_id"], sub["version"], key=k)
    again = await world.svc.issue_notice(world.officer, c["case_id"], sub["version"], key=k)
    assert again.get("replayed") is True
    written = await rows(world)
    # the person's own account, and the agent's? The applicant filed it: one account, the inbox
    assert [(n.subject_kind, n.subject_id, n.stage, n.channel) for n in written] == [
        ("case", c["case_id"], "notice-1", INBOX)
    ]
    assert written[0].params["respond_by"] == out["notice"]["respond_by"]
    # the delivery job queued in the same transaction, once (PostgreSQL; SQLite's runner ticks)
    pg = world.engine.dialect.name == "postgresql"
    assert await delivery_jobs(world) == (["deliver_outbox"] if pg else [])
    await outbox(world.sessions, world.clock).deliver_due()
    [m] = (await prefs(world).inbox(world.applicant))["items"]
    assert m["subject"].startswith("申请") and "一次性告知" in m["subject"]


async def test_decisions_notify_the_applicant_and_the_filing_agent(world: World) -> None:
    c = await world.create(actor=world.agent)
    sub = await world.svc.submit(world.agent, c["case_id"], c["version"], key=key())
    acc = await world.svc.accept(world.officer, c["case_id"], sub["version"], key=key())
    ok = await world.svc.approve(world.officer, c["case_id"], acc["version"], key=key())
    assert ok["state"] == "approved"
    written = await rows(world, Notification.stage == "approved")
    assert sorted(n.recipient_account_id for n in written) == sorted(
        [world.applicant.account_id, world.agent.account_id]
    )


async def test_smtp_451_is_retried_with_backoff_then_sent_once(world: World) -> None:
    assert RP.existing is not None
    await world.add_existing(RP.existing)
    await prefs(world).set_preferences(
        world.applicant, language="en", channels=[EMAIL], email="a@example.com"
    )
    world.clock.set(at(dt.date(2026, 5, 2)))
    await ObligationRegister(world.sessions, world.clock).sweep()
    [row] = await rows(world, Notification.channel == EMAIL)
    handler = SmtpHandler(fail=2, reply="451 4.3.0 Mailbox busy, try later")
    with smtp_server(handler) as port:
        box = outbox(world.sessions, world.clock, smtp_port=port)
        first = await box.deliver_due()
        assert row.id in first["retry"]
        [after] = await rows(world, Notification.id == row.id)
        assert after.state == "pending" and after.attempts == 1 and "451" in (after.last_error or "")
        assert after.next_attempt_at == world.clock.now() + dt.timedelta(seconds=60)
        assert row.id not in touched(await box.deliver_due())  # not yet due
        world.clock.advance(seconds=61)
        assert row.id in (await box.deliver_due())["retry"]  # second failure: waits 120 s
        world.clock.advance(seconds=119)
        assert row.id not in touched(await box.deliver_due())
        world.clock.advance(seconds=2)
        assert row.id in (await box.deliver_due())["sent"]
        world.clock.advance(days=1)
        assert row.id not in touched(await box.deliver_due())
    assert len(handler.received) == 1 and handler.tries == 3
    tries = await attempts(world, row.id)
    assert [a.outcome for a in tries] == ["retry", "retry", "sent"] and [a.number for a in tries] == [1, 2, 3]
    assert all(a.finished_at is not None for a in tries) and "451" in (tries[0].error or "")


async def test_smtp_554_fails_at_once_and_attempts_run_out(world: World) -> None:
    assert RP.existing is not None
    await world.add_existing(RP.existing)
    await prefs(world).set_preferences(
        world.applicant, language="en", channels=[EMAIL], email="a@example.com"
    )
    world.clock.set(at(dt.date(2026, 5, 2)))
    await ObligationRegister(world.sessions, world.clock).sweep()
    [row] = await rows(world, Notification.channel == EMAIL)
    with smtp_server(SmtpHandler(fail=5, reply="554 5.7.1 Rejected")) as port:
        assert row.id in (await outbox(world.sessions, world.clock, smtp_port=port).deliver_due())["failed"]
    [after] = await rows(world, Notification.id == row.id)
    assert after.state == "failed" and after.attempts == 1 and "554" in (after.last_error or "")

    # a refused connection, every time: retried until the most attempts (office rule), then failed
    world.clock.set(at(dt.date(2026, 5, 24)))
    await ObligationRegister(world.sessions, world.clock).sweep()
    [row7] = await rows(world, Notification.channel == EMAIL, Notification.stage == "T-7")
    box = outbox(world.sessions, world.clock, smtp_port=free_port(), rules=RetryRules(3, 10, 300))
    outcomes = []
    for _ in range(3):
        done = await box.deliver_due()
        outcomes += [k for k, ids in done.items() if row7.id in ids]
        world.clock.advance(seconds=100)
    assert outcomes == ["retry", "retry", "failed"]


async def test_a_refused_connection_is_retried_and_then_succeeds(world: World) -> None:
    assert RP.existing is not None
    await world.add_existing(RP.existing)
    await prefs(world).set_preferences(
        world.applicant, language="en", channels=[EMAIL], email="a@example.com"
    )
    world.clock.set(at(dt.date(2026, 5, 2)))
    await ObligationRegister(world.sessions, world.clock).sweep()
    [row] = await rows(world, Notification.channel == EMAIL)
    port = free_port()
    box = outbox(world.sessions, world.clock, smtp_port=port)
    assert row.id in (await box.deliver_due())["retry"]  # nobody listens yet
    handler = SmtpHandler()
    with smtp_server(handler, port):
        world.clock.advance(minutes=2)
        assert row.id in (await box.deliver_due())["sent"]
    assert len(handler.received) == 1


async def test_a_deliverer_that_died_after_claiming_resends_with_the_same_message_id(world: World) -> None:
    assert RP.existing is not None
    await world.add_existing(RP.existing)
    await prefs(world).set_preferences(
        world.applicant, language="en", channels=[EMAIL], email="a@example.com"
    )
    world.clock.set(at(dt.date(2026, 5, 2)))
    await ObligationRegister(world.sessions, world.clock).sweep()
    [row] = await rows(world, Notification.channel == EMAIL)
    handler = SmtpHandler()
    with smtp_server(handler) as port:
        box = outbox(world.sessions, world.clock, smtp_port=port)
        claimed, _ = await box._claim(
            world.clock.now(), 100
        )  # claimed, attempt recorded ... and the process dies
        [c] = [c for c in claimed if c.id == row.id]
        assert row.id not in touched(await box.deliver_due())  # leased: no one else takes it
        world.clock.advance(seconds=301)
        assert row.id in (await box.deliver_due())["sent"]
    [mail] = handler.received
    assert mail["Message-ID"] == c.message.message_id
    assert [a.outcome for a in await attempts(world, row.id)] == ["sending", "sent"]


async def test_sms_through_the_stub_gateway(world: World) -> None:
    assert RP.existing is not None
    await world.add_existing(RP.existing)
    await prefs(world).set_preferences(
        world.applicant, language="zh_CN", channels=[SMS], phone="+86 138 0013 8000"
    )
    world.clock.set(at(dt.date(2026, 5, 2)))
    await ObligationRegister(world.sessions, world.clock).sweep()
    [row] = await rows(world, Notification.channel == SMS)
    gateway = SmsGateway(fail=1)
    async with served(gateway.app) as url:
        box = outbox(world.sessions, world.clock, sms_url=url)
        assert row.id in (await box.deliver_due())["retry"]  # 503
        world.clock.advance(seconds=61)
        assert row.id in (await box.deliver_due())["sent"]
        world.clock.advance(days=3)
        assert row.id not in touched(await box.deliver_due())
    [(mid, sent)] = gateway.sent.items()
    assert sent["to"] == "+8613800138000" and "《出境入境管理法》第32条第1款" in sent["text"]
    assert mid == f"<obligation.{row.subject_id}.T-30.sms.{world.applicant.account_id}@cnvisa.test>"
    assert gateway.requests == 2 and gateway.auth == ["Bearer t0ken", "Bearer t0ken"]


async def test_a_channel_not_configured_fails_loudly_never_silently(world: World) -> None:
    assert RP.existing is not None
    await world.add_existing(RP.existing)
    await prefs(world).set_preferences(
        world.applicant, language="en", channels=[EMAIL], email="a@example.com"
    )
    world.clock.set(at(dt.date(2026, 5, 2)))
    await ObligationRegister(world.sessions, world.clock).sweep()
    [row] = await rows(world, Notification.channel == EMAIL)
    assert row.id in (await outbox(world.sessions, world.clock).deliver_due())["failed"]  # SMTP gone since
    [after] = await rows(world, Notification.id == row.id)
    assert after.state == "failed" and "not configured" in (after.last_error or "")


async def test_preferences_refuse_channels_not_offered_and_bad_addresses(world: World) -> None:
    only_inbox = prefs(world, ChannelConfig().offered)
    with pytest.raises(BadInput) as err:
        await only_inbox.set_preferences(
            world.applicant, language="en", channels=[EMAIL], email="a@example.com"
        )
    assert err.value.field == "channels" and "not offered" in err.value.message
    full = prefs(world)
    for kw, field in (
        ({"language": "fr", "channels": []}, "language"),
        ({"language": "en", "channels": [EMAIL]}, "email"),
        ({"language": "en", "channels": [], "email": "not-an-address"}, "email"),
        ({"language": "en", "channels": [SMS], "phone": "13800138000"}, "phone"),
        ({"language": "en", "channels": ["pigeon"]}, "channels"),
    ):
        with pytest.raises(BadInput) as err:
            await full.set_preferences(world.applicant, **kw)
        assert err.value.field == field
    assert (await full.preferences(world.applicant))["channels"] == [INBOX]  # nothing written
    out = await full.set_preferences(world.applicant, language="en", channels=[EMAIL], email="a@example.com")
    assert out["channels"] == [INBOX, EMAIL] and out["language"] == "en"


async def test_two_passes_at_once_never_take_the_same_row(world: World) -> None:
    assert RP.existing is not None
    await world.add_existing(RP.existing)
    world.clock.set(at(dt.date(2026, 5, 2)))
    await ObligationRegister(world.sessions, world.clock).sweep()
    async with world.sessions() as s, s.begin():  # twenty more inbox messages to the applicant
        for n in range(20):
            s.add(
                Notification(
                    subject_kind="case",
                    subject_id=1000 + n,
                    stage="approved",
                    channel=INBOX,
                    recipient_account_id=world.applicant.account_id,
                    language="en",
                    template="approved",
                    params={"case": f"X{n}", "matter": "visa"},
                    state="pending",
                    attempts=0,
                    next_attempt_at=world.clock.now(),
                    created_at=world.clock.now(),
                )
            )
    box = outbox(world.sessions, world.clock)
    a, b = await asyncio.gather(box.deliver_due(limit=15), box.deliver_due(limit=15))
    assert not set(a["sent"]) & set(b["sent"])
    everything = [n.id for n in await rows(world)]
    assert (a["sent"] and b["sent"]) or len(everything) <= 15  # both passes delivered (SQLite: one at a time)
    await box.deliver_due(limit=100)
    async with world.sessions() as s:
        counted = (await s.execute(select(NotificationAttempt.notification_id))).scalars().all()
    assert sorted(counted) == sorted(everything)  # one attempt each: none was sent twice
    assert {n.state for n in await rows(world)} == {"sent"}


async def test_an_organisations_staff_are_reminded_of_their_peoples_duties(world: World) -> None:
    assert RP.existing is not None
    await world.add_existing(RP.existing)
    async with world.sessions() as s, s.begin():
        org = Organisation(uscc="91310000MA1FL0000X", name="Acme (Shanghai)", kind="employer")
        s.add(org)
        await s.flush()
        s.add(
            OrgPerson(
                organisation_id=org.id,
                person_id=world.person_id,
                relation="employee",
                since=dt.date(2025, 1, 1),
            )
        )
        hr = Account(username="acme.hr", display_name="HR", role="org_staff", organisation_id=org.id)
        gone = Account(
            username="acme.old", display_name="Left", role="org_staff", organisation_id=org.id, active=False
        )
        s.add_all([hr, gone])
        await s.flush()
        hr_id, gone_id = hr.id, gone.id
    world.clock.set(at(dt.date(2026, 5, 24)))
    await ObligationRegister(world.sessions, world.clock).sweep()
    told = {(n.recipient_account_id, n.stage) for n in await rows(world)}
    # the holder, the employer's active staff, and the relative acting for her under a mandate in force
    assert told == {(world.applicant.account_id, "T-7"), (hr_id, "T-7"), (world.agent.account_id, "T-7")}
    assert gone_id not in {who for who, _ in told}


async def test_an_agent_is_reminded_only_while_the_mandate_is_in_force(world: World) -> None:
    assert RP.existing is not None
    await world.add_existing(RP.existing)
    async with world.sessions() as s, s.begin():
        await s.execute(
            update(Mandate)
            .where(Mandate.person_id == world.person_id)
            .values(valid_until=dt.date(2026, 5, 23))
        )
    world.clock.set(at(dt.date(2026, 5, 24)))
    await ObligationRegister(world.sessions, world.clock).sweep()
    assert {n.recipient_account_id for n in await rows(world)} == {world.applicant.account_id}


def test_settings_refuse_bad_office_rules_at_start(monkeypatch: Any) -> None:
    from cnvisa.http.settings import Settings

    for name, value in (
        ("CNVISA_REMINDER_STEPS_DAYS", "thirty"),
        ("CNVISA_NOTIFY_BACKOFF_SECONDS", "-1"),
        ("CNVISA_SMS_GATEWAY_URL", "ftp://gateway"),
        ("CNVISA_SMTP_PORT", "0"),
    ):
        with monkeypatch.context() as m:
            m.setenv("CNVISA_SMTP_HOST", "127.0.0.1")
            m.setenv(name, value)
            with pytest.raises(ValueError, match=name):
                Settings()
    with monkeypatch.context() as m:
        m.setenv("CNVISA_SMTP_HOST", "mail.example.cn")
        m.setenv("CNVISA_SMS_GATEWAY_URL", "https://sms.example.cn/v1/messages")
        s = Settings()
    assert s.notify_channels.offered == (INBOX, EMAIL, SMS) and s.reminder_steps_days == DEFAULT_STEPS
    assert Settings().notify_channels.offered == (INBOX,)


async def test_a_message_without_its_text_fails_recorded_and_blocks_nothing(world: World) -> None:
    """A row whose text cannot be made (its subject gone) fails with the reason; the rest of the pass is sent."""
    async with world.sessions() as s, s.begin():
        for subject_id, template in ((999_999, "reminder"), (1, "approved")):
            s.add(
                Notification(
                    subject_kind="obligation" if template == "reminder" else "case",
                    subject_id=subject_id,
                    stage="T-7" if template == "reminder" else "approved",
                    channel=INBOX,
                    recipient_account_id=world.applicant.account_id,
                    language="en",
                    template=template,
                    params={"case": "X1", "matter": "visa"} if template == "approved" else {},
                    state="pending",
                    attempts=0,
                    next_attempt_at=world.clock.now(),
                    created_at=world.clock.now(),
                )
            )
    done = await outbox(world.sessions, world.clock).deliver_due()
    gone, ok = await rows(world)
    assert done == {"sent": [ok.id], "retry": [], "failed": [gone.id]} and ok.state == "sent"
    assert gone.state == "failed" and "no text" in (gone.last_error or "")
    assert [a.outcome for a in await attempts(world, gone.id)] == ["failed"]
    assert touched(await outbox(world.sessions, world.clock).deliver_due()) == set()


async def test_the_delivery_job_runs_two_loops_of_passes_and_sends_each_row_once(world: World) -> None:
    """The queue's ``deliver_outbox`` job: ``at_once`` loops of passes side by side (PostgreSQL; one on SQLite),
    every row due delivered once, the totals summed."""
    from cnvisa.worker.jobs import deliver_outbox
    from cnvisa.worker.registry import JobContext

    assert RP.existing is not None
    await world.add_existing(RP.existing)
    async with world.sessions() as s, s.begin():
        dialect = s.get_bind().dialect.name
        for n in range(23):
            s.add(
                Notification(
                    subject_kind="case",
                    subject_id=2000 + n,
                    stage="approved",
                    channel=INBOX,
                    recipient_account_id=world.applicant.account_id,
                    language="en",
                    template="approved",
                    params={"case": f"Y{n}", "matter": "visa"},
                    state="pending",
                    attempts=0,
                    next_attempt_at=world.clock.now(),
                    created_at=world.clock.now(),
                )
            )
    ctx = JobContext(world.sessions, world.clock, dialect)
    done = await deliver_outbox(ctx, {"limit": 5, "seconds": 8, "at_once": 2})
    assert done == {"sent": 23, "retry": 0, "failed": 0, "more": False}
    async with world.sessions() as s:
        counted = (await s.execute(select(NotificationAttempt.notification_id))).scalars().all()
    assert len(counted) == len(set(counted)) == 23 and {n.state for n in await rows(world)} == {"sent"}
