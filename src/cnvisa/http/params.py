"""Request parameters both sides share.

``Instant`` and ``AwareInstant``: a date and time in ISO 8601, never a number — pydantic alone reads 1763600000 as a
Unix time (2025-11-20T00:53Z), as it read a bare number as a date (``IsoDate``); otherwise as lax as its ISO 8601
reading (``T`` or a space, seconds optional)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER = re.compile(r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*")


def _date_text_only(value: object) -> object:
    """A date as the text YYYY-MM-DD only: Pydantic alone reads a bare number as a Unix time (``day=0`` would be
    1 January 1970) — found by schemathesis' negative checks."""
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("a date in the form YYYY-MM-DD")


IsoDate = Annotated[dt.date, BeforeValidator(_date_text_only)]
"""A calendar date given as YYYY-MM-DD (then checked as a date: 2025-02-30 is refused)."""


def _not_a_number(value: object) -> object:
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("a date and time (ISO 8601, e.g. 2025-11-20T09:30:00+08:00), not a number")
    return value


Instant = Annotated[dt.datetime, BeforeValidator(_not_a_number)]
"""A date and time in ISO 8601, never a number of seconds."""
AwareInstant = Annotated[AwareDatetime, BeforeValidator(_not_a_number)]
"""A date and time in ISO 8601 with its offset, never a number of seconds."""
