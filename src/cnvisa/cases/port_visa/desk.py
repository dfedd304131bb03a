"""The port visa authority's desk (Law Art 20): preliminary approval or refusal before arrival, issuance at the
port when the person presents the passport (number, MRZ and face checked, recorded as ``PortVisaCheck``; the visa
and its entry recorded in the registry), withdrawal by the filer, the no-show sweep (office rule), desk assignment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases import audit
from cnvisa.cases.actor import Actor, caseless_event
from cnvisa.cases.clock import beijing_date
from cnvisa.cases.errors import BadInput, Forbidden, GuardFailed
from cnvisa.cases.port_visa import flow
from cnvisa.cases.port_visa.base import PortVisaBase
from cnvisa.cases.port_visa.flow import PvCommand, PvState
from cnvisa.cases.queries.port_visa import desk_port
from cnvisa.cases.records import document_number
from cnvisa.cases.workflow import Role
from cnvisa.law import port_visa as pv
from cnvisa.law import refusals
from cnvisa.law.categories import CATEGORIES
from cnvisa.law.documents import check_mrz
from cnvisa.law.passport_retention import holder_mismatches
from cnvisa.store.port_visa_tables import PortVisaCheck, PortVisaDesk, PortVisaRequest
from cnvisa.store.tables import (
    Account,
    Holding,
    Movement,
    Person,
    TravelDocument,
)


class Desk(PortVisaBase):
    async def approve(
        self,
        actor: Actor,
        request_id: int,
        *,
        version: int,
        category: str | None = None,
        idempotency_key: str,
    ) -> dict[str, Any]:
        """Preliminary approval before arrival (NIA FAQs 2024-02-27; the deadline an office rule, flow). The visa
        category follows the purpose (the law engine's answer); for "another urgent need" the engine names none and
        the desk gives the category matching the reason for entry (Regulations Art 6)."""
        wanted = (category or "").strip().upper() or None

        async def act(s: AsyncSession, r: PortVisaRequest, now: dt.datetime) -> dict[str, Any]:
            if beijing_date(now) > r.arrival_date:
                raise GuardFailed(
                    "decided_before_arrival",
                    flow.GUARD_ARTICLES["decided_before_arrival"],
                    f"the arrival date {r.arrival_date.isoformat()} has passed",
                )
            if r.category is None:
                if wanted is None or wanted not in CATEGORIES:
                    raise BadInput(
                        "category", "the visa category matching the reason for entry (Regulations Art 6)"
                    )
                r.category = wanted
            elif wanted is not None and wanted != r.category:
                raise BadInput("category", f"the purpose gives {r.category} (Law Art 20; Regulations Art 6)")
            r.decided_at, r.decided_by = now, actor.account_id
            return {"category": r.category}

        params = {"category": wanted}
        return await self._command(
            actor, request_id, version, PvCommand.APPROVE, idempotency_key, params, act
        )

    async def refuse(
        self,
        actor: Actor,
        request_id: int,
        *,
        version: int,
        grounds: Sequence[str],
        withhold_reasons: bool = True,
        idempotency_key: str,
    ) -> dict[str, Any]:
        """Refusal on cited grounds (Law Art 21, 25; codes of cnvisa.law.refusals); the reasons withheld unless the
        officer gives them (Law Art 21 para 2, Art 25 para 2 allow withholding)."""
        codes = sorted({str(g).strip() for g in grounds if str(g).strip()})

        async def act(s: AsyncSession, r: PortVisaRequest, now: dt.datetime) -> dict[str, Any]:
            check = refusals.check_refusal("port_visa", codes, on=beijing_date(now))
            if not check.valid:
                raise BadInput("grounds", "; ".join(check.errors))
            withheld = bool(withhold_reasons and check.reasons_may_be_withheld)
            r.refusal = {
                "grounds": codes,
                "citations": [c.cite for c in check.citations],
                "reasons_withheld": withheld,
                "reasons": None
                if withheld
                else [{"code": g.code, "en": g.en, "zh": g.zh} for g in check.grounds],
                "at_port": r.state == PvState.PRELIMINARILY_APPROVED,
            }
            r.decided_at, r.decided_by = now, actor.account_id
            return {"grounds": codes}

        params = {"grounds": codes, "withhold_reasons": withhold_reasons}
        return await self._command(actor, request_id, version, PvCommand.REFUSE, idempotency_key, params, act)

    async def issue(
        self,
        actor: Actor,
        request_id: int,
        *,
        version: int,
        passport_number: str,
        face_matches: bool,
        mrz: tuple[str, str] | None = None,
        idempotency_key: str,
    ) -> dict[str, Any]:
        """Issue at the port when the person presents the passport (Law Art 20 para 3): the passport number (and the
        MRZ when read) and the face checked; the visa (category by purpose, single entry, stay ≤ 30 days, that port
        only; Law Art 20 para 4) recorded in the registry with the entry it is used for."""
        number = (passport_number or "").strip().upper()
        params = {"passport_number": number, "face_matches": face_matches, "mrz": list(mrz) if mrz else None}
        failed: dict[str, Any] = {}

        async def act(s: AsyncSession, r: PortVisaRequest, now: dt.datetime) -> dict[str, Any]:
            today = beijing_date(now)
            if not r.arrival_date <= today <= r.lapses_after:
                raise GuardFailed(
                    "presented_in_window",
                    flow.GUARD_ARTICLES["presented_in_window"],
                    f"presented on {today.isoformat()}: the window is {r.arrival_date.isoformat()} to "
                    f"{r.lapses_after.isoformat()}",
                )
            port = pv.check_port(r.port, today)
            if port.problem is not None:
                raise GuardFailed("port_issues_on_day", flow.GUARD_ARTICLES["port_issues_on_day"], port.en)
            doc = await s.get(TravelDocument, r.travel_document_id)
            person = await s.get(Person, r.person_id)
            assert doc is not None and person is not None
            check = _check_presented(number, mrz, face_matches, doc, person, today)
            if check["field"] is not None:
                failed.update(check)
                raise BadInput(check["field"], check["message"])
            holding = Holding(
                person_id=r.person_id,
                kind="visa",
                number=f"pending-pv-{r.id}",
                category=r.category,
                entries=pv.ENTRIES,
                entries_used=1,
                valid_from=today,
                valid_until=today,
                stay_days=r.stay_days,
                extended_days=0,
                annotations=[
                    {"port_visa": {"port": r.port, "request": r.number, "usable_only_at_port": True}}
                ],
                status="valid",
                travel_document_id=doc.id,
            )
            s.add(holding)
            await s.flush()
            holding.number = document_number("visa", today, holding.id)
            s.add(
                Movement(
                    person_id=r.person_id, direction="entry", on=today, port=r.port, holding_id=holding.id
                )
            )
            s.add(_check_row(r, actor, now, number, face_matches, check, "issued"))
            r.holding_id, r.issued_at = holding.id, now
            return {"visa": holding.number, "category": r.category, "stay_days": r.stay_days}

        try:
            return await self._command(
                actor, request_id, version, PvCommand.ISSUE, idempotency_key, params, act
            )
        except BadInput:
            if failed:
                await self._record_mismatch(actor, request_id, number, face_matches, failed)
            raise

    async def _record_mismatch(
        self, actor: Actor, request_id: int, number: str, face_matches: bool, check: dict[str, Any]
    ) -> None:
        """A refused presentation is recorded (the check, its audit event); the request stays as it was."""
        now = self.now()
        async with self.sessions() as s, s.begin():
            r = await s.get(PortVisaRequest, request_id)
            assert r is not None
            s.add(_check_row(r, actor, now, number, face_matches, check, "mismatch"))
            await s.flush()
            await audit.append_many(
                s,
                [self._event(actor, now, r, r.state, "port_visa_presentation_refused", field=check["field"])],
            )

    async def withdraw(
        self, actor: Actor, request_id: int, *, version: int, idempotency_key: str
    ) -> dict[str, Any]:
        async def act(s: AsyncSession, r: PortVisaRequest, now: dt.datetime) -> dict[str, Any]:
            return {}

        return await self._command(actor, request_id, version, PvCommand.WITHDRAW, idempotency_key, {}, act)

    # -------------------------------------------------------------------------------------------- sweep
    async def lapse_due(self) -> list[str]:
        """No-shows (office rule ``flow.ARRIVAL_WINDOW_DAYS``): open requests whose last day to present the passport
        (``lapses_after``, a Beijing date) is before today in Beijing; each lapse audited (``cnvisa db sweep``)."""
        from cnvisa.cases.actor import SYSTEM

        now = self.now()
        today = beijing_date(now)
        done: list[str] = []
        async with self.sessions() as s, s.begin():
            rows = (
                await s.execute(
                    select(PortVisaRequest)
                    .where(
                        PortVisaRequest.state.in_([str(x) for x in flow.OPEN]),
                        PortVisaRequest.lapses_after < today,
                    )
                    .order_by(PortVisaRequest.id)
                    .with_for_update()
                )
            ).scalars()
            events = []
            for r in rows:
                before = r.state
                t = flow.transition(PvState(before), PvCommand.LAPSE)
                assert t is not None
                r.state, r.version, r.closed_at = str(t.next), r.version + 1, now
                events.append(
                    self._event(
                        SYSTEM, now, r, before, "port_visa_lapse", last_day=r.lapses_after.isoformat()
                    )
                )
                done.append(r.number)
            if events:
                await s.flush()
                await audit.append_many(s, events)
        return done

    # --------------------------------------------------------------------------------------------- desks
    async def assign_desk(
        self, actor: Actor, account_id: int, port: str, note: str | None = None
    ) -> dict[str, Any]:
        """Which port a port-visa officer serves (administrator): the port must be on the list (Law Art 20 para 1)."""
        if actor.role not in (Role.ADMIN, Role.SYSTEM):
            raise Forbidden("only an administrator assigns a port-visa desk")
        if port not in pv.PORTS:
            raise BadInput("port", "not a port on the list of ports issuing port visas (cnvisa law ports)")
        now = self.now()
        async with self.sessions() as s, s.begin():
            acc = await s.get(Account, account_id)
            if acc is None or acc.role != str(Role.PORT_VISA_OFFICER):
                raise BadInput("account_id", "not a port-visa officer's account")
            desk = (
                await s.execute(select(PortVisaDesk).where(PortVisaDesk.account_id == account_id))
            ).scalar_one_or_none()
            if desk is None:
                s.add(PortVisaDesk(account_id=account_id, port=port, assigned_at=now, note=note))
            else:
                desk.port, desk.assigned_at, desk.note = port, now, note
            await s.flush()
            await audit.append_many(
                s,
                [
                    caseless_event(
                        actor, now, "port_visa_desk_assigned", {"account": account_id, "port": port}, None
                    )
                ],
            )
        return {"account_id": account_id, "port": port}

    async def port_of(self, actor: Actor) -> str:
        async with self.sessions() as s:
            return await desk_port(s, actor)


def _check_presented(
    number: str,
    mrz: tuple[str, str] | None,
    face_matches: bool,
    doc: TravelDocument,
    person: Person,
    today: dt.date,
) -> dict[str, Any]:
    """The passport presented against the request's: the number, the MRZ (check digits, number, holder) when read,
    and the face. ``field`` names the first that does not match (None: all do)."""
    out: dict[str, Any] = {
        "field": None,
        "message": "",
        "mrz_valid": None,
        "holder_matches": None,
        "differs": [],
    }
    out["number_matches"] = number == doc.number
    if mrz is not None:
        m = check_mrz(mrz[0], mrz[1], as_of=today)
        out["mrz_valid"] = m.valid
        out["errors"] = list(m.errors)
        f: dict[str, object] = dict(m.fields or {})
        differs = holder_mismatches(
            f, person.surname, person.given_names, person.birth_date.isoformat(), person.nationality
        )
        if str(f.get("document_number") or "") != doc.number:
            differs.append("document_number")
        out["differs"] = differs
        out["holder_matches"] = m.valid and not differs
    if not out["number_matches"]:
        out["field"], out["message"] = (
            "passport_number",
            (
                f"the passport presented is not the one the request names ({doc.number[:2]}…): a port visa is issued "
                "into the passport of the request (Law Art 20 para 3)"
            ),
        )
    elif out["mrz_valid"] is False:
        out["field"], out["message"] = (
            "mrz",
            "check digits do not match (ICAO Doc 9303 Part 4): " + "; ".join(out.get("errors") or []),
        )
    elif out["holder_matches"] is False:
        out["field"], out["message"] = (
            "mrz",
            (
                f"the passport's MRZ differs from the request in {', '.join(out['differs'])} (ICAO Doc 9303 Part 4)"
            ),
        )
    elif not face_matches:
        out["field"], out["message"] = (
            "face_matches",
            (
                "the face does not match the passport photo: not issued (Law Art 20 para 3, the holder in person)"
            ),
        )
    return out


def _check_row(
    r: PortVisaRequest,
    actor: Actor,
    now: dt.datetime,
    number: str,
    face_matches: bool,
    check: dict[str, Any],
    outcome: str,
) -> PortVisaCheck:
    return PortVisaCheck(
        request_id=r.id,
        checked_by=actor.account_id,
        checked_at=now,
        passport_number=number[:20],
        number_matches=bool(check["number_matches"]),
        mrz_valid=check["mrz_valid"],
        holder_matches=check["holder_matches"],
        face_matches=face_matches,
        result={k: check.get(k) for k in ("field", "differs", "errors")},
        outcome=outcome,
    )
