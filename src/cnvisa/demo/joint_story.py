"""The demo's joint applications (issue 10 §1: one-stop work permit + work-type residence permit): engineers just
hired by Demo Employer (Shanghai), each entered on a Z visa a few days before applying, their joint applications
in every state — played by the single window's commands (``JointService``), the work-permit desk's commands and
the exit-entry office's own commands on the residence branch (``CaseService``), with the demo clock set to each
step's moment. No state is written into the database: only the people, their passports, visas and entries, their
employer's link and the desk's sign-ins are inserted, as ``cnvisa.demo.cast`` does for the cast.

Shanghai's service commitment covers category A only (``law/data/service_commitments.toml``): without a
commitment the statutory 20 working days outrun the 15-day receipt and the joint acceptance is refused
(``cnvisa.law.one_stop.receipt_covers``), so the Shanghai applications are for category A. An extension there
would take the decision past the receipt too (7 + 10 > 15 working days): the extended branch is in Beijing, whose
commitment (5 working days, every category) leaves room for the 10 days (5 + 10 = 15), at Demo Employer's Beijing
branch, category B.

The states (``setup`` returns the joint ids under these names): submitted; deficient (the one notice for both
branches); accepted (both clocks running); under_review (the desk took the work-permit branch); extended
(Beijing, under review and extended once); approved_waiting (work permit granted, residence permit approved: to
be issued together); issued (together); collected (together; this one began with the one notice and a
supplement); not_issuable (work permit refused: the residence branch ends not issuable); partial (work permit
granted, residence permit refused, settled); withdrawn (after acceptance: both branches end); lapsed (the notice
unanswered: the daily sweep)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from cnvisa.cases.actor import Actor
from cnvisa.cases.clock import SHANGHAI, ManualClock
from cnvisa.cases.joint.external import WorkPermitRouting
from cnvisa.cases.joint.service import JointService
from cnvisa.cases.passport_check import PassportShown, on_record
from cnvisa.cases.records import FileIn
from cnvisa.cases.service import CaseService
from cnvisa.cases.workflow import Role
from cnvisa.demo.cast import Member, _one, _person, _uscc, birth_date
from cnvisa.demo.registers import office_papers
from cnvisa.demo.story import MATERIAL, refusal_ground, schedule
from cnvisa.http.security import hash_off_loop
from cnvisa.law import one_stop
from cnvisa.law.errors import CalendarYearNotLoaded
from cnvisa.store.db import sessionmaker
from cnvisa.store.joint_tables import JointApplication, WorkPermitBranch
from cnvisa.store.tables import Account, Case, Mandate, Organisation, OrgPerson

DESK = (
    # user name, password, office code, display name: used only where no work-permit officer sits at the office
    ("wp.desk.demo", "wpdesk-demo-2025", "SH01", "Work-permit officer Chen Jing (Shanghai single window)"),
    (
        "wp.desk.demo.bj01",
        "wpdesk-bj-demo-2025",
        "BJ01",
        "Work-permit officer Liu Yang (Beijing single window)",
    ),
)
"""The work-permit desk's sign-ins (role ``work_permit_officer``, office = the single window office)."""
FOREIGNERS = (("giulia.rossi", "giulia-demo-2025", "deficient", "Giulia ROSSI"),)
"""Sign-ins of joint applications' foreigners (role ``applicant``): user name, password, the plan's state, display
name — Giulia ROSSI follows hers (the one notice for both branches, its supplement) on her progress page."""
AGENT_PLAN: Final = ("carol", "under_review", "relative")
"""The demo agent (``carol``, ``cnvisa.demo.cast``), the plan whose hire she holds a mandate for, and in what
capacity: Camille DUBOIS, a relative of hers, hired for category A — high-level foreign talent, for whom a relative
may apply for a residence document (Regulations Art 19 para 2). Her joint application is under review, so an
agent who signs in sees both branches, both clocks and the branch waiting. Only ``cnvisa demo setup`` gives it
(``seed_joint(agent=...)``): the web tests' seed keeps carol to Léo alone."""
BEIJING_BRANCH = ("Demo Employer Co., Ltd. Beijing Branch", "MA1DEM04")

