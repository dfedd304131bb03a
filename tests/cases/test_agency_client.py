"""The client of the work-permit authority's system against its stub: a retried submission is carried out once
(errors before and after the work, a stalled answer over a real socket), a refusal is not retried, used-up
retries are recorded and the same call sends again later; the poll applies decisions in order; a withdrawal
closes the branch. Storage on both engines."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from agency_helpers import (
    BRANCH,
    SYSTEM,
    FakeBranches,
    agency_events,
    branch,
    clock,
    last_in,
    open_branch,
    records,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cnvisa.cases.agencies import (
    AgencyRefused,
    AgencyUnavailable,
    WorkPermitClient,
    WorkPermitClientConfig,
    notify_withdrawal,
    poll_loop,
    poll_once,
    submit_work_permit_branch,
)
from cnvisa.cases.agencies.stub import WorkPermitAuthorityStub
from cnvisa.cases.errors import BadInput
from cnvisa.store.agency_tables import AgencyCorrelation

PAYLOAD = {"employer_uscc": "91310000MA1FL0000X", "position": "engineer", "category": "B", "points": 72}


def client_for(stub: WorkPermitAuthorityStub, **cfg: Any) -> tuple[WorkPermitClient, list[float]]:
    """A client over the stub in this process (httpx.ASGITransport); its waits are recorded, not slept."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    config = WorkPermitClientConfig(base_url="http://wp.stub", **{"backoff": 0.1, "backoff_max": 1.0, **cfg})
    return WorkPermitClient(config, transport=httpx.ASGITransport(app=stub.app), sleep=sleep), waits


