"""Lawful status, entry validity and detention transfer — Regulations Art 13, 18, 24-25, 29, 34-36.

Expected values are worked out by hand from the text (see each test's docstring); the golden YAML files
cannot express Holding objects or timezone-aware instants, so these checks live here.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cnvisa.law.errors import InvalidInput, NotInForce
from cnvisa.law.status import (
    BEIJING,
    VISA_FREE,
    Holding,
    cancel,
    check_detention_transfer,
    declare_void,
    entry_validity_ends_at,
    may_enter_at,
    residence_status,
    visa_free_programme,
)

D = dt.date
UTC = dt.UTC

ON = dt.date(2025, 11, 20)
"""A day on which the Regulations (2025), the Law and the Guide all apply."""


def cites(status_or_check: object) -> list[str]:
    return [c.cite for c in status_or_check.citations]  # type: ignore[attr-defined]


# --- Art 25(1), Art 36 para 1(3): lawful by visa ------------------------------------------------------

VISA = Holding("visa", number="E1", entry_date=D(2025, 3, 1), stay_days=30)


def test_lawful_by_visa_through_last_day_of_stay() -> None:
    """Entry 1 Mar, 30 days counted from 2 Mar: the last day of stay is 31 Mar (Art 36 para 1(3))."""
    s = residence_status(D(2025, 3, 31), [VISA])
    assert s.lawful is True
    assert s.basis == VISA
    assert s.until == D(2025, 3, 31)
    assert s.ground is None
    assert "Regulations Art 36 para 1(3)" in cites(s)


def test_day_after_last_day_is_overstay() -> None:
    """1 Apr is one day past the stay: illegal residence, Art 25(1) (超过签证……规定的停留居留期限)."""
    s = residence_status(D(2025, 4, 1), [VISA])
    assert s.lawful is False
    assert s.ground == "reg25_1"
    assert s.overstay_days == 1
    assert s.until == D(2025, 3, 31)
    assert cites(s) == ["Regulations Art 25(1)"]


def test_extension_moves_the_last_day() -> None:
    """An extension of 30 days for the current entry (Art 14 para 1): 31 Mar + 30 = 30 Apr."""
    extended = Holding("visa", entry_date=D(2025, 3, 1), stay_days=30, extended_days=30)
    assert residence_status(D(2025, 4, 30), [extended]).lawful is True
    s = residence_status(D(2025, 5, 2), [extended])
    assert (s.lawful, s.ground, s.overstay_days) == (False, "reg25_1", 2)


def test_acceptance_receipt_keeps_the_person_lawful_past_the_visa() -> None:
    """Art 13 para 3: while the passport is kept for processing, the person may stay with the receipt."""
    receipt = Holding("acceptance_receipt", number="R1", valid_until=D(2025, 4, 9))
    s = residence_status(D(2025, 4, 5), [VISA, receipt])
    assert s.lawful is True
    assert s.basis == receipt
    assert s.until == D(2025, 4, 9)
    assert {"Regulations Art 13 para 3", "Regulations Art 18 para 3"} <= set(cites(s))


def test_expired_receipt_and_visa_overstay_counts_from_the_latest() -> None:
    """After both end, the overstay counts from the later end (the receipt, 9 Apr): 12 Apr is 3 days."""
    receipt = Holding("acceptance_receipt", valid_until=D(2025, 4, 9))
    s = residence_status(D(2025, 4, 12), [VISA, receipt])
    assert (s.lawful, s.ground, s.overstay_days, s.until) == (False, "reg25_1", 3, D(2025, 4, 9))


def test_residence_permit_is_a_basis_until_its_expiry() -> None:
    """Law Art 30: the residence permit states its validity; the last day is lawful, the next is not."""
    permit = Holding("residence_permit", valid_until=D(2026, 1, 31))
    assert residence_status(D(2026, 1, 31), [permit]).lawful is True
    s = residence_status(D(2026, 2, 1), [permit])
    assert (s.lawful, s.ground, s.overstay_days) == (False, "reg25_1", 1)


def test_stay_permit_is_a_basis() -> None:
    """Law Art 34: a stay permit states its validity (at most 180 days)."""
    permit = Holding("stay_permit", valid_until=D(2025, 6, 30))
    s = residence_status(D(2025, 6, 1), [permit])
    assert s.lawful is True
    assert "Exit and Entry Administration Law Art 34" in cites(s)


# --- Art 25(2): visa-free -----------------------------------------------------------------------------

TRANSIT = Holding("visa_free", entry_date=D(2025, 1, 10), programme="transit_240h")


def test_240_hour_transit_lawful_through_tenth_day() -> None:
    """240 h counted from 00:00 of 11 Jan end at 24:00 on 20 Jan (10 days)."""
    s = residence_status(D(2025, 1, 20), [TRANSIT])
    assert s.lawful is True
    assert s.until == D(2025, 1, 20)


def test_240_hour_transit_overstay_is_art25_2() -> None:
    """21 Jan is past the visa-free period with no stay or residence permit: Art 25(2)."""
    s = residence_status(D(2025, 1, 21), [TRANSIT])
    assert s.lawful is False
    assert s.ground == "reg25_2"
    assert s.overstay_days == 1
    assert cites(s) == ["Regulations Art 25(2)"]


def test_stay_permit_after_visa_free_entry_keeps_lawful() -> None:
    """Art 25(2) applies only to those who do not apply for a stay or residence permit."""
    permit = Holding("stay_permit", valid_until=D(2025, 2, 28))
    s = residence_status(D(2025, 1, 25), [TRANSIT, permit])
    assert s.lawful is True and s.basis == permit


def test_visa_free_entry_before_programme_in_force() -> None:
    """The 240-hour transit applies from 17 Dec 2024; an entry on 16 Dec cannot rest on it."""
    early = Holding("visa_free", entry_date=D(2024, 12, 16), programme="transit_240h")
    with pytest.raises(NotInForce):
        residence_status(D(2024, 12, 18), [early])


def test_programme_eligibility_by_nationality_and_date() -> None:
    """USA is among the 54 countries at launch; Indonesia was added from 12 June 2025."""
    prog = VISA_FREE["transit_240h"]
    assert prog.eligible("USA", D(2025, 1, 10)) is True
    assert prog.eligible("usa", D(2025, 1, 10)) is True
    assert prog.eligible("IDN", D(2025, 6, 11)) is False
    assert prog.eligible("IDN", D(2025, 6, 12)) is True
    assert prog.eligible("IND", D(2025, 6, 12)) is False


def test_transit_is_the_first_programme_and_cites_its_announcement() -> None:
    """Issue 2: the 240-hour transit is the first entry of the dated visa-free table; it is cited by
    its announcement and date (an announcement has no articles)."""
    assert next(iter(VISA_FREE)) == "transit_240h"
    prog = VISA_FREE["transit_240h"]
    assert prog.citation.cite == "NIA announcement of 2024-12-17"
    with pytest.raises(NotInForce, match=r"\(NIA announcement of 2024-12-17\)"):
        visa_free_programme("transit_240h", D(2024, 12, 16))


def test_programme_last_day() -> None:
    prog = VISA_FREE["transit_240h"]
    assert prog.last_day(D(2025, 1, 10)) == D(2025, 1, 20)
    assert prog.last_day(D(2025, 2, 25)) == D(2025, 3, 7)  # 26-28 Feb = 3 days, 1-7 Mar = 7


# --- Art 34-35: void documents prove nothing; Art 25(3), (4) -------------------------------------------


def test_void_document_proves_nothing() -> None:
    """Art 34-35: a void or cancelled visa is no basis, even within its stay."""
    void = Holding("visa", number="V1", entry_date=D(2025, 3, 1), stay_days=30, state="void")
    s = residence_status(D(2025, 3, 10), [void])
    assert s.lawful is False
    assert s.ground == "reg25_4"
    assert any("Regulations Art 34-35" in n for n in s.notes)


def test_cancelled_document_next_to_valid_receipt() -> None:
    cancelled = Holding("residence_permit", valid_until=D(2026, 1, 1), state="cancelled")
    receipt = Holding("acceptance_receipt", valid_until=D(2025, 3, 20))
    s = residence_status(D(2025, 3, 15), [cancelled, receipt])
    assert s.lawful is True and s.basis == receipt and s.until == D(2025, 3, 20)


def test_outside_restricted_area_is_art25_3() -> None:
    """Art 24 requires staying within the restricted area; going beyond it is Art 25(3)."""
    s = residence_status(D(2025, 3, 10), [VISA], outside_restricted_area=True)
    assert s.lawful is False
    assert s.ground == "reg25_3"
    assert {"Regulations Art 25(3)", "Regulations Art 24"} <= set(cites(s))


def test_no_holdings_is_art25_4() -> None:
    s = residence_status(D(2025, 3, 10), [])
    assert s.lawful is False
    assert s.ground == "reg25_4"
    assert cites(s) == ["Regulations Art 25(4)"]


def test_holding_missing_fields() -> None:
    with pytest.raises(InvalidInput):
        residence_status(D(2025, 3, 10), [Holding("visa", entry_date=D(2025, 3, 1))])
    with pytest.raises(InvalidInput):
        residence_status(D(2025, 3, 10), [Holding("residence_permit")])
    with pytest.raises(InvalidInput):
        residence_status(D(2025, 3, 10), [Holding("visa_free", entry_date=D(2025, 3, 1))])


def test_status_as_dict() -> None:
    d = residence_status(D(2025, 4, 1), [VISA]).as_dict()
    assert d["lawful"] is False
    assert d["ground"] == "reg25_1"
    assert d["overstay_days"] == 1
    assert d["until"] == "2025-03-31"
    assert d["basis"] == {"kind": "visa", "number": "E1"}


# --- Art 36 para 1(2): entry validity ends at 24:00 Beijing time --------------------------------------


def test_entry_validity_ends_at_midnight_beijing() -> None:
    """24:00 Beijing time on 31 May 2025 is 00:00 (UTC+8) on 1 June."""
    end = entry_validity_ends_at(D(2025, 5, 31))
    assert end == dt.datetime(2025, 6, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert end == dt.datetime(2025, 5, 31, 16, 0, tzinfo=UTC)
    assert end.utcoffset() == dt.timedelta(hours=8)


def test_may_enter_at_last_second_of_end_date() -> None:
    assert may_enter_at(D(2025, 5, 31), dt.datetime(2025, 5, 31, 23, 59, 59, tzinfo=BEIJING)) is True


def test_may_not_enter_at_midnight_next_day() -> None:
    assert may_enter_at(D(2025, 5, 31), dt.datetime(2025, 6, 1, 0, 0, tzinfo=BEIJING)) is False


def test_utc_instant_on_end_date_is_already_next_day_in_beijing() -> None:
    """16:30 UTC on 31 May is 00:30 Beijing on 1 June: the validity has ended."""
    assert may_enter_at(D(2025, 5, 31), dt.datetime(2025, 5, 31, 16, 30, tzinfo=UTC)) is False
    assert may_enter_at(D(2025, 5, 31), dt.datetime(2025, 5, 31, 15, 59, 59, tzinfo=UTC)) is True


def test_instant_west_of_beijing() -> None:
    """20:00 on 31 May in New York (UTC-4) is 08:00 Beijing on 1 June: ended."""
    ny = dt.timezone(dt.timedelta(hours=-4))
    assert may_enter_at(D(2025, 5, 31), dt.datetime(2025, 5, 31, 20, 0, tzinfo=ny)) is False
    assert may_enter_at(D(2025, 5, 31), dt.datetime(2025, 5, 31, 11, 59, tzinfo=ny)) is True


def test_naive_instant_refused() -> None:
    with pytest.raises(InvalidInput):
        may_enter_at(D(2025, 5, 31), dt.datetime(2025, 5, 31, 12, 0))


# --- Art 34-35: transitions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ground", "item"),
    [
        ("damaged_lost_stolen_robbed", 1),
        ("ordered_to_leave_not_cancelled", 2),
        ("reason_changed_not_reported", 3),
        ("refusal_ground_law21_31", 4),
    ],
)
def test_declare_void(ground: str, item: int) -> None:
    state, cite = declare_void("valid", ground, on=ON)
    assert state == "void"
    assert cite.cite == f"Regulations Art 34({item})"


@pytest.mark.parametrize("state", ["void", "cancelled"])
def test_declare_void_only_valid_documents(state: str) -> None:
    with pytest.raises(InvalidInput, match="cannot be declared void"):
        declare_void(state, "damaged_lost_stolen_robbed", on=ON)  # type: ignore[arg-type]


def test_declare_void_unknown_ground() -> None:
    with pytest.raises(InvalidInput, match="not a ground of Regulations Art 34"):
        declare_void("valid", "obtained_illegally", on=ON)


@pytest.mark.parametrize(
    ("ground", "item"),
    [
        ("declared_void_or_used_by_others", 1),
        ("obtained_illegally", 2),
        ("ordered_to_leave_repatriated_expelled", 3),
    ],
)
@pytest.mark.parametrize("state", ["valid", "void"])
def test_cancel(state: str, ground: str, item: int) -> None:
    new, cite = cancel(state, ground, on=ON)  # type: ignore[arg-type]
    assert new == "cancelled"
    assert cite.cite == f"Regulations Art 35({item})"


def test_void_then_cancel() -> None:
    """Art 35(1): a document declared void (Art 34) is then cancelled or confiscated."""
    state, _ = declare_void("valid", "damaged_lost_stolen_robbed", on=ON)
    state, cite = cancel(state, "declared_void_or_used_by_others", on=ON)
    assert state == "cancelled"
    assert cite.cite == "Regulations Art 35(1)"


def test_cancel_twice_refused() -> None:
    with pytest.raises(InvalidInput, match="already cancelled"):
        cancel("cancelled", "obtained_illegally", on=ON)


def test_cancel_unknown_ground() -> None:
    with pytest.raises(InvalidInput, match="not a ground of Regulations Art 35"):
        cancel("valid", "reason_changed_not_reported", on=ON)


# --- Art 29 para 2: transfer within 24 hours ----------------------------------------------------------

DETAINED = dt.datetime(2025, 3, 1, 10, 0, tzinfo=BEIJING)


def test_transfer_exactly_24_hours_is_within() -> None:
    """Art 29 para 2: 24小时以内 includes 24 hours (Civil Code Art 1259)."""
    chk = check_detention_transfer(DETAINED, dt.datetime(2025, 3, 2, 10, 0, tzinfo=BEIJING))
    assert chk.ok is True
    assert {"Regulations Art 29 para 2", "Exit and Entry Administration Law Art 60"} <= set(cites(chk))


def test_transfer_after_24_hours_and_one_minute() -> None:
    chk = check_detention_transfer(DETAINED, dt.datetime(2025, 3, 2, 10, 1, tzinfo=BEIJING))
    assert chk.ok is False


def test_transfer_across_time_zones() -> None:
    """Transfer at 02:30 UTC on 2 Mar = 10:30 Beijing: 24.5 hours after 10:00 Beijing on 1 Mar."""
    chk = check_detention_transfer(DETAINED, dt.datetime(2025, 3, 2, 2, 30, tzinfo=UTC))
    assert chk.ok is False
    ok = check_detention_transfer(
        DETAINED, dt.datetime(2025, 3, 2, 1, 30, tzinfo=UTC)
    )  # 09:30 Beijing, 23.5 h
    assert ok.ok is True


def test_transfer_before_detention() -> None:
    assert check_detention_transfer(DETAINED, DETAINED - dt.timedelta(minutes=1)).ok is False


def test_transfer_naive_instants_refused() -> None:
    with pytest.raises(InvalidInput):
        check_detention_transfer(dt.datetime(2025, 3, 1, 10, 0), dt.datetime(2025, 3, 2, 9, 0))
