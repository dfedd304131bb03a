"""Paper waived when the record is shared (信息共享免交).

Sources:
- NIA measures 2024-03-20 (seed 001 l.20, the Chinese governs): "在受理外籍人员签证证件申请时，通过部门间信息共享可查询到
  本人住宿登记记录、邀请（聘雇）企业营业执照等信息的，可免予查验相关纸质证明材料" — when the applicant's own accommodation
  registration record, the inviting (employing) enterprise's business licence and the like can be found through
  sharing between departments, the paper proof is not checked.
- Exit and Entry Administration Law Art 5 (the unified exit-entry information platform shared by the agencies);
  Regulations Art 3 (the same, for the administration of foreigners); Administrative Licensing Law Art 33
  (licensing agencies share licensing information).
- Law Art 39: foreigners' accommodation registration (hotels register their guests; elsewhere the foreigner or the
  host registers with the police station within 24 hours) — the accommodation register.
- GB 32100-2015: the unified social credit code, the key of the business-licence register.

Rule: a material is waived only when the lookup finds a record AND the record matches (``match_record``). Not found,
or found and not matching: the paper is back in the one-time notice, with the reason (Regulations Art 13 para 2,
Art 18 para 2: everything missing, at once).

Pure: no I/O, no clock; the caller gives the record seen and the date asked about.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final, Literal

from cnvisa.law.citations import NIA_2024, Citation, law, reg
from cnvisa.law.documents.credit_code import CITE_USCC
from cnvisa.law.errors import InvalidInput

ADMINISTRATIVE_LICENSING_LAW: Final = "Administrative Licensing Law"
"""Administrative Licensing Law of the PRC (行政许可法, 2003, amended 2019)."""

SEED_001_L20: Final = Citation(
    NIA_2024,
    "seed 001 l.20",
    note="通过部门间信息共享可查询到本人住宿登记记录、邀请（聘雇）企业营业执照等信息的，可免予查验相关纸质证明材料",
)
SHARING: Final = (law(5), reg(3), Citation(ADMINISTRATIVE_LICENSING_LAW, "33"))

Register = Literal["accommodation", "business_licence", "work_permit"]
Label = Literal["S", "A"]


@dataclass(frozen=True, slots=True)
class Waiver:
    """A paper a register's record may replace: which register, keyed by what, and why (cited)."""

    material: str
    register: Register
    key: str
    label: Label
    """S: the primary text names the record; A: a proposal of the brief (written as a Reading)."""
    note: str
    citations: tuple[Citation, ...]
    looked_up_here: bool = True
    """False: the rule holds, the lookup is another module's business (the work-permit register: joint cases)."""

    def as_dict(self) -> dict[str, object]:
        return {
            "material": self.material,
            "register": self.register,
            "key": self.key,
            "label": self.label,
            "note": self.note,
            "looked_up_here": self.looked_up_here,
            "citations": [c.as_dict() for c in self.citations],
        }


WAIVERS: Final[dict[str, Waiver]] = {
    w.material: w
    for w in (
        Waiver(
            "accommodation_registration",
            "accommodation",
            "the applicant (person on record, travel document)",
            "S",
            "住宿登记记录 is named by seed 001 l.20; the register is the one Law Art 39 sets up",
            (SEED_001_L20, law(39), *SHARING),
        ),
        Waiver(
            "employer_business_licence",
            "business_licence",
            "the inviting or employing organisation's unified social credit code",
            "S",
            "邀请（聘雇）企业营业执照 is named by seed 001 l.20. Reading: the market-regulation register, keyed by the "
            "unified social credit code (GB 32100-2015), is where it is found (brief §5 [A])",
            (SEED_001_L20, *SHARING, CITE_USCC),
        ),
        Waiver(
            "work_permit",
            "work_permit",
            "the work permit number, or the joint application",
            "A",
            "Reading (brief §5 [A]): the work permit is not asked on paper in a joint case, or when found in the "
            "work-permit register; 等 in seed 001 l.20 leaves the list open, and Law Art 41 / Regulations Art 16 "
            "require the permit itself, not its paper copy. Waived when an active work permit of the same person "
            "and the same employer covers the application date (the joint case: its sibling branch)",
            (SEED_001_L20, law(41), reg(16), *SHARING),
        ),
    )
}


