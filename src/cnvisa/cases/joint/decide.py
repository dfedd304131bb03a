"""The work-permit authority's decisions on a joint application's work-permit branch, and the join.

``decide_work_permit_branch`` is the one entry point for the other agency: its desk in the platform
(``cnvisa.cases.joint.desk``, ``via="desk"``) and the inter-agency message layer (``via="external"``) call it.
It acts inside the caller's transaction and never commits; every change is audited (on the residence case's
chain, so the joint application's history is one trail). The join (``cnvisa.law.one_stop.join_outcome``) is
computed from the branches after every decision and carried out at once when it ends the application:
the work permit refused ends the residence branch as not issuable (Law Art 41; Regulations Art 16(1)); the
work permit granted after the residence permit was refused closes the application as partial.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cnvisa.cases import audit, outbox
from cnvisa.cases.actor import SYSTEM, Actor
from cnvisa.cases.clock import beijing_date
from cnvisa.cases.errors import BadInput, Conflict, Forbidden, GuardFailed, NotFound
from cnvisa.cases.joint import parent_flow as pf
from cnvisa.cases.joint import work_permit_flow as wf
from cnvisa.cases.workflow import GUARD_ARTICLES, Command, Role, State
from cnvisa.cases.workflow import transition as case_transition
from cnvisa.law import one_stop
from cnvisa.law.errors import InvalidInput
from cnvisa.law.periods import add_years
from cnvisa.law.work_permit import work_permit_points
from cnvisa.store.agency_tables import AgencyCorrelation
from cnvisa.store.joint_tables import JointApplication, WorkPermit, WorkPermitBranch
from cnvisa.store.tables import Case

VIA = ("desk", "external")
WORK_PERMIT_MAX_YEARS = 5
"""Reading: a work permit follows the employment contract, at most 5 years (reforms.md §1 "Validity" [11][12])."""


async def record(
    s: AsyncSession,
    *,
    now: dt.datetime,
    actor: Actor,
    case_id: int,
    office_id: int | None,
    action: str,
    before: str | None,
    after: str | None,
    detail: dict[str, Any],
) -> None:
    """One audit event in the caller's transaction (deferred to the end of a runner's command, as
    ``Runner._audit`` does; at once otherwise)."""
    await s.flush()
    event: dict[str, Any] = {
        "at": now,
        "actor_account_id": actor.account_id,
        "role": str(actor.role),
        "office_id": office_id,
        "case_id": case_id,
        "action": action,
        "state_before": before,
        "state_after": after,
        "detail": detail,
    }
    deferred = s.info.get(audit.DEFERRED)
    if deferred is not None:
        deferred.append(event)
    else:
        await audit.append(s, **event)


def wp_guard(ok: bool, name: str, detail: str) -> None:
    if not ok:
        raise GuardFailed(name, wf.GUARD_ARTICLES.get(name) or pf.GUARD_ARTICLES.get(name, ""), detail)


def residence_decision(state: str) -> str:
    """The residence branch's decision for the join, from its case state."""
    if state in (State.APPROVED, State.ISSUED, State.COLLECTED):
        return "granted"
    if state in (State.REFUSED, State.NOT_ISSUABLE):
        return "refused"
    if state in (State.WITHDRAWN, State.LAPSED):
        return "withdrawn"
    return "pending"


def work_permit_decision(state: str) -> str:
    if state == wf.WState.GRANTED:
        return "granted"
    if state == wf.WState.REFUSED:
        return "refused"
    if state == wf.WState.WITHDRAWN:
        return "withdrawn"
    return "pending"


def join_of(branch: WorkPermitBranch, case: Case) -> one_stop.Join:
    return one_stop.join_outcome(work_permit_decision(branch.state), residence_decision(case.state))


def branch_view(b: WorkPermitBranch) -> dict[str, Any]:
    return {
        "reference": b.reference,
        "state": b.state,
        "version": b.version,
        "statutory_due": b.statutory_due.isoformat() if b.statutory_due else None,
        "extended": b.extended,
        "decision": b.decision,
        "grounds": list(b.grounds or []),
        "external_reference": b.external_reference,
        "decided_via": b.decided_via,
    }


