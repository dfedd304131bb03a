"""Passport not kept during residence-permit processing (免留存护照; issue 10 §4): checked on the spot and returned
at acceptance with a collection appointment within the receipt's validity, collected with the same passport or a
new one checked again; a wrong passport refused naming the field and rule; kept with a reason; visas and stay
permits as before. On SQLite and PostgreSQL (the ``engine`` fixture)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from case_helpers import MATTERS, ON, World, key
from sqlalchemy import select

from cnvisa.cases import passport_check
from cnvisa.cases.errors import BadInput, GuardFailed
from cnvisa.cases.passport_check import CollectionSlot, PassportShown
from cnvisa.demo.vocab import mrz
from cnvisa.store.passport_tables import PassportCheck
from cnvisa.store.tables import Appointment, AuditEvent, Holding, TravelDocument

RP = MATTERS["residence_permit"]
BIRTH = dt.date(1961, 5, 14)  # the seeded person MUELLER ANNA, DEU


def shown(
    number: str, *, surname: str = "MUELLER", birth: dt.date = BIRTH, nat: str = "DEU"
) -> PassportShown:
    line1, line2 = mrz(surname, "ANNA", nat, number, birth, "F", dt.date(2032, 1, 1)).split("\n")
    return PassportShown(line1, line2)


def issued_by(number: str, state: str) -> PassportShown:
    """A passport of the person's whose issuing State reads ``state`` (no check digit covers that field)."""
    line = shown(number)
    return PassportShown(line.mrz_line1[:2] + state + line.mrz_line1[5:], line.mrz_line2)


async def add_passport(world: World, number: str, person_id: int | None = None) -> int:
    async with world.sessions() as s, s.begin():
        pid = person_id or world.person_id
        line = shown(number)
        doc = TravelDocument(
            person_id=pid,
            number=number,
            issuing_state="DEU",
            kind="passport",
            valid_until=dt.date(2032, 1, 1),
            mrz=f"{line.mrz_line1}\n{line.mrz_line2}",
            current=True,
        )
        s.add(doc)
        await s.flush()
        return doc.id


async def submitted_rp(world: World) -> dict[str, Any]:
    return await world.submitted(RP)


async def accepted_returned(world: World, number: str = "C01X00T47", **kw: Any) -> dict[str, Any]:
    await add_passport(world, number)
    c = await submitted_rp(world)
    return await world.svc.accept(
        world.officer,
        c["case_id"],
        c["version"],
        key=key(),
        passport_kept=False,
        passport=shown(number),
        **kw,
    )


async def to_issued(world: World, c: dict[str, Any]) -> dict[str, Any]:
    svc = world.svc
    c = await svc.approve(world.officer2, c["case_id"], c["version"], key=key())
    return await svc.issue(world.officer, c["case_id"], c["version"], key=key())


async def checks(world: World, case_id: int) -> list[PassportCheck]:
    async with world.sessions() as s:
        q = select(PassportCheck).where(PassportCheck.case_id == case_id).order_by(PassportCheck.id)
        return list((await s.execute(q)).scalars())


async def test_returned_passport_is_recorded_booked_and_on_the_receipt(world: World) -> None:
    c = await accepted_returned(world)
    receipt = c["receipt"]
    assert receipt["passport_kept"] is False
    p = receipt["passport"]
    assert p["outcome"] == "returned" and p["passport"] == "returned"
    assert p["travel_document"]["number"] == "C01X00T47"
    assert p["checked_by"] == world.officer.account_id and p["checked_at"].startswith(ON.isoformat())
    assert p["checked_by_name"] and p["collected"] is None
    # one command, one version, though the check and the appointment are written before the case changes
    assert c["version"] == (await world.case(c["case_id"])).version == 3
    # the Art 18 para 3 reading: the receipt stays proof of lawful residence; the warning on leaving China
    assert p["receipt_proves_lawful_residence"] is True
    assert "Regulations Art 18 para 3" in p["cites"] and p["reading"].startswith("Reading")
    assert "not an entry document" in p["warning"]
    # a collection appointment within the receipt's validity, by default on its last day
    col = p["collection"]
    assert col["day"] == receipt["valid_until"]
    async with world.sessions() as s:
        appt = await s.get(Appointment, col["appointment_id"])
        assert appt is not None and appt.case_id == c["case_id"] and appt.person_id == world.person_id
    # the case read carries the same
    read = await world.svc.read(world.applicant, c["case_id"])
    assert read["receipt"]["passport"]["outcome"] == "returned"
    assert "accept" in await world.actions(c["case_id"])