def waivable(material: str) -> dict[str, object] | None:
    """The rule that lets a register's record replace ``material`` (None: the paper is always asked)."""
    w = WAIVERS.get(material)
    return w.as_dict() if w is not None else None


AREA_DIGITS: Final[dict[str, int]] = {"provincial": 2, "prefecture": 4, "county": 6}
"""Reading: "the address in the office's area" — a GB/T 2260 division code lies in an office's area when it shares
the office's region code to the office's level (province: 2 digits, prefecture: 4, county: 6)."""


def in_area(division_code: str, office_region: str, office_level: str) -> bool:
    digits = AREA_DIGITS.get(office_level)
    if digits is None:
        raise InvalidInput("office_level", f"one of {', '.join(AREA_DIGITS)}", kind="choice")
    return division_code[:digits] == office_region[:digits]


def _date(value: Any, field: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(field, "a date YYYY-MM-DD", kind="date") from None


def match_record(material: str, record: dict[str, Any] | None, ask: dict[str, Any]) -> dict[str, Any]:
    """Does the record found replace the paper? ``ask``: what the case asks about (``person_id``, ``uscc``,
    ``on`` — the application date, ``office_region``, ``office_level``). Returns ``found``, ``matched``,
    ``matched_fields`` (the conditions met) and ``reason`` (the first condition not met, or why nothing was found).

    - accommodation registration: the same person; the registration covers the application date (from ≤ on ≤
      until, or no end); the address's division code in the office's area (``in_area``).
    - business licence: the same organisation (unified social credit code); status ``active`` (a revoked or
      cancelled licence proves nothing); valid on the application date (no end date: 长期)."""
    w = WAIVERS.get(material)
    if w is None:
        raise InvalidInput("material", f"not waivable through a shared record: one of {', '.join(WAIVERS)}")
    if record is None:
        return {"found": False, "matched": False, "matched_fields": [], "reason": "no record found"}
    on = _date(ask.get("on"), "on")
    assert on is not None
    fields: list[str] = []
    fails: list[str] = []
    if w.register == "accommodation":
        (fields if record.get("person_id") == ask.get("person_id") else fails).append("person")
        start, end = _date(record.get("from"), "from"), _date(record.get("until"), "until")
        covers = start is not None and start <= on and (end is None or on <= end)
        if covers:
            fields.append("dates")
        else:
            fails.append(
                f"dates: the registration ({start} to {end or 'open'}) does not cover the application date {on}"
            )
        if in_area(
            str(record.get("division_code") or ""), str(ask["office_region"]), str(ask["office_level"])
        ):
            fields.append("address")
        else:
            fails.append(
                f"address: division {record.get('division_code')} is outside the office's area "
                f"({ask['office_region']}, {ask['office_level']})"
            )
        if "person" in fails:
            fails[fails.index("person")] = "person: the registration is another person's"
    elif w.register == "business_licence":
        if record.get("uscc") == ask.get("uscc"):
            fields.append("organisation")
        else:
            fails.append("organisation: another unified social credit code")
        status = record.get("status")
        if status == "active":
            fields.append("status")
        else:
            fails.append(f"status: the licence is {status}, not active")
        until = _date(record.get("valid_until"), "valid_until")
        if until is None or on <= until:
            fields.append("dates")
        else:
            fails.append(f"dates: the licence ended on {until}, before the application date {on}")
    else:  # the work-permit register
        (fields if record.get("person_id") == ask.get("person_id") else fails).append("person")
        if "person" in fails:
            fails[fails.index("person")] = "person: the work permit is another person's"
        if record.get("employer_uscc") == ask.get("uscc"):
            fields.append("employer")
        else:
            fails.append("employer: the work permit is for another employer")
        status = record.get("status")
        if status == "active":
            fields.append("status")
        else:
            fails.append(f"status: the work permit is {status}, not active")
        start, end = (
            _date(record.get("valid_from"), "valid_from"),
            _date(record.get("valid_until"), "valid_until"),
        )
        if start is not None and end is not None and start <= on <= end:
            fields.append("dates")
        else:
            fails.append(
                f"dates: the work permit ({start} to {end}) does not cover the application date {on}"
            )
    return {
        "found": True,
        "matched": not fails,
        "matched_fields": fields,
        "reason": "; ".join(fails) if fails else None,
    }
