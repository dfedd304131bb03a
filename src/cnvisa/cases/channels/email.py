"""E-mail over SMTP (aiosmtplib). Each message carries the row's stable ``Message-ID``, so a message sent again
after a crash between sending and recording is recognisable as the same message by the receiving system.

SMTP replies (RFC 5321 §4.2.1): 4yz is transient — retried with backoff; 5yz is permanent — the row fails at
once (a mailbox that does not exist stays so). A refused or broken connection, or a timeout, is transient."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from cnvisa.cases.channels import EMAIL, Message, PermanentFailure, SmtpConfig, TemporaryFailure


class SmtpChannel:
    name = EMAIL

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def compose(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.config.sender
        mail["To"] = message.to or ""
        mail["Subject"] = message.subject
        mail["Message-ID"] = message.message_id
        mail["Date"] = formatdate(usegmt=True)
        mail["Content-Language"] = "zh-CN" if message.language == "zh_CN" else "en"
        mail.set_content(message.body)
        return mail

    async def send(self, message: Message) -> None:
        if not message.to:
            raise PermanentFailure("no e-mail address")
        c = self.config
        try:
            await aiosmtplib.send(
                self.compose(message),
                hostname=c.host,
                port=c.port,
                start_tls=c.starttls,
                use_tls=False,
                username=c.username,
                password=c.password,
                timeout=c.timeout,
            )
        except aiosmtplib.SMTPResponseException as exc:  # a reply: 4yz transient, 5yz permanent
            text = f"SMTP {exc.code} {exc.message}"
            if 400 <= exc.code < 500:
                raise TemporaryFailure(text) from None
            raise PermanentFailure(text) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from None
