"""Delivery channels of the notifications outbox (issue 12), each behind an adapter with a real client:

- ``inbox``: the in-platform inbox of every role — delivering is the row becoming visible in the account's inbox;
- ``email``: e-mail over SMTP (aiosmtplib), offered only when ``CNVISA_SMTP_HOST`` is set;
- ``sms``: an SMS gateway over HTTP (httpx), offered only when ``CNVISA_SMS_GATEWAY_URL`` is set.

A channel raises ``TemporaryFailure`` (retried with backoff) or ``PermanentFailure`` (the row fails at once);
anything else it raises counts as temporary. Configuration is read from the environment here (as
``cnvisa.cases.agencies.work_permit_client`` does), so the case core does not depend on the web layer's settings;
``cnvisa.http.settings.Settings`` reads it at start-up, so a bad value stops the start, naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

INBOX = "inbox"
EMAIL = "email"
SMS = "sms"
CHANNELS = (INBOX, EMAIL, SMS)


@dataclass(frozen=True, slots=True)
class Message:
    """What a channel sends: one rendered text to one address, with its stable Message-ID."""

    message_id: str
    to: str | None
    subject: str
    body: str
    language: str


class DeliveryError(Exception):
    """A channel could not deliver."""


class TemporaryFailure(DeliveryError):
    """Try again later (a 4xx SMTP reply, a refused connection, a 5xx or 429 from the gateway, a timeout)."""


class PermanentFailure(DeliveryError):
    """Retrying will not help (a 5xx SMTP reply, a 4xx from the gateway other than 408/429)."""


class Channel(Protocol):
    name: str

    async def send(self, message: Message) -> None: ...

    async def close(self) -> None:
        """The end of a delivery pass: release what the pass kept open (the SMTP connections)."""


def _positive(env: Mapping[str, str], name: str, default: str, cast: type[int] | type[float] = int) -> float:
    raw = env.get(name, default)
    try:
        value = cast(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be more than 0, got {raw!r}")
    return value


@dataclass(frozen=True)
class SmtpConfig:
    """``CNVISA_SMTP_HOST`` (unset: no e-mail channel), ``_PORT`` (25), ``_FROM``, ``_STARTTLS`` (1 to upgrade),
    ``_USERNAME`` / ``_PASSWORD`` (both or neither), ``_TIMEOUT`` (seconds), ``_CONNECTIONS`` (connections a
    delivery pass keeps open and reuses, message after message; default 2)."""

    host: str
    port: int = 25
    sender: str = "cnvisa@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0
    connections: int = 2

    @property
    def domain(self) -> str:
        return self.sender.rpartition("@")[2] or "localhost"


@dataclass(frozen=True)
class SmsConfig:
    """``CNVISA_SMS_GATEWAY_URL`` (unset: no SMS channel), ``_TOKEN`` (bearer), ``_TIMEOUT`` (seconds)."""

    url: str
    token: str | None = None
    timeout: float = 10.0


@dataclass(frozen=True)
class ChannelConfig:
    smtp: SmtpConfig | None = None
    sms: SmsConfig | None = None

    @property
    def offered(self) -> tuple[str, ...]:
        """The channels a person may choose: the inbox always; e-mail and SMS only when configured."""
        return (INBOX,) + ((EMAIL,) if self.smtp else ()) + ((SMS,) if self.sms else ())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ChannelConfig:
        e = os.environ if env is None else env
        smtp = None
        if host := e.get("CNVISA_SMTP_HOST", "").strip():
            user, password = e.get("CNVISA_SMTP_USERNAME") or None, e.get("CNVISA_SMTP_PASSWORD") or None
            if (user is None) != (password is None):
                raise ValueError("CNVISA_SMTP_USERNAME and CNVISA_SMTP_PASSWORD: set both or neither")
            sender = e.get("CNVISA_SMTP_FROM", "cnvisa@localhost")
            if "@" not in sender:
                raise ValueError(f"CNVISA_SMTP_FROM must be an e-mail address, got {sender!r}")
            smtp = SmtpConfig(
                host=host,
                port=int(_positive(e, "CNVISA_SMTP_PORT", "25")),
                sender=sender,
                starttls=e.get("CNVISA_SMTP_STARTTLS", "0") == "1",
                username=user,
                password=password,
                timeout=_positive(e, "CNVISA_SMTP_TIMEOUT", "10", float),
                connections=int(_positive(e, "CNVISA_SMTP_CONNECTIONS", "2")),
            )
        sms = None
        if url := e.get("CNVISA_SMS_GATEWAY_URL", "").strip():
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"CNVISA_SMS_GATEWAY_URL must be an http(s) URL, got {url!r}")
            sms = SmsConfig(
                url=url,
                token=e.get("CNVISA_SMS_GATEWAY_TOKEN") or None,
                timeout=_positive(e, "CNVISA_SMS_TIMEOUT", "10", float),
            )
        return cls(smtp, sms)


def channels(config: ChannelConfig) -> dict[str, Channel]:
    """The adapters of the configured channels, by name."""
    from cnvisa.cases.channels.email import SmtpChannel
    from cnvisa.cases.channels.inbox import InboxChannel
    from cnvisa.cases.channels.sms import SmsChannel

    out: dict[str, Channel] = {INBOX: InboxChannel()}
    if config.smtp:
        out[EMAIL] = SmtpChannel(config.smtp)
    if config.sms:
        out[SMS] = SmsChannel(config.sms)
    return out
