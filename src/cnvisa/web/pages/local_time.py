"""The forms' date-and-time fields (``datetime-local``): read and filled in Beijing time (the platform's zone,
``cnvisa.cases.clock.SHANGHAI``), whatever the server's."""

from __future__ import annotations

import datetime as dt

from cnvisa.cases.clock import SHANGHAI
from cnvisa.http.deps import Platform


def beijing_local(raw: str) -> dt.datetime | None:
    """A ``datetime-local`` value (``2025-11-20T08:30``) read as Beijing time; one with an offset as it says;
    None when it is not a date and time."""
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        return None
    return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value


def local_now(p: Platform) -> str:
    """Now, as a ``datetime-local`` field shows it in Beijing."""
    return p.now().astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
