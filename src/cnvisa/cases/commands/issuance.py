"""Issuance: the visa or permit record made on an approved case (a replacement, reissue or extension voids
the document it replaces: Regulations Art 34), and its collection in person (Guide X)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases import passport_check
from cnvisa.cases.actor import Actor
from cnvisa.cases.grants import GRANTED_VALIDITY, GRANTS_VALIDITY, ends_later_detail, replaced_until
from cnvisa.cases.joint_link import refuse_if_joint
from cnvisa.cases.passport_check import PassportShown
from cnvisa.cases.records import document_number
from cnvisa.cases.runner import Runner, guard
from cnvisa.cases.workflow import Command
from cnvisa.store.tables import Case, Holding

VOIDS_REPLACED = frozenset(
    {
        "visa_replacement",
        "visa_reissue",
        "residence_permit_extension",
        "residence_permit_replacement",
        "residence_permit_reissue",
        "study_work_annotation",
    }
)
"""Matters whose new document replaces the one named by ``inputs.holding_number`` (Art 34)."""


async def replaced_holding(s: AsyncSession, case: Case) -> Holding | None:
    """The applicant's own document the case acts on (``inputs.holding_number``), if on record."""
    number = case.inputs.get("holding_number")
    if not number:
        return None
    found = await s.execute(
        select(Holding).where(Holding.number == number, Holding.person_id == case.person_id)
    )
    return found.scalar_one_or_none()


def guard_ends_later(new_until: dt.date, old: Holding | None, inputs: dict[str, Any]) -> None:
    """An extension must end later than the permit it replaces (the record's end, else the one applied with)."""
    old_until = old.valid_until if old is not None else replaced_until(inputs)
    if old_until is not None:
        guard(new_until > old_until, "extension_ends_later", ends_later_detail(new_until, old_until))


class IssuanceCommands(Runner):
    async def issue(self, actor: Actor, case_id: int, version: int, *, key: str) -> dict[str, Any]:
        """Create the visa or permit record; a replacement or reissue voids the document it replaces."""

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.ISSUE)
            await refuse_if_joint(s, case, "issue")
            holding, voided = await self._make_document(s, case)
            case.issued_holding_id = holding.id
            return case, await self._step(
                s,
                actor,
                case,
                Command.ISSUE,
                {"document": holding.number, "kind": holding.kind, "voided": voided},
            )

        return await self._run(key, "issue", body, actor, case_id, request={"version": version})

    async def _make_document(self, s: AsyncSession, case: Case) -> tuple[Holding, list[str]]:
        on = self.today()
        inputs = case.inputs
        req = inputs.get("requested") or {}
        visa = inputs.get("visa") or {}
        rp = inputs.get("residence_permit") or {}
        voided: list[str] = []
        old = await replaced_holding(s, case)
        m = case.matter
        if m == "visa_extension" and old is not None:
            # Art 14: the extension adds to the stay of this entry; entries and validity unchanged.
            old.extended_days += int(req.get("extension_days") or 0)
            return old, voided
        if m.startswith("visa") or m == "visa_extension":
            kind, category = "visa", req.get("category") or visa.get("category")
            valid_until = (
                on + dt.timedelta(days=int(req.get("entry_validity_days") or 0))
                if req.get("entry_validity_days")
                else dt.date.fromisoformat(visa["valid_until"])
                if visa.get("valid_until")
                else on
            )
            stay = req.get("stay_days") or visa.get("stay_days")
            entries = req.get("entries") or visa.get("entries")
            if m == "visa_extension" and not visa.get("valid_until") and inputs.get("entry_date") and stay:
                # the visa held is not on record: record it as extended, valid at least to the end of the
                # extended stay of this entry (Art 14: entries and entry validity are not changed by it)
                total = int(stay) + int(visa.get("extended_days") or 0) + int(req.get("extension_days") or 0)
                valid_until = max(on, dt.date.fromisoformat(inputs["entry_date"]) + dt.timedelta(days=total))
        elif m == "stay_permit":
            kind, category, entries = "stay_permit", None, None
            valid_until, stay = on + dt.timedelta(days=int(req.get("validity_days") or 180)), None
        elif m == "exit_without_passport":
            kind, category, entries, stay = "exit_permit", None, None, None
            valid_until = on + dt.timedelta(days=15)
        else:
            kind, entries, stay = "residence_permit", None, None
            category = req.get("permit_type") or rp.get("type")
            # an extension approved before grants were recorded has only the request it was approved on
            days = inputs.get(GRANTED_VALIDITY) or req.get("validity_days")
            if days:
                valid_until = on + dt.timedelta(days=int(days))
            else:
                valid_until = dt.date.fromisoformat(rp["valid_until"]) if rp.get("valid_until") else on
            if m in GRANTS_VALIDITY:
                guard_ends_later(valid_until, old, inputs)
        holding = Holding(
            person_id=case.person_id,
            kind=kind,
            number=f"pending-{case.id}",
            category=category,
            entries=entries,
            valid_from=on,
            valid_until=valid_until,
            stay_days=stay,
            annotations=[],
            status="valid",
            issued_by_case_id=case.id,
            extended_days=(int(visa.get("extended_days") or 0) + int(req.get("extension_days") or 0))
            if m == "visa_extension"
            else 0,
        )
        if m == "study_work_annotation" and old is not None:
            holding.annotations = [
                *old.annotations,
                {"off_campus_work": inputs.get("purpose") or "annotated", "case": case.number},
            ]
            holding.valid_until, holding.category = old.valid_until, old.category
        s.add(holding)
        await s.flush()
        holding.number = document_number(kind, on, holding.id)
        if old is not None and m in VOIDS_REPLACED:
            old.status = "void"  # Art 34: the replaced document no longer serves
            voided.append(old.number)
        return holding, voided

    async def collect(
        self,
        actor: Actor,
        case_id: int,
        version: int,
        *,
        key: str,
        passport_presented: bool,
        passport: PassportShown | None = None,
    ) -> dict[str, Any]:
        """Collection in person (Guide X). A passport returned at acceptance: the same passport, or the holder's
        new one checked again, read at the window (``cnvisa.cases.passport_check.at_collection``)."""

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.COLLECT)
            await refuse_if_joint(s, case, "collect")
            guard(
                passport_presented,
                "passport_presented",
                "the applicant collects in person, presenting the passport with the receipt",
            )
            checked = await passport_check.at_collection(
                s, actor, case, now=self.now(), on=self.today(), shown=passport
            )
            detail: dict[str, Any] = {"passport_presented": True}
            if checked:
                detail["passport_check"] = checked
            return case, {**await self._step(s, actor, case, Command.COLLECT, detail), **detail}

        request: dict[str, Any] = {"version": version, "passport_presented": passport_presented}
        if passport is not None:
            request["passport"] = passport.as_request()
        return await self._run(key, "collect", body, actor, case_id, request=request)
