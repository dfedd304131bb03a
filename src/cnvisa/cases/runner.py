"""The command runner: every command runs in one transaction with its audit event.

Each command names the case version it acts on (a stale version is refused with ``Conflict`` and writes
nothing) and carries an idempotency key (a repeated key returns the first result and writes nothing new; the
same key with a different request is refused — draft-ietf-httpapi-idempotency-key-header §2.7).
Rules come from ``cnvisa.law``; the date they are asked "as of" comes from the injected clock, in Beijing
time. The commands themselves are grouped by workflow in ``cnvisa.cases.commands``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from cnvisa.cases import audit, outbox
from cnvisa.cases.actor import Actor
from cnvisa.cases.errors import BadInput, CaseError, Conflict, Forbidden, GuardFailed, InvalidCommand
from cnvisa.cases.grants import GRANTED_VALIDITY
from cnvisa.cases.queries import presence
from cnvisa.cases.queries.case import summary
from cnvisa.cases.queries.reader import Reader
from cnvisa.cases.records import FileIn
from cnvisa.cases.workflow import GUARD_ARTICLES, Command, State, transition
from cnvisa.law import InvalidInput, assess
from cnvisa.law.divisions import check_division
from cnvisa.store.tables import Case, CaseFile, IdempotencyRecord, Office

SERVICE_INPUTS = ("holding_number", GRANTED_VALIDITY, "office")
"""Case inputs the service reads (the holding a replacement, reissue or extension acts on; the validity the
officer granted) that are not part of the law contract; they are kept with the case and left out of what the
law engine is asked. ``office`` is never taken from the inputs: it is the case's own office (``law_inputs``)."""

Body = Callable[[AsyncSession], Awaitable[tuple[Case | None, dict[str, Any]]]]
"""A command's work inside its transaction: the case it changed (if any) and its response."""

# Core inserts with the values as parameters: the statements are built once and never re-compiled (the
# command path's hottest writes; the ORM's unit of work adds nothing to a new row).
# NEW_CASES: a new case without a receipt leaves the presence rows as they are (cnvisa.cases.queries.presence)
INSERT_CASE = (
    insert(cast(Table, Case.__table__))
    .returning(Case.__table__.c.id)
    .execution_options(**{presence.NEW_CASES: True})
)
_IDEMPOTENCY = cast(Table, IdempotencyRecord.__table__)
_INSERT_IDEMPOTENCY = insert(_IDEMPOTENCY).values(
    {c.key: bindparam(f"idempotency_{c.key}", type_=c.type) for c in _IDEMPOTENCY.columns if c.key != "id"}
)
"""Written with the command's audit events (``audit.Also``): on PostgreSQL in the same statement."""
_REPLAY = select(
    _IDEMPOTENCY.c.command,
    _IDEMPOTENCY.c.case_id,
    _IDEMPOTENCY.c.account_id,
    _IDEMPOTENCY.c.role,
    _IDEMPOTENCY.c.response,
    _IDEMPOTENCY.c.fingerprint,
).where(_IDEMPOTENCY.c.key == bindparam("key"))


