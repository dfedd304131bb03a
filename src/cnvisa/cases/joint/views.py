"""How a joint application is shown: both branches, both clocks, the join and which branch is waiting."""

from __future__ import annotations

from typing import Any

from cnvisa.cases.joint.decide import branch_view, join_of, permit_view, pinned_clocks
from cnvisa.law import one_stop
from cnvisa.store.joint_tables import JointApplication, WorkPermit, WorkPermitBranch
from cnvisa.store.tables import Case


def clocks_view(joint: JointApplication, branch: WorkPermitBranch, case: Case) -> dict[str, Any] | None:
    """Both clocks as pinned at acceptance (None before it): the residence receipt (Regulations Art 18 para 1),
    the work-permit branch's statutory due (ALL Art 42 para 1, extended or not) and the service commitment's due
    with its source (None where the jurisdiction has none: none is shown)."""
    if joint.accepted_on is None:
        return None
    c = pinned_clocks(joint, extended=branch.extended)
    return {
        "accepted_on": joint.accepted_on.isoformat(),
        "residence_receipt_valid_until": case.receipt_valid_until.isoformat()
        if case.receipt_valid_until
        else None,
        "work_permit_statutory_due": branch.statutory_due.isoformat() if branch.statutory_due else None,
        "work_permit_extended": branch.extended,
        "service_commitment": (
            {
                "jurisdiction": joint.jurisdiction,
                "working_days": joint.commitment_working_days,
                "due": joint.commitment_due.isoformat() if joint.commitment_due else None,
                "source": joint.commitment_source,
            }
            if joint.jurisdiction
            else None
        ),
        "receipt_covers_work_permit": one_stop.receipt_covers(c).ok,
        "citations": [x.cite for x in (*one_stop.STATUTORY_CITATIONS, *one_stop.RECEIPT_CITATIONS)],
    }


def joint_view(
    joint: JointApplication,
    branch: WorkPermitBranch,
    case: Case,
    permit: WorkPermit | None,
    *,
    route: str | None = None,
) -> dict[str, Any]:
    """``route``: where the work-permit branch is decided (``desk`` or ``external``; None before acceptance)."""
    join = join_of(branch, case)
    return {
        "joint_id": joint.id,
        "number": joint.number,
        "state": joint.state,
        "version": joint.version,
        "person_id": joint.person_id,
        "employer_organisation_id": joint.employer_organisation_id,
        "office_id": joint.window_office_id,
        "work_permit_request": dict(joint.work_permit),
        "residence_branch": {
            "case_id": case.id,
            "number": case.number,
            "state": case.state,
            "version": case.version,
            "receipt_number": case.receipt_number,
            "receipt_valid_until": case.receipt_valid_until.isoformat() if case.receipt_valid_until else None,
            "issued_holding_id": case.issued_holding_id,
        },
        "work_permit_branch": {**branch_view(branch), "route": route},
        "work_permit": permit_view(permit),
        "clocks": clocks_view(joint, branch, case),
        "join": join.as_dict(),
        "waiting_for": list(join.waiting_for),
        "duties": [d.as_dict() for d in one_stop.duties(join.outcome)],
    }