INCOMPLETE = "incomplete"
"""Where ``seed_joint`` lists an application stopped short of its state (``CalendarYearNotLoaded``)."""
PATHS: dict[str, tuple[str, ...]] = {
    "submitted": ("apply",),
    "deficient": ("apply_partly", "notice"),
    "accepted": ("apply", "accept"),
    "under_review": ("apply", "accept", "take"),
    "extended": ("apply", "accept", "take", "extend"),
    "approved_waiting": ("apply", "accept", "take", "grant", "approve"),
    "issued": ("apply", "accept", "take", "grant", "approve", "issue"),
    "collected": ("apply_partly", "notice", "supplement", "accept", "take", "grant", "approve", "issue", "collect"),
    "not_issuable": ("apply", "accept", "take", "refuse"),
    "partial": ("apply", "accept", "grant", "propose", "confirm", "settle"),
    "withdrawn": ("apply", "accept", "withdraw"),
    "lapsed": ("apply_partly", "notice", "lapse"),
}  # fmt: skip
"""The commands that bring a new joint application to each demo state (``apply_partly``: without two materials)."""

JOINT_STATE = {
    "submitted": "submitted",
    "deficient": "deficient",
    "accepted": "accepted",
    "under_review": "accepted",
    "extended": "accepted",
    "approved_waiting": "accepted",
    "issued": "issued",
    "collected": "collected",
    "not_issuable": "not_issuable",
    "partial": "partial",
    "withdrawn": "withdrawn",
    "lapsed": "lapsed",
}
"""The joint application's own state each demo state ends in (the tests check it)."""


@dataclass(frozen=True)
class JointPlan:
    """One joint application: the applicant (a new hire), the state to reach, where, and what is applied for."""

    target: str
    surname: str
    given_names: str
    sex: str
    nationality: str
    age: int
    passport: str
    position: str
    by_employer: bool = True  # submitted by Demo Employer's HR (else by the foreigner at the counter)
    office: str = "SH01"
    category: str = "A"
    last_days_ago: int = 1  # the last step is on the last working day on or before this many days ago


PLANS: list[JointPlan] = [
    JointPlan("submitted", "SCHMIDT", "LUKAS", "M", "DEU", 41, "C4F7K2M91", "Chief scientist"),
    JointPlan("deficient", "ROSSI", "GIULIA", "F", "ITA", 38, "YA2231457", "Head of research", by_employer=False),
    JointPlan("accepted", "KIM", "MINJUN", "M", "KOR", 45, "M87412365", "Chief technology officer"),
    JointPlan("under_review", "DUBOIS", "CAMILLE", "F", "FRA", 36, "19AB55821", "Principal investigator"),
    JointPlan("extended", "NOVAK", "PETRA", "F", "CZE", 33, "41287733", "Data engineer", by_employer=False,
              office="BJ01", category="B"),
    JointPlan("approved_waiting", "SATO", "HARUKA", "F", "JPN", 39, "TK8812034", "Chief designer"),
    JointPlan("issued", "JOHANSSON", "ERIK", "M", "SWE", 47, "91551203", "Research director", last_days_ago=2),
    JointPlan("collected", "OLIVEIRA", "ANA", "F", "BRA", 42, "FZ118834", "Chief engineer", last_days_ago=3),
    JointPlan("not_issuable", "MAYER", "JONAS", "M", "AUT", 34, "P6627190", "Senior engineer"),
    JointPlan("partial", "NOWAK", "PIOTR", "M", "POL", 44, "EC4421876", "Chief architect", last_days_ago=2),
    JointPlan("withdrawn", "BROWN", "OLIVIA", "F", "GBR", 37, "553871204", "Head of finance", by_employer=False),
    JointPlan("lapsed", "HANSEN", "MADS", "M", "DNK", 40, "209934871", "Chief economist", last_days_ago=2),
]  # fmt: skip


def _files(codes: list[str]) -> list[FileIn]:
    return [FileIn(code, f"{code}.pdf", MATERIAL) for code in codes]


