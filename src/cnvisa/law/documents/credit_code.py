"""The unified social credit code (统一社会信用代码, GB 32100-2015) and its organisation code (GB 11714)."""

from __future__ import annotations

from typing import Final

from cnvisa.law.citations import Citation
from cnvisa.law.documents.results import Check, FieldValue, IdCheck
from cnvisa.law.errors import InvalidInput

__all__ = [
    "USCC_ALPHABET",
    "check_social_credit_code",
    "organisation_code_check_char",
    "social_credit_check_char",
]

GB_32100: Final = "GB 32100-2015"
GB_11714: Final = "GB 11714-1997"

CITE_USCC: Final = Citation(GB_32100, "code structure and check character", note="MOD 31, weights 3^(i-1)")
CITE_ORG_CODE: Final = Citation(
    GB_11714, "check character", note="organisation code, positions 9-17 of a USCC"
)

USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of GB 32100-2015, in value order (no I, O, S, V, Z)."""
_USCC_VALUE: Final = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))
"""1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28."""
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)

_REGISTRATION_AUTHORITIES: Final[dict[str, str]] = {
    "1": "机构编制 (institutional establishment authorities)",
    "5": "民政 (civil affairs)",
    "9": "工商 (market regulation / industry and commerce)",
    "Y": "其他 (other)",
}
_CATEGORIES: Final[dict[str, str]] = {
    "11": "机关 (government organ)",
    "12": "事业单位 (public institution)",
    "13": "群众团体 (mass organisation under the establishment authorities)",
    "19": "其他 (other)",
    "51": "社会团体 (social organisation)",
    "52": "民办非企业单位 (private non-enterprise unit)",
    "53": "基金会 (foundation)",
    "59": "其他 (other)",
    "91": "企业 (enterprise)",
    "92": "个体工商户 (individual business)",
    "93": "农民专业合作社 (farmers' cooperative)",
    "Y1": "其他 (other)",
}


def social_credit_check_char(first17: str) -> str:
    """GB 32100-2015 check character of the first 17 characters: 31 - (Σ value·3^(i-1) mod 31),
    31 giving '0'. Raises :class:`InvalidInput` unless ``first17`` is 17 characters of the alphabet."""
    body = first17.strip()
    bad = [ch for ch in body if ch not in _USCC_VALUE]
    if len(body) != 17 or bad:
        raise InvalidInput("first17", f"expected 17 characters of {USCC_ALPHABET}, got {body!r}")
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(body, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def organisation_code_check_char(first8: str) -> str:
    """GB 11714 check character of an organisation code body of 8 characters (digits value 0-9,
    letters A-Z 10-35): 11 - (Σ value·w mod 11) with w = 3, 7, 9, 10, 5, 8, 4, 2; 10 → 'X', 11 → '0'."""
    body = first8.strip()
    if len(body) != 8 or not all(ch.isascii() and (ch.isdigit() or ch.isupper()) for ch in body):
        raise InvalidInput("first8", f"expected 8 characters 0-9 or A-Z, got {body!r}")
    # Base 36 gives exactly the GB 11714 values: 0-9 as such, A-Z as 10-35.
    total = sum(int(ch, 36) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def check_social_credit_code(code: str) -> IdCheck:
    """Check a unified social credit code (统一社会信用代码, GB 32100-2015).

    Positions: 1 registration authority, 2 organisation category, 3-8 administrative division
    (digits), 9-17 organisation code (GB 11714, check character at 17), 18 check character.
    Letters must be upper case (not converted); I, O, S, V and Z are not used.
    """
    raw = code.strip()
    cites = (CITE_USCC, CITE_ORG_CODE)
    if len(raw) != 18:
        return IdCheck(
            valid=False,
            kind="social_credit_code",
            format=None,
            number=raw,
            has_check_character=True,
            errors=(f"length: {len(raw)} characters; a unified social credit code has 18",),
            citations=cites,
        )
    errors: list[str] = []
    checks: list[Check] = []
    for i, ch in enumerate(raw):
        if ch in _USCC_VALUE:
            continue
        if ch.islower():
            errors.append(f"position {i + 1}: {ch!r} is lower case; the code uses upper-case letters")
        elif ch in "IOSVZ":
            errors.append(f"position {i + 1}: {ch!r} is not used in the code (no I, O, S, V, Z)")
        else:
            errors.append(f"position {i + 1}: character {ch!r} is not allowed")
    for i in range(2, 8):
        if raw[i] in _USCC_VALUE and not raw[i].isdigit():
            errors.append(
                f"position {i + 1}: {raw[i]!r}; positions 3-8 (administrative division code) are digits"
            )
    fields: dict[str, FieldValue] = {
        "registration_authority": raw[0],
        "registration_authority_label": _REGISTRATION_AUTHORITIES.get(raw[0]),
        "organisation_category": raw[1],
        "organisation_category_label": _CATEGORIES.get(raw[:2]),
        "administrative_division": raw[2:8],
        "organisation_code": raw[8:17],
    }
    if all(ch in _USCC_VALUE for ch in raw):
        expected = organisation_code_check_char(raw[8:16])
        ok = raw[16] == expected
        checks.append(Check("organisation_code", expected, raw[16], ok))
        if not ok:
            errors.append(
                f"organisation code check character (position 17): found {raw[16]!r}, expected {expected!r}"
            )
        expected = social_credit_check_char(raw[:17])
        ok = raw[17] == expected
        checks.append(Check("check_character", expected, raw[17], ok))
        if not ok:
            errors.append(f"check character (position 18): found {raw[17]!r}, expected {expected!r}")
    return IdCheck(
        valid=not errors,
        kind="social_credit_code",
        format=GB_32100,
        number=raw,
        has_check_character=True,
        fields=fields,
        checks=tuple(checks),
        errors=tuple(errors),
        citations=cites,
    )
