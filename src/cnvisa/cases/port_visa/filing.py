"""Filing a port-visa request in advance (Law Art 20; NIA FAQs 2024-02-27: the applicant or the inviter): the law
engine asked first (a blocking problem refuses it naming the field and the rule; nothing written), the person and
passport found or recorded, the request written with its audit event and idempotency record."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases import audit
from cnvisa.cases.actor import Actor
from cnvisa.cases.clock import beijing_date
from cnvisa.cases.errors import BadInput, Forbidden
from cnvisa.cases.port_visa import flow
from cnvisa.cases.port_visa.base import PortVisaBase, _text
from cnvisa.cases.port_visa.flow import PvState
from cnvisa.cases.queries.port_visa import view
from cnvisa.cases.runner import fingerprint
from cnvisa.cases.workflow import Role
from cnvisa.law import InvalidInput, assess
from cnvisa.law import port_visa as pv
from cnvisa.law.application import NATIONALITY_CODES
from cnvisa.store.port_visa_tables import PortVisaRequest
from cnvisa.store.tables import (
    Organisation,
    Person,
    TravelDocument,
)

_FLIGHT = re.compile(r"^[A-Z0-9]{2}[0-9]{1,4}[A-Z]?$")
_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")
_ALPHABET: Final = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LAW_FIELDS: Final = {
    "port_visa.port": "port",
    "port_visa.arrival_date": "arrival_at",
    "port_visa.urgent": "urgent",
    "port_visa.inviter": "inviter_kind",
    "requested.stay_days": "stay_days",
    "requested.entries": "stay_days",
    "requested.category": "purpose",
    "purpose": "purpose",
    "applicant.nationality": "nationality",
}
"""The law engine's field → the field of the filing it comes from (errors name the filer's field)."""


@dataclass(frozen=True)
class Filing:
    """What the filer states: person and passport (the organisation's staff; the foreigner's own are on record),
    purpose and urgency, the port, the scheduled arrival and flight, the stay asked for, the materials held."""

    purpose: str
    urgent: bool
    urgency: str
    port: str
    arrival_at: dt.datetime
    flight: str
    stay_days: int = pv.MAX_STAY_DAYS
    inviter_kind: str | None = None
    surname: str | None = None
    given_names: str | None = None
    birth_date: dt.date | None = None
    sex: str | None = None
    nationality: str | None = None
    passport_number: str | None = None
    passport_issuing_state: str | None = None
    passport_valid_until: dt.date | None = None
    materials: Sequence[str] = ()


def _request_values(f: Filing) -> dict[str, Any]:
    out = asdict(f)
    out["materials"] = sorted(set(f.materials))
    return out


class Filings(PortVisaBase):
    # ------------------------------------------------------------------------------------------- filing
    def _ask_law(self, f: Filing, nationality: str, inviter: str, on: dt.date) -> dict[str, Any]:
        """The law engine's answer on the filing; a blocking problem is ``BadInput`` naming the filer's field and
        the rule (its citations)."""
        application = {
            "matter": "port_visa",
            "on": on.isoformat(),
            "purpose": f.purpose,
            "port_visa": {
                "port": f.port,
                "arrival_date": beijing_date(f.arrival_at).isoformat(),
                "urgent": f.urgent,
                "inviter": inviter,
            },
            "applicant": {"nationality": nationality},
            "requested": {"stay_days": f.stay_days, "entries": pv.ENTRIES},
            "materials": sorted(set(f.materials)),
        }
        try:
            answer = assess(application)
        except InvalidInput as exc:
            head = exc.field.split(".")[0] if exc.field.startswith("port_visa.") else exc.field
            raise BadInput(LAW_FIELDS.get(exc.field, head), exc.message) from None
        for p in answer["problems"]:
            if p["severity"] == "blocking":
                cites = "; ".join(c["cite"] for c in p["citations"])
                field = LAW_FIELDS.get(p.get("field") or "", p.get("field") or "port")
                raise BadInput(field, f"{p['message']} ({cites}) [{p['code']}]")
        return answer

    async def _person(
        self, s: AsyncSession, actor: Actor, f: Filing, now: dt.datetime
    ) -> tuple[Person, TravelDocument]:
        """The person and passport the request is for: the foreigner's own on record, or those the inviter names
        (added to the records when not on record; a passport on record must name the same person)."""
        number = (f.passport_number or "").strip().upper() or None
        state = (f.passport_issuing_state or f.nationality or "").strip().upper() or None
        if number is not None and not _PASSPORT.fullmatch(number):
            raise BadInput("passport_number", "5-20 capital letters or digits, as printed in the passport")
        if actor.role is Role.APPLICANT:
            if actor.person_id is None:
                raise Forbidden("an applicant account names its person")
            person = await s.get(Person, actor.person_id)
            assert person is not None
            q = select(TravelDocument).where(TravelDocument.person_id == person.id)
            q = (
                q.where(TravelDocument.number == number)
                if number
                else q.where(TravelDocument.current.is_(True))
            )
            doc = (await s.execute(q.order_by(TravelDocument.id.desc()).limit(1))).scalar_one_or_none()
            if doc is None:
                raise BadInput(
                    "passport_number", "not a passport of yours on record: ask the office to record it"
                )
            return person, doc
        if number is None:
            raise BadInput("passport_number", "required: the number of the passport the person will present")
        if state is None or state not in NATIONALITY_CODES:
            raise BadInput("passport_issuing_state", "an ICAO 9303 three-letter code")
        surname = _text(f.surname, "surname", 120).upper()
        given = _text(f.given_names, "given_names", 200).upper()
        nationality = (f.nationality or "").strip().upper()
        if nationality not in NATIONALITY_CODES:
            raise BadInput("nationality", "an ICAO 9303 three-letter code")
        if f.birth_date is None or f.birth_date >= beijing_date(now):
            raise BadInput("birth_date", "a date before today")
        if f.sex not in (None, "M", "F", "X"):
            raise BadInput("sex", "M, F or X (ICAO 9303)")
        doc = (
            await s.execute(
                select(TravelDocument).where(
                    TravelDocument.issuing_state == state, TravelDocument.number == number
                )
            )
        ).scalar_one_or_none()
        if doc is not None:
            person = await s.get(Person, doc.person_id)
            assert person is not None
            if (person.surname.upper(), person.birth_date, person.nationality) != (
                surname,
                f.birth_date,
                nationality,
            ):
                raise BadInput(
                    "passport_number", "names another person than the one on record for this passport"
                )
            return person, doc
        person = Person(
            surname=surname,
            given_names=given,
            birth_date=f.birth_date,
            sex=f.sex if f.sex in ("M", "F") else None,
            nationality=nationality,
            created_at=now,
        )
        s.add(person)
        await s.flush()
        doc = TravelDocument(
            person_id=person.id,
            number=number,
            issuing_state=state,
            kind="passport",
            valid_until=f.passport_valid_until,
            current=True,
        )
        s.add(doc)
        await s.flush()
        return person, doc

    async def file(self, actor: Actor, f: Filing, *, idempotency_key: str) -> dict[str, Any]:
        """File a port-visa request in advance (Law Art 20; NIA FAQs 2024-02-27: the applicant or the inviter)."""
        if actor.role not in flow.FILERS:
            raise Forbidden("filed by the inviting organisation's staff or by the foreigner (Law Art 20)")
        if f.arrival_at.tzinfo is None or f.arrival_at.utcoffset() is None:
            raise BadInput("arrival_at", "an instant with its offset, e.g. 2025-11-22T14:05+08:00")
        try:  # an instant at the ends of the calendar has no Beijing date
            beijing_date(f.arrival_at)
        except (OverflowError, ValueError):
            raise BadInput("arrival_at", "a date between the years 1 and 9999, in Beijing time") from None
        flight = re.sub(r"\s+", "", f.flight or "").upper()
        if not _FLIGHT.fullmatch(flight):
            raise BadInput("flight", "the flight (or voyage, train) number, e.g. CA1234")
        if not 1 <= f.stay_days <= pv.MAX_STAY_DAYS:
            raise BadInput("stay_days", f"1 to {pv.MAX_STAY_DAYS} days (Law Art 20 para 4)")
        urgency = _text(f.urgency, "urgency", 500)
        now = self.now()
        if f.arrival_at <= now:
            raise BadInput(
                "arrival_at", "in the future: a request is filed before arrival (NIA FAQs 2024-02-27)"
            )
        if beijing_date(f.arrival_at) > beijing_date(now) + dt.timedelta(days=flow.FILING_HORIZON_DAYS):
            raise BadInput(
                "arrival_at",
                f"at most {flow.FILING_HORIZON_DAYS} days ahead (office rule: a port visa answers an urgent need)",
            )
        command = "port_visa_file"
        print_ = fingerprint(command, None, _request_values(f))
        for attempt in (1, 2):
            try:
                async with self.sessions() as s, s.begin():
                    replay = await self._replay(s, idempotency_key, actor, command, print_)
                    if replay is not None:
                        return replay
                    return await self._file(
                        s, actor, f, flight, urgency, now, idempotency_key, command, print_
                    )
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _file(
        self,
        s: AsyncSession,
        actor: Actor,
        f: Filing,
        flight: str,
        urgency: str,
        now: dt.datetime,
        key: str,
        command: str,
        print_: str,
    ) -> dict[str, Any]:
        org: Organisation | None = None
        if actor.role is Role.ORG_STAFF:
            org = await s.get(Organisation, actor.organisation_id) if actor.organisation_id else None
            if org is None:
                raise Forbidden("an organisation's staff account names its organisation")
        # whose request first (a foreigner's own passport; the person an organisation names): a person added here
        # is rolled back with the rest when the law refuses the request below
        person, doc = await self._person(s, actor, f, now)
        if org is not None:
            inviter = "travel_agency" if org.kind == "travel_agency" else "entity"
        else:
            inviter = f.inviter_kind or ""
            if inviter not in pv.INVITER_KINDS:
                raise BadInput("inviter_kind", f"one of {', '.join(pv.INVITER_KINDS)}")
        answer = self._ask_law(f, person.nationality, inviter, beijing_date(now))
        arrival = beijing_date(f.arrival_at)
        issuable = answer.get("issuable") or {}
        r = PortVisaRequest(
            number=f"PV-{arrival:%Y%m%d}-{''.join(secrets.choice(_ALPHABET) for _ in range(8))}",
            person_id=person.id,
            travel_document_id=doc.id,
            organisation_id=org.id if org else None,
            filed_by=actor.account_id,
            filed_role=str(actor.role),
            filed_at=now,
            purpose=f.purpose,
            urgent=f.urgent,
            urgency=urgency,
            inviter_kind=inviter,
            port=f.port,
            arrival_at=f.arrival_at,
            arrival_date=arrival,
            flight=flight,
            stay_days=f.stay_days,
            category=issuable.get("category"),
            lapses_after=arrival + dt.timedelta(days=self.arrival_window_days),
            state=str(PvState.SUBMITTED),
            version=1,
            assessment={
                "on": beijing_date(now).isoformat(),
                "issuable": issuable,
                "required_materials": answer.get("required_materials", []),
                "missing_materials": answer.get("missing_materials", []),
                "refusal": answer.get("refusal"),
                "warnings": [p for p in answer["problems"] if p["severity"] != "blocking"],
                "citations": [c["cite"] if isinstance(c, dict) else c for c in answer.get("citations", [])],
                "arrival_window": {
                    "days": self.arrival_window_days,
                    "rule": "office rule (cnvisa.cases.port_visa.flow.ARRIVAL_WINDOW_DAYS)",
                },
            },
        )
        s.add(r)
        await s.flush()
        response = view(r, person, doc)
        self._remember(s, key, actor, command, print_, response, now)
        await s.flush()
        await audit.append_many(s, [self._event(actor, now, r, None, "port_visa_filed", person=person.id)])
        return response