def permit_view(p: WorkPermit | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "number": p.number,
        "category": p.category,
        "position": p.position,
        "work_region": p.work_region,
        "valid_from": p.valid_from.isoformat(),
        "valid_until": p.valid_until.isoformat(),
        "status": p.status,
        "points": p.points,
        "table_version": p.table_version,
        "category_reason": p.category_reason,
    }


def _date(payload: dict[str, Any], name: str) -> dt.date:
    value = payload.get(name)
    try:
        if isinstance(value, str) and len(value) == 10:
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise BadInput(f"payload.{name}", "a date, YYYY-MM-DD")


def _text(payload: dict[str, Any], name: str, rule: str, max_length: int = 200) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise BadInput(f"payload.{name}", rule)
    return value.strip()


def law_category(
    payload: dict[str, Any], joint: JointApplication, on: dt.date
) -> tuple[str, int | None, str | None, str | None]:
    """The category granted, with the points, table version and recorded reason (``WorkPermit``).

    Reading (issue 10 §1 "work permits as law-as-code"): when the grant carries the applicant's ``facts``, the
    law engine counts the points and the category (``cnvisa.law.work_permit_points``, as of the decision date
    unless ``facts.on`` says); a category given with them must agree with the law's or carry
    ``category_reason`` (e.g. a direct route to A the facts do not show, a provincial standard) — recorded,
    never silently overridden. Without facts the category is the authority's act as given (no points)."""
    given = payload.get("category")
    reason = payload.get("category_reason")
    if reason is not None and not (isinstance(reason, str) and reason.strip() and len(reason) <= 500):
        raise BadInput("payload.category_reason", "why the category differs from the law's, 1-500 characters")
    facts = payload.get("facts")
    if facts is None:
        category = given if given is not None else joint.work_permit.get("category")
        if category not in one_stop.CATEGORIES:
            raise BadInput("payload.category", "A, B or C (外国人来华工作分类标准（试行）)")
        return str(category), None, None, reason.strip() if reason else None
    if not isinstance(facts, dict):
        raise BadInput(
            "payload.facts", "the work-permit facts, an object (cnvisa law work-permit-points --schema)"
        )
    try:
        counted = work_permit_points({"on": on.isoformat(), **facts})
    except InvalidInput as exc:
        raise BadInput(f"payload.facts.{exc.field}", exc.message) from None
    law_says = counted["category"]
    category = given if given is not None else law_says
    if category not in one_stop.CATEGORIES:
        raise BadInput(
            "payload.category",
            f"the points ({counted['points_range'] if not counted['complete'] else counted['points']}) do not "
            "decide a category: give it with category_reason",
        )
    if category != law_says and not reason:
        raise BadInput(
            "payload.category_reason",
            f"category {category} differs from the law's {law_says} for these facts ({counted['points']} points, "
            f"table {counted['table_version']}; {counted['category_basis']}): give the reason",
        )
    return (
        str(category),
        int(counted["points"]),
        str(counted["table_version"]),
        reason.strip() if category != law_says and reason else None,
    )


def check_particulars(payload: dict[str, Any], joint: JointApplication, on: dt.date) -> dict[str, Any]:
    """The work permit's particulars as granted: category (with its points where facts are given), position,
    work region, validity (BadInput naming the field)."""
    category, points, table_version, category_reason = law_category(payload, joint, on)
    position = _text(payload, "position", "the position granted, 1-200 characters")
    region = payload.get("work_region")
    if not (isinstance(region, str) and len(region) == 6 and region.isdigit()):
        raise BadInput("payload.work_region", "the work region's administrative division code, 6 digits")
    valid_from, valid_until = _date(payload, "valid_from"), _date(payload, "valid_until")
    if valid_until <= valid_from:
        raise BadInput("payload.valid_until", "after valid_from")
    if valid_until > add_years(valid_from, WORK_PERMIT_MAX_YEARS):
        raise BadInput(
            "payload.valid_until", "at most 5 years after valid_from (reading: contracts ≤ 5 years)"
        )
    number = payload.get("number")
    if number is not None and not (isinstance(number, str) and 1 <= len(number) <= 24):
        raise BadInput("payload.number", "the work permit's number, 1-24 characters")
    return {
        "category": category,
        "points": points,
        "table_version": table_version,
        "category_reason": category_reason,
        "position": position,
        "work_region": region,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "number": number,
    }


