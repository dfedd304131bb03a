"""Security headers on every answer — pages, API, static files, errors (issue 13, hardening; ASVS 4.0 V14.4) —
and 405 names the allowed methods (RFC 9110 §15.5.6)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_support import Web

from cnvisa.app import create_app
from cnvisa.http.settings import Settings

TEMPLATES = Path(__file__).parents[2] / "src" / "cnvisa" / "web" / "templates"
SAMPLES = [
    ("GET", "/", 200),
    ("GET", "/signin", 200),
    ("GET", "/progress", 200),
    ("GET", "/api/v1/offices", 200),
    ("GET", "/api/openapi.json", 200),
    ("GET", "/static/style.css", 200),
    ("GET", "/favicon.ico", 200),
    ("GET", "/no/such/page", 404),
    ("GET", "/api/v1/no-such-thing", 404),
    ("GET", "/my/cases", 303),
    ("GET", "/api/v1/cases", 401),
    ("GET", "/api/v1/progress?number=x", 422),
    ("DELETE", "/api/v1/offices", 405),
    ("POST", "/", 405),
]
SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # headers do not depend on the engine


def csp(r: Any) -> dict[str, str]:
    policy = r.headers["content-security-policy"]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else "" for d in policy.split("; ")}


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def lacking_security_headers(r: Any) -> list[str]:
    """The security headers an answer lacks: those above, a Permissions-Policy, and a Content-Security-Policy
    without inline script that no other site may frame (a served file's: sandboxed). test_route_matrix asks it
    of every route's answer to every role."""
    out = [name for name, value in SECURITY_HEADERS.items() if r.headers.get(name) != value]
    if "geolocation=()" not in r.headers.get("permissions-policy", ""):
        out.append("permissions-policy")
    policy = {}
    for directive in r.headers.get("content-security-policy", "").split(";"):
        name, _, value = directive.strip().partition(" ")
        policy[name] = value
    if "'unsafe-inline'" in policy.get("script-src", "") or not (
        policy.get("frame-ancestors") == "'none'" or "sandbox" in policy
    ):
        out.append("content-security-policy")
    return out


@SQLITE
def test_every_answer_carries_the_security_headers(web: Web) -> None:
    for method, path, status in SAMPLES:
        r = web.client.request(method, path)
        assert r.status_code == status, (method, path, r.status_code)
        h = r.headers
        assert h["x-content-type-options"] == "nosniff", path
        assert h["referrer-policy"] == "no-referrer", path
        assert "camera=()" in h["permissions-policy"] and "geolocation=()" in h["permissions-policy"], path
        assert h["x-frame-options"] == "DENY", path
        policy = csp(r)
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'", path
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'", path
        assert policy["form-action"] == "'self'" and policy["base-uri"] == "'none'", path
        assert "strict-transport-security" not in h, path  # plain http: no HSTS


@SQLITE
def test_hsts_only_under_https(web: Web, db_url: str) -> None:
    https = TestClient(web.client.app, base_url="https://testserver", follow_redirects=False)
    https.portal = web.client.portal  # type: ignore[attr-defined]
    assert https.get("/").headers["strict-transport-security"].startswith("max-age=31536000")
    app = create_app(dataclasses.replace(Settings(database_url=db_url), secure_cookies=True))
    with TestClient(app) as behind_tls_proxy:
        assert "max-age=" in behind_tls_proxy.get("/api/v1/offices").headers["strict-transport-security"]


@SQLITE
def test_405_names_the_allowed_methods(web: Web) -> None:
    r = web.client.delete("/api/v1/offices")
    assert r.status_code == 405 and r.headers["allow"] == "GET", r.headers
    assert r.headers["content-type"].startswith("application/problem+json")
    r = web.client.put("/signin")
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == {"GET", "POST"}, r.headers
    assert r.headers["content-type"].startswith("text/html")


@SQLITE
def test_api_reference_pages_allow_only_their_own_inline_script(web: Web) -> None:
    for path in ("/api/docs", "/api/redoc"):
        r = web.client.get(path)
        assert r.status_code == 200, path
        policy = csp(r)
        assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
        assert policy["frame-ancestors"] == "'none'"
        for script in re.findall(rb"<script>(.*?)</script>", r.content, re.S):
            digest = base64.b64encode(hashlib.sha256(script).digest()).decode()
            assert f"'sha256-{digest}'" in policy["script-src"], path


def test_pages_have_no_inline_script_or_style() -> None:
    """The pages' policy allows neither: a template that brings one back would break in the browser. (The PDF
    templates are rendered by WeasyPrint, not by a browser.)"""
    found = []
    for template in TEMPLATES.rglob("*.html"):
        if "pdf" in template.parts:
            continue
        text = template.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\sstyle=", r"<style", r"\son[a-z]+="):
            found += [f"{template.relative_to(TEMPLATES)}: {m}" for m in re.findall(pattern, text)]
    assert not found, found


@SQLITE
def test_signed_in_answers_are_not_stored_by_any_cache(web: Web) -> None:
    """ASVS 4.0 V8.2.1: a page or an answer for a signed-in person is ``private, no-store``; a public one may be
    cached, and an answer that sets its own caching keeps it (the static files)."""
    assert "no-store" not in web.client.get("/").headers.get("cache-control", "")
    web.signin("alice")
    for path in ("/my/cases", "/my/documents", "/api/v1/cases", "/api/v1/auth/me", "/"):
        r = web.client.get(path)
        assert r.status_code == 200, path
        assert r.headers["cache-control"] == "private, no-store", path
    assert "no-store" not in web.client.get("/static/style.css").headers["cache-control"]
