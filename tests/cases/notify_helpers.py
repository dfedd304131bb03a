"""Real servers the notification tests deliver to: an SMTP server (aiosmtpd) that can answer 451 or 554 to the
first messages, and an SMS gateway (Starlette under uvicorn on a real socket) that can answer 503 first; both
record what they accepted."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cnvisa.cases.channels import ChannelConfig, SmsConfig, SmtpConfig, channels
from cnvisa.cases.clock import ManualClock
from cnvisa.cases.delivery import OutboxService, RetryRules
from cnvisa.web.notify_texts import NotificationTexts


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpHandler:
    """Answers the first ``fail`` messages with ``reply`` (e.g. "451 4.3.0 try later"), then accepts."""

    fail: int = 0
    reply: str = "451 4.3.0 Try again later"
    received: list[Message] = field(default_factory=list)
    rcpt: list[list[str]] = field(default_factory=list)
    tries: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.tries += 1
        if self.tries <= self.fail:
            return self.reply
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        self.rcpt.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


@contextlib.contextmanager
def smtp_server(handler: SmtpHandler, port: int | None = None) -> Iterator[int]:
    """aiosmtpd's controller (its own thread and loop) on 127.0.0.1."""
    port = port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@dataclass
class SmsGateway:
    """The SMS gateway's stand-in: answers the first ``fail`` requests 503, then 202; one text per
    Idempotency-Key (a repeated key is answered 200 and not sent again)."""

    fail: int = 0
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: int = 0
    auth: list[str | None] = field(default_factory=list)

    async def endpoint(self, request: Request) -> JSONResponse:
        self.requests += 1
        self.auth.append(request.headers.get("authorization"))
        if self.requests <= self.fail:
            return JSONResponse({"error": "busy"}, status_code=503)
        body = await request.json()
        if not str(body.get("to", "")).startswith("+"):
            return JSONResponse({"error": "bad number"}, status_code=400)
        k = request.headers["idempotency-key"]
        if k in self.sent:
            return JSONResponse({"id": k, "duplicate": True}, status_code=200)
        self.sent[k] = body
        return JSONResponse({"id": k}, status_code=202)

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/messages", self.endpoint, methods=["POST"])])


@contextlib.asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}/v1/messages"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        sock.close()


def outbox(
    sessions: Any,
    clock: ManualClock,
    *,
    smtp_port: int | None = None,
    sms_url: str | None = None,
    rules: RetryRules | None = None,
) -> OutboxService:
    config = ChannelConfig(
        SmtpConfig("127.0.0.1", smtp_port, sender="noreply@cnvisa.test", timeout=5) if smtp_port else None,
        SmsConfig(sms_url, token="t0ken", timeout=5) if sms_url else None,
    )
    return OutboxService(
        sessions,
        clock,
        channels=channels(config),
        texts=NotificationTexts(),
        rules=rules or RetryRules(max_attempts=4, backoff_seconds=60, lease_seconds=300),
        domain="cnvisa.test",
    )
