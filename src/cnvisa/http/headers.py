"""Security headers on every answer: pages, API, static files, errors (issue 13, hardening; ASVS 4.0 V14.4).

A pure ASGI middleware (no ``BaseHTTPMiddleware``: that one costs a task and a stream per request), outermost
of the platform's own, so that the deadline's 503 and the body limit's 413 carry the headers too.

- Content-Security-Policy (V14.4.3): no inline script anywhere, and no inline style either — the pages have
  neither (their few style needs are classes in /static/style.css). The API reference pages (/api/docs,
  /api/redoc) need one inline script each and injected styles: they send a policy of their own
  (``cnvisa.api.docs``), which this middleware leaves as it is.
- X-Content-Type-Options: nosniff (V14.4.4); X-Frame-Options DENY beside frame-ancestors 'none' for older
  browsers (V14.4.7).
- Referrer-Policy: no-referrer (V14.4.6): the progress inquiry's and the public check's addresses may hold a
  case number, a passport number or a check code, which must not travel to another site in a Referer.
- Permissions-Policy: every powerful feature off; the platform uses none.
- Cache-Control: private, no-store on every answer to a signed-in request (a session cookie or a bearer token)
  that sets no caching of its own (V8.2.1, V8.1.1): a shared or back-button cache must not keep a page or an
  answer holding someone's personal data.
- Strict-Transport-Security (V14.4.5, V9.1.1) only when served over https: the request's scheme is https, or
  the deployment says so (CNVISA_SECURE_COOKIES=1, behind a TLS proxy).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
HSTS = "max-age=31536000; includeSubDomains"

_CSP_NAME = b"content-security-policy"
_COMMON: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", PERMISSIONS.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_HSTS = (b"strict-transport-security", HSTS.encode())
_CSP = (_CSP_NAME, CSP.encode())
_CACHE_NAME = b"cache-control"
_NO_STORE = (_CACHE_NAME, b"private, no-store")


def _signed_in(scope: Scope) -> bool:
    return any(
        name == b"authorization" or (name == b"cookie" and b"cnvisa_session=" in value)
        for name, value in scope["headers"]
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        """``https``: the platform is always reached over https (HSTS on every answer)."""
        self.app, self.https = app, https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hsts = self.https or scope.get("scheme") == "https"
        private = _signed_in(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(name.lower() == _CSP_NAME for name, _ in headers):
                    headers.append(_CSP)
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in _COMMON if h[0] not in present)  # a route's own value stands
                if private and not any(name.lower() == _CACHE_NAME for name, _ in headers):
                    headers.append(_NO_STORE)
                if hsts:
                    headers.append(_HSTS)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
