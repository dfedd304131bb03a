"""Result types shared by the document checks: one check character, an MRZ reading, a number check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from cnvisa.law.citations import Citation

__all__ = ["Check", "FieldValue", "IdCheck", "MrzFormat", "MrzResult"]

FieldValue = str | bool | None
MrzFormat = Literal["TD3", "MRV-A", "MRV-B"]


@dataclass(frozen=True, slots=True)
class Check:
    """One check character: what the algorithm gives and what the document carries."""

    field: str
    expected: str
    found: str
    ok: bool

    def as_dict(self) -> dict[str, object]:
        return {"field": self.field, "expected": self.expected, "found": self.found, "ok": self.ok}


@dataclass(frozen=True, slots=True)
class MrzResult:
    """The outcome of reading a two-line MRZ. ``valid`` is true only when there is no error."""

    valid: bool
    format: MrzFormat | None
    fields: dict[str, FieldValue] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    citations: tuple[Citation, ...] = ()

    def unlisted_codes(self) -> dict[str, str]:
        """The code fields (issuing State, nationality) whose code is in neither ISO 3166-1 alpha-3 nor ICAO Doc
        9303 Part 3 §5's list, with their code. Reading flags them only (the list changes, and no check digit
        covers them); a register records none of them (issue 13 §13: every code checked against its table)."""
        return {
            name: str(self.fields.get(name))
            for name in ("issuing_state", "nationality")
            if self.fields.get(f"{name}_known") is False
        }

    def as_dict(self) -> dict[str, object]:
        return {
            "valid": self.valid,
            "format": self.format,
            "fields": dict(self.fields),
            "checks": [c.as_dict() for c in self.checks],
            "errors": list(self.errors),
            "notes": list(self.notes),
            "citations": [c.as_dict() for c in self.citations],
        }


@dataclass(frozen=True, slots=True)
class IdCheck:
    """The outcome of checking an identity or registration number."""

    valid: bool
    kind: Literal["permanent_resident_id", "social_credit_code"]
    format: str | None
    number: str
    has_check_character: bool
    fields: dict[str, FieldValue] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    citations: tuple[Citation, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "valid": self.valid,
            "kind": self.kind,
            "format": self.format,
            "number": self.number,
            "has_check_character": self.has_check_character,
            "fields": dict(self.fields),
            "checks": [c.as_dict() for c in self.checks],
            "errors": list(self.errors),
            "notes": list(self.notes),
            "citations": [c.as_dict() for c in self.citations],
        }
