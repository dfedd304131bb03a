"""Identity documents and their check characters: pure functions, no I/O, no clock.

Sources, each cited in the results:

- ICAO Doc 9303, *Machine Readable Travel Documents* (7th edition 2015, 8th edition 2021):
  Part 3 §4.9 (check digits in the MRZ: weights 7-3-1, modulus 10; digits count as their value,
  A-Z as 10-35, the filler '<' as 0), Part 3 §5 (three-letter codes of States and organisations),
  Part 4 (TD3 machine readable passports, 2 lines of 44 characters) and Part 7 (machine readable
  visas: MRV-A, 2 lines of 44, and MRV-B, 2 lines of 36).
- The Foreign Permanent Resident ID Card (外国人永久居留身份证), which the Guide XII(IV) names as
  a foreign national's identity document. Cards issued from 1 December 2023 (the 2023 edition)
  carry an 18-character number: '9' (the mark of a foreign national; a PRC citizen identity number
  starts with 1-8), 16 further digits and a check character computed as for the citizen identity
  number, GB 11643-1999, i.e. ISO/IEC 7064 MOD 11-2 (a check value of 10 is written 'X').
  Earlier cards (the 2004 and 2017 editions) carry 15 characters: 3 Latin letters (the
  nationality) and 12 digits, with no check character.
- The unified social credit code of organisations (统一社会信用代码), GB 32100-2015: 18 characters
  over 0-9 and the upper-case letters except I, O, S, V and Z; position 1 the registration
  authority, 2 the organisation category, 3-8 the administrative division (GB/T 2260), 9-17 the
  organisation code of GB 11714 (its own check character at position 17), 18 the check character
  (MOD 31, weights 3^(i-1) mod 31).

Every check returns a result object; malformed input gives ``valid=False`` with errors naming the
field and position, never an exception. Only the helpers that compute a check character from a
body raise :class:`~cnvisa.law.errors.InvalidInput` when the body is not well formed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Final, Literal

from cnvisa.law.citations import ICAO_9303, Citation, guide
from cnvisa.law.errors import InvalidInput

__all__ = [
    "ICAO_SPECIAL_CODES",
    "ISO_3166_ALPHA3",
    "USCC_ALPHABET",
    "Check",
    "IdCheck",
    "MrzFormat",
    "MrzResult",
    "check_mrv",
    "check_mrz",
    "check_permanent_resident_id",
    "check_social_credit_code",
    "check_td3",
    "icao_check_digit",
    "organisation_code_check_char",
    "permanent_resident_id_check_char",
    "social_credit_check_char",
]

FieldValue = str | bool | None
MrzFormat = Literal["TD3", "MRV-A", "MRV-B"]

GB_32100: Final = "GB 32100-2015"
GB_11714: Final = "GB 11714-1997"
GB_11643: Final = "GB 11643-1999"

CITE_CHECK_DIGITS: Final = Citation(ICAO_9303, "Part 3 §4.9", note="check digits in the MRZ (7-3-1, mod 10)")
CITE_CODES: Final = Citation(ICAO_9303, "Part 3 §5", note="three-letter codes of States and organisations")
CITE_TD3: Final = Citation(ICAO_9303, "Part 4", note="TD3 machine readable passport, 2 x 44")
CITE_MRV: Final = Citation(ICAO_9303, "Part 7", note="machine readable visas MRV-A 2 x 44, MRV-B 2 x 36")
CITE_FPR: Final = guide("XII(IV)")
CITE_MOD11_2: Final = Citation(
    GB_11643, "check code", note="ISO/IEC 7064 MOD 11-2, used for the 2023 Foreign Permanent Resident ID Card"
)
CITE_USCC: Final = Citation(GB_32100, "code structure and check character", note="MOD 31, weights 3^(i-1)")
CITE_ORG_CODE: Final = Citation(
    GB_11714, "check character", note="organisation code, positions 9-17 of a USCC"
)

# --------------------------------------------------------------------------------------------
# Country codes
# --------------------------------------------------------------------------------------------

ICAO_SPECIAL_CODES: Final[dict[str, str]] = {
    "D": "Germany (ICAO uses D, not DEU)",
    "EUE": "European Union",
    "GBD": "British Overseas Territories citizen",
    "GBN": "British National (Overseas)",
    "GBO": "British Overseas citizen",
    "GBP": "British protected person",
    "GBS": "British subject",
    "RKS": "Kosovo (code used on documents issued by Kosovo)",
    "UNA": "specialized agency of the United Nations or one of its officials",
    "UNK": "resident of Kosovo, document issued by UNMIK",
    "UNO": "United Nations Organization or one of its officials",
    "UTO": "Utopia (fictional State of the ICAO specimens)",
    "XBA": "African Development Bank",
    "XCC": "Caribbean Community (CARICOM)",
    "XCO": "Common Market for Eastern and Southern Africa (COMESA)",
    "XDC": "Southern African Development Community",
    "XEC": "Economic Community of West African States (ECOWAS)",
    "XES": "Organisation of Eastern Caribbean States",
    "XIM": "African Export-Import Bank",
    "XMP": "Parliamentary Assembly of the Mediterranean",
    "XOM": "Sovereign Military Order of Malta",
    "XPO": "International Criminal Police Organization (INTERPOL)",
    "XXA": "stateless person (1954 Convention, Art 1)",
    "XXB": "refugee (1951 Convention, Art 1, as amended by the 1967 Protocol)",
    "XXC": "refugee other than under XXB",
    "XXX": "person of unspecified nationality",
}
"""Codes of ICAO Doc 9303 Part 3 §5 that are not ISO 3166-1 alpha-3 country codes (labels only)."""

_ISO_3166_ALPHA3_TEXT: Final = """
    ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD BGR BHR
    BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR COD COG COK COL
    COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP EST ETH FIN FJI FLK
    FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY HKG HMD HND HRV
    HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO
    LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG
    MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN
    PER PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE
    SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK TKL TKM TLS TON TTO
    TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE
