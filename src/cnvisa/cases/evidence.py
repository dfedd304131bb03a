"""Paper waived through shared records (信息共享免交; rules in ``cnvisa.law.shared_records``).

- Which papers: those the law engine requires that a register may replace (``WAIVERS``), and those the office asks
  for beyond the national checklist (``OfficePaper``, an office rule with its source) — for each one not handed in,
  one lookup per use (the one-time notice, the acceptance), recorded as an ``EvidenceLookup``: what was asked
  (register, key), whether found, which conditions matched, the reason when not, the SHA-256 of the record seen (PIPL
  Art 6 minimisation: never a copy of it), who and when. The command that used it audits the lookups it made.
- A paper is waived only when the record is found AND matches (``match_record``); otherwise it is back in the
  one-time notice with the reason, and the acceptance guard (``application_complete``) counts it missing.
- The applicant sees which records were used instead of paper (``EvidenceQueries.records_used``).
- Registers looked up here: accommodation registrations (Law Art 39), business licences (by unified social
  credit code) and work permits (``cnvisa.cases.work_permits``: the same person and employer, active, covering
  the date).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases import audit
from cnvisa.cases.actor import Actor
from cnvisa.cases.clock import beijing_date, beijing_time
from cnvisa.cases.queries.reader import Reader
from cnvisa.cases.work_permits import latest_work_permit, register_record, work_permit_on
from cnvisa.cases.workflow import APPLICANT_SIDE
from cnvisa.law.materials import CATALOGUE
from cnvisa.law.shared_records import WAIVERS, match_record
from cnvisa.store.joint_tables import JointApplication
from cnvisa.store.register_tables import (
    AccommodationRegistration,
    EvidenceLookup,
    OfficePaper,
    OrganisationLicence,
)
from cnvisa.store.tables import Case, CaseFile, Office, Organisation, OrgPerson


@dataclass(frozen=True)
class Seen:
    """What a register answered: the key asked, the record (the fields the match needs), or None."""

    query_key: str
    record: dict[str, Any] | None
    reason: str | None = None
    """Why nothing could be asked (e.g. no employing organisation on record)."""


Lookup = Callable[[AsyncSession, Case, dt.date], Awaitable[Seen]]


async def _accommodation(s: AsyncSession, case: Case, on: dt.date) -> Seen:
    """The person's registration covering ``on`` if any, else their latest (found, and shown why it fails)."""
    rows = (
        (
            await s.execute(
                select(AccommodationRegistration)
                .where(AccommodationRegistration.person_id == case.person_id)
                .order_by(
                    AccommodationRegistration.registered_from.desc(), AccommodationRegistration.id.desc()
                )
                .limit(20)
            )
        )
        .scalars()
        .all()
    )
    if not rows:
        return Seen(f"person:{case.person_id}", None)
    covering = [
        r
        for r in rows
        if r.registered_from <= on and (r.registered_until is None or on <= r.registered_until)
    ]
    r = covering[0] if covering else rows[0]
    record = {
        "person_id": r.person_id,
        "division_code": r.division_code,
        "from": r.registered_from.isoformat(),
        "until": r.registered_until.isoformat() if r.registered_until else None,
        "registered_by": r.registered_by,
        "address": r.address,
    }
    return Seen(f"person:{case.person_id}", record)


async def _organisation_uscc(s: AsyncSession, case: Case, on: dt.date) -> str | None:
    """The unified social credit code of the organisation employing or inviting the applicant on ``on``.
    Reading: the residence branch of a joint application is checked against the employer the application names
    (the work-permit branch's, seed 001 l.11), not a link on record — a new hire has none yet."""
    named = (
        await s.execute(
            select(Organisation.uscc)
            .join(JointApplication, JointApplication.employer_organisation_id == Organisation.id)
            .where(JointApplication.case_id == case.id)
        )
    ).scalar_one_or_none()
    if named is not None:
        return str(named)
    row = (
        await s.execute(
            select(Organisation.uscc)
            .join(OrgPerson, OrgPerson.organisation_id == Organisation.id)
            .where(
                OrgPerson.person_id == case.person_id,
                OrgPerson.relation.in_(("employee", "invitee")),
                OrgPerson.since <= on,
                or_(OrgPerson.until.is_(None), OrgPerson.until >= on),
            )
            .order_by(OrgPerson.since.desc())
            .limit(1)
        )
    ).first()
    return str(row[0]) if row else None


async def _licence(s: AsyncSession, case: Case, on: dt.date) -> Seen:
    uscc = await _organisation_uscc(s, case, on)
    if uscc is None:
        return Seen(
            f"person:{case.person_id}",
            None,
            "no inviting or employing organisation on record for the applicant",
        )
    lic = (
        await s.execute(select(OrganisationLicence).where(OrganisationLicence.uscc == uscc))
    ).scalar_one_or_none()
    if lic is None:
        return Seen(f"uscc:{uscc}", None)
    record = {
        "uscc": lic.uscc,
        "status": lic.status,
        "valid_until": lic.valid_until.isoformat() if lic.valid_until else None,
        "source": lic.source,
    }
    return Seen(f"uscc:{uscc}", record, None)


