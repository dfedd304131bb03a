"""ICAO Doc 9303 check digits and the two-line MRZ: TD3 passports (Part 4), MRV-A and MRV-B visas (Part 7)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from itertools import cycle
from operator import mul
from typing import Final

from cnvisa.law.citations import ICAO_9303, Citation
from cnvisa.law.documents.countries import read_country
from cnvisa.law.documents.results import Check, FieldValue, MrzFormat, MrzResult
from cnvisa.law.errors import InvalidInput

__all__ = ["check_mrv", "check_mrz", "check_td3", "icao_check_digit"]

CITE_CHECK_DIGITS: Final = Citation(ICAO_9303, "Part 3 §4.9", note="check digits in the MRZ (7-3-1, mod 10)")
CITE_CODES: Final = Citation(ICAO_9303, "Part 3 §5", note="three-letter codes of States and organisations")
CITE_TD3: Final = Citation(ICAO_9303, "Part 4", note="TD3 machine readable passport, 2 x 44")
CITE_MRV: Final = Citation(ICAO_9303, "Part 7", note="machine readable visas MRV-A 2 x 44, MRV-B 2 x 36")

_COUNTRY_RE: Final = re.compile(r"[A-Z]{1,3}<*")

_MRZ_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")
_MRZ_LINE: Final = re.compile(r"[A-Z0-9<]*")
_DIGIT: Final = re.compile(r"[0-9]")
_ICAO_WEIGHTS: Final = (7, 3, 1) * 15
"""7, 3, 1 repeated over the longest field checked (the TD3 composite: 39 characters)."""


_ICAO_VALUE: Final = {
    **{chr(48 + d): d for d in range(10)},
    **{chr(65 + i): 10 + i for i in range(26)},
    "<": 0,
}
"""ICAO Doc 9303 Part 3 §4.9: 0-9 their value, A-Z 10-35, the filler '<' 0."""


def icao_check_digit(field: str) -> str:
    """ICAO Doc 9303 Part 3 §4.9 check digit of ``field``: weights 7, 3, 1 repeated, sum mod 10.

    Raises :class:`InvalidInput` if ``field`` holds a character outside A-Z, 0-9 and '<'.
    """
    weights = _ICAO_WEIGHTS if len(field) <= len(_ICAO_WEIGHTS) else cycle(_ICAO_WEIGHTS[:3])
    try:
        total = sum(map(mul, map(_ICAO_VALUE.__getitem__, field), weights))
    except KeyError as exc:
        raise InvalidInput(
            "field", f"character {exc.args[0]!r} is not an MRZ character (A-Z, 0-9, '<')"
        ) from None
    return str(total % 10)


@dataclass(frozen=True, slots=True)
class _Layout:
    fmt: MrzFormat
    length: int
    doc_letter: str
    optional_end: int  # end (exclusive) of the optional data / personal number on line 2
    optional_check: int | None  # TD3 only
    composite: int | None  # TD3 only
    citation: Citation


_TD3: Final = _Layout("TD3", 44, "P", 42, 42, 43, CITE_TD3)
_MRV_A: Final = _Layout("MRV-A", 44, "V", 44, None, None, CITE_MRV)
_MRV_B: Final = _Layout("MRV-B", 36, "V", 36, None, None, CITE_MRV)

_EXPIRY_PIVOT: Final = 70
"""Without ``as_of``, an expiry year YY < 70 is 20YY and YY >= 70 is 19YY."""


def _pos(line: int, index: int) -> str:
    return f"line {line} position {index + 1}"


def _span(line: int, start: int, end: int) -> str:
    return f"line {line} positions {start + 1}-{end}"


def _char_errors(line_no: int, line: str) -> list[str]:
    if _MRZ_LINE.fullmatch(line):  # the usual case, without a loop over the characters
        return []
    errors = []
    for i, ch in enumerate(line):
        if ch in _MRZ_CHARS:
            continue
        if ch.islower():
            errors.append(
                f"{_pos(line_no, i)}: {ch!r} is lower case; MRZ letters are upper case A-Z (not converted)"
            )
        else:
            errors.append(f"{_pos(line_no, i)}: character {ch!r} is not allowed (MRZ uses A-Z, 0-9 and '<')")
    return errors


def _date_parts(raw: str, allow_unknown: bool) -> tuple[int, int | None, int | None] | None:
    """(YY, MM or None, DD or None) of a YYMMDD field, or None if malformed.

    With ``allow_unknown`` (date of birth), an unknown day, or month and day, may be filler '<'
    (Doc 9303 Part 3); an entirely unknown date is handled by the caller.
    """
    yy, mm, dd = raw[0:2], raw[2:4], raw[4:6]
    if not yy.isdigit():
        return None
    month: int | None
    day: int | None
    if mm.isdigit():
        month = int(mm)
    elif allow_unknown and mm == "<<" and dd == "<<":
        return int(yy), None, None
    else:
        return None
    if dd.isdigit():
        day = int(dd)
    elif allow_unknown and dd == "<<":
        day = None
    else:
        return None
    if not 1 <= month <= 12 or (day is not None and not 1 <= day <= 31):
        return None
    return int(yy), month, day


def _make_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _resolve_expiry(yy: int, month: int, day: int, as_of: dt.date | None) -> dt.date | None:
    if as_of is None:
        year = 2000 + yy if yy < _EXPIRY_PIVOT else 1900 + yy
    else:
        year = min((c + yy for c in (1900, 2000, 2100)), key=lambda y: (abs(y - as_of.year), -y))
    return _make_date(year, month, day)


def _resolve_birth(yy: int, month: int, day: int, limit: dt.date) -> dt.date | None:
    """The latest century in which the birth date is a real date not after ``limit``."""
    for century in (2000, 1900, 1800):
        found = _make_date(century + yy, month, day)
        if found is not None and found <= limit:
            return found
    return None


def _check(
    name: str, line2: str, start: int, end: int, at: int, checks: list[Check], errors: list[str]
) -> None:
    expected = icao_check_digit(line2[start:end])
    found = line2[at]
    ok = found == expected
    checks.append(Check(name, expected, found, ok))
    if not ok:
        if not found.isdigit():
            errors.append(f"{name}: check digit at {_pos(2, at)} must be a digit, found {found!r}")
        else:
            errors.append(f"{name}: check digit at {_pos(2, at)} is {found!r}, expected {expected!r}")


def _read(line1: str, line2: str, layout: _Layout, as_of: dt.date | None) -> MrzResult:
    cites = (CITE_CHECK_DIGITS, layout.citation, CITE_CODES)
    errors: list[str] = []
    for no, line in ((1, line1), (2, line2)):
        if len(line) != layout.length:
            errors.append(
                f"line {no}: length {len(line)}, expected {layout.length} characters for {layout.fmt}"
            )
    if errors:
        return MrzResult(False, layout.fmt, errors=tuple(errors), citations=cites)
    errors = _char_errors(1, line1) + _char_errors(2, line2)
    if errors:
        return MrzResult(False, layout.fmt, errors=tuple(errors), citations=cites)

    notes: list[str] = []
    fields: dict[str, FieldValue] = {}
    checks: list[Check] = []

    # Line 1: document code, issuing State, name.
    if line1[0] != layout.doc_letter:
        errors.append(
            f"document_code: {_pos(1, 0)} is {line1[0]!r}; {layout.fmt} documents start with "
            f"{layout.doc_letter!r}"
        )
    if not (line1[1].isalpha() or line1[1] == "<"):
        errors.append(f"document_code: {_pos(1, 1)} is {line1[1]!r}; expected a letter or '<'")
    fields["document_code"] = line1[0:2].rstrip("<")
    for name, line_no, raw, start in (
        ("issuing_state", 1, line1[2:5], 2),
        ("nationality", 2, line2[10:13], 10),
    ):
        if not _COUNTRY_RE.fullmatch(raw):
            errors.append(
                f"{name}: {_span(line_no, start, start + 3)} {raw!r} is not a three-letter code "
                "(letters, filled with '<')"
            )
        code, known, label = read_country(raw)
        fields[name] = code
        fields[f"{name}_known"] = known
        fields[f"{name}_label"] = label
    name_field = line1[5:]
    for i, ch in enumerate(name_field if _DIGIT.search(name_field) else "", start=5):
        if ch.isdigit():
            errors.append(f"name: {_pos(1, i)} is the digit {ch!r}; the name field holds letters and '<'")
    surname, _, given = name_field.rstrip("<").partition("<<")
    fields["surname"] = surname.replace("<", " ").strip()
    fields["given_names"] = given.replace("<", " ").strip()

    # Line 2: document number.
    fields["document_number"] = line2[0:9].rstrip("<")
    _check("document_number", line2, 0, 9, 9, checks, errors)

    # Expiry first: the century of the birth date is resolved against it.
    expiry: dt.date | None = None
    raw_expiry = line2[21:27]
    parts = _date_parts(raw_expiry, allow_unknown=False)
    if parts is None or parts[1] is None or parts[2] is None:
        errors.append(f"expiry_date: {_span(2, 21, 27)} {raw_expiry!r} is not a date YYMMDD")
    else:
        expiry = _resolve_expiry(parts[0], parts[1], parts[2], as_of)
        if expiry is None:
            errors.append(f"expiry_date: {_span(2, 21, 27)} {raw_expiry!r} is not a calendar date")
    fields["expiry_date"] = expiry.isoformat() if expiry else None

    birth: dt.date | None = None
    raw_birth = line2[13:19]
    if raw_birth == "<<<<<<":
        notes.append("birth_date: unknown (filled with '<')")
    else:
        parts = _date_parts(raw_birth, allow_unknown=True)
        if parts is None:
            errors.append(f"birth_date: {_span(2, 13, 19)} {raw_birth!r} is not a date YYMMDD")
        elif parts[1] is None or parts[2] is None:
            notes.append(f"birth_date: {raw_birth!r} is only partly known (filler '<'); no ISO date given")
        else:
            limits = [d for d in (expiry, as_of) if d is not None]
            if not limits:
                notes.append("birth_date: century not resolved (no valid expiry date and no as_of)")
            else:
                birth = _resolve_birth(parts[0], parts[1], parts[2], min(limits))
                if birth is None:
                    errors.append(f"birth_date: {_span(2, 13, 19)} {raw_birth!r} is not a calendar date")
    fields["birth_date"] = birth.isoformat() if birth else None
    _check("birth_date", line2, 13, 19, 19, checks, errors)

    sex = line2[20]
    if sex not in "MF<X":
        errors.append(f"sex: {_pos(2, 20)} is {sex!r}; expected 'M', 'F' or '<' (unspecified)")
    elif sex == "X":
        notes.append("sex: 'X' accepted as unspecified; Doc 9303 writes '<' in the MRZ")
    fields["sex"] = sex if sex in "MFX" else None

    _check("expiry_date", line2, 21, 27, 27, checks, errors)

    optional = line2[28 : layout.optional_end]
    fields["optional_data"] = optional.rstrip("<")
    if layout.optional_check is not None:
        at = layout.optional_check
        fields["personal_number"] = optional.rstrip("<")
        if optional.strip("<") == "" and line2[at] in "<0":
            checks.append(Check("personal_number", "0", line2[at], True))
            if line2[at] == "<":
                notes.append("personal_number: empty; its check digit may be '<' or '0' (Doc 9303 Part 4)")
        else:
            _check("personal_number", line2, 28, at, at, checks, errors)
    if layout.composite is not None:
        at = layout.composite
        expected = icao_check_digit(line2[0:10] + line2[13:20] + line2[21:at])
        found = line2[at]
        ok = found == expected
        checks.append(Check("composite", expected, found, ok))
        if not ok:
            errors.append(f"composite: check digit at {_pos(2, at)} is {found!r}, expected {expected!r}")
    else:
        notes.append(f"{layout.fmt}: no composite check digit, and the optional data carries no check digit")

    return MrzResult(
        valid=not errors,
        format=layout.fmt,
        fields=fields,
        checks=tuple(checks),
        errors=tuple(errors),
        notes=tuple(notes),
        citations=cites,
    )


def check_td3(line1: str, line2: str, as_of: dt.date | None = None) -> MrzResult:
    """Check a TD3 passport MRZ (ICAO Doc 9303 Part 4): 2 lines of 44 characters.

    Checked: document number, date of birth, date of expiry, personal number (an all-filler
    personal number may have check '<' or '0') and the composite check digit.

    Dates are YYMMDD. The expiry century is the one nearest ``as_of``; without ``as_of``,
    YY < 70 is 20YY and YY >= 70 is 19YY. The birth century is the latest one that puts the birth
    date on or before both the expiry date and ``as_of``.
    """
    return _read(line1.strip(), line2.strip(), _TD3, as_of)


def check_mrv(line1: str, line2: str, as_of: dt.date | None = None) -> MrzResult:
    """Check a machine readable visa MRZ (ICAO Doc 9303 Part 7): MRV-A (2 x 44) or MRV-B (2 x 36).

    The format follows the length of line 1. Checked: document number, date of birth, date of
    expiry. MRVs have no composite check digit, and their optional data has no check digit.
    Dates as in :func:`check_td3`.
    """
    line1, line2 = line1.strip(), line2.strip()
    if len(line1) == _MRV_B.length:
        return _read(line1, line2, _MRV_B, as_of)
    if len(line1) == _MRV_A.length:
        return _read(line1, line2, _MRV_A, as_of)
    return MrzResult(
        False,
        None,
        errors=(f"line 1: length {len(line1)}; a visa MRZ has 44 (MRV-A) or 36 (MRV-B) characters",),
        citations=(CITE_CHECK_DIGITS, CITE_MRV),
    )


def check_mrz(line1: str, line2: str, as_of: dt.date | None = None) -> MrzResult:
    """Check a two-line MRZ, choosing the format from the document code: P → TD3 passport,
    V → MRV-A or MRV-B visa (by line length). Other document codes give ``valid=False``."""
    line1, line2 = line1.strip(), line2.strip()
    first = line1[:1]
    if first == "P":
        return check_td3(line1, line2, as_of)
    if first == "V":
        return check_mrv(line1, line2, as_of)
    shown = repr(first) if first else "missing"
    return MrzResult(
        False,
        None,
        errors=(
            f"document_code: {_pos(1, 0)} is {shown}; supported are passports (P, TD3) "
            "and visas (V, MRV-A/MRV-B)",
        ),
        citations=(CITE_CHECK_DIGITS, CITE_TD3, CITE_MRV),
    )
