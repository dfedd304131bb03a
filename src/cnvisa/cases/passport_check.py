"""Passport not kept during residence-permit processing (免留存护照; rules and readings in
``cnvisa.law.passport_retention``): the on-site check at acceptance, the collection appointment, and the
passport presented at collection.

- Acceptance of an in-scope matter (``scope``): the officer reads the passport's MRZ (ICAO Doc 9303 Part 4); it
  must be valid, on record for the applicant (or not yet on record for anyone) and name the applicant (surname,
  given names, birth date, nationality). Returned: a ``PassportCheck`` (outcome ``returned``) and a collection
  appointment within the receipt's validity (Regulations Art 18 para 1; seed 001 l.20 "按约定时间"). Kept: the
  reason is required (seed 001 l.20 "可"; ``RETENTION_REASONS``) and recorded (outcome ``kept``).
- Collection of a case whose passport was returned: the same passport, or a new passport of the same holder
  checked again (it becomes the person's current travel document and the one the permit is issued into); anything
  else is refused naming the field and the rule.
- Outside the measure (visas, stay permits) the acceptance and collection work as before. So does, for now, a
  caller that states neither a passport read nor a reason (``LEGACY_CALLERS``: the office page, the API and the
  demo of before this module send only ``passport_kept``); once they send the MRZ, set it False and an in-scope
  return without the on-site check is refused (``passport_checked_on_site``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases.actor import Actor
from cnvisa.cases.clock import beijing_time
from cnvisa.cases.errors import BadInput, GuardFailed
from cnvisa.law import InvalidInput
from cnvisa.law import calendar as workdays
from cnvisa.law.documents import check_mrz
from cnvisa.law.errors import CalendarYearNotLoaded
from cnvisa.law.passport_retention import holder_mismatches, receipt_proof, retention, scope
from cnvisa.store.passport_tables import PassportCheck
from cnvisa.store.tables import Account, Appointment, Case, Holding, Office, Person, TravelDocument

LEGACY_CALLERS: Final = False
"""Transition (now over: the office page, the API and the demo send the read passport or the reason): True took
an acceptance that states no passport read and no reason (only ``passport_kept``) as before, nothing recorded.
False: an in-scope return needs the read passport, an in-scope keep its reason."""
CHECKED_ON_SITE: Final = "passport_checked_on_site"
ARTICLE_ON_SITE: Final = (
    "NIA measures 2024-03-20 (seed 001 l.20: 经现场查验后可免于留存护照); MPS press conference 2023-08-03; "
    "ICAO Doc 9303 Part 4"
)
COLLECT_WITH_CHECKED: Final = "collect_with_checked_passport"
ARTICLE_COLLECT: Final = (
    "NIA measures 2024-03-20 (seed 001 l.20: 按约定时间持本人护照前往发证窗口领取居留证件); Guide X; "
    "ICAO Doc 9303 Part 4"
)


@dataclass(frozen=True, slots=True)
class PassportShown:
    """The passport the officer holds at the window: its two MRZ lines as the reader gave them."""

    mrz_line1: str
    mrz_line2: str

    def as_request(self) -> dict[str, str]:
        return {"mrz_line1": self.mrz_line1, "mrz_line2": self.mrz_line2}


@dataclass(frozen=True, slots=True)
class CollectionSlot:
    """The collection appointment the officer agrees with the applicant (default: the receipt's last day)."""

    day: dt.date
    slot: str

    def as_request(self) -> dict[str, str]:
        return {"day": self.day.isoformat(), "slot": self.slot}


def acceptance_request(
    passport_kept: bool,
    passport: PassportShown | None,
    reason: str | None,
    note: str | None,
    collection: CollectionSlot | None,
) -> dict[str, Any]:
    """What an acceptance's idempotency key is bound to: the passport's part only when one is stated."""
    request: dict[str, Any] = {"passport_kept": passport_kept}
    if passport or reason or note or collection:
        request |= {
            "passport": passport.as_request() if passport else None,
            "retention_reason": reason,
            "retention_note": note,
            "collection": collection.as_request() if collection else None,
        }
    return request


def permit_type(case: Case) -> str | None:
    """The permit type applied for (a first permit) or held (extension, replacement, reissue, annotation)."""
    req = case.inputs.get("requested") or {}
    rp = case.inputs.get("residence_permit") or {}
    value = req.get("permit_type") or rp.get("type")
    return str(value) if value else None


@dataclass
class _Read:
    result: dict[str, Any]
    document: TravelDocument | None
    problems: list[tuple[str, str]]


async def _read(s: AsyncSession, person_id: int, shown: PassportShown, on: dt.date) -> _Read:
    """Check the MRZ and the holder against the person; the travel document on record, if any."""
    r = check_mrz(shown.mrz_line1, shown.mrz_line2, as_of=on)
    result: dict[str, Any] = {
        "valid": r.valid,
        "format": r.format,
        "errors": list(r.errors),
        "document_number": r.fields.get("document_number"),
        "issuing_state": r.fields.get("issuing_state"),
        "expiry_date": r.fields.get("expiry_date"),
    }
    problems: list[tuple[str, str]] = []
    if not r.valid:
        problems.append(("passport.mrz", "the MRZ does not read: " + "; ".join(r.errors)))
        return _Read(result, None, problems)
    for name, code in r.unlisted_codes().items():  # not recorded as a travel document (issue 13 §13)
        problems.append((f"passport.{name}", f"{code!r} is not an ISO 3166-1 alpha-3 or ICAO Doc 9303 code"))
    if str(r.fields.get("document_code") or "")[:1] != "P":
        problems.append(("passport.mrz", "not a passport (document code P, ICAO Doc 9303 Part 4)"))
    person = await s.get(Person, person_id)
    assert person is not None
    differ = holder_mismatches(
        dict(r.fields), person.surname, person.given_names, person.birth_date.isoformat(), person.nationality
    )
    result["holder_mismatches"] = differ
    for name in differ:
        problems.append(
            (f"passport.{name}", f"the passport's {name.replace('_', ' ')} is not the applicant's")
        )
    expiry = r.fields.get("expiry_date")
    if expiry and str(expiry) < on.isoformat():
        problems.append(("passport.expiry_date", f"the passport expired on {expiry}"))
    doc = (
        await s.execute(
            select(TravelDocument).where(
                TravelDocument.issuing_state == str(r.fields.get("issuing_state")),
                TravelDocument.number == str(r.fields.get("document_number")),
            )
        )
    ).scalar_one_or_none()
    if doc is not None and doc.person_id != person_id:
        problems.append(("passport.document_number", "this passport is on record for another person"))
    return _Read(result, doc, problems)


def _refuse(name: str, article: str, problems: list[tuple[str, str]]) -> None:
    if problems:
        raise GuardFailed(name, article, "; ".join(f"{field}: {msg}" for field, msg in problems))


async def _record_document(
    s: AsyncSession, person_id: int, shown: PassportShown, read: _Read
) -> TravelDocument:
    """The passport read, as the person's travel document (added when not yet on record)."""
    if read.document is not None:
        return read.document
    expiry = read.result.get("expiry_date")
    doc = TravelDocument(
        person_id=person_id,
        number=str(read.result["document_number"]),
        issuing_state=str(read.result["issuing_state"]),
        kind="passport",
        valid_until=dt.date.fromisoformat(str(expiry)) if expiry else None,
        mrz=f"{shown.mrz_line1.strip()}\n{shown.mrz_line2.strip()}",
        current=True,
    )
    s.add(doc)
    await s.flush()
    return doc


async def _book_collection(
    s: AsyncSession,
    actor: Actor,
    case: Case,
    office: Office,
    on: dt.date,
    wanted: CollectionSlot | None,
    now: Any,
    last: dt.date | None,
) -> Appointment:
    """A collection appointment within the receipt's validity: the slot asked for, else the first free slot of
    the receipt's last day (then of the days before it, down to tomorrow)."""
    from cnvisa.cases.appointments import slot_times  # the appointments module sits above the case service

    if last is None:
        raise BadInput("collection.day", f"{case.matter} has no receipt period to book the collection within")
    if wanted is not None:
        if not on < wanted.day <= last:
            raise BadInput(
                "collection.day",
                f"within the receipt's validity: after {on.isoformat()} and on or before {last.isoformat()} "
                "(Regulations Art 18 para 1; seed 001 l.20 按约定时间)",
            )
        try:
            working = workdays.is_working_day(wanted.day)
        except CalendarYearNotLoaded:
            working = False
        if not working or wanted.slot not in slot_times(office, wanted.day):
            raise BadInput(
                "collection.slot",
                f"{wanted.day.isoformat()} {wanted.slot} is not an opening slot of {office.code}",
            )
        candidates = [(wanted.day, wanted.slot)]
    else:
        candidates = []
        day = last
        while day > on:
            if workdays.is_working_day(day):
                candidates += [(day, t) for t in slot_times(office, day)]
            day -= dt.timedelta(days=1)
    # What is booked already, in one read (the office's seats and the person's slots, anywhere, in the receipt's
    # period): the free seat is found here, not by trying each seat in turn (a statement per seat taken, so
    # an acceptance cost more the more the office had booked). A seat taken meanwhile is still refused by the
    # unique constraints, and the search goes on from it as before.
    days = [d for d, _ in candidates] or [last]
    booked = (
        await s.execute(
            select(
                Appointment.office_id,
                Appointment.person_id,
                Appointment.day,
                Appointment.slot,
                Appointment.seat,
            )
            .where(Appointment.day >= min(days), Appointment.day <= max(days))
            .where(or_(Appointment.office_id == office.id, Appointment.person_id == case.person_id))
        )
    ).all()
    seats_taken = {(d, t, n) for o, _p, d, t, n in booked if o == office.id}
    person_holds = {(d, t) for _o, p, d, t, _n in booked if p == case.person_id}
    for day, slot in candidates:
        if (day, slot) in person_holds:
            continue  # the person already holds this slot: the next slot
        for seat in range(1, office.slot_capacity + 1):
            if (day, slot, seat) in seats_taken:
                continue
            try:
                async with s.begin_nested():
                    new_id = (
                        await s.execute(
                            insert(Appointment)
                            .values(
                                office_id=office.id,
                                person_id=case.person_id,
                                booked_by=actor.account_id,
                                day=day,
                                slot=slot,
                                seat=seat,
                                matter=case.matter,
                                case_id=case.id,
                                created_at=now,
                            )
                            .returning(Appointment.id)
                        )
                    ).scalar_one()
            except IntegrityError as exc:
                if "person" in str(exc.orig).lower():
                    break  # the person already holds this slot: the next slot
                continue  # the seat is taken: the next seat
            appointment = await s.get(Appointment, new_id)
            assert appointment is not None
            return appointment
    raise BadInput(
        "collection.slot",
        f"no free collection slot at {office.code} until {last.isoformat()}: agree another slot",
    )


def _as_dict(
    check: PassportCheck, doc: TravelDocument | None, appointment: Appointment | None
) -> dict[str, Any]:
    return {
        "stage": check.stage,
        "outcome": check.outcome,
        "checked_at": beijing_time(check.checked_at).isoformat(),
        "checked_by": check.checked_by,
        "travel_document": {"id": doc.id, "number": doc.number, "issuing_state": doc.issuing_state}
        if doc is not None
        else None,
        "mrz_valid": check.mrz_valid,
        "holder_matches": check.holder_matches,
        "retention_reason": check.retention_reason,
        "retention_note": check.retention_note,
        "collection": {
            "appointment_id": appointment.id,
            "day": appointment.day.isoformat(),
            "slot": appointment.slot,
        }
        if appointment is not None
        else None,
    }


async def at_acceptance(
    s: AsyncSession,
    actor: Actor,
    case: Case,
    office: Office,
    *,
    now: Any,
    on: dt.date,
    passport_kept: bool,
    shown: PassportShown | None,
    reason: str | None,
    note: str | None,
    collection: CollectionSlot | None,
    receipt_last_day: dt.date | None,
) -> dict[str, Any] | None:
    """The passport's part of an acceptance (module docstring): what is recorded, or None (out of scope).
    ``receipt_last_day``: the receipt's validity the collection is booked within (called before the case itself
    changes)."""
    sc = scope(case.matter, permit_type(case))
    if not sc.in_scope or (
        LEGACY_CALLERS and shown is None and not reason and not note and collection is None
    ):
        return None
    try:
        decision = retention(passport_kept, True, reason, note)
    except InvalidInput as exc:
        raise BadInput(exc.field, exc.message) from None
    read: _Read | None = None
    doc: TravelDocument | None = None
    if shown is not None:
        read = await _read(s, case.person_id, shown, on)
        if not passport_kept:
            _refuse(CHECKED_ON_SITE, ARTICLE_ON_SITE, read.problems)
            doc = await _record_document(s, case.person_id, shown, read)
        else:  # kept: the check is recorded as it came out (a doubtful passport is one reason to keep it)
            doc = (
                read.document
                if read.document is not None and read.document.person_id == case.person_id
                else None
            )
    elif not passport_kept:
        raise GuardFailed(
            CHECKED_ON_SITE,
            ARTICLE_ON_SITE,
            "passport.mrz: the passport is returned only after the on-site check: read its MRZ",
        )
    appointment = None
    if not passport_kept:
        appointment = await _book_collection(s, actor, case, office, on, collection, now, receipt_last_day)
    check = PassportCheck(
        case_id=case.id,
        stage="acceptance",
        travel_document_id=doc.id if doc is not None else None,
        checked_by=actor.account_id,
        checked_at=now,
        mrz_valid=read.result["valid"] if read else None,
        holder_matches=(not read.result.get("holder_mismatches")) if read and read.result["valid"] else None,
        mrz_result=read.result if read else {},
        outcome="kept" if passport_kept else "returned",
        retention_reason=decision["reason"] if passport_kept else None,
        retention_note=note if passport_kept else None,
        appointment_id=appointment.id if appointment else None,
    )
    s.add(check)
    await s.flush()
    out = _as_dict(check, doc, appointment)
    out["expires_before_requested_validity"] = _expires_early(case, read, on)
    return out


def _expires_early(case: Case, read: _Read | None, on: dt.date) -> bool | None:
    """Brief §4 edge 4 (a proposal, shown to the officer, not a rule): the passport read expires before the
    validity requested would end — the permit is then capped to the passport, or the passport kept
    (``passport_expires_before_validity``). None when unknown."""
    days = (case.inputs.get("requested") or {}).get("validity_days")
    expiry = read.result.get("expiry_date") if read else None
    if not days or not expiry:
        return None
    return str(expiry) < (on + dt.timedelta(days=int(days))).isoformat()


async def acceptance_check(
    s: AsyncSession, case_id: int
) -> tuple[PassportCheck, TravelDocument | None] | None:
    """The check made at acceptance (the last, should there be more), with its travel document."""
    row = (
        await s.execute(
            select(PassportCheck, TravelDocument)
            .outerjoin(TravelDocument, TravelDocument.id == PassportCheck.travel_document_id)
            .where(PassportCheck.case_id == case_id, PassportCheck.stage == "acceptance")
            .order_by(PassportCheck.id.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def on_record(s: AsyncSession, person_id: int) -> PassportShown | None:
    """The MRZ of the person's current passport on record: what the officer confirms instead of scanning it
    again when the passport at the window is that one (it is read and checked all the same)."""
    mrz = (
        await s.execute(
            select(TravelDocument.mrz)
            .where(
                TravelDocument.person_id == person_id,
                TravelDocument.kind == "passport",
                TravelDocument.current.is_(True),
                TravelDocument.mrz.is_not(None),
            )
            .order_by(TravelDocument.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    lines = str(mrz or "").split("\n")
    return PassportShown(lines[0], lines[1]) if len(lines) == 2 else None


async def _checker(s: AsyncSession, account_id: int | None) -> str | None:
    if account_id is None:
        return None
    account = await s.get(Account, account_id)
    return account.display_name if account is not None else None


async def receipt_passport(s: AsyncSession, case: Case) -> dict[str, Any] | None:
    """The passport's part of the receipt: returned or kept, the check (who, by name), the collection
    appointment, what the receipt proves (``cnvisa.law.passport_retention.receipt_proof``: the Art 18 para 3
    reading and the warning), and the check at collection once made (``collected``)."""
    found = await acceptance_check(s, case.id)
    if found is None:
        return None
    check, doc = found
    appointment = await s.get(Appointment, check.appointment_id) if check.appointment_id else None
    kept = check.outcome == "kept"
    out = {
        **_as_dict(check, doc, appointment),
        "checked_by_name": await _checker(s, check.checked_by),
        **receipt_proof(kept, True),
    }
    row = (
        await s.execute(
            select(PassportCheck, TravelDocument)
            .outerjoin(TravelDocument, TravelDocument.id == PassportCheck.travel_document_id)
            .where(PassportCheck.case_id == case.id, PassportCheck.stage == "collection")
            .order_by(PassportCheck.id.desc())
            .limit(1)
        )
    ).first()
    out["collected"] = (
        {**_as_dict(row[0], row[1], None), "checked_by_name": await _checker(s, row[0].checked_by)}
        if row is not None
        else None
    )
    return out


def receipt_of_check_made(checked: dict[str, Any], checker_name: str | None) -> dict[str, Any]:
    """``receipt_passport`` in the acceptance's own transaction, from what ``at_acceptance`` just returned
    (``checked``) rather than read back: the check just made is the case's acceptance check, and a case being
    accepted has no collection check yet. ``checker_name``: the display name of the account that checked it
    (``checked["checked_by"]``)."""
    made = {k: v for k, v in checked.items() if k != "expires_before_requested_validity"}
    return {
        **made,
        "checked_by_name": checker_name,
        **receipt_proof(made["outcome"] == "kept", True),
        "collected": None,
    }


async def at_collection(
    s: AsyncSession, actor: Actor, case: Case, *, now: Any, on: dt.date, shown: PassportShown | None
) -> dict[str, Any] | None:
    """The passport's part of a collection (module docstring): what is recorded, or None (old behaviour)."""
    found = await acceptance_check(s, case.id)
    if found is None or found[0].outcome != "returned":
        return None
    accepted_doc = found[1]
    if shown is None:
        raise GuardFailed(
            COLLECT_WITH_CHECKED,
            ARTICLE_COLLECT,
            "passport.mrz: the passport was returned at acceptance: read the passport presented (the same one, or "
            "the holder's new passport)",
        )
    read = await _read(s, case.person_id, shown, on)
    _refuse(COLLECT_WITH_CHECKED, ARTICLE_COLLECT, read.problems)
    doc = await _record_document(s, case.person_id, shown, read)
    same = accepted_doc is not None and doc.id == accepted_doc.id
    if not same:  # the holder's new passport: the current one from now on (brief §4 edge 3)
        await s.execute(
            update(TravelDocument)
            .where(TravelDocument.person_id == case.person_id, TravelDocument.id != doc.id)
            .values(current=False)
        )
        doc.current = True
    if case.issued_holding_id is not None:
        holding = await s.get(Holding, case.issued_holding_id)
        if holding is not None:
            holding.travel_document_id = doc.id
    check = PassportCheck(
        case_id=case.id,
        stage="collection",
        travel_document_id=doc.id,
        checked_by=actor.account_id,
        checked_at=now,
        mrz_valid=True,
        holder_matches=True,
        mrz_result=read.result,
        outcome="same" if same else "new",
    )
    s.add(check)
    await s.flush()
    out = _as_dict(check, doc, None)
    out["accepted_travel_document"] = (
        {"number": accepted_doc.number, "issuing_state": accepted_doc.issuing_state} if accepted_doc else None
    )
    return out
