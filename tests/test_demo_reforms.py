"""`cnvisa demo setup` shows the 2024 NIA measures (issue 10 §2-3): Alice's extension at SH01 carries two
consecutive one-year work-type permits, so the officer's case page shows "may be granted up to DATE"; her
employer's two post changes are one acknowledged (Art 26 report filed, SH01 still responsible) and one referred."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases.actor import Actor
from cnvisa.cases.queries import post_changes
from cnvisa.cases.queries.office_case import assess_case
from cnvisa.cases.workflow import Role
from cnvisa.demo.reforms import EARLIER_PERMIT
from cnvisa.demo.setup import setup
from cnvisa.store.db import sessionmaker
from cnvisa.store.joint_tables import WorkPermitBranch
from cnvisa.store.tables import Case, Holding

pytestmark = pytest.mark.usefixtures("cheap_demo_passwords")  # they seed the demo, never sign in

TODAY = dt.date(2025, 11, 20)


async def test_demo_shows_a_five_year_answer_and_two_post_changes(engine: AsyncEngine) -> None:
    ids = await setup(engine, TODAY, cases=4)
    alice = ids["cast"]["alice"]
    sessions = sessionmaker(engine)
    async with sessions() as s:
        earlier = (await s.execute(select(Holding).where(Holding.number == EARLIER_PERMIT))).scalar_one()
        assert earlier.person_id == alice and earlier.category == "work"
        case = (
            await s.execute(
                select(Case).where(Case.person_id == alice, Case.matter == "residence_permit_extension")
            )
        ).scalar_one()
    assert case.office_id == ids["offices"]["SH01"] and case.state == "submitted"
    answer = assess_case(case, [], TODAY)["five_year"]
    assert answer["may_grant"] is True and answer["grounds"] == ["two_consecutive_work_permits"]
    assert answer["bounded_by"] == ["work_permit"] and answer["fee"]["cny"] == 800
    assert answer["unknown_bounds"] == []  # her passport's end is on record
    officer = Actor(ids["accounts"]["sh01.officer"], Role.OFFICER, office_id=ids["offices"]["SH01"])
    rows = await post_changes.listing(sessions, officer, dt.datetime(2025, 11, 20, 2, tzinfo=dt.UTC))
    assert [r["state"] for r in rows] == ["acknowledged"]  # the referred one moved no office
    ack = rows[0]
    assert ack["responsible_office"] == "SH01" and ack["org_report_id"] is not None
    holder = Actor(ids["accounts"]["alice"], Role.APPLICANT, person_id=alice)
    mine = await post_changes.listing(sessions, holder, dt.datetime(2025, 11, 20, 2, tzinfo=dt.UTC))
    assert sorted(r["state"] for r in mine) == ["acknowledged", "referred"]
    referred = next(r for r in mine if r["state"] == "referred")
    assert {i["code"] for i in referred["instead"]} >= {"work_permit_for_new_employer"}


async def test_demo_setup_decides_its_branches_at_the_desk_whatever_the_sites_routing(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site whose work-permit branches go to the authority's system (CNVISA_WORK_PERMIT_EXTERNAL) can still
    seed the demo: its stories are played by the platform's own work-permit officers, at the desk. Before, the
    setup stopped at the first desk decision (Forbidden: decided by the authority's own system)."""
    monkeypatch.setenv("CNVISA_WORK_PERMIT_EXTERNAL", "*")
    ids = await setup(engine, TODAY, cases=4)
    async with sessionmaker(engine)() as s:
        via = set((await s.execute(select(WorkPermitBranch.decided_via))).scalars()) - {None}
    assert via == {"desk"} and ids["joint"]
