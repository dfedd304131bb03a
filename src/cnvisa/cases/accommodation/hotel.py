"""Hotels report their foreign guests (Law Art 39 para 1; issue 11 §3) in batches of at most ``MAX_BATCH``: each
stay read from the passport's MRZ (ICAO 9303 check digits; a bad one rejects that stay, naming the field), with the
hotel's own stay reference — sent again it is the same stay (idempotent per stay): the same facts answer
``replayed``, a check-out time added records the move-out, other facts are refused naming ``stay_ref``. Each stay is
written or refused on its own: one bad passport does not stop the others. A hotel sees only its own guests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert, literal_column, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases import audit
from cnvisa.cases.accommodation import bulk
from cnvisa.cases.accommodation.base import AccommodationBase
from cnvisa.cases.accommodation.checks import (
    MAX_BATCH,
    Stay,
    check_one,
    document_values,
    person_values,
    same_person,
)
from cnvisa.cases.accommodation.views import named, view, with_who
from cnvisa.cases.actor import Actor, caseless_event
from cnvisa.cases.errors import BadInput, Forbidden
from cnvisa.cases.workflow import Role
from cnvisa.law import accommodation as rules
from cnvisa.store.register_tables import AccommodationRegistration as Reg
from cnvisa.store.register_tables import HotelStayRef as Ref
from cnvisa.store.tables import Organisation, Person, TravelDocument


def ref_values(stay: dict[str, Any], registration_id: int) -> dict[str, Any]:
    """The stay's reference row (``HotelStayRef``): unique per hotel, written with the stay."""
    return {
        "organisation_id": stay["organisation_id"],
        "stay_ref": stay["stay_ref"],
        "registration_id": registration_id,
        "registered_from": stay["registered_from"],
    }


