"""One Jinja2 environment per locale (autoescaped, with Babel's gettext installed); pages and PDFs are rendered
from the same templates."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from cnvisa.web import labels
from cnvisa.web.i18n import LOCALES, format_date, lang_attr, translations

TEMPLATES = Path(__file__).parent / "templates"


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


@cache
def environment(locale: str) -> Environment:
    env = _Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(locale=locale, lang=lang_attr(locale), locales=LOCALES)
    env.filters["date"] = lambda value, fmt="medium": format_date(value, locale, fmt)
    env.filters.update(labels.filters(locale))
    return env


def render(locale: str, name: str, **context: Any) -> str:
    return environment(locale).get_template(name).render(**context)
