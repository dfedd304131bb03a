"""Rotating ``CNVISA_SECRET`` (docs/operations.md): documents signed before still check while their secret is
listed in ``CNVISA_SECRET_PREVIOUS``; new documents are signed with the new secret only; a secret dropped from
the list no longer checks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cnvisa.cases.queries import documents


@pytest.fixture(autouse=True)
def _fresh_secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("CNVISA_SECRET_PREVIOUS", raising=False)
    documents.secret.cache_clear()
    documents.previous_secrets.cache_clear()
    yield
    documents.secret.cache_clear()
    documents.previous_secrets.cache_clear()


def _use(monkeypatch: pytest.MonkeyPatch, current: str, previous: str = "") -> None:
    monkeypatch.setenv("CNVISA_SECRET", current)
    monkeypatch.setenv("CNVISA_SECRET_PREVIOUS", previous)
    documents.secret.cache_clear()
    documents.previous_secrets.cache_clear()


def test_rotation_keeps_printed_codes_while_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    number = "SH01-20251120-ABCD1234"
    _use(monkeypatch, "old-secret-2025")
    printed = documents.check_token("decision", number)
    assert documents.parse_token("decision", printed) == number

    _use(monkeypatch, "new-secret-2026")  # rotated, the old one forgotten
    assert documents.parse_token("decision", printed) is None

    _use(monkeypatch, "new-secret-2026", "other, old-secret-2025")  # rotated, the old one listed
    assert documents.parse_token("decision", printed) == number
    assert documents.parse_token("decision", printed.replace("-", "")) == number  # typed without hyphens
    fresh = documents.check_token("decision", number)
    assert fresh != printed  # signed with the new secret, never an old one
    _use(monkeypatch, "new-secret-2026")
    assert documents.parse_token("decision", fresh) == number
    assert documents.parse_token("receipt", printed) is None  # a MAC is for its kind only
