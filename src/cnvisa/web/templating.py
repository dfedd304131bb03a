"""One Jinja2 environment per locale (autoescaped, with Babel's gettext installed); pages and PDFs are rendered
from the same templates."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2.ext import Extension
from jinja2.lexer import (
    TOKEN_LPAREN,
    TOKEN_NAME,
    TOKEN_PIPE,
    TOKEN_RPAREN,
    TOKEN_STRING,
    TOKEN_VARIABLE_BEGIN,
    TOKEN_VARIABLE_END,
    Token,
    TokenStream,
)

from cnvisa.http.i18n import LOCALES, format_date, format_instant, lang_attr, translations
from cnvisa.web import labels
from cnvisa.web.form_errors import NO_ERRORS

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_VERSION = hashlib.sha256(
    b"".join(f.read_bytes() for f in sorted(STATIC.iterdir()) if f.suffix in (".css", ".js"))
).hexdigest()[:12]
"""The static files' fingerprint: templates ask for ``/static/style.css?v=…``, so a browser may keep them for a
year (``immutable``) and still gets the new ones the moment they change."""
NOT_CARRIED = frozenset({"lang", "csrf", "password", "passport"})
"""Never copied into the language links: the language itself, secrets and passport numbers (personal data stays
out of addresses)."""


def lang_href(path: str, query: Iterable[tuple[str, str]] | None, locale: str) -> str:
    """The same page, with its answers, in ``locale`` (switching language keeps the user's work)."""
    kept = [(k, v) for k, v in query or () if k not in NOT_CARRIED]
    return f"{path}?{urlencode([*kept, ('lang', locale)])}"


class _Environment(Environment):
    """``x.name`` on a plain dict looks up the key first (as ``x["name"]`` does), then the attribute. Jinja's
    own order (attribute first) raises and catches an AttributeError for every field of every row the pages
    render from dicts — the largest single cost of rendering the officer's queue."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


class _Pretranslate(Extension):
    """``{{ _("text") }}`` — a fixed text output on its own — is translated when the template is compiled (each
    environment serves one locale) into what newstyle gettext would give at every render: the translation,
    marked safe, with ``%%`` read as ``%``. A page's fixed texts then cost nothing to render. ``_()`` inside an
    expression (where Jinja's folding of constants would drop the safe mark), with values, and ``{% trans %}``
    are left to gettext."""

    _OUTPUT = (TOKEN_VARIABLE_BEGIN, TOKEN_NAME, TOKEN_LPAREN, TOKEN_STRING, TOKEN_RPAREN, TOKEN_VARIABLE_END)

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        gettext = self.environment.pretranslate  # type: ignore[attr-defined]
        window: list[Token] = []
        for token in stream:
            window.append(token)
            while window and not self._prefix(window):
                yield window.pop(0)
            if len(window) == len(self._OUTPUT):
                begin, name, _open, text, _close, end = window
                window = []
                yield begin
                yield Token(name.lineno, TOKEN_STRING, gettext(text.value) % {})
                yield Token(name.lineno, TOKEN_PIPE, "|")
                yield Token(name.lineno, TOKEN_NAME, "safe")
                yield end
        yield from window

    def _prefix(self, window: list[Token]) -> bool:
        return all(
            t.type == kind and (kind != TOKEN_NAME or t.value == "_")
            for t, kind in zip(window, self._OUTPUT, strict=False)
        )


@cache
def environment(locale: str) -> Environment:
    env = _Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n", _Pretranslate],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates are part of the release: no stat() of the file on every render
    )
    env.pretranslate = translations(locale).gettext  # type: ignore[attr-defined]
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        locale=locale,
        lang=lang_attr(locale),
        locales=LOCALES,
        errors=NO_ERRORS,
        lang_href=lang_href,
        lang_query=None,
        path="/",
        version=STATIC_VERSION,
    )
    env.filters["date"] = lambda value, fmt="medium": format_date(value, locale, fmt)
    env.filters["instant"] = lambda value: format_instant(value, locale)  # Beijing time, the reader's locale
    env.filters.update(labels.filters(locale))
    return env


def render(locale: str, name: str, **context: Any) -> str:
    return environment(locale).get_template(name).render(**context)