async def _work_permit(s: AsyncSession, case: Case, on: dt.date) -> Seen:
    """The applicant's work permit for the employer on record (``cnvisa.cases.work_permits``): the active one
    covering ``on`` if any, else the latest for that employer, else the latest of any employer (found, and shown
    why it fails)."""
    uscc = await _organisation_uscc(s, case, on)
    key = f"person:{case.person_id};uscc:{uscc}" if uscc else f"person:{case.person_id}"
    permit = None
    if uscc is not None:
        org_id = (
            await s.execute(select(Organisation.id).where(Organisation.uscc == uscc))
        ).scalar_one_or_none()
        if org_id is not None:
            permit = await work_permit_on(s, case.person_id, on, employer_organisation_id=org_id)
        permit = permit or await latest_work_permit(s, case.person_id, employer_uscc=uscc)
    permit = permit or await latest_work_permit(s, case.person_id)
    if permit is None:
        reason = None if uscc else "no employing organisation on record for the applicant"
        return Seen(key, None, reason)
    return Seen(key, await register_record(s, permit))


LOOKUPS: dict[str, Lookup] = {
    "accommodation": _accommodation,
    "business_licence": _licence,
    "work_permit": _work_permit,
}
"""Register → its lookup."""


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 of the record seen (canonical JSON): proves later what was seen, without keeping it."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Papers:
    """The register-backed papers of one use: waived, still missing (with reasons), and the lookups made."""

    asked: list[str] = field(default_factory=list)
    waived: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    lookups: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    """The lookup rows as written: kept by ``keep_when_refused`` should the command be refused and rolled back."""

    def audit_detail(self) -> dict[str, Any]:
        return {"waived": self.waived, "paper_needed": self.reasons, "lookups": self.lookups}


_OFFICE_PAPERS = (
    select(OfficePaper.material_code, OfficePaper.matters)
    .where(OfficePaper.office_id == bindparam("office_id"))
    .order_by(OfficePaper.id)
)
"""Built once (every application reads it): nothing is constructed or looked up in the statement cache's keys
per call."""


def asked_for(rows: Iterable[tuple[str, Any]], matter: str) -> list[str]:
    """Office rule: of the office's papers (``(material_code, matters)`` in the order of their ids), those it
    asks for ``matter`` — an empty ``matters`` means every matter. ``matters`` may come as JSON text (a hot read
    on the plain asyncpg pool, ``cnvisa.store.fast``)."""
    out = []
    for code, matters in rows:
        listed = json.loads(matters) if isinstance(matters, str) else matters
        if not listed or matter in listed:
            out.append(code)
    return out


async def office_papers(s: AsyncSession, case: Case) -> list[str]:
    """Office rule: the papers this office asks for this matter beyond the national checklist."""
    rows = (await s.execute(_OFFICE_PAPERS, {"office_id": case.office_id})).all()
    return asked_for(rows, case.matter)


async def handed_in_and_office_papers(s: AsyncSession, case: Case) -> tuple[set[str], list[str]]:
    """The materials handed in for the case and the office's own papers for its matter (``office_papers``), in
    one read."""
    q = union_all(
        select(literal(1).label("k"), OfficePaper.id, OfficePaper.material_code, OfficePaper.matters).where(
            OfficePaper.office_id == case.office_id
        ),
        select(literal(0), CaseFile.id, CaseFile.material_code, literal(None)).where(
            CaseFile.case_id == case.id
        ),
    )
    rows = (await s.execute(q)).all()
    provided = {code for k, _, code, _ in rows if k == 0}
    paper_rows = sorted((i, code, matters) for k, i, code, matters in rows if k == 1)
    return provided, asked_for(((code, matters) for _, code, matters in paper_rows), case.matter)


