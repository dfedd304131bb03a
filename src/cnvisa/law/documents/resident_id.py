"""The Foreign Permanent Resident ID Card number (外国人永久居留身份证号码): ISO/IEC 7064 MOD 11-2."""

from __future__ import annotations

from typing import Final

from cnvisa.law.citations import Citation, guide
from cnvisa.law.documents.countries import read_country
from cnvisa.law.documents.results import Check, FieldValue, IdCheck
from cnvisa.law.errors import InvalidInput

__all__ = ["check_permanent_resident_id", "permanent_resident_id_check_char"]

GB_11643: Final = "GB 11643-1999"

CITE_FPR: Final = guide("XII(IV)")
CITE_MOD11_2: Final = Citation(
    GB_11643, "check code", note="ISO/IEC 7064 MOD 11-2, used for the 2023 Foreign Permanent Resident ID Card"
)

_MOD11_2_WEIGHTS: Final = tuple(pow(2, 18 - i, 11) for i in range(1, 18))
"""2^(18-i) mod 11 for position i = 1..17 (GB 11643-1999 4.2): 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9,
10, 5, 8, 4, 2. The check character makes the weighted sum of all 18 positions ≡ 1 (mod 11)."""


def permanent_resident_id_check_char(first17: str) -> str:
    """ISO/IEC 7064 MOD 11-2 check character of 17 digits (as GB 11643-1999); 10 is written 'X'.

    Raises :class:`InvalidInput` unless ``first17`` (stripped) is exactly 17 ASCII digits.
    """
    body = first17.strip()
    if len(body) != 17 or not all("0" <= ch <= "9" for ch in body):
        raise InvalidInput("first17", f"expected 17 digits, got {body!r}")
    total = sum(int(ch) * w for ch, w in zip(body, _MOD11_2_WEIGHTS, strict=True))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def check_permanent_resident_id(number: str) -> IdCheck:
    """Check a Foreign Permanent Resident ID Card number (外国人永久居留身份证号码).

    - 18 characters (cards from 1 December 2023): '9', 16 digits, a MOD 11-2 check character
      (digit or 'X'). A lower-case final 'x' is accepted and normalised to 'X', as is the practice
      for citizen identity numbers; the result says so in ``notes``.
    - 15 characters (earlier cards): 3 upper-case letters (nationality) and 12 digits. Recognised
      as ``format="legacy-15"``; it has no check character, so only its structure is checked.
    """
    raw = number.strip()
    errors: list[str] = []
    notes: list[str] = []
    fields: dict[str, FieldValue] = {}
    checks: list[Check] = []
    if len(raw) == 18:
        if raw[17] == "x":
            raw = raw[:17] + "X"
            notes.append("position 18: lower-case 'x' read as 'X'")
        if raw[0] != "9":
            errors.append(
                f"position 1: {raw[0]!r}; a Foreign Permanent Resident ID number starts with 9 "
                "(PRC citizen identity numbers start with 1-8)"
            )
        for i, ch in enumerate(raw[1:17], start=1):
            if not "0" <= ch <= "9":
                errors.append(f"position {i + 1}: {ch!r} is not a digit")
        last = raw[17]
        if not ("0" <= last <= "9" or last == "X"):
            errors.append(f"position 18: {last!r}; the check character is a digit or 'X'")
        if all("0" <= ch <= "9" for ch in raw[:17]):
            expected = permanent_resident_id_check_char(raw[:17])
            ok = last == expected
            checks.append(Check("check_character", expected, last, ok))
            if not ok and ("0" <= last <= "9" or last == "X"):
                errors.append(f"check character (position 18): found {last!r}, expected {expected!r}")
        return IdCheck(
            valid=not errors,
            kind="permanent_resident_id",
            format="18",
            number=raw,
            has_check_character=True,
            fields=fields,
            checks=tuple(checks),
            errors=tuple(errors),
            notes=tuple(notes),
            citations=(CITE_FPR, CITE_MOD11_2),
        )
    if len(raw) == 15:
        for i, ch in enumerate(raw[:3]):
            if not "A" <= ch <= "Z":
                what = "is lower case" if ch.islower() else "is not a letter"
                errors.append(f"position {i + 1}: {ch!r} {what}; positions 1-3 are upper-case letters")
        for i, ch in enumerate(raw[3:], start=3):
            if not "0" <= ch <= "9":
                errors.append(f"position {i + 1}: {ch!r} is not a digit")
        code, known, label = read_country(raw[:3])
        fields.update(nationality=code, nationality_known=known, nationality_label=label)
        notes.append(
            "legacy-15: cards issued before 1 December 2023 carry no check character; structure only"
        )
        return IdCheck(
            valid=not errors,
            kind="permanent_resident_id",
            format="legacy-15",
            number=raw,
            has_check_character=False,
            fields=fields,
            errors=tuple(errors),
            notes=tuple(notes),
            citations=(CITE_FPR,),
        )
    return IdCheck(
        valid=False,
        kind="permanent_resident_id",
        format=None,
        number=raw,
        has_check_character=False,
        errors=(
            f"length: {len(raw)} characters; a Foreign Permanent Resident ID number has 18 "
            "(cards from 1 December 2023) or 15 (earlier cards: 3 letters and 12 digits)",
        ),
        citations=(CITE_FPR, CITE_MOD11_2),
    )
