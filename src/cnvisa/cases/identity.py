"""Identity verification for institutions — Regulations Art 27 — and the holder's view of the checks.

Who may ask: an account in the role ``verifier`` whose organisation is in a sector Art 27 names (finance,
education, medical care, telecommunications — ``cnvisa.law.verification.institution_may_verify``). The
sector of an organisation is read from its kind (``SECTOR_BY_KIND``):

====================================================  ====================
organisation kind                                     Art 27 sector
====================================================  ====================
finance, bank, insurer, securities, payment           finance
education, school, university                         education
medical, hospital, clinic                             medical
telecommunications, telecom                           telecommunications
employer, inviting_entity, service_agency, …          none: may not verify
====================================================  ====================

What is asked: a document number (a passport or other travel document, or a visa or permit number), a name,
a birth date and the purpose. What is answered, and nothing else:

- ``match``: a person exists who holds a document with that number and has that name and birth date. The
  name matches when its words (upper case; commas, ``<`` and extra spaces ignored) are the surname followed by
  the given names, or the given names followed by the surname.
- ``covered``: the matched person holds today (Beijing date, the platform's clock) a valid visa whose stay is
  running (entered on it, not left since, within the stay and its extension — Art 36 para 1(3)), or a valid
  stay or residence permit (in force from its first to its last day). Void or cancelled documents prove nothing
  (Art 34-35). An acceptance receipt or a visa-free entry is not a document in this sense. Without a match, never covered.

For today only. Reading of Art 27 ("在办理业务时需要核实外国人身份信息的" — need to verify a foreigner's identity
*while handling business*): the verifier's reason is the business it is handling now, so the check answers as of
the day it is made. Neither a past nor a future date is given a verifier by the article, and a free date would
disclose more than the business needs (PIPL Art 6: the minimum scope for the purpose): asking for dates and
halving the interval found a permit's exact last day in 14 calls (issue 13). ``on`` is therefore accepted only as
today's date (clients that send it keep working); any other date is refused (``BadInput`` on ``on``).

Probing is limited per verifier account — ``identity_checks_per_minute`` (the last 60 seconds),
``identity_checks_per_day`` (the Beijing day) — and per institution and document number a day
(``identity_checks_per_document_per_day``: guessing names or birth dates for one passport). Every check is logged
(``IdentityCheck``) and audited in one transaction; every refused one (bad input, a limit, a sector outside
Art 27) is audited as ``identity_check_refused`` with the reason, the rule and the document number asked. The
check is attached to the holder of the document number (so that the holder sees it, even when the name or birth
date given did not match); the name and birth date asked are never stored.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases import audit
from cnvisa.cases.clock import SHANGHAI, Clocked, today
from cnvisa.cases.errors import BadInput, CaseError, Forbidden
from cnvisa.cases.queries.status import law_holdings
from cnvisa.cases.service import Actor, caseless_event
from cnvisa.cases.workflow import Role
from cnvisa.law.status import residence_status
from cnvisa.law.verification import INSTITUTION_SECTORS, institution_may_verify
from cnvisa.store import locks
from cnvisa.store.instant import as_utc
from cnvisa.store.tables import (
    Account,
    Holding,
    IdentityCheck,
    Movement,
    Organisation,
    Person,
    TravelDocument,
)

ART_27: Final = "Regulations Art 27"
SECTOR_BY_KIND: Final[dict[str, str]] = {
    "finance": "finance",
    "bank": "finance",
    "insurer": "finance",
    "securities": "finance",
    "payment": "finance",
    "education": "education",
    "school": "education",
    "university": "education",
    "medical": "medical",
    "hospital": "medical",
    "clinic": "medical",
    "telecommunications": "telecommunications",
    "telecom": "telecommunications",
}
"""Organisation kind → Art 27 sector (see the module docstring); kinds not listed have no Art 27 sector."""
WINDOW: Final = dt.timedelta(seconds=60)
_NUMBER = re.compile(r"[A-Z0-9]{5,24}")
_SEPARATORS = re.compile(r"[\s,<]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SectorNotAllowed(Forbidden):
    code = "sector_not_allowed"
    rule = ART_27


class RateLimited(CaseError):
    """A limit of probing: ``rule`` names the setting (``Settings.identity_checks_per_minute`` …), ``per`` is
    ``minute`` or ``day``."""

    code = "rate_limited"

    def __init__(self, limit: int, retry_after: int, rule: str, message: str, per: str = "minute") -> None:
        self.limit = limit
        self.per_minute = limit  # the name callers used before the daily caps
        self.retry_after = retry_after
        self.rule = rule
        self.per = per
        super().__init__(f"{message}: try again in {retry_after} s")


def sector_of(kind: str) -> str | None:
    return SECTOR_BY_KIND.get(kind)


def normalise_number(number: str) -> str:
    return re.sub(r"[\s-]+", "", number).upper()


def name_words(name: str) -> tuple[str, ...]:
    return tuple(w for w in _SEPARATORS.split(name.upper()) if w)


def name_matches(given: str, surname: str, given_names: str) -> bool:
    asked = name_words(given)
    sur, first = name_words(surname), name_words(given_names)
    return bool(asked) and asked in (sur + first, first + sur)


async def covered_on(s: AsyncSession, person_id: int, on: dt.date) -> bool:
    """Does a valid visa with its stay running, or a valid stay or residence permit, cover ``on``?"""
    holdings = (await s.execute(select(Holding).where(Holding.person_id == person_id))).scalars().all()
    last_entry = (
        (
            await s.execute(
                select(Movement)
                .where(Movement.person_id == person_id, Movement.direction == "entry", Movement.on <= on)
                .order_by(Movement.on.desc(), Movement.id.desc())
            )
        )
        .scalars()
        .first()
    )
    left_since = False
    if last_entry is not None:
        left_since = (
            await s.execute(
                select(func.count()).where(
                    Movement.person_id == person_id,
                    Movement.direction == "exit",
                    Movement.on >= last_entry.on,
                    Movement.on < on,
                )
            )
        ).scalar_one() > 0
    basis = law_holdings(holdings, last_entry, in_force_on=on, left_since=left_since)
    return residence_status(on, basis).lawful


class IdentityChecks(Clocked):
    async def check(
        self,
        actor: Actor,
        *,
        document_number: str,
        name: str,
        birth_date: dt.date,
        purpose: str,
        on: dt.date | None = None,
        per_minute: int = 30,
        per_day: int = 500,
        per_document_per_day: int = 5,
    ) -> dict[str, bool]:
        """Art 27: the yes/no answer ``{"match", "covered"}`` for today; logged, audited and rate-limited; a
        refusal is audited too."""
        if actor.role is not Role.VERIFIER or actor.organisation_id is None or actor.account_id is None:
            raise Forbidden("only an institution's verifier checks identities (Regulations Art 27)")
        try:
            return await self._check(
                actor,
                document_number=document_number,
                name=name,
                birth_date=birth_date,
                purpose=purpose,
                on=on,
                limits=(per_minute, per_day, per_document_per_day),
            )
        except (BadInput, RateLimited, SectorNotAllowed) as exc:
            await self.refused(actor, exc, document_number)
            raise

    async def refused(self, actor: Actor, exc: CaseError, document_number: str) -> None:
        """Audit a refused check (its own transaction: the check's was rolled back). The document number asked
        is kept (whose document was probed); the name and birth date asked are not."""
        number = normalise_number(document_number)
        detail: dict[str, Any] = {
            "organisation": actor.organisation_id,
            "reason": exc.code if not isinstance(exc, BadInput) else "bad_input",
            "document": number if _NUMBER.fullmatch(number) else None,
        }
        if isinstance(exc, BadInput):
            detail["field"] = exc.field
        elif isinstance(exc, (RateLimited, SectorNotAllowed)):
            detail["rule"] = exc.rule
        async with self.sessions() as s, s.begin():
            await audit.append(
                s, **caseless_event(actor, as_utc(self.clock.now()), "identity_check_refused", detail, None)
            )

    async def _check(
        self,
        actor: Actor,
        *,
        document_number: str,
        name: str,
        birth_date: dt.date,
        purpose: str,
        on: dt.date | None,
        limits: tuple[int, int, int],
    ) -> dict[str, bool]:
        assert actor.account_id is not None and actor.organisation_id is not None
        per_minute, per_day, per_document = limits
        number = normalise_number(document_number)
        if not _NUMBER.fullmatch(number):
            raise BadInput("document_number", "5-24 letters or digits")
        if not name_words(name) or len(name) > 200 or _CONTROL.search(name):
            raise BadInput("name", "the name as written in the document (at most 200 characters)")
        purpose = purpose.strip()
        if not purpose or len(purpose) > 200 or _CONTROL.search(purpose):
            raise BadInput("purpose", "the business the check is for (1-200 characters; Regulations Art 27)")
        now = as_utc(self.clock.now())
        checked_on = today(self.clock)
        if on is not None and on != checked_on:
            raise BadInput(
                "on",
                f"the check answers for today ({checked_on.isoformat()}, Beijing) only: {ART_27} gives a verifier "
                "the business it is handling now as its reason, not another date",
            )
        on = checked_on
        day_start = as_utc(dt.datetime.combine(checked_on, dt.time(0), tzinfo=SHANGHAI))
        to_midnight = max(1, int((day_start + dt.timedelta(days=1) - now).total_seconds()))
        async with self.sessions() as s, s.begin():
            org = await s.get(Organisation, actor.organisation_id)
            sector = sector_of(org.kind) if org else None
            if sector is None or not institution_may_verify(sector):
                named = ", ".join(en.lower() for en, _ in INSTITUTION_SECTORS.values())
                raise SectorNotAllowed(
                    f"institutions in {named} and the like may verify identities ({ART_27}); "
                    f"an organisation of kind {org.kind if org else '?'} may not"
                )
            # one verifier's checks queue here (row lock on PostgreSQL; SQLite serialises writers), so two
            # requests cannot both slip under the limit
            await s.execute(select(Account.id).where(Account.id == actor.account_id).with_for_update())
            # and the institution's checks of this document number, across its verifiers (two tellers of one
            # bank checking the same passport at once would each count below the per-document cap)
            await locks.serialise(
                s, locks.lock_key(locks.IDENTITY_DOCUMENT, f"{actor.organisation_id}:{number}")
            )
            recent = (
                await s.execute(
                    select(func.count(), func.min(IdentityCheck.at)).where(
                        IdentityCheck.verifier_account_id == actor.account_id, IdentityCheck.at > now - WINDOW
                    )
                )
            ).one()
            if recent[0] >= per_minute:
                oldest = as_utc(recent[1])
                raise RateLimited(
                    per_minute,
                    max(1, int((oldest + WINDOW - now).total_seconds()) + 1),
                    "Settings.identity_checks_per_minute",
                    f"at most {per_minute} identity checks a minute",
                )
            today_checks = (
                await s.execute(
                    select(func.count()).where(
                        IdentityCheck.verifier_account_id == actor.account_id, IdentityCheck.at >= day_start
                    )
                )
            ).scalar_one()
            if today_checks >= per_day:
                raise RateLimited(
                    per_day,
                    to_midnight,
                    "Settings.identity_checks_per_day",
                    f"at most {per_day} identity checks a day (Beijing time) per verifier account",
                    per="day",
                )
            of_document = (
                await s.execute(
                    select(func.count()).where(
                        IdentityCheck.organisation_id == actor.organisation_id,
                        IdentityCheck.document_number == number,
                        IdentityCheck.at >= day_start,
                    )
                )
            ).scalar_one()
            if of_document >= per_document:
                raise RateLimited(
                    per_document,
                    to_midnight,
                    "Settings.identity_checks_per_document_per_day",
                    f"at most {per_document} checks of one document number a day (Beijing time) per institution",
                    per="day",
                )
            candidates = {
                pid
                for (pid,) in await s.execute(
                    select(TravelDocument.person_id).where(TravelDocument.number == number)
                )
            } | {pid for (pid,) in await s.execute(select(Holding.person_id).where(Holding.number == number))}
            people = (
                (await s.execute(select(Person).where(Person.id.in_(sorted(candidates))).order_by(Person.id)))
                .scalars()
                .all()
                if candidates
                else []
            )
            matched = [
                p
                for p in people
                if p.birth_date == birth_date and name_matches(name, p.surname, p.given_names)
            ]
            holder = matched[0].id if matched else (people[0].id if len(people) == 1 else None)
            covered = bool(matched) and await covered_on(s, matched[0].id, on)
            row = IdentityCheck(
                verifier_account_id=actor.account_id,
                organisation_id=actor.organisation_id,
                document_number=number,
                purpose=purpose,
                on=on,
                matched=bool(matched),
                covered=covered,
                holder_person_id=holder,
                at=now,
            )
            s.add(row)
            await s.flush()
            await audit.append(
                s,
                **caseless_event(
                    actor,
                    now,
                    "identity_check",
                    {
                        "check": row.id,
                        "organisation": actor.organisation_id,
                        "sector": sector,
                        "on": on.isoformat(),
                        "match": bool(matched),
                        "covered": covered,
                    },
                    None,
                ),
            )
        return {"match": bool(matched), "covered": covered}

    async def checks_of_holder(self, actor: Actor) -> list[dict[str, Any]]:
        """The checks of the documents of the signed-in holder (an applicant's own person) or of the people an
        agent holds a mandate for — newest first; never anyone else's."""
        if actor.role not in (Role.APPLICANT, Role.AGENT):
            raise Forbidden("only the holder (or their agent) sees who checked their documents")
        people = set(actor.represents)
        if actor.person_id is not None:
            people.add(actor.person_id)
        if not people:
            return []
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    select(IdentityCheck, Organisation, Person)
                    .outerjoin(Organisation, Organisation.id == IdentityCheck.organisation_id)
                    .join(Person, Person.id == IdentityCheck.holder_person_id)
                    .where(IdentityCheck.holder_person_id.in_(sorted(people)))
                    .order_by(IdentityCheck.at.desc(), IdentityCheck.id.desc())
                )
            ).all()
        out = []
        for c, org, person in rows:
            sector = sector_of(org.kind) if org else None
            out.append(
                {
                    "id": c.id,
                    "at": as_utc(c.at).isoformat(),
                    "person_id": person.id,
                    "person_name": f"{person.surname} {person.given_names}".strip(),
                    "institution": org.name if org else None,
                    "sector": sector,
                    "sector_en": INSTITUTION_SECTORS[sector][0] if sector else None,
                    "sector_zh": INSTITUTION_SECTORS[sector][1] if sector else None,
                    "purpose": c.purpose,
                    "document_number": c.document_number,
                    "on": c.on.isoformat(),
                    "match": c.matched,
                    "covered": c.covered,
                }
            )
        return out
