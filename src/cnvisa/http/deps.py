"""Request dependencies: the platform's services, and who is asking (cookie session or bearer token)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cnvisa.cases.channels import channels
from cnvisa.cases.delivery import OutboxService, Texts
from cnvisa.cases.inbox import InboxService
from cnvisa.cases.joint.service import JointService
from cnvisa.cases.obligations import ObligationRegister
from cnvisa.cases.registry import Registry
from cnvisa.cases.service import Actor, CaseService
from cnvisa.cases.workflow import Role
from cnvisa.http import security
from cnvisa.http.i18n import negotiate
from cnvisa.http.problems import Problem
from cnvisa.http.settings import Settings
from cnvisa.store.fast import Reads
from cnvisa.store.tables import Account


@dataclass(frozen=True)
class Platform:
    sessions: async_sessionmaker[AsyncSession]
    cases: CaseService
    registry: Registry
    settings: Settings
    reads: Reads
    """Where the hot reads run (who is signed in, the queue, the progress inquiry): cnvisa.store.fast."""
    joint: JointService
    """Joint applications (work permit + work-type residence permit) and the work-permit desk: the external
    authority's branches are sent by ``cnvisa agency poll`` (routing: ``CNVISA_WORK_PERMIT_EXTERNAL``)."""
    lagging: Reads | None = None
    """Reads that may be a few seconds old, on the replica when there is one (``cnvisa.store.replica``; the
    routes are ``TOLERANT_ROUTES``); None: ``reads``."""

    texts: Texts | None = None
    """The notifications' texts from the catalogs (cnvisa.web.notify_texts), given by the application."""

    @property
    def tolerant(self) -> Reads:
        return self.lagging or self.reads

    def now(self) -> dt.datetime:
        """Now, in UTC: instants are stored in UTC (SQLite keeps no offset)."""
        return self.cases.now().astimezone(dt.UTC)

    def today(self) -> dt.date:
        """Today in Beijing time: the date rules are asked as of."""
        return self.cases.today()

    @property
    def obligations(self) -> ObligationRegister:
        """The obligations register (issue 12), on the platform's sessions and clock, its sweep reminding at the
        office's steps and escalating at its near-deadline rule."""
        register = ObligationRegister(self.sessions, self.cases.clock)
        register.reminder_steps = self.settings.reminder_steps_days
        register.near_working_days = self.settings.escalation_working_days
        return register

    @property
    def outbox(self) -> OutboxService:
        """Delivering the notifications outbox (issue 12): ``await platform.outbox.deliver_due(limit=…)`` is the
        job the queue's worker runs on a schedule (and ``cnvisa db deliver`` once)."""
        if self.texts is None:
            raise RuntimeError("the platform was built without the notifications' texts")
        config = self.settings.notify_channels
        return OutboxService(
            self.sessions,
            self.cases.clock,
            channels=channels(config),
            texts=self.texts,
            rules=self.settings.notify_retry,
            domain=config.smtp.domain if config.smtp else "cnvisa.localhost",
        )

    @property
    def inbox(self) -> InboxService:
        """Every account's inbox and notification preferences (issue 12)."""
        return InboxService(self.sessions, self.cases.clock, self.settings.notify_channels.offered)


async def platform(request: Request) -> Platform:
    # async: FastAPI runs a plain ``def`` dependency in its thread pool, a hop per request for one attribute
    p: Platform = request.app.state.platform
    return p


@dataclass(frozen=True)
class Principal:
    """The signed-in account and the actor the case core checks."""

    account: Account
    actor: Actor
    csrf: str | None
    """None for bearer-token clients (no cookie, so no CSRF)."""
    via: str  # "session" | "token"

    @property
    def role(self) -> Role:
        return self.actor.role


_MAY_REPRESENT = (Role.AGENT, Role.ORG_STAFF, Role.APPLICANT)


def _actor(who: security.SignedIn) -> Actor:
    account = who.account
    role = Role(account.role)
    return Actor(
        account.id,
        role,
        office_id=account.office_id,
        person_id=account.person_id,
        represents=who.represents if role in _MAY_REPRESENT else frozenset(),
        organisation_id=account.organisation_id,
    )


async def optional_principal(request: Request, p: Annotated[Platform, Depends(platform)]) -> Principal | None:
    """Who is asking: a bearer token (institution clients) or a session cookie — one hot read either way
    (cnvisa.store.fast), with the mandates in force today of those who may act for others."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    principal: Principal | None = None
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        now = p.now()
        use = await security.find_api_token(p.reads, auth[7:].strip(), now, p.today())
        if use is None:
            raise Problem(401, "Unauthorised", "unknown, expired or revoked bearer token", code="bad_token")
        if use.stale:  # at most once a minute per token: no write on the hot path otherwise
            async with p.sessions() as s, s.begin():
                await security.touch_api_token(s, use.token_id, now)
        principal = Principal(use.signed_in.account, _actor(use.signed_in), None, "token")
    elif token := request.cookies.get(security.COOKIE):
        found = await security.find_session(p.reads, token, p.now(), p.today())
        if found is not None:
            principal = Principal(found.account, _actor(found), found.csrf, "session")
    request.state.principal = principal
    return principal


async def page_principal(request: Request) -> Principal | None:
    """Who is signed in, for an error page: the principal the request's dependencies found, else the session
    cookie's — never raising (the page reports the first error, not one of its own)."""
    if hasattr(request.state, "principal"):
        known: Principal | None = request.state.principal
        return known
    p: Platform | None = getattr(request.app.state, "platform", None)
    token = request.cookies.get(security.COOKIE)
    if p is None or not token:
        return None
    try:
        found = await security.find_session(p.reads, token, p.now(), p.today())
    except Exception:  # the database may be the very error shown (busy, down)
        return None
    return Principal(found.account, _actor(found), found.csrf, "session") if found else None


async def principal(who: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    if who is None:
        raise Problem(401, "Unauthorised", "sign in first", code="signin_required")
    return who


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """A dependency that admits only the given roles."""

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.role not in roles:
            raise Problem(403, "Forbidden", f"the role {who.role} may not do this", code="forbidden")
        return who

    return check


async def check_csrf(request: Request, who: Principal) -> None:
    """State-changing requests from a browser session must carry the session's CSRF token."""
    if who.via != "session" or who.csrf is None:
        return
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf")
        given = value if isinstance(value, str) else None
    if not security.csrf_ok(who.csrf, given):
        raise Problem(403, "Forbidden", "missing or wrong CSRF token", code="csrf")


async def locale(request: Request) -> str:  # async: no thread-pool hop (see ``platform``)
    return negotiate(request)


PlatformDep = Annotated[Platform, Depends(platform)]
PrincipalDep = Annotated[Principal, Depends(principal)]
OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]
LocaleDep = Annotated[str, Depends(locale)]