async def _desk(engine: AsyncEngine, offices: dict[str, int]) -> dict[str, Actor]:
    """The work-permit officer of each single window office (SH01, BJ01): the first one there, else one made."""
    out: dict[str, Actor] = {}
    async with engine.begin() as conn:
        for username, password, code, name in DESK:
            office_id = offices[code]
            found = (
                await conn.execute(
                    select(Account.id)
                    .where(Account.role == str(Role.WORK_PERMIT_OFFICER), Account.office_id == office_id)
                    .order_by(Account.id)
                )
            ).first()
            account_id = (
                found[0]
                if found
                else await _one(
                    conn,
                    Account,
                    Account.username == username,
                    {
                        "username": username,
                        "display_name": name,
                        "role": str(Role.WORK_PERMIT_OFFICER),
                        "password_hash": await hash_off_loop(password),
                        "active": True,
                        "office_id": office_id,
                    },
                )
            )
            out[code] = Actor(account_id, Role.WORK_PERMIT_OFFICER, office_id=office_id)
    return out


async def _foreigners(engine: AsyncEngine, person_of: dict[str, int]) -> None:
    async with engine.begin() as conn:
        for username, password, target, name in FOREIGNERS:
            await _one(
                conn,
                Account,
                Account.username == username,
                {
                    "username": username,
                    "display_name": name,
                    "role": str(Role.APPLICANT),
                    "password_hash": await hash_off_loop(password),
                    "active": True,
                    "person_id": person_of[target],
                },
            )


async def _people(
    engine: AsyncEngine,
    today: dt.date,
    plans: list[tuple[JointPlan, list[dt.date]]],
    employers: dict[str, int],
    hr: int | None = None,
    agent: int | None = None,
) -> list[int]:
    """Each plan's applicant: a passport, a Z visa (single entry, 30-day stay) used to enter three days before
    the application, and the employer's link (employee since the entry). Demo Employer's HR (``hr``) holds a
    mandate for each of its Shanghai hires (the inviting entity, Regulations Art 19): what lets its staff follow
    and act on their joint applications on the pages and the API (``cnvisa.cases.actor.may_touch``)."""
    now = dt.datetime.combine(today, dt.time(1, 0), tzinfo=dt.UTC)
    ids: list[int] = []
    async with engine.begin() as conn:
        for i, (plan, days) in enumerate(plans):
            entered = (today - days[0]).days + 3
            member = Member(
                f"joint{i}", plan.surname, plan.given_names, plan.sex, plan.nationality, plan.age, plan.passport,
                ("visa", f"V25DEMO{101 + i:04d}", "Z", "single", 30, entered + 20, 60), entered,
            )  # fmt: skip
            pid = await _person(conn, member, today, now)
            await conn.execute(
                insert(OrgPerson).values(
                    organisation_id=employers[plan.office],
                    person_id=pid,
                    relation="employee",
                    since=today - dt.timedelta(days=entered),
                )
            )
            holders = [(hr, "inviting_entity")] if hr is not None and plan.office == "SH01" else []
            if agent is not None and plan.target == AGENT_PLAN[1]:
                holders.append((agent, AGENT_PLAN[2]))
            for holder, capacity in holders:
                await conn.execute(
                    insert(Mandate).values(
                        agent_account_id=holder,
                        person_id=pid,
                        capacity=capacity,
                        valid_from=today - dt.timedelta(days=entered),
                        valid_until=None,
                    )
                )
            ids.append(pid)
    return ids


def _inputs(plan: JointPlan, today: dt.date, first: dt.date) -> dict[str, Any]:
    """The residence branch's law-contract inputs (a first work-type permit after entry on a Z visa, Law Art 30)."""
    member = Member("x", plan.surname, plan.given_names, plan.sex, plan.nationality, plan.age, plan.passport,
                    ("visa", "", "Z", "single", 30, 0, 0), 0)  # fmt: skip
    return {
        "applicant": {"birth_date": birth_date(member, today).isoformat(), "nationality": plan.nationality},
        "entry_date": (first - dt.timedelta(days=3)).isoformat(),
        "visa": {"category": "Z", "entries": "single", "stay_days": 30},
        "requested": {"permit_type": "work", "validity_days": 730},
    }


