"""Identity documents: ICAO Doc 9303 MRZ, Foreign Permanent Resident ID, unified social credit code."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cnvisa.law.documents import (
    ICAO_SPECIAL_CODES,
    USCC_ALPHABET,
    check_mrv,
    check_mrz,
    check_permanent_resident_id,
    check_social_credit_code,
    check_td3,
    icao_check_digit,
    organisation_code_check_char,
    permanent_resident_id_check_char,
    social_credit_check_char,
)
from cnvisa.law.errors import InvalidInput

# ICAO Doc 9303 Part 4 specimen passport (TD3).
TD3_1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
TD3_2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
# ICAO Doc 9303 Part 7 specimen visa (MRV-A); it validates by the algorithm.
MRVA_1 = "VNUTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
MRVA_2 = "L8988901C4XXX4009078F96121096ZE184226B<<<<<<"
# MRV-B (2 x 36): constructed here from the MRV-A data, check digits computed.
MRVB_1 = "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<"
MRVB_2 = "L8988901C4XXX4009078F9612109ZE184226"

MRZ_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"


def _value(ch: str) -> int:
    return 0 if ch == "<" else int(ch, 36)


def _sub(s: str, i: int, ch: str) -> str:
    return s[:i] + ch + s[i + 1 :]


def _composite(line2_without_composite: str) -> str:
    x = line2_without_composite
    return x + icao_check_digit(x[0:10] + x[13:20] + x[21:43])


# ---------------------------------------------------------------- ICAO check digit


@pytest.mark.parametrize(
    ("field", "digit"),
    [
        ("L898902C3", "6"),
        ("740812", "2"),
        ("120415", "9"),
        ("ZE184226B<<<<<", "1"),
        ("<<<<<<", "0"),
        ("", "0"),
    ],
)
def test_icao_check_digit(field: str, digit: str) -> None:
    assert icao_check_digit(field) == digit


def test_icao_check_digit_rejects_non_mrz_characters() -> None:
    with pytest.raises(InvalidInput):
        icao_check_digit("ab1")


@given(st.text(alphabet="0123456789", min_size=1, max_size=20), st.data())
def test_icao_check_digit_detects_any_single_digit_change(field: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(field) - 1))
    new = data.draw(st.sampled_from("0123456789"))
    assume(new != field[i])
    assert icao_check_digit(_sub(field, i, new)) != icao_check_digit(field)


# ---------------------------------------------------------------- TD3 specimen


def test_td3_specimen_is_valid() -> None:
    r = check_mrz(TD3_1, TD3_2)
    assert r.valid, r.errors
    assert r.format == "TD3"
    assert r.fields["surname"] == "ERIKSSON"
    assert r.fields["given_names"] == "ANNA MARIA"
    assert r.fields["document_number"] == "L898902C3"
    assert r.fields["birth_date"] == "1974-08-12"
    assert r.fields["expiry_date"] == "2012-04-15"
    assert r.fields["sex"] == "F"
    assert r.fields["personal_number"] == "ZE184226B"
    assert r.fields["issuing_state"] == "UTO" and r.fields["issuing_state_known"] is True
    assert [c.field for c in r.checks] == [
        "document_number",
        "birth_date",
        "expiry_date",
        "personal_number",
        "composite",
    ]
    assert all(c.ok for c in r.checks)
    assert check_td3(TD3_1, TD3_2) == r


def test_as_dict_is_json_ready_and_cites_doc_9303() -> None:
    d = check_mrz(TD3_1, TD3_2).as_dict()
    assert json.loads(json.dumps(d)) == d
    assert set(d) >= {"valid", "format", "fields", "checks", "errors", "citations"}
    cites = [c["cite"] for c in d["citations"]]  # type: ignore[attr-defined]
    assert "ICAO Doc 9303 Part 4" in cites and "ICAO Doc 9303 Part 3 §4.9" in cites
    assert d["checks"][0] == {"field": "document_number", "expected": "6", "found": "6", "ok": True}  # type: ignore[index]


# Line-2 positions covered by a check digit, and the fields whose check should fail.
_TD3_CHECKED = (
    [(i, {"document_number", "composite"}) for i in range(0, 10)]
    + [(i, {"birth_date", "composite"}) for i in range(13, 20)]
    + [(i, {"expiry_date", "composite"}) for i in range(21, 28)]
    + [(i, {"personal_number", "composite"}) for i in range(28, 43)]
    + [(43, {"composite"})]
)


@pytest.mark.parametrize(("pos", "fields"), _TD3_CHECKED)
def test_every_detectable_mutation_of_a_checked_td3_field_is_detected(pos: int, fields: set[str]) -> None:
    """Every substitution at a checked position is caught, except the blind spot of a mod-10 check:
    in a data field, a character whose value is congruent mod 10 (e.g. 'L'=21 and 'B'=11, '0' and '<')."""
    original = TD3_2[pos]
    is_check_digit = pos in (9, 19, 27, 42, 43)
    tested = 0
    for ch in MRZ_CHARS:
        if ch == original:
            continue
        if not is_check_digit and _value(ch) % 10 == _value(original) % 10:
            continue
        r = check_mrz(TD3_1, _sub(TD3_2, pos, ch))
        assert not r.valid, (pos, ch)
        named = {e.split(":")[0] for e in r.errors}
        assert named & fields, (pos, ch, r.errors)
        tested += 1
    assert tested >= 9


def test_every_changed_digit_of_the_specimen_is_detected() -> None:
    for pos, fields in _TD3_CHECKED:
        for d in "0123456789":
            if d == TD3_2[pos]:
                continue
            if not TD3_2[pos].isdigit() and _value(d) % 10 == _value(TD3_2[pos]) % 10:
                continue  # letter -> digit congruent mod 10: the documented blind spot
            r = check_mrz(TD3_1, _sub(TD3_2, pos, d))
            assert not r.valid and any(e.split(":")[0] in fields for e in r.errors), (pos, d)


def test_mod10_blind_spot_is_real() -> None:
    """'L' (21) → 'B' (11) in the document number leaves every check digit unchanged (Doc 9303 limit)."""
    r = check_mrz(TD3_1, _sub(TD3_2, 0, "B"))
    assert r.valid
    assert r.fields["document_number"] == "B898902C3"


@pytest.mark.parametrize(
    ("pos", "ch", "message"),
    [
        (9, "7", "document_number: check digit at line 2 position 10 is '7', expected '6'"),
        (14, "5", "birth_date: check digit at line 2 position 20 is '2', expected '5'"),
        (24, "5", "expiry_date: check digit at line 2 position 28 is '9', expected '6'"),
        (30, "F", "personal_number: check digit at line 2 position 43 is '1', expected '5'"),
        (43, "1", "composite: check digit at line 2 position 44 is '1', expected '0'"),
        (19, "A", "birth_date: check digit at line 2 position 20 must be a digit, found 'A'"),
    ],
)
def test_mutation_errors_name_field_and_position(pos: int, ch: str, message: str) -> None:
    r = check_mrz(TD3_1, _sub(TD3_2, pos, ch))
    assert not r.valid
    assert message in r.errors


def test_empty_personal_number_check_may_be_filler_or_zero() -> None:
    base = TD3_2[:28] + "<" * 14
    for check in "<0":
        r = check_mrz(TD3_1, _composite(base + check))
        assert r.valid, (check, r.errors)
        assert r.fields["personal_number"] == ""
    r = check_mrz(TD3_1, _composite(base + "5"))
    assert not r.valid
    assert any(e.startswith("personal_number:") for e in r.errors)


# ---------------------------------------------------------------- MRV


def test_mrv_a_specimen_is_valid() -> None:
    r = check_mrz(MRVA_1, MRVA_2)
    assert r.valid, r.errors
    assert r.format == "MRV-A"
    assert r.fields["document_code"] == "VN"
    assert r.fields["nationality"] == "XXX"
    assert r.fields["nationality_label"] == ICAO_SPECIAL_CODES["XXX"]
    assert r.fields["birth_date"] == "1940-09-07"
    assert r.fields["expiry_date"] == "1996-12-10"
    assert r.fields["optional_data"] == "6ZE184226B"
    assert [c.field for c in r.checks] == ["document_number", "birth_date", "expiry_date"]
    assert r.as_dict()["citations"][1]["cite"] == "ICAO Doc 9303 Part 7"  # type: ignore[index]
    assert check_mrv(MRVA_1, MRVA_2) == r


def test_mrv_b_constructed_is_valid() -> None:
    r = check_mrz(MRVB_1, MRVB_2)
    assert r.valid, r.errors
    assert r.format == "MRV-B"
    assert r.fields["optional_data"] == "ZE184226"


def test_mrv_optional_data_has_no_check_digit() -> None:
    r = check_mrz(MRVA_1, _sub(MRVA_2, 30, "9"))
    assert r.valid


@pytest.mark.parametrize(("line1", "line2"), [(MRVA_1, MRVA_2), (MRVB_1, MRVB_2)])
def test_mrv_checked_digit_changes_are_detected(line1: str, line2: str) -> None:
    for start, end, name in ((0, 10, "document_number"), (13, 20, "birth_date"), (21, 28, "expiry_date")):
        for pos in range(start, end):
            for d in "0123456789":
                if d == line2[pos] or (
                    not line2[pos].isdigit() and _value(d) % 10 == _value(line2[pos]) % 10
                ):
                    continue
                r = check_mrz(line1, _sub(line2, pos, d))
                assert not r.valid and any(e.startswith(name) for e in r.errors), (pos, d, r.errors)


def test_mrv_line_lengths_must_agree() -> None:
    r = check_mrv(MRVB_1, MRVA_2)
    assert not r.valid and r.format == "MRV-B"
    assert "line 2: length 44, expected 36 characters for MRV-B" in r.errors
    r = check_mrv("V<UTO" + "<" * 35, MRVB_2)
    assert not r.valid and r.format is None


# ---------------------------------------------------------------- structure, never an exception


def test_wrong_length() -> None:
    r = check_mrz(TD3_1, TD3_2[:-1])
    assert not r.valid and r.errors == ("line 2: length 43, expected 44 characters for TD3",)


def test_lower_case_is_an_error_naming_the_position() -> None:
    r = check_mrz(TD3_1.replace("UTO", "uTO"), TD3_2)
    assert not r.valid
    assert r.errors[0].startswith("line 1 position 3: 'u' is lower case")


def test_surrounding_whitespace_is_stripped_but_inner_space_is_an_error() -> None:
    assert check_mrz(f"  {TD3_1}\n", f"\t{TD3_2} ").valid
    r = check_mrz(TD3_1, _sub(TD3_2, 30, " "))
    assert not r.valid
    assert "line 2 position 31: character ' ' is not allowed (MRZ uses A-Z, 0-9 and '<')" in r.errors


def test_bad_date_digits() -> None:
    r = check_mrz(TD3_1, _sub(TD3_2, 15, "1"))  # month 18
    assert not r.valid
    assert "birth_date: line 2 positions 14-19 '741812' is not a date YYMMDD" in r.errors
    r = check_mrz(TD3_1, _composite(TD3_2[:21] + "120231" + icao_check_digit("120231") + TD3_2[28:43]))
    assert "expiry_date: line 2 positions 22-27 '120231' is not a calendar date" in r.errors


def test_unsupported_document_code() -> None:
    r = check_mrz("I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6")
    assert not r.valid and r.format is None
    assert r.errors[0].startswith("document_code: line 1 position 1 is 'I'")
    assert not check_mrz("", "").valid


def test_td3_requires_p() -> None:
    r = check_td3("V" + TD3_1[1:], TD3_2)
    assert not r.valid
    assert r.errors[0].startswith("document_code: line 1 position 1 is 'V'")


def test_digit_in_name_is_an_error() -> None:
    r = check_mrz(_sub(TD3_1, 7, "1"), TD3_2)
    assert "name: line 1 position 8 is the digit '1'; the name field holds letters and '<'" in r.errors


@given(st.text(max_size=60), st.text(max_size=60))
def test_check_mrz_never_raises(line1: str, line2: str) -> None:
    r = check_mrz(line1, line2)
    assert r.valid is False or (len(line1.strip()) in (36, 44))


@given(
    st.text(alphabet=MRZ_CHARS, min_size=44, max_size=44),
    st.text(alphabet=MRZ_CHARS, min_size=44, max_size=44),
)
def test_check_mrz_never_raises_on_mrz_alphabet(line1: str, line2: str) -> None:
    check_mrz("P" + line1[1:], line2).as_dict()
    check_mrz("V" + line1[1:], line2).as_dict()


# ---------------------------------------------------------------- dates and countries


def _td3_line2(birth: str, expiry: str, nationality: str = "ZZZ") -> str:
    doc = "AB1234567"
    cd = icao_check_digit
    return _composite(
        doc + cd(doc) + nationality + birth + cd(birth) + "M" + expiry + cd(expiry) + "<" * 14 + "0"
    )


ZZZ_1 = "P<ZZZDOE<<JOHN".ljust(44, "<")


def test_birth_century_against_expiry_and_as_of() -> None:
    line2 = _td3_line2("050101", "300101")
    assert check_mrz(ZZZ_1, line2).fields["birth_date"] == "2005-01-01"
    assert check_mrz(ZZZ_1, line2, dt.date(2004, 6, 1)).fields["birth_date"] == "1905-01-01"
    # A birth date in the future of the expiry date belongs to the previous century.
    assert check_mrz(ZZZ_1, _td3_line2("350101", "300101")).fields["birth_date"] == "1935-01-01"


def test_expiry_century() -> None:
    assert check_mrz(ZZZ_1, _td3_line2("500101", "750101")).fields["expiry_date"] == "1975-01-01"
    r = check_mrz(ZZZ_1, _td3_line2("500101", "750101"), as_of=dt.date(2050, 1, 1))
    assert r.fields["expiry_date"] == "2075-01-01"
    assert r.fields["birth_date"] == "2050-01-01"


def test_leap_day_birth() -> None:
    assert check_mrz(ZZZ_1, _td3_line2("000229", "300101")).fields["birth_date"] == "2000-02-29"
    r = check_mrz(ZZZ_1, _td3_line2("010229", "300101"))
    assert not r.valid
    assert "birth_date: line 2 positions 14-19 '010229' is not a calendar date" in r.errors


def test_partly_unknown_birth_date() -> None:
    r = check_mrz(ZZZ_1, _td3_line2("90<<<<", "330101"))
    assert r.valid, r.errors
    assert r.fields["birth_date"] is None
    assert any(n.startswith("birth_date:") for n in r.notes)


def test_unknown_country_codes_are_reported_not_rejected() -> None:
    r = check_mrz(ZZZ_1, _td3_line2("900101", "330101"))
    assert r.valid
    assert r.fields["issuing_state"] == "ZZZ" and r.fields["issuing_state_known"] is False
    line1 = "P<D<<MUSTERMANN<<ERIKA".ljust(44, "<")
    r = check_mrz(line1, _td3_line2("640812", "310801", nationality="D<<"))
    assert r.valid
    assert r.fields["issuing_state"] == "D" and r.fields["nationality"] == "D"
    assert r.fields["issuing_state_known"] is True
    r = check_mrz(ZZZ_1, _td3_line2("900101", "330101", nationality="1AB"))
    assert not r.valid
    assert any(e.startswith("nationality: line 2 positions 11-13 '1AB'") for e in r.errors)


# ---------------------------------------------------------------- Foreign Permanent Resident ID


def test_fpr_valid_constructed() -> None:
    body = "91101080000000001"
    assert permanent_resident_id_check_char(body) == "3"
    r = check_permanent_resident_id(body + "3")
    assert r.valid and r.format == "18" and r.has_check_character
    assert r.as_dict()["citations"][0]["cite"] == "Guide XII(IV)"  # type: ignore[index]


def _mod11_2_recursive(digits: str) -> str:
    """ISO/IEC 7064 MOD 11-2 by its recursive definition (no weight table): an independent oracle."""
    p = 0
    for ch in digits:
        p = (p + int(ch)) * 2 % 11
    value = (12 - p) % 11
    return "X" if value == 10 else str(value)


def test_mod11_2_published_example() -> None:
    """GB 11643-1999's worked example: 11010519491231002 has check character X."""
    assert permanent_resident_id_check_char("11010519491231002") == "X"


