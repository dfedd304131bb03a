"""Errors of the case core. Each names what failed and, for guards, the article behind it."""

from __future__ import annotations


class CaseError(Exception):
    code = "case_error"


class NotFound(CaseError):
    code = "not_found"


class Forbidden(CaseError):
    code = "forbidden"


class Conflict(CaseError):
    """The command named a stale case version: nothing was written."""

    code = "conflict"


class InvalidCommand(CaseError):
    """No transition for this command in this state."""

    code = "invalid_command"


class GuardFailed(CaseError):
    code = "guard_failed"

    def __init__(self, guard: str, article: str, detail: str) -> None:
        self.guard = guard
        self.article = article
        self.detail = detail
        super().__init__(f"{guard}: {detail} ({article})")


class BadInput(CaseError):
    code = "bad_input"

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")