class _Player:
    """Plays the plans through the services, one step at a time on the demo clock."""

    def __init__(
        self, engine: AsyncEngine, today: dt.date, ids: dict[str, Any], desk: dict[str, Actor]
    ) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine)
        self.clock = ManualClock(today)
        # the demo's branches are decided at the desk by its work-permit officers, whatever the site's routing
        # (CNVISA_WORK_PERMIT_EXTERNAL sends a real site's branches to the authority's system)
        self.joint = JointService(self.sessions, self.clock, routing=WorkPermitRouting())
        self.cases = CaseService(self.sessions, self.clock)
        self.today = today
        offices, accounts = ids["offices"], ids["accounts"]
        self.officers = {
            "SH01": (
                Actor(accounts["sh01.officer"], Role.OFFICER, office_id=offices["SH01"]),
                Actor(accounts["sh01.officer2"], Role.OFFICER, office_id=offices["SH01"]),
            ),
            "BJ01": (Actor(accounts["bj01.officer"], Role.OFFICER, office_id=offices["BJ01"]),) * 2,
        }
        self.offices = offices
        self.hr = accounts["employer.hr"]
        self.desk = desk
        self.joint_id = 0  # the application being played

    async def _versions(self, joint_id: int) -> tuple[int, int, str | None, int, int]:
        """The joint application's version, its branch's version and reference, its case's id and version."""
        async with self.sessions() as s:
            joint = await s.get(JointApplication, joint_id)
            assert joint is not None
            branch = (
                await s.execute(select(WorkPermitBranch).where(WorkPermitBranch.joint_id == joint_id))
            ).scalar_one()
            case = await s.get(Case, joint.case_id)
            assert case is not None
            return joint.version, branch.version, branch.reference, case.id, case.version

    async def _passport(self, person_id: int) -> PassportShown:
        """The passport on record, as the reader at the window gives it (its MRZ)."""
        async with self.sessions() as s:
            shown = await on_record(s, person_id)
        assert shown is not None, f"the demo person {person_id} has no passport MRZ on record"
        return shown

    async def play(self, plan: JointPlan, person_id: int, employer_id: int, days: list[dt.date]) -> int:
        path = PATHS[plan.target]
        rng = random.Random(person_id)
        contract_until = self.today + dt.timedelta(days=3 * 365)
        work_region = "310115" if plan.office == "SH01" else "110105"  # Pudong; Chaoyang
        wp = {"category": plan.category, "position": plan.position, "work_region": work_region,
              "contract_until": contract_until.isoformat()}  # fmt: skip
        inputs = _inputs(plan, self.today, days[0])
        required = one_stop.joint_materials(category=plan.category, validity_days=730)
        codes = [m.code for m in required if m.satisfied_by == "upload"]
        # the window office's own papers (office rule, cnvisa.demo.registers): handed in — the demo employer's
        # licence is revoked in the register and new hires have no accommodation registration on record yet
        codes += await office_papers(self.engine, self.offices[plan.office], "residence_permit")
        held_back = ["criminal_record_certificate", "health_certificate"] if path[0] == "apply_partly" else []
        applicant = (
            Actor(self.hr, Role.ORG_STAFF, organisation_id=employer_id, represents=frozenset({person_id}))
            if plan.by_employer
            else Actor(None, Role.APPLICANT, person_id=person_id)
        )
        officer, second = self.officers[plan.office]
        desk = self.desk[plan.office]
        joint_id = 0
        for step, day in zip(path, days, strict=True):
            self.clock.set(
                dt.datetime.combine(day, dt.time(9, 30), tzinfo=SHANGHAI)
                + dt.timedelta(minutes=rng.randint(0, 420))
            )
            key = f"demo-joint-{step}-{uuid.uuid4().hex[:16]}"
            if step in ("apply", "apply_partly"):
                out = await self.joint.apply_joint(
                    applicant,
                    key=key,
                    person_id=person_id,
                    office_id=self.offices[plan.office],
                    employer_organisation_id=employer_id,
                    work_permit=wp,
                    inputs=inputs,
                    files=_files([c for c in codes if c not in held_back]),
                )
                self.joint_id = joint_id = int(out["joint_id"])
                continue
            version, branch_version, reference, case_id, case_version = await self._versions(joint_id)
            if step == "notice":
                await self.joint.joint_issue_notice(officer, joint_id, version, key=key)
            elif step == "supplement":
                await self.joint.joint_supplement(
                    applicant, joint_id, version, key=key, files=_files(held_back)
                )
            elif step == "accept":
                await self.joint.joint_accept(  # the passport read at the window and returned (seed 001 l.20)
                    officer,
                    joint_id,
                    version,
                    key=key,
                    passport_kept=False,
                    passport=await self._passport(person_id),
                )
            elif step == "take":
                assert reference is not None
                await self.joint.take_work_permit_branch(desk, reference, branch_version, key=key)
            elif step == "extend":
                assert reference is not None
                await self.joint.extend_work_permit_branch(
                    desk,
                    reference,
                    branch_version,
                    key=key,
                    reason="the degree certificate is being verified abroad",
                )
            elif step == "grant":
                assert reference is not None
                await self.joint.grant_work_permit_branch(
                    desk, reference, branch_version, key=key, category=plan.category, position=plan.position,
                    work_region=work_region, valid_from=day.isoformat(), valid_until=contract_until.isoformat(),
                )  # fmt: skip
            elif step == "refuse":
                assert reference is not None
                await self.joint.refuse_work_permit_branch(
                    desk, reference, branch_version, key=key,
                    grounds=["the work experience proved is shorter than the position requires"],
                )  # fmt: skip
            elif step == "approve":
                await self.cases.approve(officer, case_id, case_version, key=key)
            elif step == "propose":
                ground = refusal_ground("residence_permit", day)
                await self.cases.propose_refusal(officer, case_id, case_version, key=key, grounds=[ground])
            elif step == "confirm":
                await self.cases.confirm_refusal(second, case_id, case_version, key=key)
            elif step == "settle":
                await self.joint.joint_settle(officer, joint_id, version, key=key)
            elif step == "issue":
                await self.joint.joint_issue_together(officer, joint_id, version, key=key)
            elif step == "collect":
                await self.joint.joint_collect_together(
                    officer, joint_id, version, key=key, passport_presented=True,
                    passport=await self._passport(person_id),
                )  # fmt: skip
            elif step == "withdraw":
                await self.joint.joint_withdraw(applicant, joint_id, version, key=key)
            elif step == "lapse":  # the daily sweep, the day after the reply period ran out
                await self.cases.lapse_due()
            else:  # pragma: no cover - PATHS names only the steps above
                raise ValueError(step)
        return joint_id


