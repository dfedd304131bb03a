"""One stay as reported, checked before anything is written (Law Art 39; ICAO 9303 MRZ; GB/T 2260 codes), and the
person and passport it names — found on record or added from the MRZ."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases.clock import beijing_date
from cnvisa.cases.errors import BadInput
from cnvisa.law import accommodation as rules
from cnvisa.law.divisions import check_division
from cnvisa.law.documents import check_td3
from cnvisa.law.errors import InvalidInput
from cnvisa.store.tables import Person, TravelDocument

MAX_BATCH: Final = 500
"""Office rule: stays per hotel request (a night's check-ins of a large hotel in one call)."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PREFIX: Final = {"provincial": 2, "prefecture": 4, "county": 6}
"""How much of the division code an office's area shares, by the office's level (Guide III)."""


@dataclass(frozen=True)
class Stay:
    """One stay as reported: the passport's two MRZ lines, where, and when."""

    mrz: tuple[str, str] | None
    """None for a private stay registered by a person whose passport is on record: their current one is used."""
    address: str
    division_code: str
    moved_in_at: dt.datetime
    moved_out_at: dt.datetime | None = None
    stay_ref: str | None = None
    host_name: str | None = None


def text_field(value: str | None, field: str, limit: int) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit or _CONTROL.search(value):
        raise BadInput(field, f"text of 1 to {limit} characters, one line")
    return value


def unlisted(codes: dict[str, str]) -> str:
    named = ", ".join(f"{name} {code!r}" for name, code in codes.items())
    return f"{named}: not an ISO 3166-1 alpha-3 or ICAO Doc 9303 code"


def check_one(
    stay: Stay, now: dt.datetime, channel: rules.Channel, hours: int = rules.HOTEL_REPORT_HOURS_DEFAULT
) -> dict[str, Any]:
    """What the law and the MRZ say of one stay, before anything is written; ``BadInput`` naming the field."""
    try:
        rules.check_stay(stay.moved_in_at, now, stay.moved_out_at)
        division = check_division(stay.division_code, "division_code")
    except InvalidInput as exc:
        raise BadInput(exc.field, exc.message) from None
    if stay.moved_out_at is not None and stay.moved_out_at > now:
        raise BadInput("moved_out_at", "not in the future: a move-out is reported once it happened")
    where = {
        "address": text_field(stay.address, "address", 300),
        "division": division,
        "host_name": text_field(stay.host_name, "host_name", 120) if stay.host_name else None,
        "stay_ref": text_field(stay.stay_ref, "stay_ref", 64) if stay.stay_ref is not None else None,
        "assessed": rules.assess(channel, stay.moved_in_at, now, hotel_report_hours=hours),
    }
    if stay.mrz is None:
        return {**where, "number": None}
    mrz = check_td3(*stay.mrz, as_of=beijing_date(now))
    if not mrz.valid:
        raise BadInput("mrz", "; ".join(mrz.errors) or "check digits do not match (ICAO 9303)")
    if codes := mrz.unlisted_codes():
        raise BadInput("mrz", unlisted(codes))
    f = mrz.fields
    if not f.get("birth_date"):
        raise BadInput("mrz", "the date of birth cannot be read")
    return {
        **where,
        "number": str(f["document_number"]),
        "issuing_state": str(f["issuing_state"]),
        "nationality": str(f["nationality"]),
        "surname": str(f["surname"]),
        "given_names": str(f["given_names"]),
        "birth_date": dt.date.fromisoformat(str(f["birth_date"])),
        "sex": f.get("sex"),
        "expiry": dt.date.fromisoformat(str(f["expiry_date"])) if f.get("expiry_date") else None,
        "mrz_text": "\n".join(s.strip() for s in stay.mrz),
    }


def same_person(person: Person, c: dict[str, Any]) -> bool:
    return bool(
        person.surname.upper().replace("-", " ") == c["surname"]
        and person.birth_date == c["birth_date"]
        and person.nationality == c["nationality"]
    )


def person_values(c: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    return {
        "surname": c["surname"],
        "given_names": c["given_names"],
        "birth_date": c["birth_date"],
        "sex": c["sex"] if c["sex"] in ("M", "F") else None,
        "nationality": c["nationality"],
        "created_at": now,
    }


def document_values(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": c["number"],
        "issuing_state": c["issuing_state"],
        "kind": "passport",
        "valid_until": c["expiry"],
        "mrz": c["mrz_text"],
        "current": True,
    }


async def person_and_document(s: AsyncSession, c: dict[str, Any], now: dt.datetime) -> tuple[int, int]:
    doc = (
        await s.execute(
            select(TravelDocument).where(
                TravelDocument.issuing_state == c["issuing_state"], TravelDocument.number == c["number"]
            )
        )
    ).scalar_one_or_none()
    if doc is not None:
        person = await s.get(Person, doc.person_id)
        assert person is not None
        if not same_person(person, c):
            raise BadInput("mrz", "names another person than the one on record for this passport")
        return person.id, doc.id
    person = Person(**person_values(c, now))
    s.add(person)
    await s.flush()
    doc = TravelDocument(**document_values(c), person_id=person.id)
    s.add(doc)
    await s.flush()
    return person.id, doc.id
