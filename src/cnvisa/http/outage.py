"""No request outlives a stalled database (issue 13, defect 4; ASVS 4.0 V11.1.4, V7.4.1).

Three bounds, innermost first: the database's own (connect, statement and pool timeouts:
``cnvisa.store.db.Timeouts``, from the settings), and this module's request deadline around everything else.
The deadline is a pure ASGI middleware, outermost but for the error handler, so that it also bounds the hot
paths answered before FastAPI's routing (``cnvisa.api.progress.FastPath``, ``cnvisa.store.fast.Reads``).

Why a deadline on the whole request rather than an ``asyncio.timeout`` around each piece of database work:
the database work is spread over many ``async with sessions()`` blocks and the plain asyncpg pool, and a
timeout inside the request's task cannot bound its own clean-up — a cancelled transaction's ROLLBACK on a
stalled connection waits again. So the request runs as a task of its own; when the deadline passes before its
answer has started, the client gets 503 with Retry-After at once and the task is cancelled and left to finish
its clean-up (its late answer is dropped). The clock restarts with every chunk of the request body received, so a
slow upload is not cut short: the bound is on the server's work, from the last byte received to the answer's
start. Once the answer has started (a streamed file) it is no longer bounded.

Every database failure that reaches here or the exception handlers — refused or reset connections, timeouts,
a full pool — is 503 with Retry-After (``cnvisa.http.problems.unavailable``), never a 500.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cnvisa.http.problems import RETRY_UNAVAILABLE, Problem, unavailable

Answer = Callable[[Request, Exception], Awaitable[Response]]


def too_late(seconds: float) -> Problem:
    return Problem(
        503,
        "Unavailable",
        f"the request did not complete within {seconds:g} s (the database did not answer): try again",
        code="unavailable",
        retry_after=RETRY_UNAVAILABLE,
    )


def _consume(task: asyncio.Future[None]) -> None:
    """The abandoned request's outcome, retrieved so that asyncio does not log it as never retrieved."""
    if not task.cancelled():
        task.exception()


class Deadline:
    def __init__(self, app: ASGIApp, seconds: float, answer: Answer) -> None:
        self.app, self.seconds, self.answer = app, seconds, answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        seconds = self.seconds
        deadline = loop.time() + seconds
        started = answered = False

        async def receive_body() -> Message:
            nonlocal deadline
            message = await receive()
            if message["type"] == "http.request":
                deadline = loop.time() + seconds
            return message

        async def send_answer(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the client has had its 503: the abandoned request's late answer goes nowhere
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        # One future woken by the task's end or by the deadline's timer (cheaper than asyncio.wait: ≈ 15 µs a
        # request, not 50).
        task: asyncio.Future[None] = asyncio.ensure_future(self.app(scope, receive_body, send_answer))
        woken: asyncio.Future[None] = loop.create_future()
        timer: asyncio.TimerHandle

        def wake(_: object = None) -> None:
            if not woken.done():
                woken.set_result(None)

        def on_time() -> None:
            nonlocal timer
            if started:
                return  # the answer is under way: no longer bounded
            if loop.time() < deadline:  # moved by a chunk of the body received meanwhile
                timer = loop.call_at(deadline, on_time)
                return
            wake()

        timer = loop.call_at(deadline, on_time)
        task.add_done_callback(wake)
        try:
            await woken
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            timer.cancel()
        if not task.done():
            answered = True
            task.cancel()
            task.add_done_callback(_consume)
            await (await self.answer(Request(scope), too_late(seconds)))(scope, receive, send)
            return
        exc = task.exception()
        if exc is None:
            return
        if started or not isinstance(exc, Exception):
            raise exc
        # Answered here, inside the security headers (cnvisa.http.headers): a database failure outside FastAPI's
        # handlers (the hot paths) is 503; anything else is the 500 page, and is raised on to the server's
        # error handler, which logs it and, the answer having started, sends nothing more.
        await (await self.answer(Request(scope), exc))(scope, receive, send)
        if not unavailable(exc):
            raise exc


def install(app: FastAPI, seconds: float, answer: Answer) -> None:
    """The deadline (added last: outermost of the middleware) and 503 for database failures that FastAPI's
    handlers would otherwise pass to the server-error handler (a 500, logged as a crash)."""

    async def on_failure(request: Request, exc: Exception) -> Response:
        return await answer(request, exc)

    for cls in (OSError, PoolTimeout):  # TimeoutError and ConnectionRefusedError are OSErrors
        app.add_exception_handler(cls, on_failure)
    app.add_middleware(Deadline, seconds=seconds, answer=answer)
