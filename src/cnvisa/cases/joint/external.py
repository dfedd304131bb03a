"""Which work-permit authority decides a joint application's work-permit branch, and the wiring to an external
one (issue 10 §1: "its decisions reach cnvisa through an adapter … a desk in the platform … and a client for an
external system").

- **Routing is configuration** (``CNVISA_WORK_PERMIT_EXTERNAL``: a comma-separated list of single-window office
  codes, e.g. ``SH01``, or service-commitment jurisdictions, e.g. ``shanghai``, or ``*`` for every office).
  Reading/Office rule: whether an office's work-permit authority is reached through its own system is a fact of
  the deployment — it goes with ``CNVISA_WORK_PERMIT_URL`` and the token, changes when an integration goes live,
  not with the law or a case — so it is configured beside them rather than kept as office data (no migration,
  no admin page to guard). The default is the in-platform desk. The route chosen is pinned per branch at the
  joint acceptance: the branch is external exactly when its correlation (``agency_correlations``) was opened
  then, so a later change of the setting never moves an open branch.
- **External**: the acceptance opens the correlation (``register_correlation``) and records the submission in
  the outbox (``record_outgoing``, pending) in ITS transaction; after the commit the submission is sent
  (``submit_work_permit_branch``, via ``deliver_pending``) when the service holds a client, else by the worker
  (``cnvisa agency poll``). The authority's decisions come back through ``receive`` with
  ``decide_work_permit_branch`` as the handler (``via="external"``, the system actor). A withdrawal records its
  notice in the withdrawal's transaction and sends it after the commit the same way.
- The desk does not decide an external branch (Forbidden) and does not list it in its queue.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases.actor import Actor
from cnvisa.cases.agencies import (
    WORK_PERMIT_AGENCY,
    WorkPermitClient,
    deliver_pending,
    record_outgoing,
)
from cnvisa.cases.clock import Clock
from cnvisa.store.agency_tables import AgencyCorrelation, InterAgencyMessage
from cnvisa.store.joint_tables import JointApplication, WorkPermitBranch
from cnvisa.store.tables import Case, CaseFile, Office, Organisation

log = logging.getLogger(__name__)

DESK, EXTERNAL = "desk", "external"
ENV = "CNVISA_WORK_PERMIT_EXTERNAL"


@dataclass(frozen=True)
class WorkPermitRouting:
    """Where a single window's work-permit branches are decided: ``external`` holds office codes and
    jurisdictions whose authority is reached through its own system (``*``: every office); the rest use the
    desk in the platform."""

    external: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkPermitRouting:
        raw = (os.environ if env is None else env).get(ENV, "")
        return cls(frozenset(x.strip() for x in raw.split(",") if x.strip()))

    def route(self, office_code: str, jurisdiction: str | None) -> str:
        hit = "*" in self.external or office_code in self.external
        if jurisdiction is not None and jurisdiction in self.external:
            hit = True
        return EXTERNAL if hit else DESK


async def route_of(s: AsyncSession, reference: str | None) -> str | None:
    """The route pinned for a branch (None before acceptance): external when its correlation was opened."""
    if reference is None:
        return None
    corr = await s.get(AgencyCorrelation, reference)
    return EXTERNAL if corr is not None and corr.agency == WORK_PERMIT_AGENCY else DESK


async def submission_payload(
    s: AsyncSession, joint: JointApplication, branch: WorkPermitBranch, case: Case, office: Office
) -> dict[str, Any]:
    """What the authority is sent (cnvisa's proposal, docs/agencies.md): the work-permit application's data and
    its materials by reference (code and SHA-256; the bytes stay in cnvisa)."""
    employer = await s.get(Organisation, joint.employer_organisation_id)
    files = (
        await s.execute(
            select(CaseFile.material_code, CaseFile.sha256)
            .where(CaseFile.case_id == case.id)
            .order_by(CaseFile.material_code, CaseFile.id)
        )
    ).all()
    wp = joint.work_permit
    return {
        "joint_number": joint.number,
        "window_office": office.code,
        "person_id": joint.person_id,
        "employer_uscc": employer.uscc if employer else None,
        "category": wp.get("category"),
        "position": wp.get("position"),
        "work_region": wp.get("work_region"),
        "contract_until": wp.get("contract_until"),
        "accepted_on": joint.accepted_on.isoformat() if joint.accepted_on else None,
        "statutory_due": branch.statutory_due.isoformat() if branch.statutory_due else None,
        "commitment_due": joint.commitment_due.isoformat() if joint.commitment_due else None,
        "materials": [{"code": c, "sha256": h} for c, h in files],
    }


async def open_external(
    s: AsyncSession,
    *,
    joint: JointApplication,
    branch: WorkPermitBranch,
    case: Case,
    office: Office,
    actor: Actor,
    now: Any,
) -> None:
    """In the acceptance's transaction: the correlation opened and the submission put in the outbox."""
    assert branch.reference is not None
    payload = await submission_payload(s, joint, branch, case, office)
    await record_outgoing(
        s, correlation_id=branch.reference, kind="submission", payload=payload, actor=actor, now=now
    )


async def record_withdrawal(
    s: AsyncSession, *, reference: str, joint_number: str, actor: Actor, now: Any
) -> None:
    """In the withdrawal's transaction: the notice to the authority put in the outbox."""
    await record_outgoing(
        s,
        correlation_id=reference,
        kind="withdrawal",
        payload={"reason": f"joint application {joint_number} withdrawn by the applicant"},
        actor=actor,
        now=now,
    )


async def deliver(
    sessions: async_sessionmaker[AsyncSession],
    client: WorkPermitClient | None,
    reference: str,
    *,
    actor: Actor,
    clock: Clock,
) -> dict[str, Any]:
    """After the commit: send what the outbox holds for ``reference``. Without a client (this process does not
    reach the authority) the message waits for ``cnvisa agency poll``. A failure is reported, never raised: the
    command it follows is done."""
    if client is None:
        return {"outcome": "pending", "sent_by": "cnvisa agency poll"}
    try:
        deliveries = await deliver_pending(
            sessions, client, actor=actor, clock=clock, correlation_id=reference
        )
    except Exception as exc:  # the command is committed; the worker sends it later
        log.exception("sending to the work-permit authority failed for %s", reference)
        return {"outcome": "pending", "reason": type(exc).__name__, "sent_by": "cnvisa agency poll"}
    async with sessions() as s:
        row = (
            await s.execute(
                select(InterAgencyMessage)
                .where(InterAgencyMessage.direction == "out", InterAgencyMessage.correlation_id == reference)
                .order_by(InterAgencyMessage.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
    if row is None:
        return {"outcome": "none"}
    return {"kind": row.kind, "outcome": row.outcome, "reason": row.reason, "sent_now": bool(deliveries)}