async def load_joint_parts(s: AsyncSession, joint: JointApplication) -> tuple[WorkPermitBranch, Case]:
    branch = (
        await s.execute(select(WorkPermitBranch).where(WorkPermitBranch.joint_id == joint.id))
    ).scalar_one()
    case = await s.get(Case, joint.case_id)
    assert case is not None
    return branch, case


async def carry_out_join(
    s: AsyncSession,
    *,
    joint: JointApplication,
    branch: WorkPermitBranch,
    case: Case,
    by: Actor,
    now: dt.datetime,
) -> one_stop.Join:
    """What the join says, done in this transaction by the system (the sentry), the triggering actor named."""
    join = join_of(branch, case)
    if joint.state != pf.JState.ACCEPTED:
        return join
    cause = {"by_account": by.account_id, "by_role": str(by.role), "join": join.outcome}
    if join.outcome in ("not_issuable", "refused_both"):
        if join.residence_action == "end_not_issuable":
            t = case_transition(State(case.state), Command.END_NOT_ISSUABLE)
            if t is None:  # e.g. issued: cannot happen before the join, refused loudly if it does
                raise Conflict(f"the residence case is {case.state}: it cannot end as not issuable")
            before = case.state
            case.state, case.updated_at = str(t.next), now
            await record(
                s,
                now=now,
                actor=SYSTEM,
                case_id=case.id,
                office_id=case.office_id,
                action=str(Command.END_NOT_ISSUABLE),
                before=before,
                after=case.state,
                detail={
                    **cause,
                    "citations": [c.cite for c in join.citations],
                    "rule": GUARD_ARTICLES["work_permit_refused"],
                },
            )
        await _move_parent(s, joint, pf.JCommand.CLOSE_NOT_ISSUABLE, SYSTEM, now, cause)
    elif join.outcome == "partial":
        duties = [d.as_dict() for d in one_stop.duties(join.outcome)]  # shown on the view, not enforced
        await _move_parent(s, joint, pf.JCommand.CLOSE_PARTIAL, SYSTEM, now, {**cause, "duties": duties})
        permit = await s.get(WorkPermit, branch.work_permit_id) if branch.work_permit_id else None
        if permit is not None and permit.status == "granted":
            permit.status = "active"  # Reading: the work permit stands, another agency's act (reforms.md §1)
    return join


async def _move_parent(
    s: AsyncSession,
    joint: JointApplication,
    command: pf.JCommand,
    actor: Actor,
    now: dt.datetime,
    detail: dict[str, Any],
) -> None:
    t = pf.transition(pf.JState(joint.state), command)
    if t is None or actor.role not in t.roles:
        raise Conflict(f"{command} is not possible when the joint application is {joint.state}")
    before = joint.state
    joint.state, joint.updated_at = str(t.next), now
    await record(
        s,
        now=now,
        actor=actor,
        case_id=joint.case_id,
        office_id=joint.window_office_id,
        action=str(command),
        before=before,
        after=joint.state,
        detail={"joint": joint.number, **detail},
    )