def _last_day(today: dt.date, days_ago: int) -> dt.date:
    return today - dt.timedelta(days=days_ago)


async def seed_joint(
    engine: AsyncEngine, today: dt.date, ids: dict[str, Any], *, agent: bool = False
) -> dict[str, list[int]]:
    """Play every plan of ``PLANS`` (after ``seed_web``: the offices, Demo Employer, its HR and the officers);
    returns the joint application ids by demo state (``PATHS``'s names; ``INCOMPLETE``: stopped short).
    ``agent``: the demo agent holds a mandate for one hire (``AGENT_PLAN``)."""
    offices = ids["offices"]
    async with engine.begin() as conn:
        beijing = await _one(
            conn,
            Organisation,
            Organisation.uscc == _uscc("110000", BEIJING_BRANCH[1]),
            {"uscc": _uscc("110000", BEIJING_BRANCH[1]), "name": BEIJING_BRANCH[0], "kind": "employer",
             "region": "110000"},
        )  # fmt: skip
    employers = {"SH01": ids["organisations"]["employer"], "BJ01": beijing}
    desk = await _desk(engine, offices)
    scheduled = [(p, schedule(PATHS[p.target], _last_day(today, p.last_days_ago))) for p in PLANS]
    accounts = ids["accounts"]
    holder = accounts.get(AGENT_PLAN[0]) if agent else None
    people = await _people(engine, today, scheduled, employers, accounts.get("employer.hr"), holder)
    await _foreigners(
        engine, {plan.target: pid for (plan, _days), pid in zip(scheduled, people, strict=True)}
    )
    player = _Player(engine, today, ids, desk)
    played: dict[str, list[int]] = {}
    for (plan, days), person_id in zip(scheduled, people, strict=True):
        try:
            joint_id = await player.play(plan, person_id, employers[plan.office], days)
            played.setdefault(plan.target, []).append(joint_id)
        except CalendarYearNotLoaded:
            # a step's clock reaches a year whose holiday notice is not loaded yet (e.g. the extension's 30
            # working days from December): the application stays where its last step left it, each step being
            # one transaction, and the demo goes on
            played.setdefault(INCOMPLETE, []).append(player.joint_id)
    return played
