"""Online progress inquiry by case number and passport number (NIA measures 2024-03-20)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, select
from web_support import Web

from cnvisa.store.fast import Reads
from cnvisa.store.tables import Case, TravelDocument


def _a_case(web: Web) -> tuple[str, str, str]:
    engine = create_engine(web.db_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg"))
    with engine.connect() as conn:
        row = conn.execute(
            select(Case.number, TravelDocument.number, Case.state)
            .join(TravelDocument, TravelDocument.person_id == Case.person_id)
            .where(Case.state == "accepted")
            .limit(1)
        ).one()
    engine.dispose()
    return row[0], row[1], row[2]


def test_progress_by_number_and_passport(web: Web) -> None:
    number, passport, state = _a_case(web)
    r = web.client.get("/api/v1/progress", params={"number": number, "passport": passport})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == state == "accepted" and body["receipt_valid_until"] and body["next_step"]
    assert set(body) == {"number", "matter", "state", "next_step", "receipt_valid_until", "working_days_left"}


def test_wrong_passport_is_not_found_without_saying_which(web: Web) -> None:
    number, _passport, _ = _a_case(web)
    r = web.client.get("/api/v1/progress", params={"number": number, "passport": "X0000000"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    bad = web.client.get("/api/v1/progress", params={"number": "short", "passport": "X0000000"})
    assert bad.status_code == 422 and bad.json()["field"] == "number"


def _body(r: Any) -> Any:
    """The answer without its request id (each request has its own), which must be the header's."""
    body = r.json()
    if isinstance(body, dict) and "request_id" in body:
        assert body.pop("request_id") == r.headers["x-request-id"]
    return body


def test_the_fast_path_answers_as_the_documented_route(web: Web) -> None:
    """On PostgreSQL a well-formed inquiry is answered by ``progress.FastPath`` on a plain asyncpg pool; the
    answers (200 and 404 bodies, headers' media types) are those of the FastAPI route over the ORM."""
    import dataclasses

    app = web.client.app
    platform = app.state.platform  # type: ignore[attr-defined]
    assert (platform.reads.pool is not None) == web.db_url.startswith("postgresql")
    number, passport, _ = _a_case(web)
    asks = [
        {"number": number, "passport": passport},
        {"number": number, "passport": passport.lower()},
        {"number": number, "passport": "X0000000"},
        {"number": number + "\n", "passport": passport},  # `$` must not let a newline through
        {"number": number, "passport": passport + "中"},
        {"number": "short", "passport": passport},
    ]
    fast = [web.client.get("/api/v1/progress", params=a) for a in asks]
    app.state.platform = dataclasses.replace(platform, reads=Reads(platform.sessions))  # type: ignore[attr-defined]
    try:
        slow = [web.client.get("/api/v1/progress", params=a) for a in asks]
    finally:
        app.state.platform = platform  # type: ignore[attr-defined]
    assert [r.status_code for r in fast] == [200, 200, 404, 422, 422, 422]
    for f, s in zip(fast, slow, strict=True):
        assert (f.status_code, _body(f), f.headers["content-type"]) == (
            s.status_code,
            _body(s),
            s.headers["content-type"],
        )


def test_the_post_inquiry_is_answered_alike_by_the_fast_path_and_the_route(web: Web) -> None:
    """Issue 13: the numbers go in a JSON body (no passport number in a URL). The fast path reads the body and
    answers as the route does; anything else it hands on with the body intact (422 from the route)."""
    import dataclasses

    app = web.client.app
    platform = app.state.platform  # type: ignore[attr-defined]
    number, passport, _ = _a_case(web)
    asks: list[Any] = [
        {"number": number, "passport": passport},
        {"number": number, "passport": "X0000000"},
        {"number": number, "passport": passport, "extra": 1},
        {"number": number, "passport": 12345678},
        {"number": number + "\n", "passport": passport},
        [number, passport],
    ]
    fast = [web.client.post("/api/v1/progress", json=a) for a in asks]
    fast.append(
        web.client.post(
            "/api/v1/progress", content=b"{not json", headers={"content-type": "application/json"}
        )
    )
    app.state.platform = dataclasses.replace(platform, reads=Reads(platform.sessions))  # type: ignore[attr-defined]
    try:
        slow = [web.client.post("/api/v1/progress", json=a) for a in asks]
        slow.append(
            web.client.post(
                "/api/v1/progress", content=b"{not json", headers={"content-type": "application/json"}
            )
        )
    finally:
        app.state.platform = platform  # type: ignore[attr-defined]
    assert [r.status_code for r in fast] == [200, 404, 422, 422, 422, 422, 422]
    for f, s in zip(fast, slow, strict=True):
        assert (f.status_code, _body(f), f.headers["content-type"]) == (
            s.status_code,
            _body(s),
            s.headers["content-type"],
        )
    page = web.client.post("/progress", data={"number": number, "passport": passport})
    assert page.status_code == 200 and number in page.text
