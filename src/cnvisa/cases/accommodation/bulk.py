"""A hotel's batch on PostgreSQL in few statements, whatever the tables' statistics say (issue 11 §3).

- ``custom_plans``: the batch's lookups (its stay references, its passports) are planned for the batch's own
  values. A connection keeps a statement's generic plan once chosen, and one chosen while a table was small (a new
  register, before autovacuum's first ANALYZE) reads the whole table on every batch after: measured on a new
  database, 58 of 60 passport lookups were sequential scans.
- ``passports``: the passports already on record, looked up by their unique key (issuing state, number) — one
  index probe each, the person with it.
- ``insert_batch``: the numbers of the new rows drawn in one statement, then the new people, their passports and
  the stays written in one statement of three inserts from arrays (``unnest``): a few parameters instead of
  thousands, no per-row work in the ORM. The foreign keys are checked at the statement's end, when the people and
  passports it added are there; a failure leaves nothing of the batch.

SQLite keeps the portable path of ``cnvisa.cases.accommodation.hotel``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.store.instant import as_utc

CUSTOM_PLANS: Final = "set_config('plan_cache_mode', 'force_custom_plan', true)"
"""For the rest of the transaction (``SET LOCAL``), as a column of the batch's first query: no extra round trip."""

_PASSPORTS = text(
    """SELECT d.id, d.person_id, d.issuing_state, d.number, p.surname, p.birth_date, p.nationality
       FROM unnest(CAST(:states AS TEXT[]), CAST(:numbers AS TEXT[])) AS k(issuing_state, number)
       JOIN travel_documents d ON d.issuing_state = k.issuing_state AND d.number = k.number
       JOIN people p ON p.id = d.person_id"""
)

_DRAW = text(
    """SELECT (SELECT array_agg(nextval(pg_get_serial_sequence('people', 'id'))) FROM generate_series(1, :guests)),
              (SELECT array_agg(nextval(pg_get_serial_sequence('travel_documents', 'id')))
                 FROM generate_series(1, :guests)),
              (SELECT array_agg(nextval(pg_get_serial_sequence('accommodation_registrations', 'id')))
                 FROM generate_series(1, :stays))"""
)

_INSERT = text(
    """WITH people_added AS (
         INSERT INTO people (id, surname, given_names, birth_date, sex, nationality, created_at)
         SELECT u.*, CAST(:now AS TIMESTAMPTZ)
         FROM unnest(CAST(:p_id AS BIGINT[]), CAST(:p_surname AS TEXT[]), CAST(:p_given AS TEXT[]),
                     CAST(:p_birth AS DATE[]), CAST(:p_sex AS TEXT[]), CAST(:p_nationality AS TEXT[])) AS u
       ), passports_added AS (
         INSERT INTO travel_documents (id, person_id, number, issuing_state, kind, valid_until, mrz, current)
         SELECT u.id, u.person_id, u.number, u.issuing_state, 'passport', u.valid_until, u.mrz, true
         FROM unnest(CAST(:d_id AS BIGINT[]), CAST(:d_person AS BIGINT[]), CAST(:d_number AS TEXT[]),
                     CAST(:d_state AS TEXT[]), CAST(:d_until AS DATE[]), CAST(:d_mrz AS TEXT[]))
              AS u(id, person_id, number, issuing_state, valid_until, mrz)
       ), refs_added AS (  -- unique per hotel (migration 0029): a racing report with the same reference fails here
         INSERT INTO hotel_stay_refs (organisation_id, stay_ref, registration_id, registered_from)
         SELECT CAST(:hotel AS BIGINT), u.stay_ref, u.id, u.registered_from
         FROM unnest(CAST(:r_id AS BIGINT[]), CAST(:r_ref AS TEXT[]), CAST(:r_from AS DATE[]))
              AS u(id, stay_ref, registered_from)
       )
       INSERT INTO accommodation_registrations
         (id, person_id, travel_document_id, address, division_code, registered_from, registered_until,
          registered_by, recorded_at, moved_in_at, moved_out_at, organisation_id, stay_ref, host_name, recorded_by,
          due_at, on_time)
       SELECT u.id, u.person_id, u.document_id, u.address, u.division_code, u.registered_from, u.registered_until,
              'hotel', CAST(:now AS TIMESTAMPTZ), u.moved_in_at, u.moved_out_at, CAST(:hotel AS BIGINT), u.stay_ref, NULL,
              CAST(:recorded_by AS BIGINT), u.due_at, u.on_time
       FROM unnest(CAST(:r_id AS BIGINT[]), CAST(:r_person AS BIGINT[]), CAST(:r_document AS BIGINT[]),
                   CAST(:r_address AS TEXT[]), CAST(:r_division AS TEXT[]), CAST(:r_from AS DATE[]),
                   CAST(:r_until AS DATE[]), CAST(:r_in AS TIMESTAMPTZ[]), CAST(:r_out AS TIMESTAMPTZ[]),
                   CAST(:r_ref AS TEXT[]), CAST(:r_due AS TIMESTAMPTZ[]), CAST(:r_on_time AS BOOLEAN[]))
            AS u(id, person_id, document_id, address, division_code, registered_from, registered_until,
                 moved_in_at, moved_out_at, stay_ref, due_at, on_time)"""
)


