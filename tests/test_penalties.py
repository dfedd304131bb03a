"""Penalties for illegal residence as an officer records them (Law Art 78, 70; Administrative Penalty Law Art 29,
44, 45, 67): what the decision may be and who may make it. Pure rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnvisa.law.errors import InvalidInput
from cnvisa.law.penalties import Facts, check

LAST = dt.date(2026, 3, 31)  # illegal residence from 1 April


def facts(days: int = 10, **kw: Any) -> Facts:
    decided = LAST + dt.timedelta(days=days)
    base: dict[str, Any] = {
        "subject": "person",
        "last_lawful_day": LAST,
        "decided_on": decided,
        "heard_on": decided,
        "authority": "exit_entry",
        "warning": True,
    }
    return Facts(**(base | kw))


def refused(f: Facts) -> str:
    with pytest.raises(InvalidInput) as e:
        check(f)
    return e.value.field


def test_a_warning_is_the_penalty_unless_it_is_serious() -> None:
    d = check(facts())
    assert d.days_overstayed == 10 and d.max_fine_cny == 5000 and d.payment_due is None
    cites = [c.cite for c in d.citations]
    assert (
        "Exit and Entry Administration Law Art 78 para 1" in cites
        and "Administrative Penalty Law Art 45" in cites
    )
    assert refused(facts(fine_cny=500)) == "serious"
    assert refused(facts(serious=True, warning=False, fine_cny=500)) == "serious_reason"


@pytest.mark.parametrize(
    ("days", "fine", "ok"),
    [
        (1, 500, True),
        (1, 501, False),
        (19, 9500, True),
        (20, 10000, True),
        (21, 10000, True),
        (21, 10001, False),
    ],
)
def test_a_serious_fine_is_500_a_day_up_to_10000(days: int, fine: int, ok: bool) -> None:
    f = facts(days, serious=True, serious_reason="worked without a permit", warning=False, fine_cny=fine)
    if fine > 5000:  # Law Art 70: above 5,000 the public security organ decides
        assert refused(f) == ("authority" if ok else "fine_cny")
        f = facts(
            days,
            serious=True,
            serious_reason="x",
            warning=False,
            fine_cny=fine,
            authority="public_security",
            decision_number="沪公(出)罚决字〔2026〕101号",
        )
    if ok:
        d = check(f)
        assert d.payment_due == f.decided_on + dt.timedelta(days=15)
    else:
        assert refused(f) == "fine_cny"


def test_detention_5_to_15_days_by_the_public_security_organ_only_and_never_with_a_fine() -> None:
    serious = {"serious": True, "serious_reason": "hid from the police", "warning": False}
    assert refused(facts(**serious, detention_days=5)) == "authority"
    organ = {**serious, "authority": "public_security", "decision_number": "PSB-2026-77"}
    assert check(facts(**organ, detention_days=5)).payment_due is None
    assert refused(facts(**organ, detention_days=4)) == "detention_days"
    assert refused(facts(**organ, detention_days=16)) == "detention_days"
    assert refused(facts(**organ, detention_days=5, fine_cny=500)) == "fine_cny"
    assert refused(facts(**{**organ, "decision_number": ""}, detention_days=5)) == "decision_number"


def test_the_person_is_heard_before_the_decision_and_after_the_overstay_began() -> None:
    f = facts()
    assert refused(facts(heard_on=f.decided_on + dt.timedelta(days=1))) == "heard_on"
    assert refused(facts(heard_on=LAST)) == "heard_on"
    assert check(facts(heard_on=LAST + dt.timedelta(days=1))).days_overstayed == 10
    assert refused(facts(0)) == "last_lawful_day"  # no illegal residence on the day


def test_a_guardian_of_a_child_under_16_a_warning_and_at_most_1000() -> None:
    g = {"subject": "guardian", "birth_date": dt.date(2015, 4, 11)}  # 10 years old
    assert check(facts(**g, fine_cny=1000)).max_fine_cny == 1000
    assert refused(facts(**g, fine_cny=1001)) == "fine_cny"
    assert refused(facts(**g, warning=False)) == "warning"
    assert refused(facts(**g, detention_days=5)) == "detention_days"
    sixteen = (
        LAST + dt.timedelta(days=10) - dt.timedelta(days=365 * 16 + 4)
    )  # 16 on the day: not a child under 16
    assert refused(facts(subject="guardian", birth_date=sixteen)) == "subject"


@given(st.integers(min_value=1, max_value=400), st.integers(min_value=1, max_value=12000))
def test_a_fine_within_the_most_the_law_allows_is_never_refused_for_its_amount(days: int, fine: int) -> None:
    f = facts(
        days,
        serious=True,
        serious_reason="x",
        warning=False,
        fine_cny=fine,
        authority="public_security",
        decision_number="PSB-1",
    )
    most = min(500 * days, 10000)
    if fine <= most:
        assert check(f).max_fine_cny == most
    else:
        assert refused(f) == "fine_cny"