@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_mod11_2_agrees_with_the_recursive_definition(tail: str) -> None:
    assert permanent_resident_id_check_char("9" + tail) == _mod11_2_recursive("9" + tail)


def test_fpr_check_x_and_lower_case_x() -> None:
    assert permanent_resident_id_check_char("91000000000000009") == "X"
    assert check_permanent_resident_id("91000000000000009X").valid
    r = check_permanent_resident_id(" 91000000000000009x ")
    assert r.valid and r.number == "91000000000000009X"
    assert r.notes == ("position 18: lower-case 'x' read as 'X'",)


def test_fpr_errors() -> None:
    r = check_permanent_resident_id("911010800000000012")
    assert r.errors == ("check character (position 18): found '2', expected '3'",)
    r = check_permanent_resident_id("11010519491231002X")  # GB 11643-1999's own example citizen number
    assert not r.valid
    assert r.errors[0].startswith("position 1: '1'; a Foreign Permanent Resident ID number starts with 9")
    assert all(c.ok for c in r.checks)
    r = check_permanent_resident_id("9110108000000A0012")
    assert r.errors == ("position 14: 'A' is not a digit",)
    r = check_permanent_resident_id("91101080000000001")
    assert not r.valid and r.errors[0].startswith("length: 17 characters")
    r = check_permanent_resident_id("91101080000000001Y")
    assert r.errors == ("position 18: 'Y'; the check character is a digit or 'X'",)


