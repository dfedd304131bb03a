"""The accommodation register (住宿登记, Law Art 39; issue 11 §3): hotels report their foreign guests, people
register private stays, the police see their area.

- **Hotels** (an organisation of kind ``hotel``, its front desk ``hotel_staff``) report stays in batches of at most
  ``MAX_BATCH``: each read from the passport's MRZ (ICAO 9303 check digits; a bad one rejects that stay, naming
  the field), with the hotel's own stay reference — sent again it is the same stay (idempotent per stay): the same
  facts answer ``replayed``, a check-out time added records the move-out, other facts are refused naming
  ``stay_ref``. Each stay is written or refused on its own: one bad passport does not stop the others.
- **Private stays** (Art 39 para 2): the foreigner, an agent under a mandate, or a police station's officer for
  them registers within 24 hours of moving in; a late registration is recorded as late, with the sanction the law
  allows shown (Art 76 para 1(6)) and nothing imposed. Moving out closes the stay.
- **The police** (an office's officers and supervisors): registrations in the office's area (its GB/T 2260
  division: a provincial office the province, a prefecture's its prefecture, a county's its county) by day of
  moving in, the late ones, and a search by passport number (audited as a staff read).

A passport not on record is added from its MRZ with the person it names (the border's entry record is outside
this platform); one on record must name the same person (surname, birth date, nationality), else the stay is
refused. Every registration is audited. ``registered_from``/``registered_until`` (Beijing dates) are kept for the
shared-record lookups (``cnvisa.cases.evidence``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Final

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases import audit
from cnvisa.cases.actor import Actor, caseless_event
from cnvisa.cases.clock import Clock, Clocked, beijing_date
from cnvisa.cases.errors import BadInput, Forbidden, NotFound
from cnvisa.cases.workflow import STAFF, Role
from cnvisa.law import accommodation as rules
from cnvisa.law.divisions import check_division
from cnvisa.law.documents import check_td3
from cnvisa.law.errors import InvalidInput
from cnvisa.store.register_tables import AccommodationRegistration as Reg
from cnvisa.store.tables import Office, Organisation, Person, TravelDocument

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


def _text(value: str | None, field: str, limit: int) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit or _CONTROL.search(value):
        raise BadInput(field, f"text of 1 to {limit} characters, one line")
    return value


def _unlisted(codes: dict[str, str]) -> str:
    named = ", ".join(f"{name} {code!r}" for name, code in codes.items())
    return f"{named}: not an ISO 3166-1 alpha-3 or ICAO Doc 9303 code"


def _checked(
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
        "address": _text(stay.address, "address", 300),
        "division": division,
        "host_name": _text(stay.host_name, "host_name", 120) if stay.host_name else None,
        "stay_ref": _text(stay.stay_ref, "stay_ref", 64) if stay.stay_ref is not None else None,
        "assessed": rules.assess(channel, stay.moved_in_at, now, hotel_report_hours=hours),
    }
    if stay.mrz is None:
        return {**where, "number": None}
    mrz = check_td3(*stay.mrz, as_of=beijing_date(now))
    if not mrz.valid:
        raise BadInput("mrz", "; ".join(mrz.errors) or "check digits do not match (ICAO 9303)")
    if unlisted := mrz.unlisted_codes():
        raise BadInput("mrz", _unlisted(unlisted))
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


def _same_person(person: Person, c: dict[str, Any]) -> bool:
    return bool(
        person.surname.upper().replace("-", " ") == c["surname"]
        and person.birth_date == c["birth_date"]
        and person.nationality == c["nationality"]
    )


def _person_values(c: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    return {
        "surname": c["surname"],
        "given_names": c["given_names"],
        "birth_date": c["birth_date"],
        "sex": c["sex"] if c["sex"] in ("M", "F") else None,
        "nationality": c["nationality"],
        "created_at": now,
    }


def _document_values(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": c["number"],
        "issuing_state": c["issuing_state"],
        "kind": "passport",
        "valid_until": c["expiry"],
        "mrz": c["mrz_text"],
        "current": True,
    }


async def _person_and_document(s: AsyncSession, c: dict[str, Any], now: dt.datetime) -> tuple[int, int]:
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
        if not _same_person(person, c):
            raise BadInput("mrz", "names another person than the one on record for this passport")
        return person.id, doc.id
    person = Person(**_person_values(c, now))
    s.add(person)
    await s.flush()
    doc = TravelDocument(**_document_values(c), person_id=person.id)
    s.add(doc)
    await s.flush()
    return person.id, doc.id


def _in_area(prefix: str) -> list[Any]:
    """Division codes starting with ``prefix`` as a range (digits only), so an index on the codes serves it on
    every engine and collation: '3101' → ≥ '3101' and < '3102'."""
    upper = str(int(prefix) + 1).zfill(len(prefix))
    bound = [Reg.division_code >= prefix]
    return bound + ([Reg.division_code < upper] if len(upper) == len(prefix) else [])


def _view(r: Any) -> dict[str, Any]:
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


_WHO = (Person.surname, Person.given_names, Person.nationality, TravelDocument.number.label("passport"))
"""Who stayed, for the police and the hotel that registered them (never for anyone else)."""


def _with_who(q: Any) -> Any:
    return (
        q.add_columns(*_WHO)
        .join(Person, Person.id == Reg.person_id)
        .outerjoin(TravelDocument, TravelDocument.id == Reg.travel_document_id)
    )


def _named(row: Any) -> dict[str, Any]:
    return {
        **_view(row[0]),
        "name": f"{row.surname} {row.given_names}".strip(),
        "nationality": row.nationality,
        "passport": row.passport,
    }


class AccommodationService(Clocked):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock | None = None,
        *,
        hotel_report_hours: int = rules.HOTEL_REPORT_HOURS_DEFAULT,
    ) -> None:
        super().__init__(sessions, clock)
        self.hotel_report_hours = hotel_report_hours

    # ------------------------------------------------------------------------------------------- hotels
    async def report_hotel_stays(self, actor: Actor, stays: Sequence[Stay]) -> dict[str, Any]:
        """A hotel's report (Law Art 39 para 1): one outcome per stay, in the order given.

        Set-based (issue 11: hotels report tens of millions of guest-nights a year): every stay is checked before
        anything is written, the stays and passports already on record are read in two queries, and the new
        people, passports and stays are written in three statements. Two reports racing on the same stay
        reference: the loser is read again from the start, so it answers ``replayed``."""
        if actor.role != Role.HOTEL_STAFF or actor.organisation_id is None:
            raise Forbidden("only a hotel's front desk reports its guests (Law Art 39 para 1)")
        if not 1 <= len(stays) <= MAX_BATCH:
            raise BadInput("stays", f"1 to {MAX_BATCH} stays a request (office rule)")
        now = self.now()
        checked: list[dict[str, Any] | BadInput] = []
        for stay in stays:
            try:
                if stay.stay_ref is None:
                    raise BadInput("stay_ref", "the hotel's own reference of the stay (idempotency)")
                if stay.mrz is None:
                    raise BadInput("mrz", "the passport's two MRZ lines, as scanned at check-in")
                checked.append(_checked(stay, now, "hotel", self.hotel_report_hours))
            except BadInput as exc:
                checked.append(exc)
        for attempt in (1, 2):
            try:
                results = await self._hotel_batch(actor, stays, checked, now)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
        counts: dict[str, int] = {}
        for r in results:
            counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
        return {"results": results, "counts": counts, "citations": [rules.HOTEL_STAY.as_dict()]}

    async def _hotel_batch(
        self, actor: Actor, stays: Sequence[Stay], checked: list[dict[str, Any] | BadInput], now: dt.datetime
    ) -> list[dict[str, Any]]:
        good = [c for c in checked if isinstance(c, dict)]
        async with self.sessions() as s, s.begin():
            hotel = await s.get(Organisation, actor.organisation_id)
            if hotel is None or hotel.kind != "hotel":
                raise Forbidden("only a hotel's front desk reports its guests (Law Art 39 para 1)")
            known: dict[str, tuple[Reg, str | None]] = {}
            if good:
                rows = await s.execute(
                    select(Reg, TravelDocument.number)
                    .outerjoin(TravelDocument, TravelDocument.id == Reg.travel_document_id)
                    .where(Reg.organisation_id == hotel.id, Reg.stay_ref.in_({c["stay_ref"] for c in good}))
                )
                known = {r.stay_ref or "": (r, n) for r, n in rows.all()}
            docs: dict[tuple[str, str], tuple[TravelDocument, Person]] = {}
            if good:
                held_rows = await s.execute(
                    select(TravelDocument, Person)
                    .join(Person, Person.id == TravelDocument.person_id)
                    .where(TravelDocument.number.in_({c["number"] for c in good}))
                )
                docs = {(d.issuing_state, d.number): (d, p) for d, p in held_rows.all()}
            plans: list[tuple[int, dict[str, Any], tuple[str, str]]] = []
            new_guests: dict[tuple[str, str], dict[str, Any]] = {}
            planned: set[str] = set()
            results: list[dict[str, Any] | None] = [None] * len(stays)
            for i, (stay, c) in enumerate(zip(stays, checked, strict=True)):
                try:
                    if isinstance(c, BadInput):
                        raise c
                    if c["stay_ref"] in planned:
                        raise BadInput("stay_ref", "sent twice in this report")
                    if c["stay_ref"] in known:
                        results[i] = self._hotel_known(i, stay, c, known)
                        continue
                    key = (c["issuing_state"], c["number"])
                    held = docs.get(key)
                    if held is not None and not _same_person(held[1], c):
                        raise BadInput("mrz", "names another person than the one on record for this passport")
                    if held is None:  # added from the MRZ with the person it names (once for two rooms)
                        new_guests.setdefault(key, c)
                    plans.append((i, c, key))
                    planned.add(c["stay_ref"])
                except BadInput as exc:
                    results[i] = {
                        "index": i,
                        "outcome": "rejected",
                        "field": exc.field,
                        "detail": exc.message,
                    }
            # three INSERTs with RETURNING, in the order given: people, passports, stays
            ids = {key: (d.person_id, d.id) for key, (d, _p) in docs.items()}
            if new_guests:
                people = await s.scalars(
                    insert(Person).returning(Person.id, sort_by_parameter_order=True),
                    [_person_values(c, now) for c in new_guests.values()],
                )
                person_ids = list(people)
                passports = await s.scalars(
                    insert(TravelDocument).returning(TravelDocument.id, sort_by_parameter_order=True),
                    [
                        {**_document_values(c), "person_id": pid}
                        for c, pid in zip(new_guests.values(), person_ids, strict=True)
                    ],
                )
                for key, pid, did in zip(new_guests, person_ids, passports, strict=True):
                    ids[key] = (pid, did)
            if plans:
                values = [
                    {
                        **self._values(*ids[key], c, stays[i], now, "hotel", actor),
                        "organisation_id": hotel.id,
                        "stay_ref": c["stay_ref"],
                    }
                    for i, c, key in plans
                ]
                reg_ids = await s.scalars(insert(Reg).returning(Reg.id, sort_by_parameter_order=True), values)
                for (i, c, _key), v, rid in zip(plans, values, reg_ids, strict=True):
                    results[i] = {
                        "index": i,
                        "outcome": "registered",
                        "registration": _view(SimpleNamespace(**v, id=rid)),
                        "assessment": c["assessed"].as_dict(),
                    }
            done = [r for r in results if r is not None]
            # one audit event for the report, naming every stay it wrote (a hotel's batch is one act)
            wrote = {
                k: [r["registration"]["id"] for r in done if r["outcome"] == k]
                for k in ("registered", "moved_out")
            }
            if wrote["registered"] or wrote["moved_out"]:
                detail = {"channel": "hotel", **wrote, "stays": len(stays)}
                await audit.append(s, **caseless_event(actor, now, "accommodation_reported", detail, None))
        return done

    def _hotel_known(
        self, i: int, stay: Stay, c: dict[str, Any], known: dict[str, tuple[Reg, str | None]]
    ) -> dict[str, Any]:
        """A stay reference on record: the same facts are a replay (a check-out added records it), else refused."""
        reg, number = known[c["stay_ref"]]
        same = number == c["number"] and reg.moved_in_at == stay.moved_in_at and reg.address == c["address"]
        if not same:
            raise BadInput("stay_ref", "already reported for another guest, room or check-in")
        if stay.moved_out_at is not None and reg.moved_out_at is None:
            self._move_out(reg, stay.moved_out_at)
            return {"index": i, "outcome": "moved_out", "registration": _view(reg)}
        return {"index": i, "outcome": "replayed", "registration": _view(reg)}

    def _new(self, *args: Any) -> Reg:
        return Reg(**self._values(*args))

    @staticmethod
    def _values(
        person_id: int, doc_id: int, c: dict[str, Any], stay: Stay, now: dt.datetime, by: str, actor: Actor
    ) -> dict[str, Any]:
        a: rules.Assessment = c["assessed"]
        return {
            "person_id": person_id,
            "travel_document_id": doc_id,
            "address": c["address"],
            "division_code": c["division"],
            "registered_from": beijing_date(stay.moved_in_at),
            "registered_until": beijing_date(stay.moved_out_at) if stay.moved_out_at else None,
            "registered_by": by,
            "recorded_at": now,
            "moved_in_at": stay.moved_in_at,
            "moved_out_at": stay.moved_out_at,
            "host_name": c["host_name"],
            "recorded_by": actor.account_id,
            "due_at": a.due_at,
            "on_time": a.on_time,
            "organisation_id": None,
            "stay_ref": None,
        }

    @staticmethod
    def _move_out(reg: Reg, at: dt.datetime) -> None:
        if reg.moved_in_at is not None and at < reg.moved_in_at:
            raise BadInput("moved_out_at", "not before moving in")
        reg.moved_out_at = at
        reg.registered_until = beijing_date(at)

    # ------------------------------------------------------------------------------------ private stays
    async def register_private_stay(self, actor: Actor, person_id: int, stay: Stay) -> dict[str, Any]:
        """Law Art 39 para 2: the foreigner (or their agent) online, or a police station's officer at the desk."""
        if actor.role in (Role.APPLICANT, Role.AGENT):
            if person_id != actor.person_id and person_id not in actor.represents:
                raise NotFound("no such person among those you act for")
            channel: rules.Channel = "online"
            by = "self" if person_id == actor.person_id else "host"
        elif actor.role in STAFF:
            channel, by = "police_station", "police"
        else:
            raise Forbidden("registered by the foreigner, their host or agent, or at a police station")
        now = self.now()
        c = _checked(stay, now, channel)
        async with self.sessions() as s, s.begin():
            if c["number"] is None:  # the person's current passport on record
                doc = (
                    await s.execute(
                        select(TravelDocument)
                        .where(TravelDocument.person_id == person_id, TravelDocument.current.is_(True))
                        .order_by(TravelDocument.id.desc())
                        .limit(1)
                    )
                ).scalar_one_or_none()
                if doc is None:
                    raise BadInput("mrz", "no passport of this person is on record: give its MRZ lines")
            else:
                doc = (
                    await s.execute(
                        select(TravelDocument).where(
                            TravelDocument.issuing_state == c["issuing_state"],
                            TravelDocument.number == c["number"],
                        )
                    )
                ).scalar_one_or_none()
            if doc is None or doc.person_id != person_id:
                raise BadInput("mrz", "is not a passport on record of this person")
            same = (
                await s.execute(
                    select(Reg).where(
                        Reg.person_id == person_id,
                        Reg.organisation_id.is_(None),
                        Reg.moved_in_at == stay.moved_in_at,
                        Reg.address == c["address"],
                    )
                )
            ).scalar_one_or_none()
            if same is not None:  # sent again (a retry, a double click): the same stay, nothing written
                return {"registration": _view(same), "assessment": c["assessed"].as_dict(), "replayed": True}
            reg = self._new(person_id, doc.id, c, stay, now, by, actor)
            s.add(reg)
            await s.flush()
            await audit.append(
                s,
                **caseless_event(
                    actor,
                    now,
                    "accommodation_registered",
                    {"registration": reg.id, "channel": channel},
                    actor.office_id,
                ),
            )
            return {"registration": _view(reg), "assessment": c["assessed"].as_dict()}

    async def move_out(self, actor: Actor, registration_id: int, at: dt.datetime) -> dict[str, Any]:
        if at.tzinfo is None:
            raise BadInput("moved_out_at", "an instant with its offset")
        now = self.now()
        async with self.sessions() as s, s.begin():
            reg = await s.get(Reg, registration_id, with_for_update=True)
            mine = False
            if reg is not None and actor.role in (Role.APPLICANT, Role.AGENT):
                mine = reg.person_id == actor.person_id or reg.person_id in actor.represents
            elif reg is not None and actor.role == Role.HOTEL_STAFF:
                mine = reg.organisation_id is not None and reg.organisation_id == actor.organisation_id
            elif reg is not None and actor.role in STAFF:
                _, prefix = await self._area(s, actor)  # the police of the stay's area
                mine = reg.division_code.startswith(prefix)
            if reg is None or not mine:
                raise NotFound("no such registration of yours")
            if reg.moved_out_at is not None:
                raise BadInput("moved_out_at", "the stay is closed already")
            if at > now:
                raise BadInput("moved_out_at", "not in the future")
            self._move_out(reg, at)
            await audit.append(
                s,
                **caseless_event(
                    actor, now, "accommodation_moved_out", {"registration": reg.id}, actor.office_id
                ),
            )
            return {"registration": _view(reg)}

    # -------------------------------------------------------------------------------------- the police
    async def _area(self, s: AsyncSession, actor: Actor) -> tuple[Office, str]:
        if actor.role not in STAFF or actor.office_id is None:
            raise Forbidden("the police of the area only")
        office = await s.get(Office, actor.office_id)
        assert office is not None
        return office, office.region[: PREFIX.get(office.level, 6)]

    async def area_day(self, actor: Actor, day: dt.date, *, late_only: bool = False) -> dict[str, Any]:
        """Registrations in the office's area of stays begun on ``day`` (Beijing date); late ones first."""
        async with self.sessions() as s:
            office, prefix = await self._area(s, actor)
            q = _with_who(select(Reg)).where(Reg.registered_from == day, *_in_area(prefix))
            if late_only:
                q = q.where(Reg.on_time.is_(False))
            rows = (await s.execute(q.order_by(Reg.on_time.asc(), Reg.moved_in_at, Reg.id).limit(1000))).all()
            late = (
                await s.execute(
                    select(func.count())
                    .select_from(Reg)
                    .where(
                        Reg.registered_from == day,
                        *_in_area(prefix),
                        Reg.on_time.is_(False),
                    )
                )
            ).scalar_one()
        await self._read_audit(actor, "accommodation_area_day", {"day": day.isoformat(), "rows": len(rows)})
        return {
            "office": office.code,
            "area": prefix,
            "day": day.isoformat(),
            "late": late,
            "registrations": [_named(r) for r in rows],
            "sanctions": {
                "private_stay": rules.PRIVATE_SANCTION.as_dict(),
                "hotel_report": rules.HOTEL_SANCTION.as_dict(),
                "imposed": False,
            },
        }

    async def search_passport(self, actor: Actor, number: str) -> dict[str, Any]:
        number = _text(number, "passport", 20).upper()
        async with self.sessions() as s:
            _, prefix = await self._area(s, actor)
            rows = (
                await s.execute(
                    _with_who(select(Reg))
                    .where(TravelDocument.number == number, *_in_area(prefix))
                    .order_by(Reg.registered_from.desc(), Reg.id.desc())
                    .limit(100)
                )
            ).all()
        await self._read_audit(actor, "accommodation_search", {"found": len(rows)})
        return {"registrations": [_named(r) for r in rows]}

    async def _read_audit(self, actor: Actor, action: str, detail: dict[str, Any]) -> None:
        async with self.sessions() as s, s.begin():
            await audit.append(s, **caseless_event(actor, self.now(), action, detail, actor.office_id))

    # ------------------------------------------------------------------------------------------ listings
    async def of_people(self, actor: Actor) -> list[dict[str, Any]]:
        """The registrations of the foreigner and of those they act for, newest first."""
        if actor.role not in (Role.APPLICANT, Role.AGENT):
            raise Forbidden("the foreigner or their agent")
        people = {p for p in (actor.person_id, *actor.represents) if p is not None}
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    select(Reg)
                    .where(Reg.person_id.in_(people))
                    .order_by(Reg.registered_from.desc(), Reg.id.desc())
                    .limit(200)
                )
            ).scalars()
            return [_view(r) for r in rows]

    async def hotel_day(self, actor: Actor, day: dt.date) -> list[dict[str, Any]]:
        """The hotel's own reports of stays begun on ``day`` (Beijing date)."""
        if actor.role != Role.HOTEL_STAFF or actor.organisation_id is None:
            raise Forbidden("a hotel's staff")
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    _with_who(select(Reg))
                    .where(Reg.organisation_id == actor.organisation_id, Reg.registered_from == day)
                    .order_by(Reg.moved_in_at.desc(), Reg.id.desc())
                    .limit(1000)
                )
            ).all()
            return [_named(r) for r in rows]
