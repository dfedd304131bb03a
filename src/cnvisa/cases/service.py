"""The case service: every command runs in one transaction with its audit event.

Each command names the case version it acts on (a stale version is refused with ``Conflict`` and writes
nothing) and carries an idempotency key (a repeated key returns the first result and writes nothing new).
Rules come from ``cnvisa.law``; the date they are asked "as of" comes from the injected clock, in Beijing
time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from cnvisa.cases import audit
from cnvisa.cases.clock import SHANGHAI, Clock, SystemClock, today
from cnvisa.cases.errors import BadInput, Conflict, Forbidden, GuardFailed, InvalidCommand, NotFound
from cnvisa.cases.records import FileIn, case_number, document_number, receipt_number
from cnvisa.cases.workflow import (
    APPLICANT_SIDE,
    GUARD_ARTICLES,
    OPEN_FOR_DEADLINE,
    STAFF,
    TERMINAL,
    Command,
    Role,
    State,
    transition,
)
from cnvisa.law import InvalidInput, LawError, assess
from cnvisa.law import calendar as workdays
from cnvisa.law.acceptance import receipt_valid_until
from cnvisa.law.refusals import check_refusal
from cnvisa.law.status import DocumentState, HoldingKind, Status, residence_status
from cnvisa.law.status import Holding as LawHolding
from cnvisa.store.fast import FastQuery, Reads
from cnvisa.store.tables import (
    DEADLINE_PREDICATE,
    QUEUE_PREDICATE,
    CalendarState,
    Case,
    CaseFile,
    Holding,
    IdempotencyRecord,
    Movement,
    Notice,
    Office,
    Person,
    Verification,
)

NOTICE_REPLY_WORKING_DAYS = 15
"""Office rule: the applicant has 15 working days to answer a one-time notice before the case lapses."""
DRAFT_RETENTION_DAYS = 30
DECIDED_OR_CLOSED = TERMINAL | {State.APPROVED, State.ISSUED}
"""States after the decision (or the end of the case without one): nothing is re-judged there."""
SERVICE_INPUTS = ("holding_number",)
"""Case inputs the service reads (the holding a replacement, reissue or extension acts on) that are not part of
the law contract; they are kept with the case and left out of what the law engine is asked."""


@dataclass(frozen=True)
class Actor:
    """Who acts: an account in a role, with the office (staff) or the people they may act for."""

    account_id: int | None
    role: Role
    office_id: int | None = None
    person_id: int | None = None
    represents: frozenset[int] = field(default_factory=frozenset)
    organisation_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


SYSTEM = Actor(None, Role.SYSTEM)


def caseless_event(
    actor: Actor, at: dt.datetime, action: str, detail: dict[str, Any], office_id: int | None
) -> dict[str, Any]:
    """The fields of an audit event of ``actor`` that concerns no one case (a list read, a records change, a
    booking, a report, an identity check), recorded under ``office_id`` (the office it concerns, if any)."""
    return {
        "at": at,
        "actor_account_id": actor.account_id,
        "role": str(actor.role),
        "office_id": office_id,
        "case_id": None,
        "action": action,
        "detail": detail,
    }


def _summary(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "number": case.number,
        "state": case.state,
        "version": case.version,
        "receipt_number": case.receipt_number,
        "receipt_valid_until": case.receipt_valid_until.isoformat() if case.receipt_valid_until else None,
        "issued_holding_id": case.issued_holding_id,
    }


def _instant(at: dt.datetime | None) -> str | None:
    """An instant stored in UTC, in Beijing time (SQLite returns it without its offset)."""
    if at is None:
        return None
    return (at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at).astimezone(SHANGHAI).isoformat()


def _receipt(case: Case) -> dict[str, Any] | None:
    """The acceptance receipt (Regulations Art 13 para 1, Art 18 para 1): its number, when it was issued, the
    last day it is valid (the statutory decision deadline) and whether the office kept the passport."""
    if case.receipt_number is None:
        return None
    return {
        "number": case.receipt_number,
        "issued_at": _instant(case.receipt_issued_at),
        "valid_until": case.receipt_valid_until.isoformat() if case.receipt_valid_until else None,
        "passport_kept": case.passport_kept,
    }


_QUEUE_ROW = (
    select(
        Case.id,
        Case.number,
        Case.state,
        Case.matter,
        Case.deadline,
        Case.version,
        Person.surname,
        Person.given_names,
    )
    .join(Person, Person.id == Case.person_id)
    .where(
        Case.office_id == bindparam("office_id"), text("cases." + QUEUE_PREDICATE)
    )  # literal: the partial index
)
QUEUE_DUE = FastQuery(
    _QUEUE_ROW.where(Case.deadline.is_not(None)).order_by(Case.deadline, Case.id).limit(bindparam("limit"))
)
"""The queue page's decisions due: open cases whose statutory deadline runs, by deadline (overdue first)."""
QUEUE_AWAITING = FastQuery(
    # ordered by (deadline, id) although every deadline here is NULL: the index's own order, so the planner
    # reads the first rows instead of sorting all of an office's waiting cases
    _QUEUE_ROW.where(Case.deadline.is_(None)).order_by(Case.deadline, Case.id).limit(bindparam("limit"))
)
"""The queue page's applications awaiting acceptance, oldest first."""