def test_fpr_legacy_15() -> None:
    r = check_permanent_resident_id("USA110019800101")
    assert r.valid and r.format == "legacy-15" and not r.has_check_character
    assert r.fields["nationality"] == "USA" and r.fields["nationality_known"] is True
    assert "no check character" in r.notes[0]
    r = check_permanent_resident_id("usa110019800101")
    assert not r.valid and r.errors[0].startswith("position 1: 'u' is lower case")
    assert not check_permanent_resident_id("USA11001980010A").valid


def test_fpr_check_char_rejects_bad_body() -> None:
    for body in ("9110108000000000", "9110108000000000A", "911010800000000013"):
        with pytest.raises(InvalidInput):
            permanent_resident_id_check_char(body)


@given(st.text(alphabet="0123456789", min_size=16, max_size=16), st.data())
def test_mod11_2_detects_every_single_substitution(tail: str, data: st.DataObject) -> None:
    number = "9" + tail + permanent_resident_id_check_char("9" + tail)
    assert check_permanent_resident_id(number).valid
    i = data.draw(st.integers(0, 17))
    new = data.draw(st.sampled_from("0123456789X" if i == 17 else "0123456789"))
    assume(new != number[i])
    changed = _sub(number, i, new)
    assert not check_permanent_resident_id(changed).valid
    if i > 0:  # the MOD 11-2 check itself catches it, not only the leading-9 rule
        assert permanent_resident_id_check_char(changed[:17]) != changed[17]


