"""Where the platform may send a browser after signing in (issue 13, defects 1 and 9; ASVS 4.0 V5.1.5).

A ``next`` target comes from the request, so it is parsed, not pattern-matched: only a path of this site is
kept — after removing control characters (a browser drops TAB, CR and LF inside a URL, so ``/%09/evil.example``
is ``//evil.example`` to it) and reading backslashes as slashes (as browsers do: ``/\\evil.example`` is
``//evil.example``), it must have no scheme and no host and start with exactly one "/". Anything else gives
the safe default. What is kept is percent-encoded (UTF-8), so a Location header never carries non-ASCII text
or a line break.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SAFE = "/?&=#%:@!$'()*+,;~-._"
"""Characters a path and query may keep as they are; everything else (non-ASCII, spaces, quotes) is
percent-encoded. '%' is kept so that an already encoded target is not encoded twice."""


def location(path: str) -> str:
    """``path`` (of this site) as a Location header value: ASCII, no control characters."""
    return quote(_CONTROL.sub("", path), safe=_SAFE)


def safe_next(target: str | None, default: str = "") -> str:
    """``target`` if it is a path of this site (encoded for a Location header), else ``default``."""
    if not target:
        return default
    cleaned = _CONTROL.sub("", target).replace("\\", "/")
    try:
        parts = urlsplit(cleaned)
    except ValueError:  # e.g. an unbalanced "[" read as an IPv6 host
        return default
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return default
    return location(cleaned)
