"""The message another agency's system sends cnvisa (and cnvisa sends it): cnvisa's proposed wire contract,
docs/agencies.md. The real interface of the national work-permit system is not known (brief
research/reforms.md §11 q.11): this is what cnvisa offers until it is."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from cnvisa.cases.errors import BadInput

WORK_PERMIT_AGENCY = "WP"
"""The code of the work-permit authority (外国人来华工作管理服务系统) in cnvisa's records."""
WORK_PERMIT_KINDS = frozenset({"under_review", "extended", "granted", "refused"})
"""The decisions the work-permit authority sends on a branch (the joint application's work-permit branch)."""

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$"
"""Message ids, correlation ids and idempotency keys: letters, digits and ``. _ : -`` (no ``/``: a correlation id
is a path segment of the contract), at most 80."""


class AgencyMessage(BaseModel):
    """One message of an agency about one correlated exchange.

    ``message_id``: the sender's unique id of this message (a resend carries the same id and payload);
    ``correlation_id``: cnvisa's reference the message is about (the branch cnvisa submitted); ``sequence``: 1, 2,
    3 … per correlation, numbered by the sender, applied in that order without gaps; ``sent_at``: an instant with
    its offset (stored as UTC)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str = Field(pattern=ID_PATTERN)
    correlation_id: str = Field(pattern=ID_PATTERN)
    sequence: int = Field(ge=1, le=1_000_000)
    kind: str = Field(pattern=r"^[a-z_]{1,40}$")
    payload: dict[str, Any]
    sent_at: AwareDatetime
    sender: str = Field(pattern=r"^[A-Z0-9_]{1,16}$")

    @property
    def payload_hash(self) -> str:
        return payload_hash(self.payload)

    def wire(self) -> dict[str, Any]:
        """The message as JSON (``sent_at`` in ISO 8601 with its offset)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_wire(cls, data: Any) -> AgencyMessage:
        """Parse a message from JSON; a malformed one is BadInput naming the first bad field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "message"
            raise BadInput(f"message.{field}", err["msg"]) from None


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8 unescaped: the form a payload is hashed in (both sides compute it alike)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def payload_hash(payload: Any) -> str:
    """SHA-256 (hex) of the payload's canonical JSON."""
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def utc(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(dt.UTC)