@contextlib.asynccontextmanager
async def served(stub: WorkPermitAuthorityStub) -> AsyncIterator[str]:
    """The stub served by uvicorn on a free port of 127.0.0.1, in this event loop."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(stub.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        sock.close()


async def submit(sessions: async_sessionmaker[AsyncSession], c: WorkPermitClient, **kw: Any) -> Any:
    return await submit_work_permit_branch(
        sessions,
        c,
        correlation_id=BRANCH,
        payload=kw.pop("payload", PAYLOAD),
        actor=SYSTEM,
        clock=clock(),
        **kw,
    )


@pytest.mark.timeout(60)
async def test_a_submission_retried_after_server_errors_is_carried_out_once(engine: AsyncEngine) -> None:
    sessions = await open_branch(engine)
    stub = WorkPermitAuthorityStub()
    stub.fail_next(2, "error")
    c, waits = client_for(stub)
    async with c:
        d = await submit(sessions, c)
    assert (d.outcome, d.sequence, d.replayed) == ("delivered", 1, False)
    assert d.response is not None and d.response["reference"] == "WP-00000001"
    assert stub.effects == [("submission", BRANCH)]
    assert len(stub.requests) == 3 == c.attempts_made
    assert len(waits) == 2 and 0.05 <= waits[0] <= 0.1 and 0.1 <= waits[1] <= 0.2  # backoff, doubling
    (row,) = await records(sessions, "out")
    assert (row.outcome, row.kind, row.message_id, row.final_key) == (
        "delivered",
        "submission",
        f"{BRANCH}:submission",
        f"{BRANCH}:submission",
    )
    async with sessions() as s:
        corr = await s.get(AgencyCorrelation, BRANCH)
        assert corr is not None and corr.remote_reference == "WP-00000001" and corr.last_sequence_out == 1
    assert [e.action for e in await agency_events(sessions)] == [
        "agency_message_pending",
        "agency_message_delivered",
    ]


@pytest.mark.timeout(60)
async def test_an_error_after_the_work_was_done_does_not_duplicate_it(engine: AsyncEngine) -> None:
    sessions = await open_branch(engine)
    stub = WorkPermitAuthorityStub()
    stub.fail_next(1, "error_after")  # the authority recorded it, then failed to answer
    c, _ = client_for(stub)
    async with c:
        d = await submit(sessions, c)
    assert d.outcome == "delivered"
    assert stub.effects == [("submission", BRANCH)] and len(stub.branches) == 1
    assert c.attempts_made == 2


@pytest.mark.timeout(60)
async def test_a_stalled_answer_over_a_real_socket_is_retried_without_duplicating(
    engine: AsyncEngine,
) -> None:
    sessions = await open_branch(engine)
    stub = WorkPermitAuthorityStub(token="s3cret")
    stub.fail_next(1, "stall", seconds=3.0)  # done, then silent past the client's timeout
    async with served(stub) as url:
        config = WorkPermitClientConfig(
            base_url=url, token="s3cret", timeout=0.5, backoff=0.05, backoff_max=0.2
        )
        async with WorkPermitClient(config) as c:
            d = await submit(sessions, c)
    assert d.outcome == "delivered" and d.response is not None
    assert stub.effects == [("submission", BRANCH)]
    assert c.attempts_made == 2


@pytest.mark.timeout(60)
async def test_used_up_retries_are_recorded_and_the_same_call_sends_again_later(engine: AsyncEngine) -> None:
    sessions = await open_branch(engine)
    stub = WorkPermitAuthorityStub()
    stub.fail_next(3, "error")
    c, waits = client_for(stub, attempts=3)
    async with c:
        failed = await submit(sessions, c)
        assert (failed.outcome, failed.reason) == ("failed", "agency_unavailable")
        assert stub.effects == [] and len(waits) == 2
        again = await submit(sessions, c)
        assert again.outcome == "delivered" and again.record_id == failed.record_id
        sent = len(stub.requests)
        third = await submit(sessions, c)
    assert third.replayed and third.response == again.response
    assert len(stub.requests) == sent  # delivered before: not sent again
    assert stub.effects == [("submission", BRANCH)]
    assert len(await records(sessions, "out")) == 1
    actions = [e.action for e in await agency_events(sessions)]
    assert actions == ["agency_message_pending", "agency_message_failed", "agency_message_delivered"]


@pytest.mark.timeout(60)
async def test_a_refusal_is_not_retried_and_a_key_keeps_its_message(engine: AsyncEngine) -> None:
    sessions = await open_branch(engine)
    stub = WorkPermitAuthorityStub(token="right")
    c, waits = client_for(stub, token="wrong")
    async with c:
        d = await submit(sessions, c)
        assert (d.outcome, d.reason) == ("failed", "agency_refused")
        assert c.attempts_made == 1 and waits == []
        with pytest.raises(AgencyRefused) as err:
            await c.messages(BRANCH, after=0)
        assert err.value.status == 401
        with pytest.raises(BadInput) as bad:  # the same key (the branch's submission) with another payload
            await submit(sessions, c, payload={**PAYLOAD, "points": 90})
    assert bad.value.field == "idempotency_key"
    assert stub.effects == []


@pytest.mark.timeout(60)
async def test_the_poll_applies_the_authoritys_decisions_in_order(engine: AsyncEngine) -> None:
    sessions = await open_branch(engine)
    stub = WorkPermitAuthorityStub()
    handler = FakeBranches()
    c, _ = client_for(stub)
    async with c:
        await submit(sessions, c)
        stub.decide(BRANCH, "under_review")
        stub.decide(BRANCH, "extended", {"working_days": 10, "reason": "verification"})
        stub.decide(BRANCH, "granted", {"number": "110000202500001", "category": "B"})
        receipts = await poll_once(sessions, c, handler, SYSTEM, clock())
        assert [(r.outcome, r.response["result"]["state"]) for r in receipts] == [
            ("applied", "under_review"),
            ("applied", "extended"),
            ("applied", "granted"),
        ]
        assert [k for _, k, _ in handler.calls] == ["under_review", "extended", "granted"]
        assert await branch(sessions) == ("granted", 3) and await last_in(sessions) == 3
        assert await poll_once(sessions, c, handler, SYSTEM, clock()) == []  # nothing new
        stub.fail_next(4, "error")  # the authority down: the poll leaves the branch for next time
        assert await poll_once(sessions, c, handler, SYSTEM, clock()) == []
    assert [r.sequence for r in await records(sessions)] == [1, 2, 3]


@pytest.mark.timeout(60)
async def test_the_poll_stops_a_branch_at_a_message_that_settles_nothing(engine: AsyncEngine) -> None:
    sessions = await open_branch(engine)
    stub = WorkPermitAuthorityStub()
    handler = FakeBranches()
    c, _ = client_for(stub)
    async with c:
        await submit(sessions, c)
        stub.decide(BRANCH, "under_review", {"stale": True})  # the handler answers Conflict
        stub.decide(BRANCH, "granted", {"number": "1"})
        receipts = await poll_once(sessions, c, handler, SYSTEM, clock())
        assert [(r.outcome, r.reason) for r in receipts] == [("refused", "conflict")]  # 2 not tried
        assert await last_in(sessions) == 0
        stub.messages[BRANCH][0]["payload"] = {}  # a message changed under its id: refused as reused
        receipts = await poll_once(sessions, c, handler, SYSTEM, clock())
    assert [(r.outcome, r.reason) for r in receipts] == [("refused", "message_id_reused")]
    assert await branch(sessions) == ("submitted", 0)


@pytest.mark.timeout(60)
async def test_the_poll_loop_over_a_real_socket_receives_until_stopped(engine: AsyncEngine) -> None:
    sessions = await open_branch(engine)
    stub = WorkPermitAuthorityStub()
    handler = FakeBranches()
    async with served(stub) as url:
        config = WorkPermitClientConfig(
            base_url=url, timeout=2, backoff=0.05, backoff_max=0.2, poll_seconds=0.05
        )
        async with WorkPermitClient(config) as c:
            await submit(sessions, c)
            stop = asyncio.Event()
            loop = asyncio.create_task(poll_loop(sessions, c, handler, SYSTEM, clock(), stop))
            stub.decide(BRANCH, "under_review")
            stub.decide(BRANCH, "refused", {"grounds": "ALL 38", "reason": "quota"})
            async with asyncio.timeout(20):
                while (await branch(sessions))[0] != "refused":
                    await asyncio.sleep(0.05)
            stop.set()
            received = await asyncio.wait_for(loop, timeout=10)
    assert received == 2
    assert [k for _, k, _ in handler.calls] == ["under_review", "refused"]


@pytest.mark.timeout(60)
async def test_a_withdrawal_is_sent_once_and_closes_the_branch(engine: AsyncEngine) -> None:
    sessions = await open_branch(engine)
    stub = WorkPermitAuthorityStub()
    handler = FakeBranches()
    c, _ = client_for(stub)
    async with c:
        await submit(sessions, c)
        stub.fail_next(1, "error_after")
        d = await notify_withdrawal(
            sessions, c, correlation_id=BRANCH, reason="applicant_withdrew", actor=SYSTEM, clock=clock()
        )
        assert (d.outcome, d.sequence) == ("delivered", 2)
        assert stub.branches[BRANCH]["withdrawn"] and stub.effects.count(("withdrawal", BRANCH)) == 1
        stub.decide(BRANCH, "granted", {"number": "1"})
        assert await poll_once(sessions, c, handler, SYSTEM, clock()) == []  # a closed branch is not polled
        with pytest.raises(BadInput):  # no withdrawal of a branch never opened
            await notify_withdrawal(
                sessions, c, correlation_id="JA-NOPE-WP", reason="x", actor=SYSTEM, clock=clock()
            )
    async with sessions() as s:
        corr = await s.get(AgencyCorrelation, BRANCH)
        assert corr is not None and corr.closed_at is not None


async def test_the_stub_refuses_a_key_reused_with_another_request() -> None:
    stub = WorkPermitAuthorityStub()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=stub.app), base_url="http://wp") as h:
        body = {"correlation_id": "B1", "kind": "submission", "payload": {}}
        assert (await h.post("/v1/branches", json=body, headers={"Idempotency-Key": "k1"})).status_code == 201
        assert (await h.post("/v1/branches", json=body, headers={"Idempotency-Key": "k1"})).status_code == 201
        other = {**body, "payload": {"x": 1}}
        assert (
            await h.post("/v1/branches", json=other, headers={"Idempotency-Key": "k1"})
        ).status_code == 422
        assert (await h.post("/v1/branches", json=body, headers={"Idempotency-Key": "k2"})).status_code == 409
        assert (await h.post("/v1/branches", json=body)).status_code == 400
        r = await h.post("/_stub/decisions", json={"correlation_id": "B1", "kind": "under_review"})
        assert r.json()["sequence"] == 1
        assert (await h.get("/v1/branches/B1/messages", params={"after": 1})).json() == {"messages": []}
        assert (await h.get("/v1/branches/B9/messages")).status_code == 404
    assert stub.effects == [("submission", "B1")]


async def test_unavailable_after_every_attempt_names_the_last_error() -> None:
    stub = WorkPermitAuthorityStub()
    stub.fail_next(2, "error")
    c, waits = client_for(stub, attempts=2)
    async with c:
        with pytest.raises(AgencyUnavailable) as err:
            await c.messages("B1", after=0)
    assert (err.value.attempts, err.value.last) == (2, "HTTP 500") and len(waits) == 1


def test_the_configuration_is_read_from_the_environment() -> None:
    cfg = WorkPermitClientConfig.from_env(
        {
            "CNVISA_WORK_PERMIT_URL": "https://wp.example.gov.cn/api",
            "CNVISA_WORK_PERMIT_TOKEN": "t",
            "CNVISA_WORK_PERMIT_TIMEOUT": "3.5",
            "CNVISA_WORK_PERMIT_ATTEMPTS": "6",
        }
    )
    assert (cfg.base_url, cfg.token, cfg.timeout, cfg.attempts) == (
        "https://wp.example.gov.cn/api",
        "t",
        3.5,
        6,
    )
    assert WorkPermitClientConfig.from_env({}).token is None
    with pytest.raises(ValueError):
        WorkPermitClientConfig(base_url="http://x", attempts=0)


@pytest.mark.timeout(60)
async def test_two_concurrent_submissions_of_one_branch_send_one_message(engine: AsyncEngine) -> None:
    """Two calls submit a branch not yet opened, at once: both race to open the correlation (one waits on the
    other's key and looks again), one message is recorded and the authority carries it out once."""
    sessions = await open_branch(engine, "JA-2025-000002-WP")
    stub = WorkPermitAuthorityStub()
    c, _ = client_for(stub)

    async def one() -> Any:
        return await submit_work_permit_branch(
            sessions, c, correlation_id="JA-2025-000009-WP", payload=PAYLOAD, actor=SYSTEM, clock=clock()
        )

    async with c:
        a, b = await asyncio.wait_for(asyncio.gather(one(), one()), timeout=30)
    assert a.record_id == b.record_id and {a.outcome, b.outcome} == {"delivered"}
    assert stub.effects == [("submission", "JA-2025-000009-WP")]  # the second request under the key: a replay
    assert len(await records(sessions, "out")) == 1


async def test_an_answer_that_is_not_json_is_not_taken_as_done() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]}
        )
        await send({"type": "http.response.body", "body": b"<html>maintenance</html>"})

    config = WorkPermitClientConfig(base_url="http://wp")
    async with WorkPermitClient(config, transport=httpx.ASGITransport(app=app)) as c:
        with pytest.raises(AgencyRefused) as err:
            await c.messages(BRANCH, after=0)
    assert err.value.status == 200 and "maintenance" in str(err.value.body)
