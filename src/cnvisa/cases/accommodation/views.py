"""How a stay is shown, and the area's bound on division codes (the police's day view reads it by index)."""

from __future__ import annotations

from typing import Any

from cnvisa.store.register_tables import AccommodationRegistration as Reg
from cnvisa.store.tables import Person, TravelDocument


def in_area(prefix: str) -> list[Any]:
    """Division codes starting with ``prefix`` as a range (digits only), so an index on the codes serves it on
    every engine and collation: '3101' → ≥ '3101' and < '3102'."""
    upper = str(int(prefix) + 1).zfill(len(prefix))
    bound = [Reg.division_code >= prefix]
    return bound + ([Reg.division_code < upper] if len(upper) == len(prefix) else [])


def view(r: Any) -> dict[str, Any]:
    """A stay as shown: ``r`` a stored row or the values just inserted (``SimpleNamespace``)."""
    out: dict[str, Any] = {
        "id": r.id,
        "person_id": r.person_id,
        "address": r.address,
        "division_code": r.division_code,
        "moved_in_at": r.moved_in_at.isoformat() if r.moved_in_at else None,
        "moved_out_at": r.moved_out_at.isoformat() if r.moved_out_at else None,
        "registered_from": r.registered_from.isoformat(),
        "registered_until": r.registered_until.isoformat() if r.registered_until else None,
        "registered_by": r.registered_by,
        "recorded_at": r.recorded_at.isoformat(),
        "due_at": r.due_at.isoformat() if r.due_at else None,
        "on_time": r.on_time,
    }
    if r.stay_ref is not None:
        out["stay_ref"] = r.stay_ref
    return out


WHO = (Person.surname, Person.given_names, Person.nationality, TravelDocument.number.label("passport"))
"""Who stayed, for the police and the hotel that registered them (never for anyone else)."""


def with_who(q: Any) -> Any:
    return (
        q.add_columns(*WHO)
        .join(Person, Person.id == Reg.person_id)
        .outerjoin(TravelDocument, TravelDocument.id == Reg.travel_document_id)
    )


def named(row: Any) -> dict[str, Any]:
    return {
        **view(row[0]),
        "name": f"{row.surname} {row.given_names}".strip(),
        "nationality": row.nationality,
        "passport": row.passport,
    }