# Core inserts with the values as parameters: the statements are built once and never re-compiled (the
# command path's hottest writes; the ORM's unit of work adds nothing to a new row).
_INSERT_CASE = insert(cast(Table, Case.__table__)).returning(Case.__table__.c.id)
_INSERT_FILES = insert(cast(Table, CaseFile.__table__))
_IDEMPOTENCY = cast(Table, IdempotencyRecord.__table__)
_INSERT_IDEMPOTENCY = insert(_IDEMPOTENCY)
_REPLAY = select(
    _IDEMPOTENCY.c.command,
    _IDEMPOTENCY.c.case_id,
    _IDEMPOTENCY.c.account_id,
    _IDEMPOTENCY.c.role,
    _IDEMPOTENCY.c.response,
).where(_IDEMPOTENCY.c.key == bindparam("key"))


def _guard(ok: bool, name: str, detail: str) -> None:
    if not ok:
        raise GuardFailed(name, GUARD_ARTICLES.get(name, ""), detail)


class CaseService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock | None = None,
        reads: Reads | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock: Clock = clock or SystemClock()
        self.reads = reads or Reads(sessions)
        """Hot, read-only lists (the queue page) run here: cnvisa.store.fast."""
        self.read_log = audit.GroupCommit(sessions, self.reads.pool)
        """Staff reads' audit events, committed in groups before each read is answered."""
        self._office_codes: dict[int, str] = {}  # office codes never change once issued

    # ---------------------------------------------------------------- plumbing
    def now(self) -> dt.datetime:
        return self.clock.now()

    def today(self) -> dt.date:
        return today(self.clock)

    async def _replay(
        self, s: AsyncSession, key: str, command: str, actor: Actor, case_id: int | None
    ) -> dict[str, Any] | None:
        """The first result of this key — only for the same account, role, command and case: a key that
        another request already used is refused (it never replays someone else's result)."""
        # a Core read, not Session.get: the key is looked up on every command and the record is never changed
        rec = (await s.execute(_REPLAY, {"key": key})).one_or_none()
        if rec is None:
            return None
        same = (
            rec.command == command
            and (case_id is None or rec.case_id == case_id)
            and (rec.role is None or (rec.account_id, rec.role) == (actor.account_id, str(actor.role)))
        )
        if not same:
            raise BadInput(
                "idempotency_key", "already used for another command, case or account: use a fresh key"
            )
        return dict(rec.response, replayed=True)

    async def _run(
        self,
        key: str,
        command: str,
        body: Callable[[AsyncSession], Awaitable[tuple[Case | None, dict[str, Any]]]],
        actor: Actor,
        case_id: int | None = None,
    ) -> dict[str, Any]:
        """One command = one transaction: body, idempotency record, audit (inside body), commit."""
        if not key or len(key) > 80:
            raise BadInput("idempotency_key", "required, at most 80 characters")
        async with self.sessions() as s:
            try:
                async with s.begin():
                    replay = await self._replay(s, key, command, actor, case_id)
                    if replay is not None:
                        return replay
                    s.info["deferred_audit"] = []
                    case, response = await body(s)
                    await s.flush()
                    await s.execute(
                        _INSERT_IDEMPOTENCY,
                        {
                            "key": key,
                            "command": command,
                            "case_id": case.id if case else None,
                            "account_id": actor.account_id,
                            "role": str(actor.role),
                            "response": response,
                            "created_at": self.now(),
                        },
                    )
                    # The audit event goes last: the chain head is locked only from here to the commit.
                    for event in s.info.pop("deferred_audit"):
                        await audit.append(s, **event)
            except (StaleDataError, Conflict, IntegrityError) as exc:
                # A concurrent request with the same idempotency key may have won (and moved the case on,
                # or stored the key first): a retry returns its result rather than a conflict.
                async with self.sessions() as s2:
                    replay = await self._replay(s2, key, command, actor, case_id)
                if replay is not None:
                    return replay
                if isinstance(exc, StaleDataError):
                    raise Conflict("the case was changed by someone else: reload it and try again") from None
                raise
        return response

    async def _load(
        self, s: AsyncSession, case_id: int, version: int | None, actor: Actor | None = None
    ) -> Case:
        case = await s.get(Case, case_id)
        if case is None:
            raise NotFound(f"case {case_id}")
        if actor is not None:
            self._may_touch(actor, case)  # before the version: a stranger learns nothing about the case
        if version is not None and case.version != version:
            raise Conflict(f"case {case.number} is at version {case.version}, not {version}")
        return case

    def _authorise(self, actor: Actor, case: Case, command: Command) -> State:
        t = transition(State(case.state), command)
        if t is None:
            raise InvalidCommand(f"{command} is not possible when the case is {case.state}")
        if actor.role not in t.roles:
            raise Forbidden(f"a {actor.role} may not {command}")
        self._may_touch(actor, case)
        return t.next

    @staticmethod
    def _may_touch(actor: Actor, case: Case) -> None:
        if actor.role is Role.SYSTEM or actor.role is Role.ADMIN:
            return
        if actor.is_staff:
            if actor.office_id != case.office_id:
                raise Forbidden("the case belongs to another office")
            return
        if actor.role is Role.APPLICANT and actor.person_id == case.person_id:
            return
        if actor.role in (Role.AGENT, Role.ORG_STAFF) and case.person_id in actor.represents:
            return
        raise Forbidden("not your case")

    def _assess(self, case: Case, materials: Sequence[str], on: dt.date | None = None) -> dict[str, Any]:
        inputs = dict(case.inputs)
        inputs["matter"] = case.matter
        inputs["on"] = (on or self.today()).isoformat()
        inputs["submitted_by"] = case.submitted_by
        inputs["materials"] = sorted(set(materials) | set(inputs.get("materials", [])))
        inputs.pop("accepted_on", None)
        for key in SERVICE_INPUTS:
            inputs.pop(key, None)
        try:
            return assess(inputs)
        except InvalidInput as exc:
            raise BadInput(f"inputs.{exc.field}", exc.message) from None

    async def _materials(self, s: AsyncSession, case: Case) -> list[str]:
        rows = await s.execute(select(CaseFile.material_code).where(CaseFile.case_id == case.id))
        return [r[0] for r in rows]

    async def _store_files(
        self, s: AsyncSession, case: Case, files: Sequence[FileIn], core: bool = False
    ) -> None:
        if core:
            rows = []
            for f in files:
                digest, size, media = f.checked()
                rows.append(
                    {
                        "case_id": case.id,
                        "material_code": f.material_code,
                        "filename": f.filename[:255],
                        "sha256": digest,
                        "size": size,
                        "media_type": media,
                        "content": f.content,
                        "uploaded_at": self.now(),
                    }
                )
            if rows:
                await s.execute(_INSERT_FILES, rows)
            return
        for f in files:
            digest, size, media = f.checked()
            s.add(
                CaseFile(
                    case_id=case.id,
                    material_code=f.material_code,
                    filename=f.filename[:255],
                    sha256=digest,
                    size=size,
                    media_type=media,
                    content=f.content,
                    uploaded_at=self.now(),
                )
            )

    async def _audit(
        self,
        s: AsyncSession,
        actor: Actor,
        case: Case | None,
        action: str,
        before: str | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Record the command's audit event in this transaction. Inside a command it is written last, just
        before the commit (see ``_run``); elsewhere at once."""
        await s.flush()  # the case row (and its version check) before the chain head lock
        event: dict[str, Any] = {
            "at": self.now(),
            "actor_account_id": actor.account_id,
            "role": str(actor.role),
            "office_id": actor.office_id if actor.is_staff else (case.office_id if case else None),
            "case_id": case.id if case else None,
            "action": action,
            "state_before": before,
            "state_after": case.state if case else None,
            "detail": detail,
        }
        deferred = s.info.get("deferred_audit")
        if deferred is not None:
            deferred.append(event)
        else:
            await audit.append(s, **event)

    async def _step(
        self,
        s: AsyncSession,
        actor: Actor,
        case: Case,
        command: Command,
        detail: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        before = case.state
        case.state = str(self._authorise(actor, case, command))
        case.updated_at = self.now()
        await self._audit(s, actor, case, str(command), before, detail)
        return _summary(case)

    def _draft(
        self,
        office_code: str,
        actor: Actor,
        person_id: int,
        office_id: int,
        matter: str,
        inputs: dict[str, Any],
        submitted_by: str,
    ) -> Case:
        """A new case in draft (not yet added to the session)."""
        now = self.now()
        return Case(
            number=case_number(office_code, self.today()),
            person_id=person_id,
            office_id=office_id,
            matter=matter,
            inputs=dict(inputs),
            state=str(State.DRAFT),
            submitted_by=submitted_by,
            submitter_account_id=actor.account_id,
            proxy_grounds=[],
            refusal_grounds=[],
            created_at=now,
            updated_at=now,
        )

    @staticmethod
    def _may_open(actor: Actor, person_id: int, submitted_by: str) -> None:
        if actor.role not in (Role.APPLICANT, Role.AGENT, Role.ORG_STAFF):
            raise Forbidden(f"a {actor.role} does not open applications")
        if actor.role is Role.APPLICANT and actor.person_id != person_id:
            raise Forbidden("an applicant applies for themself; acting for another needs a mandate")
        if actor.role in (Role.AGENT, Role.ORG_STAFF) and person_id not in actor.represents:
            raise Forbidden("no mandate to act for this person")
        if actor.role is Role.APPLICANT and submitted_by != "self":
            raise BadInput("submitted_by", "an applicant's own application is submitted by self")

    async def _office_code(self, s: AsyncSession, office_id: int) -> str:
        code = self._office_codes.get(office_id)
        if code is None:
            office = await s.get(Office, office_id)
            if office is None:
                raise BadInput("office_id", f"no office {office_id}")
            code = self._office_codes[office_id] = office.code
        return code

    # ---------------------------------------------------------------- commands
    async def create(
        self,
        actor: Actor,
        *,
        key: str,
        person_id: int,
        office_id: int,
        matter: str,
        inputs: dict[str, Any],
        submitted_by: str = "self",
        files: Sequence[FileIn] = (),
    ) -> dict[str, Any]:
        """A new case in draft. The inputs are the law contract's (``cnvisa assess --schema``)."""
        self._may_open(actor, person_id, submitted_by)

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            code = await self._office_code(s, office_id)
            case = self._draft(code, actor, person_id, office_id, matter, inputs, submitted_by)
            self._assess(case, [])  # validates matter and inputs: BadInput names the field
            s.add(case)
            await s.flush()
            await self._store_files(s, case, files)
            await self._audit(
                s, actor, case, "create", None, {"matter": matter, "submitted_by": submitted_by}
            )
            return case, _summary(case)

        return await self._run(key, "create", body, actor)

    async def apply(
        self,
        actor: Actor,
        *,
        key: str,
        person_id: int,
        office_id: int,
        matter: str,
        inputs: dict[str, Any],
        submitted_by: str = "self",
        files: Sequence[FileIn] = (),
    ) -> dict[str, Any]:
        """Open and submit an application in one command (what a completed online form does): the draft
        and the submission are one transaction with one audit event."""
        self._may_open(actor, person_id, submitted_by)

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            code = await self._office_code(s, office_id)
            case = self._draft(code, actor, person_id, office_id, matter, inputs, submitted_by)
            result = self._assess(case, [f.material_code for f in files])
            self._check_proxy(case, result)
            self._authorise(actor, case, Command.SUBMIT)
            case.state = str(State.SUBMITTED)
            case.version = 1
            # Core INSERTs: a new row needs none of the unit of work's bookkeeping (the hot path).
            values = {c.key: getattr(case, c.key) for c in Case.__table__.columns if c.key != "id"}
            case.id = (await s.execute(_INSERT_CASE, values)).scalar_one()
            await self._store_files(s, case, files, core=True)
            await self._audit(
                s,
                actor,
                case,
                "apply",
                None,
                {"matter": matter, "submitted_by": submitted_by, "files": len(files)},
            )
            return case, _summary(case)

        return await self._run(key, "apply", body, actor)

    def _check_proxy(self, case: Case, result: dict[str, Any]) -> None:
        if case.submitted_by != "self":
            _guard(
                bool(result["proxy_allowed"]),
                "submitter_may_apply",
                "none of the grounds of Regulations Art 19 allows submission by "
                f"{case.submitted_by.replace('_', ' ')}",
            )
            case.proxy_grounds = list(result.get("proxy_grounds") or [])

    async def submit(
        self, actor: Actor, case_id: int, version: int, *, key: str, files: Sequence[FileIn] = ()
    ) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.SUBMIT)
            await self._store_files(s, case, files)
            await s.flush()
            self._check_proxy(case, self._assess(case, await self._materials(s, case)))
            return case, await self._step(s, actor, case, Command.SUBMIT, {"files": len(files)})

        return await self._run(key, "submit", body, actor, case_id)

    async def issue_notice(self, actor: Actor, case_id: int, version: int, *, key: str) -> dict[str, Any]:
        """The one-time notice: every missing material and procedure the law engine finds, at once."""

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.ISSUE_NOTICE)
            result = self._assess(case, await self._materials(s, case))
            items = list(result["missing_materials"])
            blocking = [p["code"] for p in result["problems"] if p["severity"] == "blocking"]
            _guard(bool(items), "notice_repeats_nothing", "nothing is missing: accept or refuse instead")
            earlier = (
                await s.execute(select(Notice).where(Notice.case_id == case.id).order_by(Notice.seq))
            ).scalars()
            earlier_list = list(earlier)
            already = {code for n in earlier_list for code in [*n.required, *n.items]}
            repeated = [i for i in items if i in already]
            _guard(
                not repeated,
                "notice_repeats_nothing",
                f"a later notice may only list what the supplement made necessary; already required: "
                f"{', '.join(repeated)}",
            )
            respond_by = workdays.add_working_days(self.today(), NOTICE_REPLY_WORKING_DAYS)
            notice = Notice(
                case_id=case.id,
                seq=len(earlier_list) + 1,
                items=items,
                issued_at=self.now(),
                issued_by=actor.account_id,
                respond_by=respond_by,
                required=[m["code"] for m in result["required_materials"]],
            )
            s.add(notice)
            out = await self._step(
                s,
                actor,
                case,
                Command.ISSUE_NOTICE,
                {"items": items, "problems": blocking, "respond_by": respond_by.isoformat()},
            )
            return case, {
                **out,
                "notice": {
                    "seq": notice.seq,
                    "items": items,
                    "respond_by": respond_by.isoformat(),
                    "citations": [c for c in result["citations"] if c["article"] in ("13", "18", "VII(II)")],
                },
            }

        return await self._run(key, "issue_notice", body, actor, case_id)

    async def supplement(
        self,
        actor: Actor,
        case_id: int,
        version: int,
        *,
        key: str,
        files: Sequence[FileIn] = (),
        inputs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.SUPPLEMENT)
            if inputs:
                merged = {**case.inputs, **inputs}
                probe = Case(matter=case.matter, inputs=merged, submitted_by=case.submitted_by)
                self._assess(probe, [])
                case.inputs = merged
            await self._store_files(s, case, files)
            return case, await self._step(
                s,
                actor,
                case,
                Command.SUPPLEMENT,
                {"files": [f.material_code for f in files], "inputs": sorted(inputs or {})},
            )

        return await self._run(key, "supplement", body, actor, case_id)

    async def accept(
        self, actor: Actor, case_id: int, version: int, *, key: str, passport_kept: bool = True
    ) -> dict[str, Any]:
        """Acceptance with a receipt (Art 13 para 1, Art 18 para 1); the law and calendar versions are fixed."""

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.ACCEPT)
            result = self._assess(case, await self._materials(s, case))
            blocking = [p["code"] for p in result["problems"] if p["severity"] == "blocking"]
            _guard(
                not result["missing_materials"] and not blocking,
                "application_complete",
                "missing: " + ", ".join([*result["missing_materials"], *blocking]),
            )
            on = self.today()
            office = await s.get(Office, case.office_id)
            assert office is not None
            case.accepted_on = on
            case.law_version = result["law_version"]
            case.calendar_version = workdays.calendar_version()
            case.receipt_valid_until = receipt_valid_until(case.matter, on)
            case.deadline = case.receipt_valid_until
            case.receipt_number = receipt_number(office.code, on, case.id)
            case.receipt_issued_at = self.now().astimezone(dt.UTC)  # SQLite keeps no offset: store UTC
            case.passport_kept = passport_kept
            out = await self._step(
                s,
                actor,
                case,
                Command.ACCEPT,
                {
                    "receipt_number": case.receipt_number,
                    "receipt_valid_until": case.receipt_valid_until.isoformat()
                    if case.receipt_valid_until
                    else None,
                    "law_version": case.law_version,
                    "calendar_version": case.calendar_version,
                    "passport_kept": passport_kept,
                },
            )
            return case, {**out, "receipt": _receipt(case)}

        return await self._run(key, "accept", body, actor, case_id)

    async def request_verification(
        self,
        actor: Actor,
        case_id: int,
        version: int,
        *,
        key: str,
        method: str,
        scheduled_for: dt.datetime | None = None,
    ) -> dict[str, Any]:
        from cnvisa.law.verification import VERIFICATION_METHODS

        if method not in VERIFICATION_METHODS:
            raise BadInput("method", f"one of {', '.join(VERIFICATION_METHODS)} (Regulations Art 20)")

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.REQUEST_VERIFICATION)
            s.add(Verification(case_id=case.id, method=method, scheduled_for=scheduled_for))
            return case, await self._step(s, actor, case, Command.REQUEST_VERIFICATION, {"method": method})

        return await self._run(key, "request_verification", body, actor, case_id)

    async def record_verification(
        self, actor: Actor, case_id: int, version: int, *, key: str, outcome: str, note: str | None = None
    ) -> dict[str, Any]:
        if outcome not in ("confirmed", "not_confirmed", "no_show"):
            raise BadInput(
                "outcome", "confirmed, not_confirmed or no_show (Regulations Art 20; Guide VII(III))"
            )

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.RECORD_VERIFICATION)
            v = (
                (
                    await s.execute(
                        select(Verification)
                        .where(Verification.case_id == case.id, Verification.outcome.is_(None))
                        .order_by(Verification.id.desc())
                    )
                )
                .scalars()
                .first()
            )
            if v is None:
                raise InvalidCommand("no open verification to record")
            v.outcome, v.note, v.recorded_at = outcome, note, self.now()
            return case, await self._step(s, actor, case, Command.RECORD_VERIFICATION, {"outcome": outcome})

        return await self._run(key, "record_verification", body, actor, case_id)

    async def approve(self, actor: Actor, case_id: int, version: int, *, key: str) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            case.decided_by = actor.account_id
            return case, await self._step(s, actor, case, Command.APPROVE, {"decision": "approve"})

        return await self._run(key, "approve", body, actor, case_id)

    async def propose_refusal(
        self, actor: Actor, case_id: int, version: int, *, key: str, grounds: list[str]
    ) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.PROPOSE_REFUSAL)
            # judged under the law in force at acceptance, as the rest of the case (Regulations Art 13, 18)
            check = check_refusal(case.matter, grounds, on=case.accepted_on or self.today())
            _guard(check.valid, "refusal_grounds_valid", "; ".join(check.errors))
            case.refusal_grounds = list(grounds)
            case.refusal_proposed_by = actor.account_id
            return case, await self._step(
                s,
                actor,
                case,
                Command.PROPOSE_REFUSAL,
                {
                    "grounds": grounds,
                    "citations": [c.cite for c in check.citations],
                    "final": check.final,
                    "reasons_may_be_withheld": check.reasons_may_be_withheld,
                },
            )

        return await self._run(key, "propose_refusal", body, actor, case_id)

    async def confirm_refusal(self, actor: Actor, case_id: int, version: int, *, key: str) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.CONFIRM_REFUSAL)
            _guard(
                actor.account_id is not None and actor.account_id != case.refusal_proposed_by,
                "second_officer",
                "the refusal must be confirmed by an officer other than the one who proposed it",
            )
            case.decided_by = actor.account_id
            return case, await self._step(
                s, actor, case, Command.CONFIRM_REFUSAL, {"grounds": case.refusal_grounds}
            )

        return await self._run(key, "confirm_refusal", body, actor, case_id)

    async def revoke_refusal_proposal(
        self, actor: Actor, case_id: int, version: int, *, key: str
    ) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.REVOKE_REFUSAL_PROPOSAL)
            case.refusal_grounds, case.refusal_proposed_by = [], None
            return case, await self._step(s, actor, case, Command.REVOKE_REFUSAL_PROPOSAL)

        return await self._run(key, "revoke_refusal_proposal", body, actor, case_id)

    async def issue(self, actor: Actor, case_id: int, version: int, *, key: str) -> dict[str, Any]:
        """Create the visa or permit record; a replacement or reissue voids the document it replaces."""

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.ISSUE)
            holding, voided = await self._make_document(s, case)
            case.issued_holding_id = holding.id
            return case, await self._step(
                s,
                actor,
                case,
                Command.ISSUE,
                {"document": holding.number, "kind": holding.kind, "voided": voided},
            )

        return await self._run(key, "issue", body, actor, case_id)

    async def _make_document(self, s: AsyncSession, case: Case) -> tuple[Holding, list[str]]:
        on = self.today()
        inputs = case.inputs
        req = inputs.get("requested") or {}
        visa = inputs.get("visa") or {}
        rp = inputs.get("residence_permit") or {}
        replaced_number = inputs.get("holding_number")
        voided: list[str] = []
        old: Holding | None = None
        if replaced_number:
            old = (
                await s.execute(
                    select(Holding).where(
                        Holding.number == replaced_number, Holding.person_id == case.person_id
                    )
                )
            ).scalar_one_or_none()
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
            if req.get("validity_days"):
                valid_until = on + dt.timedelta(days=int(req["validity_days"]))
            else:
                valid_until = dt.date.fromisoformat(rp["valid_until"]) if rp.get("valid_until") else on
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
        if old is not None and m in (
            "visa_replacement",
            "visa_reissue",
            "residence_permit_extension",
            "residence_permit_replacement",
            "residence_permit_reissue",
            "study_work_annotation",
        ):
            old.status = "void"  # Art 34: the replaced document no longer serves
            voided.append(old.number)
        return holding, voided

    async def collect(
        self, actor: Actor, case_id: int, version: int, *, key: str, passport_presented: bool
    ) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            self._authorise(actor, case, Command.COLLECT)
            _guard(
                passport_presented,
                "passport_presented",
                "the applicant collects in person, presenting the passport with the receipt",
            )
            return case, await self._step(s, actor, case, Command.COLLECT, {"passport_presented": True})

        return await self._run(key, "collect", body, actor, case_id)

    async def withdraw(self, actor: Actor, case_id: int, version: int, *, key: str) -> dict[str, Any]:
        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            return case, await self._step(s, actor, case, Command.WITHDRAW)

        return await self._run(key, "withdraw", body, actor, case_id)

    async def lapse_due(self) -> list[str]:
        """System sweep: drafts past retention and notices unanswered past their reply date lapse."""
        on = self.today()
        lapsed: list[str] = []
        async with self.sessions() as s:
            drafts = (
                await s.execute(
                    select(Case.id, Case.version).where(
                        Case.state == str(State.DRAFT),
                        Case.created_at < self.now() - dt.timedelta(days=DRAFT_RETENTION_DAYS),
                    )
                )
            ).all()
            deficient = (
                await s.execute(
                    select(Case.id, Case.version)
                    .join(Notice, Notice.case_id == Case.id)
                    .where(Case.state == str(State.DEFICIENT))
                    .group_by(Case.id, Case.version)
                    .having(func.max(Notice.respond_by) < on)
                )
            ).all()
        for case_id, version in [*drafts, *deficient]:

            async def body(
                s: AsyncSession, case_id: int = case_id, version: int = version
            ) -> tuple[Case, dict[str, Any]]:
                case = await self._load(s, case_id, version)
                return case, await self._step(s, SYSTEM, case, Command.LAPSE)

            try:
                out = await self._run(f"lapse-{case_id}-{version}", "lapse", body, SYSTEM, case_id)
                lapsed.append(out["number"])
            except (Conflict, InvalidCommand):
                continue
        return lapsed

    async def reevaluate(self, actor: Actor, case_id: int, version: int, *, key: str) -> dict[str, Any]:
        """Judge an undecided case again under the law and calendar versions now in force — explicit and
        audited. A decided or closed case keeps the versions it was decided or closed under: its record says
        which law it was judged by."""

        async def body(s: AsyncSession) -> tuple[Case, dict[str, Any]]:
            case = await self._load(s, case_id, version, actor)
            if not actor.is_staff and actor.role is not Role.ADMIN:
                raise Forbidden("only staff re-evaluate a case")
            self._may_touch(actor, case)
            if State(case.state) in DECIDED_OR_CLOSED:
                raise InvalidCommand(f"a case that is {case.state} is not re-evaluated")
            on = case.accepted_on or self.today()
            result = self._assess(case, await self._materials(s, case), on)
            before = {"law_version": case.law_version, "calendar_version": case.calendar_version}
            case.law_version = result["law_version"]
            case.calendar_version = workdays.calendar_version()
            if case.accepted_on is not None:
                case.receipt_valid_until = receipt_valid_until(case.matter, case.accepted_on)
                case.deadline = case.receipt_valid_until
            case.updated_at = self.now()
            await self._audit(
                s,
                actor,
                case,
                "reevaluate",
                case.state,
                {
                    "before": before,
                    "after": {"law_version": case.law_version, "calendar_version": case.calendar_version},
                },
            )
            return case, _summary(case)

        return await self._run(key, "reevaluate", body, actor, case_id)

    # ---------------------------------------------------------------- reads
    async def read(self, actor: Actor, case_id: int) -> dict[str, Any]:
        """A case as its reader may see it; every read by staff is audited."""
        async with self.sessions() as s, s.begin():
            case = await self._load(s, case_id, None)
            self._may_touch(actor, case)
            files = (
                await s.execute(
                    select(
                        CaseFile.material_code,
                        CaseFile.filename,
                        CaseFile.sha256,
                        CaseFile.size,
                        CaseFile.media_type,
                    )
                    .where(CaseFile.case_id == case.id)
                    .order_by(CaseFile.id)
                )
            ).all()
            notices = (
                (await s.execute(select(Notice).where(Notice.case_id == case.id).order_by(Notice.seq)))
                .scalars()
                .all()
            )
            out = {
                **_summary(case),
                "matter": case.matter,
                "person_id": case.person_id,
                "office_id": case.office_id,
                "inputs": case.inputs,
                "submitted_by": case.submitted_by,
                "proxy_grounds": case.proxy_grounds,
                "law_version": case.law_version,
                "calendar_version": case.calendar_version,
                "accepted_on": case.accepted_on.isoformat() if case.accepted_on else None,
                "receipt": _receipt(case),
                "deadline": case.deadline.isoformat() if case.deadline else None,
                "working_days_left": self.working_days_left(case),
                "refusal_grounds": case.refusal_grounds,
                "files": [
                    dict(zip(("material_code", "filename", "sha256", "size", "media_type"), f, strict=True))
                    for f in files
                ],
                "notices": [
                    {
                        "seq": n.seq,
                        "items": n.items,
                        "respond_by": n.respond_by.isoformat() if n.respond_by else None,
                    }
                    for n in notices
                ],
            }
            if actor.role not in APPLICANT_SIDE:  # staff, admin, system: every such read is audited
                await audit.append(
                    s,
                    at=self.now(),
                    actor_account_id=actor.account_id,
                    role=str(actor.role),
                    office_id=actor.office_id if actor.is_staff else case.office_id,
                    case_id=case.id,
                    action="read",
                    state_before=case.state,
                    state_after=case.state,
                )
        return out

    async def _audit_read(
        self, actor: Actor | None, action: str, detail: dict[str, Any], office_id: int | None
    ) -> None:
        """Every read by staff leaves a trace; a staff member reads only their own office's lists."""
        if actor is None or not self._read_is_audited(actor, office_id):
            return
        await self.read_log.append(**caseless_event(actor, self.now(), action, detail, actor.office_id))

    @staticmethod
    def _read_is_audited(actor: Actor | None, office_id: int | None) -> bool:
        """Whether a list read is staff's (and so audited); another office's list is Forbidden."""
        if actor is None or actor.role in (Role.APPLICANT, Role.AGENT, Role.ORG_STAFF):
            return False
        if actor.is_staff and office_id is not None and actor.office_id != office_id:
            raise Forbidden("another office's cases")
        return True

    def working_days_left(self, case: Case) -> int | None:
        """Working days from today to the statutory deadline (negative when overdue); None when not running."""
        return self._days_left(case.state, case.deadline, self.today())

    @staticmethod
    def _days_left(state: str, deadline: dt.date | None, on: dt.date) -> int | None:
        if deadline is None or State(state) not in OPEN_FOR_DEADLINE:
            return None
        try:
            if on <= deadline:
                return workdays.working_days_between(on, deadline)
            return -workdays.working_days_between(deadline, on)
        except LawError:  # a year without a loaded notice: the count is unknown, not guessed
            return None

    async def queue(
        self, office_id: int, limit: int = 50, actor: Actor | None = None
    ) -> list[dict[str, Any]]:
        """The officer queue: open cases of one office by statutory deadline, cases without one (awaiting
        acceptance) last — one range scan of the partial index ix_cases_queue. A staff reader is audited."""
        await self._audit_read(actor, "read_queue", {"office": office_id}, office_id)
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    select(Case.id, Case.number, Case.state, Case.matter, Case.deadline, Case.version)
                    .where(
                        Case.office_id == office_id, text(QUEUE_PREDICATE)
                    )  # literal: matches the partial index
                    .order_by(Case.deadline.asc().nulls_last(), Case.id)
                    .limit(limit)
                )
            ).all()
        return [
            {
                "case_id": r.id,
                "number": r.number,
                "state": r.state,
                "matter": r.matter,
                "deadline": r.deadline.isoformat() if r.deadline else None,
                "version": r.version,
            }
            for r in rows
        ]

    async def queue_page(self, office_id: int, limit: int, actor: Actor) -> dict[str, list[dict[str, Any]]]:
        """The officer's queue page under one audited read: ``due`` — open cases whose statutory deadline runs,
        by deadline (overdue first) — and ``awaiting`` — submitted applications not yet accepted, oldest first
        (no deadline runs before acceptance: Regulations Art 13, 18). Each at most ``limit``, with the
        applicant's name; both are range scans of the partial index ix_cases_queue, run as hot reads."""
        self._read_is_audited(actor, office_id)  # another office's queue: Forbidden before anything is read
        # the reads and the audit at once; the rows are returned only when the audit has committed
        _, due, awaiting = await asyncio.gather(
            self._audit_read(actor, "read_queue", {"office": office_id}, office_id),
            self.reads.all(QUEUE_DUE, office_id=office_id, limit=limit),
            self.reads.all(QUEUE_AWAITING, office_id=office_id, limit=limit),
        )
        return {
            name: [
                {
                    "case_id": r["id"],
                    "number": r["number"],
                    "state": r["state"],
                    "matter": r["matter"],
                    "deadline": r["deadline"].isoformat() if r["deadline"] else None,
                    "version": r["version"],
                    "applicant": f"{r['surname']} {r['given_names']}",
                }
                for r in rows
            ]
            for name, rows in (("due", due), ("awaiting", awaiting))
        }

    async def overdue(
        self, office_id: int | None = None, actor: Actor | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Open cases past their statutory deadline (the receipt's end), oldest first (at most ``limit``).
        A staff reader is audited."""
        await self._audit_read(actor, "read_overdue", {"office": office_id}, office_id)
        on = self.today()
        async with self.sessions() as s:
            q = select(Case.id, Case.number, Case.state, Case.deadline).where(
                text(DEADLINE_PREDICATE),
                Case.deadline < on,  # literal: matches the partial index
            )
            if office_id is not None:
                q = q.where(Case.office_id == office_id)
            q = q.order_by(Case.deadline, Case.id)
            if limit is not None:
                q = q.limit(limit)
            rows = (await s.execute(q)).all()
        return [
            {"case_id": r.id, "number": r.number, "state": r.state, "deadline": r.deadline.isoformat()}
            for r in rows
        ]

    async def recompute_deadlines(self, attempts: int = 5) -> list[dict[str, Any]]:
        """After holiday data changes: recompute every open deadline; each change is written to the audit log.

        All case rows are updated (in id order) before the audit chain's head is locked — the order every
        command takes them in — so a command running at the same time cannot deadlock with the sweep; a
        case changed under the sweep makes it start again."""
        for _ in range(attempts):
            try:
                return await self._recompute_deadlines()
            except StaleDataError:
                continue
        raise Conflict("open cases kept changing while their deadlines were recomputed: try again")

    async def _recompute_deadlines(self) -> list[dict[str, Any]]:
        version = workdays.calendar_version()
        changes: list[tuple[Case, dict[str, Any]]] = []
        async with self.sessions() as s, s.begin():
            state = await s.get(CalendarState, 1)
            if state is not None and state.version == version:
                return []
            cases = (
                (
                    await s.execute(
                        select(Case)
                        .where(
                            Case.state.in_([str(x) for x in OPEN_FOR_DEADLINE]), Case.accepted_on.is_not(None)
                        )
                        .order_by(Case.id)
                    )
                )
                .scalars()
                .all()
            )
            for case in cases:
                assert case.accepted_on is not None
                new = receipt_valid_until(case.matter, case.accepted_on)
                if new != case.receipt_valid_until:
                    old = case.receipt_valid_until
                    case.receipt_valid_until = case.deadline = new
                    case.calendar_version = version
                    change = {
                        "case": case.number,
                        "from": old.isoformat() if old else None,
                        "to": new.isoformat() if new else None,
                        "calendar_version": version,
                    }
                    changes.append((case, change))
            await s.flush()  # every case row first (StaleDataError: changed meanwhile), then the chain head
            for case, change in changes:
                await self._audit(s, SYSTEM, case, "recompute_deadline", case.state, change)
            if state is None:
                s.add(CalendarState(id=1, version=version))
            else:
                state.version = version
        return [change for _, change in changes]

    async def person_status(
        self, person_id: int, on: dt.date | None = None, actor: Actor | None = None
    ) -> Status:
        """Art 25 via the law engine: lawful (by which document or receipt, until when) or illegal residence.
        A staff reader is audited."""
        on = on or self.today()
        await self._audit_read(actor, "read_status", {"person": person_id, "on": on.isoformat()}, None)
        async with self.sessions() as s:
            holdings = (
                (await s.execute(select(Holding).where(Holding.person_id == person_id))).scalars().all()
            )
            last_entry = (
                (
                    await s.execute(
                        select(Movement)
                        .where(
                            Movement.person_id == person_id, Movement.direction == "entry", Movement.on <= on
                        )
                        .order_by(Movement.on.desc())
                    )
                )
                .scalars()
                .first()
            )
            receipts = (
                (
                    await s.execute(
                        select(Case).where(
                            Case.person_id == person_id,
                            Case.receipt_valid_until.is_not(None),
                            Case.state.in_([str(x) for x in (*OPEN_FOR_DEADLINE, State.APPROVED)]),
                        )
                    )
                )
                .scalars()
                .all()
            )
        basis: list[LawHolding] = []
        for h in holdings:
            state = cast(DocumentState, h.status if h.status in ("valid", "void", "cancelled") else "valid")
            if h.kind == "visa":
                # the visa of the last entry, or one issued in China after it (replacement, reissue: Guide
                # VI(III), VI(IV)) — both count the stay from that entry
                if (
                    last_entry is not None
                    and h.stay_days
                    and (
                        last_entry.holding_id == h.id
                        or (h.issued_by_case_id is not None and h.valid_from >= last_entry.on)
                    )
                ):
                    basis.append(
                        LawHolding("visa", h.number, last_entry.on, h.stay_days, h.extended_days, state=state)
                    )
            elif h.kind in ("stay_permit", "residence_permit"):
                kind = cast(HoldingKind, h.kind)
                basis.append(LawHolding(kind, h.number, valid_until=h.valid_until, state=state))
        if last_entry is not None and last_entry.visa_free_programme:
            basis.append(
                LawHolding(
                    "visa_free", None, entry_date=last_entry.on, programme=last_entry.visa_free_programme
                )
            )
        for c in receipts:
            basis.append(
                LawHolding("acceptance_receipt", c.receipt_number, valid_until=c.receipt_valid_until)
            )
        return residence_status(on, basis)


TERMINAL_STATES = TERMINAL
