"""A person's status (Regulations Art 25): what the law engine makes of their documents, last entry and
acceptance receipts. A staff reader is audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import cast

from sqlalchemy import select

from cnvisa.cases.actor import Actor
from cnvisa.cases.queries.reader import Reader
from cnvisa.cases.workflow import OPEN_FOR_DEADLINE, State
from cnvisa.law.status import DocumentState, HoldingKind, Status, residence_status
from cnvisa.law.status import Holding as LawHolding
from cnvisa.store.tables import Case, Holding, Movement


def law_holdings(
    holdings: Iterable[Holding],
    last_entry: Movement | None,
    *,
    in_force_on: dt.date | None = None,
    left_since: bool = False,
) -> list[LawHolding]:
    """A person's visas and permits as the law engine reads them. A visa counts only as the visa of the last
    entry, or one issued in China after it (replacement, reissue: Guide VI(III), VI(IV)) — both count the
    stay from that entry (Art 36 para 1(3)) — and not when the person has ``left_since``; a permit counts
    as it stands, or from its first day when ``in_force_on`` is given."""
    basis: list[LawHolding] = []
    for h in holdings:
        state = cast(DocumentState, h.status if h.status in ("valid", "void", "cancelled") else "valid")
        if h.kind == "visa":
            if (
                last_entry is not None
                and not left_since
                and h.stay_days
                and (
                    last_entry.holding_id == h.id
                    or (h.issued_by_case_id is not None and h.valid_from >= last_entry.on)
                )
            ):
                basis.append(
                    LawHolding("visa", h.number, last_entry.on, h.stay_days, h.extended_days, state=state)
                )
        elif h.kind in ("stay_permit", "residence_permit") and (
            in_force_on is None or h.valid_from <= in_force_on
        ):
            kind = cast(HoldingKind, h.kind)
            basis.append(LawHolding(kind, h.number, valid_until=h.valid_until, state=state))
    return basis


class StatusQuery(Reader):
    async def person_status(
        self, person_id: int, on: dt.date | None = None, actor: Actor | None = None
    ) -> Status:
        """Art 25 via the law engine: lawful (by which document or receipt, until when) or illegal residence.
        A staff reader is audited."""
        on = on or self.today()
        await self._audit_read(actor, "read_status", {"person": person_id, "on": on.isoformat()}, None)
        async with self.sessions() as s:
            holdings = (
                (await s.execute(select(Holding).where(Holding.person_id == person_id))).scalars().all()
            )
            last_entry = (
                (
                    await s.execute(
                        select(Movement)
                        .where(
                            Movement.person_id == person_id, Movement.direction == "entry", Movement.on <= on
                        )
                        .order_by(Movement.on.desc())
                    )
                )
                .scalars()
                .first()
            )
            receipts = (
                (
                    await s.execute(
                        select(Case).where(
                            Case.person_id == person_id,
                            Case.receipt_valid_until.is_not(None),
                            Case.state.in_([str(x) for x in (*OPEN_FOR_DEADLINE, State.APPROVED)]),
                        )
                    )
                )
                .scalars()
                .all()
            )
        basis = law_holdings(holdings, last_entry)
        if last_entry is not None and last_entry.visa_free_programme:
            basis.append(
                LawHolding(
                    "visa_free", None, entry_date=last_entry.on, programme=last_entry.visa_free_programme
                )
            )
        for c in receipts:
            basis.append(
                LawHolding("acceptance_receipt", c.receipt_number, valid_until=c.receipt_valid_until)
            )
        return residence_status(on, basis)
