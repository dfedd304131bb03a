"""Identity checks (Regulations Art 27): the cap on checks of one document number a day per institution holds
when several verifiers of the institution check the same number at once (issue 13's race class: on PostgreSQL
two transactions each counted below the cap). On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from case_helpers import World

from cnvisa.cases.actor import Actor
from cnvisa.cases.identity import IdentityChecks, RateLimited
from cnvisa.cases.workflow import Role
from cnvisa.store.tables import Account, Organisation


async def test_tellers_of_one_bank_checking_one_passport_at_once_stay_under_the_cap(world: World) -> None:
    async with world.sessions() as s, s.begin():
        bank = Organisation(uscc="91310000MA1BANK00X", name="Example Bank", kind="bank", region="310000")
        s.add(bank)
        await s.flush()
        tellers = [
            Account(
                username=f"teller{i}",
                display_name=f"teller {i}",
                role=str(Role.VERIFIER),
                organisation_id=bank.id,
            )
            for i in range(8)
        ]
        s.add_all(tellers)
        await s.flush()
        actors = [Actor(t.id, Role.VERIFIER, organisation_id=bank.id) for t in tellers]
    checks = IdentityChecks(world.sessions, world.clock)

    async def one(actor: Actor) -> str:
        try:
            await checks.check(
                actor,
                document_number="E12345678",
                name="MUELLER ANNA",
                birth_date=__import__("datetime").date(1961, 5, 14),
                purpose="opening an account",
                per_minute=100,
                per_day=100,
                per_document_per_day=3,
            )
            return "answered"
        except RateLimited:
            return "limited"

    outcomes = await asyncio.wait_for(asyncio.gather(*(one(a) for a in actors)), timeout=120)
    assert sorted(outcomes) == ["answered"] * 3 + ["limited"] * 5, outcomes