async def test_a_passport_expiring_before_the_validity_requested_is_flagged(world: World) -> None:
    await add_passport(world, "C01X00T47")
    c = await submitted_rp(world)
    line1, line2 = mrz("MUELLER", "ANNA", "DEU", "C01X00T47", BIRTH, "F", dt.date(2026, 3, 1)).split("\n")
    a = await world.svc.accept(
        world.officer,
        c["case_id"],
        c["version"],
        key=key(),
        passport_kept=False,
        passport=PassportShown(line1, line2),
    )
    async with world.sessions() as s:
        detail = (
            await s.execute(
                select(AuditEvent.detail).where(
                    AuditEvent.case_id == a["case_id"], AuditEvent.action == "accept"
                )
            )
        ).scalar_one()
    assert detail["passport_check"]["expires_before_requested_validity"] is True  # 365 days asked, March 2026


async def test_returned_passport_collected_with_the_same(world: World) -> None:
    c = await to_issued(world, await accepted_returned(world))
    done = await world.svc.collect(
        world.officer,
        c["case_id"],
        c["version"],
        key=key(),
        passport_presented=True,
        passport=shown("C01X00T47"),
    )
    assert done["state"] == "collected" and done["passport_check"]["outcome"] == "same"
    holding = await world.holding(c["issued_holding_id"])
    rows = await checks(world, c["case_id"])
    assert [r.stage for r in rows] == ["acceptance", "collection"]
    assert holding.travel_document_id == rows[0].travel_document_id == rows[1].travel_document_id


async def test_returned_passport_collected_with_a_new_one(world: World) -> None:
    c = await to_issued(world, await accepted_returned(world))
    done = await world.svc.collect(
        world.officer,
        c["case_id"],
        c["version"],
        key=key(),
        passport_presented=True,
        passport=shown("C02Y11U58"),
    )
    assert done["passport_check"]["outcome"] == "new"
    assert done["passport_check"]["accepted_travel_document"]["number"] == "C01X00T47"
    async with world.sessions() as s:
        docs = {
            d.number: d
            for d in (
                await s.execute(select(TravelDocument).where(TravelDocument.person_id == world.person_id))
            )
            .scalars()
            .all()
        }
        holding = (await s.execute(select(Holding).where(Holding.id == c["issued_holding_id"]))).scalar_one()
    assert docs["C02Y11U58"].current and not docs["C01X00T47"].current
    assert holding.travel_document_id == docs["C02Y11U58"].id  # the permit goes into the new passport


@pytest.mark.parametrize(
    ("presented", "field"),
    [
        (lambda: shown("C03Z22V69", surname="SCHMIDT"), "passport.surname"),
        (lambda: shown("C03Z22V69", birth=dt.date(1962, 5, 14)), "passport.birth_date"),
        (lambda: PassportShown("P<DEUMUELLER<<ANNA" + "<" * 26, "C01X00T47" + "X" * 35), "passport.mrz"),
        # an issuing State in neither ISO 3166-1 nor ICAO Doc 9303's list (issue 13 §13): not recorded
        (lambda: issued_by("C03Z22V69", "QQQ"), "passport.issuing_state"),
    ],
)
async def test_wrong_passport_at_collection_is_refused(world: World, presented: Any, field: str) -> None:
    c = await to_issued(world, await accepted_returned(world))
    before = await world.audit_count()
    with pytest.raises(GuardFailed) as err:
        await world.svc.collect(
            world.officer,
            c["case_id"],
            c["version"],
            key=key(),
            passport_presented=True,
            passport=presented(),
        )
    assert err.value.guard == "collect_with_checked_passport" and "seed 001 l.20" in err.value.article
    assert field in err.value.detail
    assert (await world.case(c["case_id"])).state == "issued" and await world.audit_count() == before
    assert len(await checks(world, c["case_id"])) == 1  # nothing half-written