def _canonical(value: Any) -> Any:
    if isinstance(value, FileIn):  # a file is its code, name and content (by hash)
        return [value.material_code, value.filename, value.sha256]
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_canonical(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def fingerprint(command: str, case_id: int | None, request: Mapping[str, Any]) -> str:
    """The request a key is stored with (draft-ietf-httpapi-idempotency-key-header §2.4, "fingerprint"): the
    command, the case and every parameter of it, as canonical JSON, hashed. Taken from the parameters rather than
    the raw body, so a retry from the page (new CSRF token) or with re-ordered JSON is still the same request."""
    text = json.dumps([command, case_id, _canonical(request)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def law_inputs(
    matter: str,
    inputs: dict[str, Any],
    submitted_by: str,
    materials: Sequence[str],
    on: dt.date,
    office: Office | None = None,
) -> dict[str, Any]:
    """What the law engine is asked about a case: its inputs without the service's own, as of ``on``, with the
    materials handed in and the office it was filed with (which offices may accept: ``cnvisa.law.office_choice``)."""
    out = dict(inputs)
    out["matter"] = matter
    out["on"] = on.isoformat()
    out["submitted_by"] = submitted_by
    out["materials"] = sorted(set(materials) | set(out.get("materials", [])))
    out.pop("accepted_on", None)
    for key in SERVICE_INPUTS:
        out.pop(key, None)
    facts = office_facts(office)
    if facts is not None:
        out["office"] = facts
    return out


def office_facts(office: Office | None) -> dict[str, str] | None:
    """An office as the law engine takes it (``office`` of the contract: its area's code and level); None for an
    office registered with a code that is not a mainland GB/T 2260 code — the engine then states which offices may
    accept without deciding it."""
    if office is None:
        return None
    try:
        check_division(office.region, "office.region")
    except InvalidInput:
        return None
    return {"region": office.region, "level": office.level}


def file_rows(case_id: int | None, files: Sequence[FileIn], now: dt.datetime) -> list[dict[str, Any]]:
    """The ``case_files`` rows of the files handed in (each checked: BadInput naming the file)."""
    rows = []
    for f in files:
        digest, size, media = f.checked()
        rows.append(
            {
                "case_id": case_id,
                "material_code": f.material_code,
                "filename": f.filename[:255],
                "sha256": digest,
                "size": size,
                "media_type": media,
                "content": f.content,
                "uploaded_at": now,
            }
        )
    return rows


def guard(ok: bool, name: str, detail: str) -> None:
    """A workflow guard: refused with the article it names (``GUARD_ARTICLES``) when ``ok`` is false."""
    if not ok:
        raise GuardFailed(name, GUARD_ARTICLES.get(name, ""), detail)


class Runner(Reader):
    async def _replay(
        self, s: AsyncSession, key: str, command: str, actor: Actor, case_id: int | None, print_: str
    ) -> dict[str, Any] | None:
        """The first result of this key — only for the same account, role, command, case and request
        (``fingerprint``): a key that another request already used is refused (it never replays someone else's
        result, nor the result of another request)."""
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
        # keys stored before fingerprints were kept (NULL) replay as they did
        if rec.fingerprint is not None and rec.fingerprint != print_:
            raise BadInput(
                "idempotency_key",
                "this Idempotency-Key was already used with a different request: a retry must repeat the "
                "request unchanged; a new request needs a fresh key (draft-ietf-httpapi-idempotency-key-header "
                "§2.7)",
            )
        return dict(rec.response, replayed=True)

    async def _run(
        self,
        key: str,
        command: str,
        body: Body,
        actor: Actor,
        case_id: int | None = None,
        *,
        request: Mapping[str, Any],
        replay_first: bool = True,
    ) -> dict[str, Any]:
        """One command = one transaction: body, idempotency record, audit (inside body), commit. ``request``:
        every parameter of the command (what a repeated key must repeat unchanged).

        ``replay_first=False`` (a command that only makes new records, its body touching nothing outside the
        transaction): the key is not looked up first. A repeated key then ends the transaction at the
        idempotency record's unique key, or the body refuses (what it found has changed); either way the first
        result is looked up and returned — the same answers, one round trip fewer on the hot path."""
        if not key or len(key) > 80:
            raise BadInput("idempotency_key", "required, at most 80 characters")
        print_ = fingerprint(command, case_id, request)
        async with self.sessions() as s:
            try:
                async with s.begin():
                    if replay_first:
                        replay = await self._replay(s, key, command, actor, case_id, print_)
                        if replay is not None:
                            return replay
                    s.info[audit.DEFERRED] = []
                    case, response = await body(s)
                    await s.flush()
                    record = {
                        "key": key,
                        "command": command,
                        "case_id": case.id if case else None,
                        "account_id": actor.account_id,
                        "role": str(actor.role),
                        "response": response,
                        "fingerprint": print_,
                        "created_at": self.now(),
                    }
                    # The audit event goes last: the chain head is locked only from here to the commit.
                    # the command's events in one group (``audit.append_many``): the chain head locked once
                    # and moved once, numbered in the order the command recorded them; the idempotency record
                    # in the same statement (PostgreSQL), so a key already stored still ends the transaction
                    also = audit.Also(_INSERT_IDEMPOTENCY, {f"idempotency_{k}": v for k, v in record.items()})
                    await audit.append_many(s, s.info.pop(audit.DEFERRED), also=also)
            except (StaleDataError, Conflict, IntegrityError) as exc:
                # A concurrent request with the same idempotency key may have won (and moved the case on,
                # or stored the key first): a retry returns its result rather than a conflict.
                async with self.sessions() as s2:
                    replay = await self._replay(s2, key, command, actor, case_id, print_)
                if replay is not None:
                    return replay
                if isinstance(exc, StaleDataError):
                    raise Conflict("the case was changed by someone else: reload it and try again") from None
                raise
            except CaseError:
                if replay_first:
                    raise
                # a retry whose body now refuses still gets its first result
                async with self.sessions() as s2:
                    replay = await self._replay(s2, key, command, actor, case_id, print_)
                if replay is not None:
                    return replay
                raise
        return response

    def _authorise(self, actor: Actor, case: Case, command: Command) -> State:
        t = transition(State(case.state), command)
        if t is None:
            raise InvalidCommand(f"{command} is not possible when the case is {case.state}")
        if actor.role not in t.roles:
            raise Forbidden(f"a {actor.role} may not {command}")
        self._may_touch(actor, case)
        return t.next

    def _assess(
        self, case: Case, materials: Sequence[str], on: dt.date | None = None, office: Office | None = None
    ) -> dict[str, Any]:
        try:
            return assess(
                law_inputs(case.matter, case.inputs, case.submitted_by, materials, on or self.today(), office)
            )
        except InvalidInput as exc:
            raise BadInput(f"inputs.{exc.field}", exc.message) from None

    async def _materials(self, s: AsyncSession, case: Case) -> list[str]:
        rows = await s.execute(select(CaseFile.material_code).where(CaseFile.case_id == case.id))
        return [r[0] for r in rows]

    async def _store_files(self, s: AsyncSession, case: Case, files: Sequence[FileIn]) -> None:
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
        deferred = s.info.get(audit.DEFERRED)
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
        """Move the case along the workflow table by ``command`` and record it."""
        before = case.state
        case.state = str(self._authorise(actor, case, command))
        case.updated_at = self.now()
        await self._audit(s, actor, case, str(command), before, detail)
        if str(command) in outbox.CASE_STAGES:  # the applicant told, in the same transaction (issue 12)
            await outbox.case_event(s, case, str(command), self.now())
        return summary(case)
