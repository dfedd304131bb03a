"""The e-mail channel keeps its SMTP connections for a delivery pass (issue 12: delivered ≥ 1,000/s): the
messages of a pass go over the connections it opened, not one connection each; a 451 or 554 reply leaves the
connection usable; a connection the server closed is not reused; ``close`` (the end of a pass) says QUIT."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from notify_helpers import SmtpHandler, free_port, smtp_server

from cnvisa.cases.channels import Message, PermanentFailure, SmtpConfig, TemporaryFailure
from cnvisa.cases.channels.email import SmtpChannel

pytestmark = pytest.mark.timeout(60)


def mail(n: int) -> Message:
    return Message(f"<m{n}@cnvisa.test>", f"p{n}@example.com", f"Subject {n}", f"第{n}条 body", "zh_CN")


def channel(port: int, connections: int = 1) -> SmtpChannel:
    return SmtpChannel(
        SmtpConfig("127.0.0.1", port, sender="noreply@cnvisa.test", timeout=5, connections=connections)
    )


async def test_one_connection_carries_every_message_of_a_pass() -> None:
    handler = SmtpHandler()
    with smtp_server(handler) as port:
        ch = channel(port)
        await asyncio.gather(*(ch.send(mail(n)) for n in range(10)))
        assert ch.opened == 1
        await ch.close()
        await ch.send(mail(10))  # the next pass opens its own
        await ch.close()
    assert ch.opened == 2
    assert sorted(m["Message-ID"] for m in handler.received) == sorted(
        f"<m{n}@cnvisa.test>" for n in range(11)
    )
    assert sorted(r[0] for r in handler.rcpt) == sorted(f"p{n}@example.com" for n in range(11))


async def test_at_most_the_configured_connections() -> None:
    handler = SmtpHandler()
    with smtp_server(handler) as port:
        ch = channel(port, connections=3)
        await asyncio.gather(*(ch.send(mail(n)) for n in range(30)))
        await ch.close()
    assert 1 <= ch.opened <= 3 and len(handler.received) == 30


async def test_a_reply_leaves_the_connection_usable() -> None:
    handler = SmtpHandler(fail=1, reply="451 4.3.0 Mailbox busy")
    with smtp_server(handler) as port:
        ch = channel(port)
        with pytest.raises(TemporaryFailure, match="451"):
            await ch.send(mail(1))
        await ch.send(mail(2))
        handler.fail, handler.reply = 3, "554 5.7.1 Rejected"
        with pytest.raises(PermanentFailure, match="554"):
            await ch.send(mail(3))
        await ch.send(mail(4))
        await ch.close()
    assert ch.opened == 1 and [m["Message-ID"] for m in handler.received] == [
        "<m2@cnvisa.test>",
        "<m4@cnvisa.test>",
    ]


async def test_a_connection_the_server_closed_is_not_reused() -> None:
    port = free_port()
    first, second = SmtpHandler(), SmtpHandler()
    ch = channel(port)
    with smtp_server(first, port):
        await ch.send(mail(1))
    await asyncio.sleep(0.2)  # the server went away (restarted): its end of the connection closed
    with smtp_server(second, port):
        await ch.send(mail(2))
        await ch.close()
    assert ch.opened == 2 and len(first.received) == 1 and len(second.received) == 1


async def test_no_server_is_a_transient_failure_and_a_later_pass_succeeds() -> None:
    port = free_port()
    ch = channel(port)
    with pytest.raises(TemporaryFailure):
        await ch.send(mail(1))
    await ch.close()
    handler = SmtpHandler()
    with smtp_server(handler, port):
        await ch.send(mail(1))
        await ch.close()
    assert len(handler.received) == 1


async def test_the_message_reads_back_as_written() -> None:
    """Headers and body as a mail client reads them: a long Chinese subject (RFC 2047, folded), a Chinese body
    (base64), an English one (as is), the Message-ID and language; a line break in an address is refused."""
    handler = SmtpHandler()
    zh_subject = "提醒：请在2026年5月31日前申请延期居留许可（《出境入境管理法》第32条第1款）" * 2
    zh_body = "您的居留许可将于2026年6月30日到期。\n请在2026年5月31日前申请延期。\n\n此提醒时间为办公规则。"
    en_body = "Reminder: apply to extend the residence permit by May 31, 2026.\r\nOffice rule.\n" + "x" * 900
    with smtp_server(handler) as port:
        ch = channel(port)
        await ch.send(Message("<zh@cnvisa.test>", "a@example.com", zh_subject, zh_body, "zh_CN"))
        await ch.send(Message("<en@cnvisa.test>", "b@example.com", "Reminder: apply", en_body, "en"))
        with pytest.raises(PermanentFailure, match="line break"):
            await ch.send(Message("<x@cnvisa.test>", "c@example.com\r\nBcc: d@example.com", "s", "b", "en"))
        await ch.close()
    zh, en = handler.received
    assert zh["Subject"] == zh_subject and zh["Message-ID"] == "<zh@cnvisa.test>"
    assert (
        zh["Content-Language"] == "zh-CN"
        and zh["From"] == "noreply@cnvisa.test"
        and zh["To"] == "a@example.com"
    )
    assert zh.get_content() == zh_body + "\n"
    assert en["Subject"] == "Reminder: apply" and en["Content-Language"] == "en"
    assert en.get_content().replace("\r\n", "\n") == en_body.replace("\r\n", "\n") + "\n"  # CRLF on the wire
    assert handler.rcpt == [["a@example.com"], ["b@example.com"]]


class NoSuchUser(SmtpHandler):
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("gone"):
            return "550 5.1.1 No such user"
        if address.startswith("full"):
            return "452 4.2.2 Mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 OK"


async def test_a_refused_recipient_fails_by_its_reply_and_the_connection_goes_on() -> None:
    handler = NoSuchUser()
    with smtp_server(handler) as port:
        ch = channel(port)
        with pytest.raises(PermanentFailure, match="550"):
            await ch.send(Message("<g@cnvisa.test>", "gone@example.com", "s", "b", "en"))
        with pytest.raises(TemporaryFailure, match="452"):
            await ch.send(Message("<f@cnvisa.test>", "full@example.com", "s", "b", "en"))
        await ch.send(mail(1))
        await ch.close()
    assert ch.opened == 1 and handler.rcpt == [["p1@example.com"]]