async def test_another_persons_passport_is_refused(world: World) -> None:
    await add_passport(world, "C09W99X00", person_id=world.other_person_id)
    c = await submitted_rp(world)
    with pytest.raises(GuardFailed) as err:
        await world.svc.accept(
            world.officer,
            c["case_id"],
            c["version"],
            key=key(),
            passport_kept=False,
            passport=shown("C09W99X00"),
        )
    assert err.value.guard == "passport_checked_on_site" and "passport.document_number" in err.value.detail
    assert (await world.case(c["case_id"])).state == "submitted"


async def test_returned_passport_must_be_presented_at_collection(world: World) -> None:
    c = await to_issued(world, await accepted_returned(world))
    with pytest.raises(GuardFailed, match=r"passport\.mrz"):
        await world.svc.collect(world.officer, c["case_id"], c["version"], key=key(), passport_presented=True)


async def test_returning_needs_the_on_site_check(world: World) -> None:
    c = await submitted_rp(world)
    with pytest.raises(GuardFailed) as err:  # a collection slot agreed, but no passport read
        await world.svc.accept(
            world.officer,
            c["case_id"],
            c["version"],
            key=key(),
            passport_kept=False,
            collection=CollectionSlot(ON + dt.timedelta(days=3), "10:30"),
        )
    assert err.value.guard == "passport_checked_on_site"
    with pytest.raises(GuardFailed) as err:
        await world.svc.accept(world.officer, c["case_id"], c["version"], key=key(), passport_kept=False)
    assert err.value.guard == "passport_checked_on_site"
    with pytest.raises(BadInput) as bad:
        await world.svc.accept(world.officer, c["case_id"], c["version"], key=key())
    assert bad.value.field == "retention_reason"
    assert await world.count(PassportCheck) == 0


async def test_the_transition_for_callers_of_before_is_over() -> None:
    # the office page, the API and the demo send the read passport or the reason (cnvisa.web, cnvisa.api,
    # cnvisa.demo.story): no acceptance of a residence document is taken without them any more
    assert passport_check.LEGACY_CALLERS is False


async def test_kept_with_a_reason(world: World) -> None:
    await add_passport(world, "C01X00T47")
    c = await submitted_rp(world)
    with pytest.raises(BadInput) as err:  # kept needs its reason once the check is stated
        await world.svc.accept(
            world.officer, c["case_id"], c["version"], key=key(), passport=shown("C01X00T47")
        )
    assert err.value.field == "retention_reason" and "可免于留存护照" in err.value.message
    a = await world.svc.accept(
        world.officer,
        c["case_id"],
        c["version"],
        key=key(),
        passport=shown("C01X00T47"),
        retention_reason="verification_art20",
    )
    p = a["receipt"]["passport"]
    assert p["outcome"] == "kept" and p["retention_reason"] == "verification_art20"
    assert p["collection"] is None and p["receipt_proves_lawful_residence"] is True and p["reading"] is None
    rows = await checks(world, a["case_id"])
    assert [(r.outcome, r.retention_reason) for r in rows] == [("kept", "verification_art20")]
    # collection of a kept passport: as before (the office hands the passport back with the permit)
    c2 = await to_issued(world, a)
    done = await world.svc.collect(
        world.officer, c2["case_id"], c2["version"], key=key(), passport_presented=True
    )
    assert done["state"] == "collected" and "passport_check" not in done


async def test_other_reason_needs_a_note(world: World) -> None:
    c = await submitted_rp(world)
    with pytest.raises(BadInput) as err:
        await world.svc.accept(world.officer, c["case_id"], c["version"], key=key(), retention_reason="other")
    assert err.value.field == "retention_note"


