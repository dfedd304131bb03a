"""The in-platform inbox: delivering is the row becoming visible in its account's inbox (its state sent, set by
``cnvisa.cases.delivery`` in the same transaction as the attempt's outcome). Nothing leaves the platform."""

from __future__ import annotations

from cnvisa.cases.channels import INBOX, Message


class InboxChannel:
    name = INBOX

    async def send(self, message: Message) -> None:
        return None

    async def close(self) -> None:
        return None
