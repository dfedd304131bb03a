"""E-mail over SMTP (aiosmtplib). Each message carries the row's stable ``Message-ID``, so a message sent again
after a crash between sending and recording is recognisable as the same message by the receiving system.

Connections are kept for a delivery pass: a message goes over an open connection of the channel (at most
``CNVISA_SMTP_CONNECTIONS`` at once, opened as needed), the next message of the pass reuses it, and
``OutboxService.deliver_due`` closes them (QUIT) when the pass ends. A connection the server closed meanwhile is
not reused: the next message opens a fresh one. A connection that breaks under a message is dropped and the
message counts as a transient failure (retried with backoff, as a refused connection is): whether the server
took it is unknown, and the retry carries the same Message-ID.

SMTP replies (RFC 5321 §4.2.1): 4yz is transient — retried with backoff; 5yz is permanent — the row fails at
once (a mailbox that does not exist stays so). After a reply the connection stays usable (aiosmtplib resets the
envelope with RSET), except after 421 (the server is closing it). A refused or broken connection, or a timeout,
is transient."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from email.header import Header
from email.utils import formatdate

import aiosmtplib

from cnvisa.cases.channels import EMAIL, Message, PermanentFailure, SmtpConfig, TemporaryFailure

CRLF = "\r\n"
CLOSING = 421
"""The server's reply when it is closing the connection (RFC 5321 §3.8)."""


class SmtpChannel:
    name = EMAIL

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._idle: list[aiosmtplib.SMTP] = []
        self._gate: asyncio.Semaphore | None = None
        self.opened = 0
        """Connections opened so far (for tests and benchmarks: one per pass, not one per message)."""

    def compose(self, message: Message) -> bytes:
        """The message as sent (RFC 5322, MIME 1.0): a plain text in UTF-8 — as is when it is ASCII, else in
        base64; a non-ASCII subject as an RFC 2047 encoded word. Written directly: the standard library's
        ``EmailMessage`` parses and folds every header again and cost most of a message's time."""
        sender, to = self.config.sender, message.to or ""
        for value in (sender, to, message.message_id):
            if any(ch in value for ch in "\r\n"):
                raise PermanentFailure("a line break in an address or the Message-ID")
        subject = " ".join(message.subject.split())
        body = message.body.replace("\r\n", "\n").replace("\r", "\n").removesuffix("\n") + "\n"
        lines = body.split("\n")
        if body.isascii() and all(len(line) <= 998 for line in lines):
            encoding, payload = "7bit", "\r\n".join(lines).encode("ascii")
        else:
            encoding = "base64"
            payload = base64.encodebytes(body.encode("utf-8")).replace(b"\n", b"\r\n")
        encoded = Header(subject, "us-ascii" if subject.isascii() else "utf-8").encode(linesep=CRLF)
        head = (
            f"From: {sender}\r\n"
            f"To: {to}\r\n"
            f"Subject: {encoded}\r\n"
            f"Message-ID: {message.message_id}\r\n"
            f"Date: {formatdate(usegmt=True)}\r\n"
            f"Content-Language: {'zh-CN' if message.language == 'zh_CN' else 'en'}\r\n"
            "MIME-Version: 1.0\r\n"
            'Content-Type: text/plain; charset="utf-8"\r\n'
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
        )
        return head.encode("ascii") + payload

    async def _connect(self) -> aiosmtplib.SMTP:
        c = self.config
        smtp = aiosmtplib.SMTP(
            hostname=c.host,
            port=c.port,
            start_tls=c.starttls,
            use_tls=False,
            username=c.username,
            password=c.password,
            timeout=c.timeout,
        )
        await smtp.connect()
        self.opened += 1
        return smtp

    async def send(self, message: Message) -> None:
        if not message.to:
            raise PermanentFailure("no e-mail address")
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.config.connections)
        async with self._gate:  # at most `connections` messages in flight, each on a connection of its own
            smtp = None
            while self._idle and smtp is None:
                smtp = self._idle.pop()
                if not smtp.is_connected:  # closed by the server since the last message: not reused
                    smtp = None
            keep = False
            try:
                if smtp is None:
                    smtp = await self._connect()
                await smtp.sendmail(self.config.sender, [message.to], self.compose(message))
                keep = True
            except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused) as exc:
                # a reply (to RCPT: the one recipient's): 4yz transient, 5yz permanent
                reply = exc.recipients[0] if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) else exc
                keep = reply.code != CLOSING
                text = f"SMTP {reply.code} {reply.message}"
                if 400 <= reply.code < 500:
                    raise TemporaryFailure(text) from None
                raise PermanentFailure(text) from None
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from None
            finally:
                if smtp is not None:
                    if keep and smtp.is_connected:
                        self._idle.append(smtp)
                    else:
                        smtp.close()

    async def close(self) -> None:
        """The end of a pass: QUIT every open connection (a failure to say goodbye changes nothing)."""
        idle, self._idle, self._gate = self._idle, [], None
        for smtp in idle:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                with contextlib.suppress(Exception):
                    smtp.close()