async def test_collection_slot_outside_the_receipt_is_refused(world: World) -> None:
    await add_passport(world, "C01X00T47")
    c = await submitted_rp(world)
    with pytest.raises(BadInput) as err:
        await world.svc.accept(
            world.officer,
            c["case_id"],
            c["version"],
            key=key(),
            passport_kept=False,
            passport=shown("C01X00T47"),
            collection=CollectionSlot(ON + dt.timedelta(days=60), "09:00"),
        )
    assert err.value.field == "collection.day"
    assert await world.count(Appointment) == 0 and await world.count(PassportCheck) == 0
    ok = await world.svc.accept(
        world.officer,
        c["case_id"],
        c["version"],
        key=key(),
        passport_kept=False,
        passport=shown("C01X00T47"),
        collection=CollectionSlot(ON + dt.timedelta(days=3), "10:30"),
    )
    assert ok["receipt"]["passport"]["collection"]["day"] == (ON + dt.timedelta(days=3)).isoformat()


async def test_a_repeated_key_replays_and_books_once(world: World) -> None:
    await add_passport(world, "C01X00T47")
    c = await submitted_rp(world)
    k = key()
    args = {"key": k, "passport_kept": False, "passport": shown("C01X00T47")}
    first = await world.svc.accept(world.officer, c["case_id"], c["version"], **args)  # type: ignore[arg-type]
    again = await world.svc.accept(world.officer, c["case_id"], c["version"], **args)  # type: ignore[arg-type]
    assert again["replayed"] and again["receipt"] == first["receipt"]
    assert await world.count(Appointment) == 1 and await world.count(PassportCheck) == 1


async def test_visa_matter_keeps_the_old_behaviour(world: World) -> None:
    from case_helpers import VISA_EXTENSION

    await world.add_existing(VISA_EXTENSION.existing)  # type: ignore[arg-type]
    c = await world.submitted(VISA_EXTENSION)
    a = await world.svc.accept(world.officer, c["case_id"], c["version"], key=key(), passport_kept=False)
    assert a["receipt"]["passport_kept"] is False and "passport" not in a["receipt"]
    assert await world.count(PassportCheck) == 0 and await world.count(Appointment) == 0
    c2 = await world.svc.approve(world.officer2, a["case_id"], a["version"], key=key())
    c2 = await world.svc.issue(world.officer, c2["case_id"], c2["version"], key=key())
    done = await world.svc.collect(
        world.officer, c2["case_id"], c2["version"], key=key(), passport_presented=True
    )
    assert done["state"] == "collected"


async def test_the_first_free_seat_is_found_in_one_read(world: World) -> None:
    """The collection appointment goes to the first slot (from the receipt's last day back) where the person holds
    nothing and the office has a seat free — found from one read of what is booked, not by trying each seat in
    turn: the acceptance costs the same statements however full the office is."""
    from sqlalchemy import event, update

    from cnvisa.cases.appointments import slot_times
    from cnvisa.store.tables import Office

    async with world.sessions() as s, s.begin():
        await s.execute(update(Office).where(Office.id == world.office_id).values(slot_capacity=1))
    first = (await accepted_returned(world))["receipt"]["passport"]["collection"]
    day = dt.date.fromisoformat(first["day"])
    async with world.sessions() as s:
        office = await s.get(Office, world.office_id)
        assert office is not None
        slots = slot_times(office, day)
    assert first["slot"] == slots[0]
    async with world.sessions() as s, s.begin():  # another person takes the only seat of the next slot
        s.add(
            Appointment(
                office_id=world.office_id, person_id=world.other_person_id, booked_by=None, day=day,
                slot=slots[1], seat=1, matter="residence_permit", case_id=None, created_at=world.clock.now(),
            )
        )  # fmt: skip
    c = await submitted_rp(world)
    sent: list[str] = []
    engine = world.sessions.kw["bind"].sync_engine

    def count(*args: Any) -> None:
        sent.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        again = await world.svc.accept(
            world.officer,
            c["case_id"],
            c["version"],
            key=key(),
            passport_kept=False,
            passport=shown("C01X00T47"),
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # slot 0: the person's own (and its only seat taken); slot 1: another's; so slot 2
    assert again["receipt"]["passport"]["collection"]["slot"] == slots[2]
    assert sum("INSERT INTO appointments" in q for q in sent) == 1  # no seat tried in vain
