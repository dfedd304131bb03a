"""Notifications (issue 12): every signed-in account's inbox (messages the outbox delivered to it, read and
unread) and its notification settings — the language of the texts and the channels beside the inbox, which is
always on (e-mail and SMS only where the platform has them configured). cnvisa.cases.inbox."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from cnvisa.http.deps import PlatformDep, PrincipalDep, check_csrf
from cnvisa.http.office import RowId

router = APIRouter(tags=["notifications"])


@router.get("/me/inbox", summary="My inbox: the platform's messages to me, newest first")
async def inbox(
    p: PlatformDep,
    who: PrincipalDep,
    unread: bool = Query(False, description="Only the unread messages"),
    limit: int = Query(50, ge=1, le=200),
) -> dict[str, Any]:
    """Notices, decisions, reminders of deadlines and escalations delivered to the signed-in account, each in the
    language it was sent in, with ``read``; ``unread`` counts all unread messages."""
    return await p.inbox.inbox(who.actor, limit=limit, unread_only=unread)


class ReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    read: bool = Field(True, description="true: mark read; false: mark unread again")


@router.post("/me/inbox/{message_id}/read", summary="Mark one of my messages read (or unread)")
async def mark_read(
    message_id: RowId, body: ReadIn, request: Request, who: PrincipalDep, p: PlatformDep
) -> dict[str, Any]:
    """Only the account's own messages; another's is not found. Marked as it already is: nothing changes."""
    await check_csrf(request, who)
    return await p.inbox.mark_read(who.actor, message_id, body.read)


@router.get("/me/notifications", summary="My notification settings")
async def preferences(p: PlatformDep, who: PrincipalDep) -> dict[str, Any]:
    """The language of messages, the channels chosen (the inbox always), the addresses, and the channels this
    platform offers."""
    return await p.inbox.preferences(who.actor)


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: Literal["zh_CN", "en"]
    channels: list[Literal["inbox", "email", "sms"]] = Field(
        default_factory=list, max_length=3, description="Beside the inbox, which is always on"
    )
    email: str | None = Field(None, max_length=254, pattern=r"^[^\x00-\x1f\x7f]*$")
    phone: str | None = Field(None, max_length=20, pattern=r"^[^\x00-\x1f\x7f]*$", description="E.164")


@router.put("/me/notifications", summary="Set my notification settings")
async def set_preferences(
    body: PreferencesIn, request: Request, who: PrincipalDep, p: PlatformDep
) -> dict[str, Any]:
    """A channel this platform does not offer, an address missing for a channel chosen or malformed: 422 naming
    the field; nothing is changed. Audited (the addresses are not written to the audit log)."""
    await check_csrf(request, who)
    return await p.inbox.set_preferences(
        who.actor, language=body.language, channels=list(body.channels), email=body.email, phone=body.phone
    )