class HotelReports(AccommodationBase):
    async def report_hotel_stays(self, actor: Actor, stays: Sequence[Stay]) -> dict[str, Any]:
        """A hotel's report (Law Art 39 para 1): one outcome per stay, in the order given.

        Set-based (issue 11: hotels report tens of millions of guest-nights a year): every stay is checked before
        anything is written, the stays and passports already on record are read in two queries, and the new
        people, passports and stays are written in three statements. Two reports racing on the same stay
        reference (whatever their check-in days: the reference's own key, ``HotelStayRef``): the loser is read
        again from the start, so it answers ``replayed`` (or is refused naming ``stay_ref`` when its facts
        differ)."""
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
                checked.append(check_one(stay, now, "hotel", self.hotel_report_hours))
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
            postgres = s.get_bind().dialect.name == "postgresql"
            first = select(Organisation).where(Organisation.id == actor.organisation_id)
            if postgres:  # the lookups below planned for this batch's values (bulk.CUSTOM_PLANS)
                first = first.add_columns(literal_column(bulk.CUSTOM_PLANS))
            hotel = (await s.execute(first)).scalars().first()
            if hotel is None or hotel.kind != "hotel":
                raise Forbidden("only a hotel's front desk reports its guests (Law Art 39 para 1)")
            known: dict[str, tuple[Reg, str | None]] = {}
            if good:
                rows = await s.execute(  # by the references' own key, then each stay in its month's partition
                    select(Reg, TravelDocument.number)
                    .join(
                        Ref,
                        (Ref.registration_id == Reg.id) & (Ref.registered_from == Reg.registered_from),
                    )
                    .outerjoin(TravelDocument, TravelDocument.id == Reg.travel_document_id)
                    .where(Ref.organisation_id == hotel.id, Ref.stay_ref.in_({c["stay_ref"] for c in good}))
                )
                known = {r.stay_ref or "": (r, n) for r, n in rows.all()}
            docs = await self._passports(s, postgres, good)
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
                    if held is not None and not same_person(held[2], c):
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
            ids = {key: (pid, did) for key, (pid, did, _who) in docs.items()}
            if plans:
                write = self._write_pg if postgres else self._write
                values = await write(
                    s, actor, hotel.id, now, new_guests, ids, [(c, stays[i], k) for i, c, k in plans]
                )
                for (i, c, _key), v in zip(plans, values, strict=True):
                    results[i] = {
                        "index": i,
                        "outcome": "registered",
                        "registration": view(SimpleNamespace(**v)),
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

    @staticmethod
    async def _passports(
        s: AsyncSession, postgres: bool, good: list[dict[str, Any]]
    ) -> dict[tuple[str, str], tuple[int, int, Any]]:
        """The batch's passports on record: (issuing state, number) → (person, passport, the holder's particulars
        that ``same_person`` compares)."""
        if not good:
            return {}
        if postgres:
            found = await bulk.passports(s, {(c["issuing_state"], c["number"]) for c in good})
            return {(r.issuing_state, r.number): (r.person_id, r.id, r) for r in found}
        rows = await s.execute(
            select(TravelDocument, Person)
            .join(Person, Person.id == TravelDocument.person_id)
            .where(TravelDocument.number.in_({c["number"] for c in good}))
        )
        return {(d.issuing_state, d.number): (p.id, d.id, p) for d, p in rows.all()}

    def _stay_values(
        self, pid: int, did: int, c: dict[str, Any], stay: Stay, now: dt.datetime, actor: Actor, hotel_id: int
    ) -> dict[str, Any]:
        return {
            **self._values(pid, did, c, stay, now, "hotel", actor),
            "organisation_id": hotel_id,
            "stay_ref": c["stay_ref"],
        }

    async def _write(
        self,
        s: AsyncSession,
        actor: Actor,
        hotel_id: int,
        now: dt.datetime,
        new_guests: dict[tuple[str, str], dict[str, Any]],
        ids: dict[tuple[str, str], tuple[int, int]],
        plans: list[tuple[dict[str, Any], Stay, tuple[str, str]]],
    ) -> list[dict[str, Any]]:
        """The portable path (SQLite): three INSERTs with RETURNING, in the order given — people, passports,
        stays. The stays' values are returned with their ids."""
        if new_guests:
            people = await s.scalars(
                insert(Person).returning(Person.id, sort_by_parameter_order=True),
                [person_values(c, now) for c in new_guests.values()],
            )
            person_ids = list(people)
            passports = await s.scalars(
                insert(TravelDocument).returning(TravelDocument.id, sort_by_parameter_order=True),
                [
                    {**document_values(c), "person_id": pid}
                    for c, pid in zip(new_guests.values(), person_ids, strict=True)
                ],
            )
            for key, pid, did in zip(new_guests, person_ids, passports, strict=True):
                ids[key] = (pid, did)
        values = [self._stay_values(*ids[key], c, stay, now, actor, hotel_id) for c, stay, key in plans]
        reg_ids = list(await s.scalars(insert(Reg).returning(Reg.id, sort_by_parameter_order=True), values))
        await s.execute(insert(Ref), [ref_values(v, rid) for v, rid in zip(values, reg_ids, strict=True)])
        return [{**v, "id": rid} for v, rid in zip(values, reg_ids, strict=True)]

    async def _write_pg(
        self,
        s: AsyncSession,
        actor: Actor,
        hotel_id: int,
        now: dt.datetime,
        new_guests: dict[tuple[str, str], dict[str, Any]],
        ids: dict[tuple[str, str], tuple[int, int]],
        plans: list[tuple[dict[str, Any], Stay, tuple[str, str]]],
    ) -> list[dict[str, Any]]:
        """PostgreSQL: the new rows' numbers drawn in one statement, everything written in one more
        (``bulk.insert_batch``)."""
        person_ids, document_ids, reg_ids = await bulk.draw_ids(s, len(new_guests), len(plans))
        people, passports = [], []
        for (key, c), pid, did in zip(new_guests.items(), person_ids, document_ids, strict=True):
            people.append({**person_values(c, now), "id": pid})
            passports.append({**document_values(c), "id": did, "person_id": pid})
            ids[key] = (pid, did)
        values = [
            {**self._stay_values(*ids[key], c, stay, now, actor, hotel_id), "id": rid}
            for (c, stay, key), rid in zip(plans, reg_ids, strict=True)
        ]
        await bulk.insert_batch(
            s, people, passports, values, now=now, hotel=hotel_id, recorded_by=actor.account_id
        )
        return values

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
            return {"index": i, "outcome": "moved_out", "registration": view(reg)}
        return {"index": i, "outcome": "replayed", "registration": view(reg)}

    async def hotel_day(self, actor: Actor, day: dt.date) -> list[dict[str, Any]]:
        """The hotel's own reports of stays begun on ``day`` (Beijing date)."""
        if actor.role != Role.HOTEL_STAFF or actor.organisation_id is None:
            raise Forbidden("a hotel's staff")
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    with_who(select(Reg))
                    .where(Reg.organisation_id == actor.organisation_id, Reg.registered_from == day)
                    .order_by(Reg.moved_in_at.desc(), Reg.id.desc())
                    .limit(1000)
                )
            ).all()
            return [named(r) for r in rows]