def _utc(at: Any) -> Any:
    return None if at is None else as_utc(at)


async def passports(s: AsyncSession, keys: set[tuple[str, str]]) -> list[Any]:
    """The passports on record among ``keys`` (issuing state, number), each with its holder's particulars that
    ``checks.same_person`` compares."""
    if not keys:
        return []
    states, numbers = zip(*sorted(keys), strict=True)
    return list((await s.execute(_PASSPORTS, {"states": list(states), "numbers": list(numbers)})).all())


async def draw_ids(s: AsyncSession, guests: int, stays: int) -> tuple[list[int], list[int], list[int]]:
    """Numbers for ``guests`` new people and passports and ``stays`` new stays, in one round trip."""
    people, docs, regs = (await s.execute(_DRAW, {"guests": guests, "stays": stays})).one()
    return sorted(people or []), sorted(docs or []), sorted(regs or [])


async def insert_batch(
    s: AsyncSession,
    people: Sequence[dict[str, Any]],
    passports: Sequence[dict[str, Any]],
    stays: Sequence[dict[str, Any]],
    *,
    now: Any,
    hotel: int,
    recorded_by: int | None,
) -> None:
    """Write the new people, passports (ids given), stays (ids given) and the stays' references
    (``hotel_stay_refs``) in one statement."""
    await s.execute(
        _INSERT,
        {
            "now": as_utc(now),
            "hotel": hotel,
            "recorded_by": recorded_by,
            "p_id": [p["id"] for p in people],
            "p_surname": [p["surname"] for p in people],
            "p_given": [p["given_names"] for p in people],
            "p_birth": [p["birth_date"] for p in people],
            "p_sex": [p["sex"] for p in people],
            "p_nationality": [p["nationality"] for p in people],
            "d_id": [d["id"] for d in passports],
            "d_person": [d["person_id"] for d in passports],
            "d_number": [d["number"] for d in passports],
            "d_state": [d["issuing_state"] for d in passports],
            "d_until": [d["valid_until"] for d in passports],
            "d_mrz": [d["mrz"] for d in passports],
            "r_id": [r["id"] for r in stays],
            "r_person": [r["person_id"] for r in stays],
            "r_document": [r["travel_document_id"] for r in stays],
            "r_address": [r["address"] for r in stays],
            "r_division": [r["division_code"] for r in stays],
            "r_from": [r["registered_from"] for r in stays],
            "r_until": [r["registered_until"] for r in stays],
            "r_in": [_utc(r["moved_in_at"]) for r in stays],
            "r_out": [_utc(r["moved_out_at"]) for r in stays],
            "r_ref": [r["stay_ref"] for r in stays],
            "r_due": [_utc(r["due_at"]) for r in stays],
            "r_on_time": [r["on_time"] for r in stays],
        },
    )
