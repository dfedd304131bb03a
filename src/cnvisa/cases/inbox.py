"""Every signed-in account's inbox and notification preferences (issue 12).

The inbox holds the account's ``inbox`` rows of the outbox once delivered (state sent), newest first, with read
and unread; only the account itself reads or marks them. Preferences: the language of the texts (zh_CN or en)
and the channels beside the inbox, which is always on — e-mail and SMS only where the platform offers them
(configured: ``cnvisa.cases.channels.ChannelConfig.offered``); choosing one that is not offered is refused,
naming the field. Every change is audited.
"""

from __future__ import annotations

import re
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases import audit
from cnvisa.cases.actor import Actor, caseless_event
from cnvisa.cases.channels import EMAIL, INBOX, SMS
from cnvisa.cases.clock import Clock, Clocked
from cnvisa.cases.errors import BadInput, NotFound
from cnvisa.cases.outbox import DEFAULT_LANGUAGE, LANGUAGES
from cnvisa.store.outbox_tables import Notification, NotificationPreference

EMAIL_RE: Final = re.compile(
    r"^[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
PHONE_RE: Final = re.compile(r"^\+[1-9][0-9]{6,14}$")
"""E.164: a plus sign, the country code and the number, 7 to 15 digits."""


class InboxService(Clocked):
    """``InboxService(sessions, clock=None, offered=("inbox",))``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock | None = None,
        offered: tuple[str, ...] = (INBOX,),
    ) -> None:
        super().__init__(sessions, clock)
        self.offered = offered

    # ------------------------------------------------------------------------------------------- the inbox
    async def inbox(self, actor: Actor, limit: int = 50, unread_only: bool = False) -> dict[str, Any]:
        """The account's delivered inbox messages, newest first, and how many are unread."""
        mine = (
            Notification.recipient_account_id == actor.account_id,
            Notification.channel == INBOX,
            Notification.state == "sent",
        )
        async with self.sessions() as s:
            unread = (
                await s.execute(select(func.count()).where(*mine, Notification.read_at.is_(None)))
            ).scalar_one()
            q = select(Notification).where(*mine)
            if unread_only:
                q = q.where(Notification.read_at.is_(None))
            rows = (
                await s.execute(q.order_by(Notification.sent_at.desc(), Notification.id.desc()).limit(limit))
            ).scalars()
            items = [_out(n) for n in rows]
        return {"unread": unread, "items": items}

    async def mark_read(self, actor: Actor, notification_id: int, read: bool = True) -> dict[str, Any]:
        """Mark one of the account's messages read (or unread again). Another account's message is not found
        (its existence is not told). Marked as it already is: nothing changes."""
        now = self.now()
        async with self.sessions() as s, s.begin():
            n = await s.get(Notification, notification_id)
            if (
                n is None
                or n.recipient_account_id != actor.account_id
                or n.channel != INBOX
                or n.state != "sent"
            ):
                raise NotFound(f"message {notification_id}")
            if (n.read_at is not None) != read:
                n.read_at = now if read else None
            return _out(n)

    # ------------------------------------------------------------------------------------------- preferences
    async def preferences(self, actor: Actor) -> dict[str, Any]:
        async with self.sessions() as s:
            p = await s.get(NotificationPreference, actor.account_id)
        return self._prefs_out(p)

    def _prefs_out(self, p: NotificationPreference | None) -> dict[str, Any]:
        return {
            "language": p.language if p else DEFAULT_LANGUAGE,
            "channels": [INBOX] + ([EMAIL] if p and p.email_on else []) + ([SMS] if p and p.sms_on else []),
            "email": p.email if p else None,
            "phone": p.phone if p else None,
            "offered": list(self.offered),
            "languages": list(LANGUAGES),
        }

    async def set_preferences(
        self,
        actor: Actor,
        *,
        language: str,
        channels: list[str],
        email: str | None = None,
        phone: str | None = None,
    ) -> dict[str, Any]:
        """Set the account's language and channels; checked field by field, nothing written when any is wrong.
        Sent again unchanged: nothing changes (no audit event)."""
        if language not in LANGUAGES:
            raise BadInput("language", "zh_CN or en")
        unknown = [c for c in channels if c not in (INBOX, EMAIL, SMS)]
        if unknown:
            raise BadInput("channels", f"inbox, email or sms; not {', '.join(unknown)}")
        for c in (EMAIL, SMS):
            if c in channels and c not in self.offered:
                raise BadInput(
                    "channels",
                    f"{c} is not offered on this platform ({'no SMTP server' if c == EMAIL else 'no SMS gateway'}"
                    " is configured): the inbox receives every message",
                )
        email = (email or "").strip() or None
        phone = (phone or "").replace(" ", "").strip() or None
        if email is not None and (len(email) > 254 or not EMAIL_RE.match(email)):
            raise BadInput("email", "an e-mail address, such as name@example.com")
        if phone is not None and not PHONE_RE.match(phone):
            raise BadInput("phone", "a mobile number with its country code, such as +8613800138000 (E.164)")
        if EMAIL in channels and email is None:
            raise BadInput("email", "required to receive e-mail")
        if SMS in channels and phone is None:
            raise BadInput("phone", "required to receive text messages")
        now = self.now()
        values = {
            "language": language,
            "email": email,
            "email_on": EMAIL in channels,
            "phone": phone,
            "sms_on": SMS in channels,
        }
        async with self.sessions() as s, s.begin():
            p = await s.get(NotificationPreference, actor.account_id)
            if p is not None and all(getattr(p, k) == v for k, v in values.items()):
                return self._prefs_out(p)
            if p is None:
                p = NotificationPreference(account_id=actor.account_id, changed_at=now, **values)
                s.add(p)
            else:
                for k, v in values.items():
                    setattr(p, k, v)
                p.changed_at = now
            detail = {"language": language, "channels": sorted({INBOX, *channels})}  # not the addresses
            await audit.append(
                s, **caseless_event(actor, now, "notification_preferences_set", detail, actor.office_id)
            )
            return self._prefs_out(p)


def _out(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "subject": n.subject or "",
        "body": n.body or "",
        "language": n.language,
        "stage": n.stage,
        "about": {"kind": n.subject_kind, "id": n.subject_id},
        "sent_at": n.sent_at.isoformat() if n.sent_at else None,
        "read": n.read_at is not None,
    }