# ---------------------------------------------------------------- unified social credit code


def test_uscc_published_example() -> None:
    r = check_social_credit_code("91350100M000100Y43")
    assert r.valid, r.errors
    assert r.fields["organisation_code"] == "M000100Y4"
    assert r.fields["registration_authority"] == "9" and r.fields["organisation_category"] == "1"
    assert [(c.field, c.expected) for c in r.checks] == [("organisation_code", "4"), ("check_character", "3")]
    assert social_credit_check_char("91350100M000100Y4") == "3"
    assert organisation_code_check_char("M000100Y") == "4"


@pytest.mark.parametrize(
    "code",
    [
        "91110000100000008J",
        "12100000400000026H",
        "513100005000000159",
        "9111010800000006X7",
        "914403000000004570",
    ],
)
def test_uscc_constructed_examples(code: str) -> None:
    assert check_social_credit_code(code).valid


def test_uscc_weights() -> None:
    # Weights 3^(i-1) mod 31 for i = 1..17.
    w = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    for i, weight in enumerate(w):
        body = "0" * i + "1" + "0" * (16 - i)
        assert social_credit_check_char(body) == USCC_ALPHABET[(31 - weight % 31) % 31]


def test_uscc_errors() -> None:
    assert check_social_credit_code("91350100M000100Y44").errors == (
        "check character (position 18): found '4', expected '3'",
    )
    assert check_social_credit_code("91350100M0001O0Y43").errors == (
        "position 14: 'O' is not used in the code (no I, O, S, V, Z)",
    )
    assert check_social_credit_code("91350100m000100Y43").errors == (
        "position 9: 'm' is lower case; the code uses upper-case letters",
    )
    # Organisation code check character wrong, overall check recomputed: only the GB 11714 check fails.
    assert check_social_credit_code("91350100M000100Y56").errors == (
        "organisation code check character (position 17): found '5', expected '4'",
    )
    r = check_social_credit_code("913501A0M000100Y43")
    assert "position 7: 'A'; positions 3-8 (administrative division code) are digits" in r.errors
    assert check_social_credit_code("91350100M000100Y4").errors[0].startswith("length: 17")
    assert check_social_credit_code(" 91350100M000100Y43\n").valid


