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

from cnvisa.law.documents.countries import ICAO_SPECIAL_CODES, ISO_3166_ALPHA3
from cnvisa.law.documents.credit_code import (
    USCC_ALPHABET,
    check_social_credit_code,
    organisation_code_check_char,
    social_credit_check_char,
)
from cnvisa.law.documents.mrz import check_mrv, check_mrz, check_td3, icao_check_digit
from cnvisa.law.documents.resident_id import check_permanent_resident_id, permanent_resident_id_check_char
from cnvisa.law.documents.results import Check, IdCheck, MrzFormat, MrzResult

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
