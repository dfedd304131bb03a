"""SMS through a gateway over HTTP (httpx). The contract is cnvisa's proposal (the gateway is the office's
choice): ``POST {CNVISA_SMS_GATEWAY_URL}`` with JSON ``{"to", "text", "message_id"}``, the header
``Idempotency-Key: <message_id>`` (a gateway sends one text per key) and ``Authorization: Bearer <token>`` when
configured. 2xx: accepted. 408, 429, 5xx, a timeout or a broken connection: transient (retried with backoff).
Any other 4xx: permanent (the number is refused)."""

from __future__ import annotations

import httpx

from cnvisa.cases.channels import SMS, Message, PermanentFailure, SmsConfig, TemporaryFailure

TRANSIENT = frozenset({408, 429})


class SmsChannel:
    name = SMS

    def __init__(self, config: SmsConfig, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.transport = transport

    async def send(self, message: Message) -> None:
        if not message.to:
            raise PermanentFailure("no phone number")
        headers = {"Idempotency-Key": message.message_id}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token}"
        text = f"{message.subject}\n{message.body}"
        try:
            async with httpx.AsyncClient(timeout=self.config.timeout, transport=self.transport) as client:
                r = await client.post(
                    self.config.url,
                    json={"to": message.to, "text": text, "message_id": message.message_id},
                    headers=headers,
                )
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from None
        if r.is_success:
            return
        detail = f"gateway {r.status_code}: {r.text[:200]}"
        if r.status_code >= 500 or r.status_code in TRANSIENT:
            raise TemporaryFailure(detail)
        raise PermanentFailure(detail)

    async def close(self) -> None:
        return None