def test_uscc_check_char_rejects_bad_body() -> None:
    for body in ("91350100M000100Y", "91350100M000100I4"):
        with pytest.raises(InvalidInput):
            social_credit_check_char(body)


_ALPHA = st.sampled_from(USCC_ALPHABET)


@given(
    st.lists(_ALPHA, min_size=2, max_size=2),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.lists(_ALPHA, min_size=8, max_size=8),
    st.data(),
)
def test_mod31_detects_every_single_substitution(
    head: list[str], division: str, org: list[str], data: st.DataObject
) -> None:
    org_body = "".join(org)
    body = "".join(head) + division + org_body + organisation_code_check_char(org_body)
    code = body + social_credit_check_char(body)
    assert check_social_credit_code(code).valid
    i = data.draw(st.integers(0, 17))
    new = data.draw(_ALPHA)
    assume(new != code[i])
    changed = _sub(code, i, new)
    r = check_social_credit_code(changed)
    assert not r.valid
    # The MOD 31 check character alone detects it.
    assert social_credit_check_char(changed[:17]) != changed[17]
    assert any(c.field == "check_character" and not c.ok for c in r.checks)


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_mod31_body_alone(body: str) -> None:
    check = social_credit_check_char(body)
    for i in range(17):
        for ch in USCC_ALPHABET:
            if ch != body[i]:
                assert social_credit_check_char(_sub(body, i, ch)) != check