"""
ISO_3166_ALPHA3: Final[frozenset[str]] = frozenset(_ISO_3166_ALPHA3_TEXT.split())
"""ISO 3166-1 alpha-3 codes (snapshot of the 249 assigned codes). Used only to report whether a code
is known: unknown codes are never rejected, because the list changes."""

_COUNTRY_RE: Final = re.compile(r"[A-Z]{1,3}<*")


def _country(raw: str) -> tuple[str, bool, str | None]:
    """(code without fillers, known?, label of an ICAO-only code)."""
    code = raw.rstrip("<")
    return code, code in ISO_3166_ALPHA3 or code in ICAO_SPECIAL_CODES, ICAO_SPECIAL_CODES.get(code)


# --------------------------------------------------------------------------------------------
# Shared result types
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# ICAO Doc 9303 check digit
# --------------------------------------------------------------------------------------------

_MRZ_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")
_ICAO_WEIGHTS: Final = (7, 3, 1)


def _icao_value(ch: str) -> int:
    if "0" <= ch <= "9":
        return ord(ch) - ord("0")
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    if ch == "<":
        return 0
    raise InvalidInput("field", f"character {ch!r} is not an MRZ character (A-Z, 0-9, '<')")


def icao_check_digit(field: str) -> str:
    """ICAO Doc 9303 Part 3 §4.9 check digit of ``field``: weights 7, 3, 1 repeated, sum mod 10.

    Raises :class:`InvalidInput` if ``field`` holds a character outside A-Z, 0-9 and '<'.
    """
    total = sum(_icao_value(ch) * _ICAO_WEIGHTS[i % 3] for i, ch in enumerate(field))
    return str(total % 10)


# --------------------------------------------------------------------------------------------
# MRZ: TD3 passports, MRV-A and MRV-B visas
# --------------------------------------------------------------------------------------------


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
        code, known, label = _country(raw)
        fields[name] = code
        fields[f"{name}_known"] = known
        fields[f"{name}_label"] = label
    name_field = line1[5:]
    for i, ch in enumerate(name_field, start=5):
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


# --------------------------------------------------------------------------------------------
# Foreign Permanent Resident ID Card number (ISO/IEC 7064 MOD 11-2)
# --------------------------------------------------------------------------------------------

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
        code, known, label = _country(raw[:3])
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


# --------------------------------------------------------------------------------------------
# Unified social credit code (GB 32100-2015) and organisation code (GB 11714)
# --------------------------------------------------------------------------------------------

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
    total = sum(_icao_value(ch) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True))
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