async def papers(
    s: AsyncSession,
    actor: Actor,
    case: Case,
    *,
    required: Sequence[str],
    handed_in: Sequence[str],
    purpose: str,
    now: dt.datetime,
    extra: Sequence[str] | None = None,
) -> Papers:
    """Look up every register-backed paper of the case not handed in (one ``EvidenceLookup`` each) and sort it:
    waived (found and matching) or missing with its reason. ``required``: the law engine's required codes;
    ``extra``: the office's own papers (``office_papers``) when the caller has read them already."""
    out = Papers()
    extra = await office_papers(s, case) if extra is None else list(extra)
    candidates = [c for c in required if c in WAIVERS] + [c for c in extra if c not in required]
    have = set(handed_in)
    office: Office | None = None
    on = beijing_date(case.created_at) if case.created_at else beijing_date(now)
    for code in candidates:
        if code in have:
            continue
        w = WAIVERS.get(code)
        lookup = LOOKUPS.get(w.register) if w is not None and w.looked_up_here else None
        if w is None or lookup is None:  # no register answers here: only the paper will do
            if code in extra:
                out.asked.append(code)
                out.missing.append(code)
            continue
        out.asked.append(code)
        if office is None:
            office = await s.get(Office, case.office_id)
            assert office is not None
        seen = await lookup(s, case, on)
        ask = {
            "person_id": case.person_id,
            "uscc": seen.query_key.partition("uscc:")[2] or None,
            "on": on.isoformat(),
            "office_region": office.region,
            "office_level": office.level,
        }
        m = match_record(code, seen.record, ask)
        reason = seen.reason or m["reason"]
        values = {
            "case_id": case.id,
            "material_code": code,
            "register": w.register,
            "query_key": seen.query_key,
            "found": m["found"],
            "matched": m["matched"],
            "matched_fields": m["matched_fields"],
            "mismatch_reason": reason,
            "record_sha256": record_hash(seen.record) if seen.record is not None else None,
            "looked_up_by": actor.account_id,
            "looked_up_at": now,
            "purpose": purpose,
        }
        out.rows.append(values)
        row = EvidenceLookup(**values)
        s.add(row)
        await s.flush()
        out.lookups.append(
            {
                "id": row.id,
                "material": code,
                "register": w.register,
                "found": row.found,
                "matched": row.matched,
            }
        )
        if m["matched"]:
            out.waived.append(code)
        else:
            out.missing.append(code)
            out.reasons[code] = f"{w.register} register: {reason}"
    return out


async def keep_when_refused(
    sessions: Any, actor: Actor, case_id: int, used: Papers | None, now: dt.datetime
) -> None:
    """A command refused after its lookups (e.g. the acceptance guard) rolls back: the lookups were made all the
    same, and what the register answered reached the officer in the refusal — so they are written again, in a
    transaction of their own, with an audit event (PIPL Art 6, 55: every processing of personal information is
    recorded)."""
    if used is None or not used.rows:
        return
    async with sessions() as s, s.begin():
        case = await s.get(Case, case_id)
        assert case is not None
        rows = [EvidenceLookup(**values) for values in used.rows]
        s.add_all(rows)
        await s.flush()
        await audit.append(
            s,
            at=now,
            actor_account_id=actor.account_id,
            role=str(actor.role),
            office_id=actor.office_id if actor.is_staff else case.office_id,
            case_id=case.id,
            action="evidence_lookup",
            state_before=case.state,
            state_after=case.state,
            detail={
                "lookups": [
                    {"id": r.id, "material": r.material_code, "found": r.found, "matched": r.matched}
                    for r in rows
                ],
                "command_refused": True,
            },
        )


class EvidenceQueries(Reader):
    async def records_used(self, actor: Actor, case_id: int, *, audited: bool = True) -> list[dict[str, Any]]:
        """ "Records used instead of paper": per material, the latest lookup — the register, whether it was found
        and matched (and so used instead of the paper), which conditions matched, or why the paper is needed.
        The record itself is not shown (only its hash is kept). A staff read is audited (``audited`` False: it is
        part of a case read audited already, e.g. the officer's case page)."""
        async with self.sessions() as s, s.begin():
            case = await self._load(s, case_id, None, actor)
            latest = (
                select(EvidenceLookup.material_code, EvidenceLookup.id)
                .where(EvidenceLookup.case_id == case.id)
                .order_by(EvidenceLookup.material_code, EvidenceLookup.id.desc())
            )
            ids: dict[str, int] = {}
            for code, lid in (await s.execute(latest)).all():
                ids.setdefault(code, lid)
            rows = (
                (
                    await s.execute(
                        select(EvidenceLookup)
                        .where(and_(EvidenceLookup.id.in_(list(ids.values()) or [0])))
                        .order_by(EvidenceLookup.id)
                    )
                )
                .scalars()
                .all()
            )
            if audited and actor.role not in APPLICANT_SIDE:
                await audit.append(
                    s,
                    at=self.now(),
                    actor_account_id=actor.account_id,
                    role=str(actor.role),
                    office_id=actor.office_id if actor.is_staff else case.office_id,
                    case_id=case.id,
                    action="read_records_used",
                    state_before=case.state,
                    state_after=case.state,
                )
        out = []
        for r in rows:
            m = CATALOGUE.get(r.material_code)
            out.append(
                {
                    "material": r.material_code,
                    "label": {"en": m.en, "zh": m.zh} if m else None,
                    "register": r.register,
                    "found": r.found,
                    "used_instead_of_paper": r.matched,
                    "matched_fields": list(r.matched_fields),
                    "reason": r.mismatch_reason,
                    "looked_up_at": beijing_time(r.looked_up_at).isoformat(),
                    "purpose": r.purpose,
                    "citations": [c.cite for c in WAIVERS[r.material_code].citations]
                    if r.material_code in WAIVERS
                    else [],
                    "citation_refs": [c.as_dict() for c in WAIVERS[r.material_code].citations]
                    if r.material_code in WAIVERS
                    else [],
                }
            )
        return out
