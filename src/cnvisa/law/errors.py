"""Errors the law engine raises. Each names the field and the rule, so a caller can show one clear line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any


class LawError(Exception):
    """Base class: a question the law engine cannot answer as asked."""


class InvalidInput(LawError, ValueError):
    """An input field is missing or wrong. ``field`` is a dotted path such as ``visa.stay_days``.

    ``kind`` names the rule broken (pydantic's error type, e.g. ``less_than_equal``, or the form's: ``int``,
    ``date``, ``choice``…) and ``params`` its limits, so that a page can say it in the reader's language;
    ``also`` holds the other fields found wrong in the same pass (all errors at once, WCAG 3.3.1)."""

    def __init__(
        self,
        field: str,
        message: str,
        *,
        kind: str = "",
        params: Mapping[str, Any] | None = None,
        also: Sequence[InvalidInput] = (),
    ) -> None:
        self.field = field
        self.message = message
        self.kind = kind
        self.params: dict[str, Any] = dict(params or {})
        self.also: tuple[InvalidInput, ...] = tuple(also)
        super().__init__(f"{field}: {message}")

    @property
    def every(self) -> tuple[InvalidInput, ...]:
        """This error and the others found with it."""
        return (self, *self.also)


class NotInForce(LawError):
    """The rule asked about was not in force on the date asked."""

    def __init__(self, rule: str, asked: dt.date, in_force_from: dt.date, cite: str) -> None:
        self.rule = rule
        self.asked = asked
        self.in_force_from = in_force_from
        self.cite = cite
        super().__init__(
            f"{rule} is not in force on {asked.isoformat()}: it applies from "
            f"{in_force_from.isoformat()} ({cite})"
        )


class CalendarYearNotLoaded(LawError, LookupError):
    """No State Council holiday notice is loaded for a year: working days cannot be counted."""

    def __init__(self, year: int, loaded: tuple[int, int] | None = None) -> None:
        self.year = year
        span = f" (loaded: {loaded[0]}-{loaded[1]})" if loaded else ""
        super().__init__(
            f"no State Council holiday notice is loaded for {year}{span}; working days in {year} "
            f"cannot be counted. Add src/cnvisa/law/data/calendar/{year}.toml from the notice "
            f"国务院办公厅关于{year}年部分节假日安排的通知 (see docs in that folder's README)."
        )
