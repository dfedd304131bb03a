"""No passport number in the server's logs (issue 13, defect 8; PIPL Art 6 minimisation; OWASP ASVS 4.0 V7.1.1,
V8.3.1): the progress inquiry posts the numbers in the body, and the access log redacts the query string of the
routes that carry personal data (an old GET link, the office search)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, select
from web_support import TODAY, served

from cnvisa.store.tables import Case, TravelDocument


def _a_case(db_url: str) -> tuple[str, str]:
    engine = create_engine(db_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg"))
    with engine.connect() as conn:
        row = conn.execute(
            select(Case.number, TravelDocument.number)
            .join(TravelDocument, TravelDocument.person_id == Case.person_id)
            .where(Case.state == "accepted")
            .limit(1)
        ).one()
    engine.dispose()
    return str(row[0]), str(row[1])


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/api/v1/progress?number=SH01-X&passport=E12345678", "/api/v1/progress?[redacted]"),
        ("/progress?passport=E12345678&number=SH01-X", "/progress?[redacted]"),
        ("/office/search?q=E12345678", "/office/search?[redacted]"),
        ("/api/v1/office/search?q=WANG+Lei", "/api/v1/office/search?[redacted]"),
        ("/progress", "/progress"),
        ("/office/queue?limit=50", "/office/queue?limit=50"),  # no personal data: kept
        # any other route: names kept, values redacted unless harmless (the apply page's GET form)
        (
            "/apply/visa_extension?lang=en&holding_number=J25DEMO0001&visa.entry_date=2025-11-10",
            "/apply/visa_extension?lang=en&holding_number=[redacted]&visa.entry_date=[redacted]",
        ),
        (
            "/what-do-i-need/residence_permit_extension?check=1&residence_permit.valid_until=2026-01-31",
            "/what-do-i-need/residence_permit_extension?check=1&residence_permit.valid_until=[redacted]",
        ),
    ],
)
def test_the_access_log_filter_redacts_personal_query_strings(target: str, logged: str) -> None:
    from cnvisa.http.logs import RedactPersonalQueries, redact_target  # here: the server test runs without it

    assert redact_target(target) == logged
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "h11_impl.py",
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("1.2.3.4:5", "GET", target, "1.1", 200),
        None,
    )
    assert (
        RedactPersonalQueries().filter(record)
        and record.getMessage() == f'1.2.3.4:5 - "GET {logged} HTTP/1.1" 200'
    )


def test_no_passport_number_in_the_server_log(seeded: dict[str, Any], db_url: str, tmp_path: Path) -> None:
    number, passport = _a_case(db_url)
    log = tmp_path / "server.log"
    with (
        served(db_url, log, CNVISA_CLOCK_START=f"{TODAY.isoformat()}T09:00:00+08:00") as base,
        requests.Session() as http,
    ):
        posted = http.post(
            f"{base}/api/v1/progress", json={"number": number, "passport": passport}, timeout=30
        )
        assert posted.status_code == 200 and posted.json()["number"] == number, posted.text
        wrong = http.post(
            f"{base}/api/v1/progress", json={"number": number, "passport": "X0000000"}, timeout=30
        )
        assert wrong.status_code == 404
        old = http.get(f"{base}/api/v1/progress", params={"number": number, "passport": passport}, timeout=30)
        assert old.status_code == 200  # the deprecated GET still answers
        page = http.post(f"{base}/progress", data={"number": number, "passport": passport}, timeout=30)
        assert page.status_code == 200 and number in page.text
        form = http.get(f"{base}/progress", timeout=30)
        assert 'method="post" action="/progress"' in form.text
        assert http.get(f"{base}/progress", params={"number": number, "passport": passport}, timeout=30).ok
        search = http.get(f"{base}/api/v1/office/search", params={"q": passport}, timeout=30)
        assert search.status_code == 401
        http.get(f"{base}/office/search", params={"q": passport}, timeout=30, allow_redirects=False)
        bad = http.post(
            f"{base}/api/v1/progress", json={"number": "x", "passport": passport + "\x00"}, timeout=30
        )
        assert bad.status_code == 422
        # a GET form elsewhere (the apply page) with a document number: named in the log, its value not
        http.get(f"{base}/apply/visa_extension", params={"holding_number": passport}, timeout=30)
    text = log.read_text(errors="replace")
    assert "/apply/visa_extension?holding_number=[redacted]" in text
    assert (
        "/api/v1/progress?[redacted]" in text and "/office/search?[redacted]" in text
    )  # the requests were logged
    assert "POST /api/v1/progress" in text
    for needle in (passport, passport.lower()):
        assert needle not in text, [line for line in text.splitlines() if needle in line]
