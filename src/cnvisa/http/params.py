"""Request parameters both sides share."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BeforeValidator

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date_text_only(value: object) -> object:
    """A date as the text YYYY-MM-DD only: Pydantic alone reads a bare number as a Unix time (``day=0`` would be
    1 January 1970) — found by schemathesis' negative checks."""
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("a date in the form YYYY-MM-DD")


IsoDate = Annotated[dt.date, BeforeValidator(_date_text_only)]
"""A calendar date given as YYYY-MM-DD (then checked as a date: 2025-02-30 is refused)."""