@audit.events_last  # its events last, whoever calls it (the desk's command, a message, a test)
async def decide_work_permit_branch(
    s: AsyncSession,
    *,
    correlation_id: str,
    kind: str,
    payload: dict[str, Any],
    actor: Actor,
    via: str,
    now: datetime,
) -> dict[str, Any]:
    """Record the work-permit authority's ``kind`` of decision on the branch named by ``correlation_id`` (the
    reference generated at the joint acceptance), in the caller's transaction; never commits.

    ``kind``: ``under_review`` (taken under review), ``extended`` (payload ``reason``: once, +10 working days,
    ALL Art 42 para 1), ``granted`` (payload ``category``, ``position``, ``work_region``, ``valid_from``,
    ``valid_until``, optional ``number`` and ``external_reference``) or ``refused`` (payload ``grounds``: a
    non-empty list of reasons, ALL Art 38 para 2). ``via``: ``desk`` (actor a ``work_permit_officer`` of the
    window office) or ``external`` (actor ``system``). Optional payload ``version``: the branch version acted
    on. Raises BadInput naming the field, Forbidden, NotFound, Conflict (a transition the branch's state does
    not allow, a stale version, an application no longer open) and GuardFailed (a guard, with its article)."""
    if via not in VIA:
        raise BadInput("via", "desk or external")
    if kind not in {str(k) for k in wf.KINDS}:
        raise BadInput("kind", "under_review, extended, granted or refused")
    if not isinstance(payload, dict):
        raise BadInput("payload", "an object")
    expected = Role.WORK_PERMIT_OFFICER if via == "desk" else Role.SYSTEM
    if actor.role is not expected:
        raise Forbidden(f"a decision via {via} comes from a {expected}, not a {actor.role}")
    branch = (
        await s.execute(select(WorkPermitBranch).where(WorkPermitBranch.reference == correlation_id))
    ).scalar_one_or_none()
    if branch is None:
        raise NotFound(f"work-permit branch {correlation_id}")
    joint = await s.get(JointApplication, branch.joint_id)
    assert joint is not None
    if via == "desk" and actor.office_id != joint.window_office_id:
        raise Forbidden("the joint application belongs to another single window")
    corr = await s.get(AgencyCorrelation, correlation_id)
    if via == "desk" and corr is not None:
        raise Forbidden("this work-permit branch is decided by the authority's own system, not at the desk")
    version = payload.get("version")
    if version is not None and version != branch.version:
        raise Conflict(f"work-permit branch {correlation_id} is at version {branch.version}, not {version}")
    command = wf.WCommand(kind)
    t = wf.transition(wf.WState(branch.state), command)
    if t is None or actor.role not in t.roles:
        raise Conflict(f"{kind} is not possible when the work-permit branch is {branch.state}")
    if joint.state != pf.JState.ACCEPTED:
        raise Conflict(f"the joint application is {joint.state}: its work-permit branch takes no decision")
    case = await s.get(Case, joint.case_id)
    assert case is not None
    before = branch.state
    detail: dict[str, Any] = {"joint": joint.number, "reference": correlation_id, "via": via}
    ext_ref = payload.get("external_reference")
    if ext_ref is not None and not (isinstance(ext_ref, str) and 1 <= len(ext_ref) <= 80):
        raise BadInput("payload.external_reference", "the authority's own reference, 1-80 characters")
    permit: WorkPermit | None = None
    if command is wf.WCommand.EXTEND:
        reason = _text(
            payload,
            "reason",
            "the reason for the extension, told to the applicant (ALL Art 42 para 1), 1-500 characters",
            500,
        )
        wp_guard(
            not branch.extended, "extend_once", "the branch was already extended once, by 10 working days"
        )
        clocks = pinned_clocks(joint, extended=True)
        answer = one_stop.receipt_covers(clocks)
        wp_guard(
            answer.ok,
            "receipt_covers_work_permit",
            answer.detail + ": the extension is refused; decide within the receipt (grant, or refuse with "
            "reasons) — Reading, cnvisa.law.one_stop.receipt_covers",
        )
        branch.extended, branch.extension_reason = True, reason
        branch.statutory_due = clocks.statutory_due
        joint.commitment_due = clocks.commitment_due
        joint.updated_at = now
        detail.update(
            reason=reason,
            statutory_due=clocks.statutory_due.isoformat(),
            commitment_due=clocks.commitment_due.isoformat() if clocks.commitment_due else None,
            citation=one_stop.EXTENSION_CITATION.cite,
        )
    elif command is wf.WCommand.GRANT:
        p = check_particulars(payload, joint, beijing_date(now))
        permit = WorkPermit(
            number=p["number"] or f"pending-{branch.id}",
            person_id=joint.person_id,
            category=p["category"],
            employer_organisation_id=joint.employer_organisation_id,
            position=p["position"],
            work_region=p["work_region"],
            valid_from=p["valid_from"],
            valid_until=p["valid_until"],
            status="granted",
            branch_id=branch.id,
            created_at=now,
            points=p["points"],
            table_version=p["table_version"],
            category_reason=p["category_reason"],
        )
        s.add(permit)
        await s.flush()
        if p["number"] is None:
            permit.number = f"WP{p['valid_from']:%y}{permit.id:09d}"
        branch.decision, branch.work_permit_id = "granted", permit.id
        detail.update(work_permit=permit_view(permit))
    elif command is wf.WCommand.REFUSE:
        grounds = payload.get("grounds")
        if (
            not isinstance(grounds, list)
            or not grounds
            or not all(isinstance(g, str) and g.strip() and len(g) <= 500 for g in grounds)
        ):
            raise BadInput(
                "payload.grounds",
                "the reasons for the refusal, a non-empty list of texts "
                "(Administrative Licensing Law Art 38 para 2)",
            )
        branch.decision, branch.grounds = "refused", [g.strip() for g in grounds]
        detail.update(grounds=branch.grounds, citation=one_stop.REASONS_CITATION.cite)
    if command in (wf.WCommand.GRANT, wf.WCommand.REFUSE):
        branch.decided_at, branch.decided_via = now, via
    if ext_ref is not None:
        branch.external_reference = ext_ref
    branch.state, branch.updated_at = str(t.next), now
    await record(
        s,
        now=now,
        actor=actor,
        case_id=joint.case_id,
        office_id=joint.window_office_id,
        action=f"work_permit_{kind}",
        before=before,
        after=branch.state,
        detail=detail,
    )
    if corr is not None and command in (wf.WCommand.GRANT, wf.WCommand.REFUSE) and corr.closed_at is None:
        # Reading: a granted or refused branch takes no further decision (work_permit_flow): it is no longer
        # polled (a later message of the authority is still received and refused by the table if pushed)
        corr.closed_at = now.astimezone(dt.UTC)
    if command in (
        wf.WCommand.GRANT,
        wf.WCommand.REFUSE,
    ):  # the applicant told, in this transaction (issue 12)
        await outbox.case_event(s, case, f"work_permit_{kind}", now)
    join = await carry_out_join(s, joint=joint, branch=branch, case=case, by=actor, now=now)
    await s.flush()
    if permit is None and branch.work_permit_id is not None:
        permit = await s.get(WorkPermit, branch.work_permit_id)
    return {
        "case_id": case.id,  # the message layer audits its receipt on the residence case's trail
        "joint_id": joint.id,
        "joint_number": joint.number,
        "joint_state": joint.state,
        "branch": branch_view(branch),
        "work_permit": permit_view(permit),
        "residence_case": {"case_id": case.id, "state": case.state},
        "join": join.as_dict(),
    }


def pinned_clocks(joint: JointApplication, *, extended: bool | None = None) -> one_stop.Clocks:
    """The joint application's clocks as pinned at acceptance (its commitment, not today's data)."""
    assert joint.accepted_on is not None
    commitment = None
    if joint.jurisdiction is not None and joint.commitment_working_days is not None:
        commitment = one_stop.Commitment(
            joint.jurisdiction,
            "",
            joint.jurisdiction,
            "",
            joint.accepted_on,
            joint.commitment_working_days,
            joint.commitment_source or "",
        )
    return one_stop.clocks(joint.accepted_on, commitment, extended=bool(extended))
