"""What the joint application's API and pages share (issue 10 §1): the submission with the facts on record, and
the files a joint application may carry beyond the catalogue's materials."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cnvisa.cases.queries import applications
from cnvisa.cases.records import FileIn
from cnvisa.cases.workflow import Role
from cnvisa.http.applicant import RESERVED_INPUTS
from cnvisa.http.deps import Platform, Principal
from cnvisa.http.problems import Problem
from cnvisa.law import one_stop

JOINT_CODES = frozenset({*one_stop.WORK_PERMIT_MATERIALS, "biometrics"})
"""Accepted as file parts beyond the catalogue's materials: the work-permit branch's materials, and the
biometrics record, which the joint checklist (``cnvisa.law.one_stop.joint_materials``) asks to be on file
although the catalogue calls it a procedure (taken in person; the platform keeps no record of a procedure done at
the window — the demo files it as a document too)."""


async def submit_joint(
    p: Platform,
    who: Principal,
    *,
    key: str,
    person_id: int,
    office_id: int,
    employer_organisation_id: int | None,
    work_permit: dict[str, Any],
    inputs: dict[str, Any],
    files: Sequence[FileIn],
    submitted_by: str | None = None,
    field_prefix: str = "application.",
) -> dict[str, Any]:
    """``JointService.apply_joint`` with the residence branch's inputs completed from the records (birth date,
    nationality: ``applications.application_facts``). The employer's staff apply for their own organisation;
    the foreigner names the employer. Reading: the joint submission is the employer's and the foreigner's
    together (issue 10 §1), so it is ``self`` unless an agent submits (then its mandate's capacity, Regulations
    Art 19)."""
    actor = who.actor
    employer = employer_organisation_id or (actor.organisation_id if actor.role is Role.ORG_STAFF else None)
    if employer is None:
        raise Problem(
            422,
            "Invalid input",
            "the employer's organisation id",
            field=f"{field_prefix}employer_organisation_id",
            code="bad_input",
        )
    bad = sorted(RESERVED_INPUTS & set(inputs))
    if bad:
        raise Problem(
            422,
            "Invalid input",
            "set by the platform, not by the applicant",
            field=f"{field_prefix}inputs.{bad[0]}",
            code="bad_input",
        )
    inputs, office_asks = await applications.application_facts_and_papers(
        p.reads, p.sessions, person_id, office_id, json.loads(json.dumps(inputs)), "residence_permit"
    )
    if submitted_by is None:
        submitted_by = (
            await applications.submitter_for(p.sessions, actor, person_id, p.today())
            if actor.role is Role.AGENT
            else "self"
        )
    return await p.joint.apply_joint(
        actor,
        key=key,
        person_id=person_id,
        office_id=office_id,
        employer_organisation_id=employer,
        work_permit=work_permit,
        inputs=inputs,
        submitted_by=submitted_by,
        files=files,
        office_asks=office_asks,
    )
