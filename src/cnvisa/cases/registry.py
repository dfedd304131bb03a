"""The records a case stands on: people and their travel documents, the visas and permits they hold,
their entries and exits; organisations; offices; accounts and mandates. Every write is a command with an
audit event in the same transaction; bad input is refused with the field named and nothing written.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases import audit
from cnvisa.cases.clock import Clocked, today
from cnvisa.cases.errors import BadInput, Forbidden, NotFound
from cnvisa.cases.records import require_uscc
from cnvisa.cases.service import Actor, caseless_event
from cnvisa.cases.workflow import Role
from cnvisa.law.application import NATIONALITY_CODES
from cnvisa.law.categories import CATEGORIES
from cnvisa.law.documents import check_mrz
from cnvisa.law.errors import InvalidInput
from cnvisa.law.residence import PERMIT_TYPES
from cnvisa.law.status import DocumentState, declare_void, entries_left
from cnvisa.law.status import cancel as cancel_document
from cnvisa.store.tables import (
    Account,
    Holding,
    Mandate,
    Movement,
    Office,
    Organisation,
    Person,
    TravelDocument,
)

ORGANISATION_KINDS = frozenset(
    {
        "inviting_entity",
        "employer",
        "school",
        "service_agency",
        "travel_agency",
        # institutions that verify identity (Regulations Art 27: finance, education, medical care, telecommunications)
        "bank",
        "insurer",
        "hospital",
        "telecom",
    }
)
OFFICE_LEVELS = frozenset({"provincial", "prefecture", "county"})  # Guide III
MANDATE_CAPACITIES = frozenset({"relative", "inviting_entity", "inviting_person", "service_agency"})  # Art 19
HOLDING_KINDS = frozenset({"visa", "stay_permit", "residence_permit"})
_NATIONALITY = re.compile(r"^[A-Z<]{1,3}$")
_REGISTRARS = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM})


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _code(value: str | None, table: Any, field: str, named: str) -> None:
    """A code field checked against its table of the law (issue 13: a stay permit of visa category "ZZ")."""
    _need(
        isinstance(value, str) and value in table,
        field,
        f"{value!r} is not in {named} ({', '.join(sorted(table)) if len(table) < 40 else 'see the table'})",
    )


def _text(value: str, field: str) -> None:
    _need(not _CONTROL.search(value), field, "must not contain control characters (NUL, line breaks, tabs …)")


def _need(ok: bool, field: str, message: str) -> None:
    if not ok:
        raise BadInput(field, message)


def _check_opening_hours(opening_hours: Any) -> None:
    """``{"mon-fri": ["09:00-12:00", "13:30-17:00"], "sat": "09:00-12:00"}``: day names or ranges, each with
    one or more "HH:MM-HH:MM" ranges — the form the appointment slots are made from."""
    from cnvisa.cases.appointments import DAY_NAMES, _days_of, _ranges

    _need(
        isinstance(opening_hours, dict) and bool(opening_hours),
        "opening_hours",
        'a mapping of days to hours, e.g. {"mon-fri": ["09:00-12:00", "13:30-17:00"]}',
    )
    for key, value in opening_hours.items():
        parts = [p.strip() for p in str(key).lower().split(",")]
        _need(
            all(
                p in DAY_NAMES
                or (len(p.split("-")) == 2 and all(d.strip() in DAY_NAMES for d in p.split("-")))
                for p in parts
            )
            and bool(_days_of(str(key))),
            f"opening_hours.{key}",
            f"days are {', '.join(DAY_NAMES)} or a range of them such as mon-fri",
        )
        items = value if isinstance(value, list) else [value]
        _need(
            bool(items) and len(_ranges(value)) == len(items),
            f"opening_hours.{key}",
            'each range is "HH:MM-HH:MM", opening before closing, within the day',
        )


def holding_status(h: Holding, on: dt.date) -> str:
    """valid / expired / void / cancelled on ``on`` (void and cancelled are decisions, Art 34-35; expiry is
    by date)."""
    if h.status in ("void", "cancelled"):
        return h.status
    return "expired" if on > h.valid_until else "valid"


class Registry(Clocked):
    async def _audit(self, s: AsyncSession, actor: Actor, *, action: str, detail: dict[str, Any]) -> None:
        """The audit event of a records change by ``actor``, in the caller's transaction (no case)."""
        await audit.append(s, **caseless_event(actor, self.clock.now(), action, detail, actor.office_id))

    async def _write(
        self, actor: Actor, action: str, detail: dict[str, Any], rows: list[Any], field: str | None = None
    ) -> list[int]:
        """Add ``rows`` with their audit event in one transaction; a unique or foreign key conflict is bad input
        naming ``field`` (the one the conflict can only be about), and nothing is written."""
        if actor.role not in _REGISTRARS:
            raise Forbidden(f"a {actor.role} does not keep the records")
        async with self.sessions() as s:
            try:
                async with s.begin():
                    s.add_all(rows)
                    await s.flush()
                    await self._audit(
                        s,
                        actor,
                        action=action,
                        detail={**detail, "ids": [r.id for r in rows]},
                    )
            except IntegrityError as exc:
                raise BadInput(
                    field or action, f"conflicts with an existing record ({type(exc.orig).__name__})"
                ) from None
        return [r.id for r in rows]

    async def register_office(
        self,
        actor: Actor,
        *,
        code: str,
        name_zh: str,
        name_en: str,
        level: str,
        region: str,
        opening_hours: dict[str, Any],
        slot_minutes: int = 30,
        slot_capacity: int = 4,
    ) -> int:
        _need(bool(re.fullmatch(r"[A-Z0-9]{2,16}", code)), "code", "2-16 capital letters or digits")
        _need(level in OFFICE_LEVELS, "level", f"one of {', '.join(sorted(OFFICE_LEVELS))} (Guide III)")
        _need(bool(re.fullmatch(r"\d{6}", region)), "region", "a 6-digit administrative division code")
        _need(
            bool(name_zh.strip()) and bool(name_en.strip()),
            "name",
            "the office is named in Chinese and English",
        )
        _check_opening_hours(opening_hours)
        _need(5 <= slot_minutes <= 240, "slot_minutes", "between 5 and 240")
        _need(slot_capacity >= 1, "slot_capacity", "at least 1 appointment per slot")
        office = Office(
            code=code,
            name_zh=name_zh,
            name_en=name_en,
            level=level,
            region=region,
            opening_hours=opening_hours,
            slot_minutes=slot_minutes,
            slot_capacity=slot_capacity,
        )
        return (await self._write(actor, "register_office", {"code": code}, [office], "code"))[0]

    async def register_organisation(
        self, actor: Actor, *, uscc: str, name: str, kind: str, region: str | None = None
    ) -> int:
        code = require_uscc(uscc)  # GB 32100-2015 check character
        _need(kind in ORGANISATION_KINDS, "kind", f"one of {', '.join(sorted(ORGANISATION_KINDS))}")
        _need(bool(name.strip()), "name", "required")
        org = Organisation(uscc=code, name=name.strip(), kind=kind, region=region or code[2:8])
        return (await self._write(actor, "register_organisation", {"uscc": code}, [org], "uscc"))[0]

    async def register_person(
        self,
        actor: Actor,
        *,
        surname: str,
        given_names: str,
        birth_date: dt.date,
        nationality: str,
        sex: str | None = None,
    ) -> int:
        _need(bool(surname.strip()), "surname", "required")
        _text(surname, "surname")
        _text(given_names, "given_names")
        _need(
            bool(_NATIONALITY.fullmatch(nationality)),
            "nationality",
            "an ICAO 9303 code of 1-3 capital letters",
        )
        # "D<<" as the MRZ pads it is Germany's "D"
        _code(
            nationality.rstrip("<"),
            NATIONALITY_CODES,
            "nationality",
            "ISO 3166-1 alpha-3 / ICAO Doc 9303 codes",
        )
        _need(dt.date(1900, 1, 1) <= birth_date <= today(self.clock), "birth_date", "not in the future")
        _need(sex in (None, "M", "F", "X"), "sex", "M, F or X")
        person = Person(
            surname=surname.strip().upper(),
            given_names=given_names.strip().upper(),
            birth_date=birth_date,
            sex=sex,
            nationality=nationality,
            created_at=self.clock.now(),
        )
        return (await self._write(actor, "register_person", {"nationality": nationality}, [person]))[0]

    async def add_travel_document(
        self,
        actor: Actor,
        *,
        person_id: int,
        number: str,
        issuing_state: str,
        valid_until: dt.date | None,
        kind: str = "passport",
        mrz: tuple[str, str] | None = None,
    ) -> int:
        """A new passport becomes the person's current one; the MRZ, when given, must check (ICAO 9303) and
        agree with the record."""
        number = number.strip().upper()
        _need(bool(re.fullmatch(r"[A-Z0-9]{5,20}", number)), "number", "5-20 capital letters or digits")
        _code(
            issuing_state.rstrip("<"),
            NATIONALITY_CODES,
            "issuing_state",
            "ISO 3166-1 alpha-3 / ICAO Doc 9303 codes",
        )
        async with self.sessions() as s:
            person = await s.get(Person, person_id)
        if person is None:
            raise NotFound(f"person {person_id}")
        mrz_text = None
        if mrz is not None:
            result = check_mrz(*mrz)
            _need(result.valid, "mrz", "; ".join(result.errors) or "check digits do not match (ICAO 9303)")
            fields = result.fields
            _need(
                str(fields.get("document_number", "")).replace("<", "") == number,
                "mrz",
                "the MRZ document number differs from the number given",
            )
            _need(
                fields.get("nationality") == person.nationality,
                "mrz",
                "the MRZ nationality differs from the person's",
            )
            if fields.get("birth_date"):
                _need(
                    fields["birth_date"] == person.birth_date.isoformat(),
                    "mrz",
                    "the MRZ birth date differs from the person's",
                )
            mrz_text = "\n".join(mrz)
        doc = TravelDocument(
            person_id=person_id,
            number=number,
            issuing_state=issuing_state,
            kind=kind,
            valid_until=valid_until,
            mrz=mrz_text,
            current=True,
        )
        if actor.role not in _REGISTRARS:
            raise Forbidden(f"a {actor.role} does not keep the records")
        async with self.sessions() as s:
            try:
                async with s.begin():
                    await s.execute(
                        update(TravelDocument)
                        .where(TravelDocument.person_id == person_id)
                        .values(current=False)
                    )
                    s.add(doc)
                    await s.flush()
                    await self._audit(
                        s,
                        actor,
                        action="add_travel_document",
                        detail={"person": person_id, "document": doc.id, "mrz": mrz is not None},
                    )
            except IntegrityError:
                raise BadInput("number", "this issuing state's document number is already recorded") from None
        return doc.id

    async def register_holding(
        self,
        actor: Actor,
        *,
        person_id: int,
        kind: str,
        number: str,
        category: str | None,
        valid_from: dt.date,
        valid_until: dt.date,
        entries: str | None = None,
        stay_days: int | None = None,
    ) -> int:
        """A visa or permit issued elsewhere (a visa issued abroad, Art 9)."""
        if actor.role not in _REGISTRARS:
            raise Forbidden(f"a {actor.role} does not keep the records")
        _need(kind in HOLDING_KINDS, "kind", f"one of {', '.join(sorted(HOLDING_KINDS))}")
        number = number.strip().upper()
        _need(bool(re.fullmatch(r"[A-Z0-9]{5,24}", number)), "number", "5-24 capital letters or digits")
        _need(valid_from <= valid_until, "valid_until", "not before valid_from")
        if kind == "residence_permit":  # the permit's type (Regulations Art 15-16)
            _code(category, PERMIT_TYPES, "category", "the residence permit types")
        elif kind == "visa" or category is not None:  # a visa's, or the visa category a stay permit carries
            _code(category, CATEGORIES, "category", "the visa categories of Regulations Art 6")
        async with self.sessions() as s:
            _need(await s.get(Person, person_id) is not None, "person_id", "no such person")
            taken = await s.execute(select(Holding.id).where(Holding.number == number))
            _need(taken.first() is None, "number", "a visa or permit with this number is already recorded")
        if kind == "visa":
            _need(
                entries in ("zero", "single", "double", "multiple"),
                "entries",
                "zero, single, double or multiple",
            )
            _need(stay_days is not None and stay_days > 0, "stay_days", "a visa states its duration of stay")
        h = Holding(
            person_id=person_id,
            kind=kind,
            number=number,
            category=category,
            entries=entries,
            entries_used=0,
            valid_from=valid_from,
            valid_until=valid_until,
            stay_days=stay_days,
            extended_days=0,
            annotations=[],
            status="valid",
        )
        return (await self._write(actor, "register_holding", {"person": person_id, "number": number}, [h]))[0]

    async def declare_void(self, actor: Actor, *, number: str, ground: str) -> dict[str, Any]:
        """Regulations Art 34: the issuing authority declares a visa or permit void (on the spot or by
        announcement); from then on it is no basis of lawful stay."""
        return await self._end_document(actor, number, ground, "declare_void")

    async def cancel(self, actor: Actor, *, number: str, ground: str) -> dict[str, Any]:
        """Regulations Art 35: the public security authority cancels or confiscates a visa or permit."""
        return await self._end_document(actor, number, ground, "cancel")

    async def _end_document(self, actor: Actor, number: str, ground: str, action: str) -> dict[str, Any]:
        if actor.role not in (Role.OFFICER, Role.SUPERVISOR, Role.ADMIN):
            raise Forbidden(f"a {actor.role} does not void or cancel documents")
        decide = declare_void if action == "declare_void" else cancel_document
        async with self.sessions() as s, s.begin():
            h = (
                await s.execute(select(Holding).where(Holding.number == number.strip().upper()))
            ).scalar_one_or_none()
            if h is None:
                raise BadInput("number", "no visa or permit with this number is recorded")
            try:
                status, cite = decide(cast(DocumentState, h.status), ground, on=today(self.clock))
            except InvalidInput as exc:
                raise BadInput(exc.field, exc.message) from None
            before, h.status = h.status, status
            await s.flush()
            await self._audit(
                s,
                actor,
                action=action,
                detail={
                    "document": h.number,
                    "person": h.person_id,
                    "ground": ground,
                    "from": before,
                    "to": status,
                    "citation": cite.cite,
                },
            )
        return {"number": h.number, "status": status, "citation": cite.cite}

    async def record_movement(
        self,
        actor: Actor,
        *,
        person_id: int,
        direction: str,
        on: dt.date,
        port: str,
        holding_id: int | None = None,
        visa_free_programme: str | None = None,
    ) -> int:
        """An entry or exit. An entry on a visa uses one of its entries (Art 36 para 1(1)) and must fall within
        its entry validity (Art 36 para 1(2))."""
        _need(direction in ("entry", "exit"), "direction", "entry or exit")
        if actor.role not in _REGISTRARS:
            raise Forbidden(f"a {actor.role} does not keep the records")
        async with self.sessions() as s:
            try:
                async with s.begin():
                    if direction == "entry" and holding_id is not None:
                        h = await s.get(Holding, holding_id)
                        if h is None or h.person_id != person_id:
                            raise BadInput("holding_id", "not a document of this person")
                        _need(h.kind == "visa", "holding_id", "an entry is made on a visa")
                        _need(
                            holding_status(h, on) == "valid" and on >= h.valid_from,
                            "holding_id",
                            "the visa's entry validity does not cover the entry date (Regulations Art 36)",
                        )
                        left = entries_left(h.entries or "zero", h.entries_used)
                        _need(
                            left is None or left > 0,
                            "holding_id",
                            "the visa has no entries left (Regulations Art 36 para 1(1))",
                        )
                        h.entries_used += 1
                        h.extended_days = 0  # an extension is for one entry only (Art 14)
                    m = Movement(
                        person_id=person_id,
                        direction=direction,
                        on=on,
                        port=port,
                        holding_id=holding_id,
                        visa_free_programme=visa_free_programme,
                    )
                    s.add(m)
                    await s.flush()
                    await self._audit(
                        s,
                        actor,
                        action="record_movement",
                        detail={"person": person_id, "direction": direction, "on": on.isoformat()},
                    )
            except IntegrityError:
                raise BadInput("person_id", "no such person") from None
        return m.id

    async def create_account(
        self,
        actor: Actor,
        *,
        username: str,
        display_name: str,
        role: Role,
        office_id: int | None = None,
        organisation_id: int | None = None,
        person_id: int | None = None,
        password_hash: str | None = None,
    ) -> int:
        if actor.role is not Role.ADMIN and actor.role is not Role.SYSTEM:
            raise Forbidden("only an administrator creates accounts")
        _need(
            bool(re.fullmatch(r"[a-z0-9][a-z0-9._-]{2,79}", username)),
            "username",
            "3-80 lower-case letters, digits, dot, dash or underscore",
        )
        if role in (Role.OFFICER, Role.SUPERVISOR):
            _need(office_id is not None, "office_id", "officers belong to an office")
        if role in (Role.ORG_STAFF, Role.VERIFIER, Role.HOTEL_STAFF):
            _need(organisation_id is not None, "organisation_id", f"a {role} belongs to an organisation")
        if role is Role.APPLICANT:
            _need(person_id is not None, "person_id", "an applicant account is a person's")
        async with self.sessions() as s:
            for name, model, ref in (
                ("office_id", Office, office_id),
                ("organisation_id", Organisation, organisation_id),
                ("person_id", Person, person_id),
            ):
                _need(ref is None or await s.get(model, ref) is not None, name, "no such record")
        acc = Account(
            username=username,
            display_name=display_name,
            role=str(role),
            office_id=office_id,
            organisation_id=organisation_id,
            person_id=person_id,
            password_hash=password_hash,
            active=True,
        )
        return (
            await self._write(
                actor, "create_account", {"username": username, "role": str(role)}, [acc], "username"
            )
        )[0]

    async def grant_mandate(
        self,
        actor: Actor,
        *,
        agent_account_id: int,
        person_id: int,
        capacity: str,
        valid_from: dt.date,
        valid_until: dt.date | None = None,
    ) -> int:
        """An agent (relative, inviting entity or person, service agency — Art 19) acting for a named person."""
        if actor.role not in _REGISTRARS:
            raise Forbidden(f"a {actor.role} does not keep the records")
        _need(capacity in MANDATE_CAPACITIES, "capacity", f"one of {', '.join(sorted(MANDATE_CAPACITIES))}")
        _need(valid_until is None or valid_until >= valid_from, "valid_until", "not before valid_from")
        async with self.sessions() as s:
            agent = await s.get(Account, agent_account_id)
            person = await s.get(Person, person_id)
        _need(
            agent is not None and agent.role in (str(Role.AGENT), str(Role.ORG_STAFF)),
            "agent_account_id",
            "a mandate is given to an agent's or an organisation's staff account (Regulations Art 19)",
        )
        _need(person is not None, "person_id", "no such person")
        m = Mandate(
            agent_account_id=agent_account_id,
            person_id=person_id,
            capacity=capacity,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        return (
            await self._write(actor, "grant_mandate", {"agent": agent_account_id, "person": person_id}, [m])
        )[0]

    async def represented(self, agent_account_id: int, on: dt.date | None = None) -> frozenset[int]:
        """The people an agent may act for on ``on`` (mandates in force)."""
        on = on or today(self.clock)
        async with self.sessions() as s:
            rows = await s.execute(
                select(Mandate.person_id).where(
                    Mandate.agent_account_id == agent_account_id,
                    Mandate.valid_from <= on,
                    (Mandate.valid_until.is_(None)) | (Mandate.valid_until >= on),
                )
            )
        return frozenset(r[0] for r in rows)

    async def documents_of(self, person_id: int, on: dt.date | None = None) -> list[dict[str, Any]]:
        """A person's visas and permits with their status on ``on``."""
        on = on or today(self.clock)
        async with self.sessions() as s:
            rows = (
                (
                    await s.execute(
                        select(Holding)
                        .where(Holding.person_id == person_id)
                        .order_by(Holding.valid_from, Holding.id)
                    )
                )
                .scalars()
                .all()
            )
        return [
            {
                "number": h.number,
                "kind": h.kind,
                "category": h.category,
                "entries": h.entries,
                "entries_used": h.entries_used,
                "valid_from": h.valid_from.isoformat(),
                "valid_until": h.valid_until.isoformat(),
                "stay_days": h.stay_days,
                "extended_days": h.extended_days,
                "annotations": h.annotations,
                "status": holding_status(h, on),
            }
            for h in rows
        ]
