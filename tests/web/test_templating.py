"""The template environment's two speed-ups answer exactly what plain Jinja would: fixed texts translated when a
template is compiled, and dict keys looked up before attributes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import Environment, select_autoescape

from cnvisa.http.i18n import translations
from cnvisa.web.templating import environment

TEMPLATES = Path(__file__).parents[2] / "src" / "cnvisa" / "web" / "templates"
# every `_("…")` / `_('…')` without values, as the templates write them
FIXED = re.compile(r"""\b_\((?P<q>["'])(?P<text>(?:(?!(?P=q)).)*)(?P=q)\)""")


def _plain(locale: str) -> Environment:
    env = Environment(autoescape=select_autoescape(default_for_string=True), extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    return env


def _fixed_texts() -> list[str]:
    found = {m.group(0) for tpl in TEMPLATES.rglob("*.html") for m in FIXED.finditer(tpl.read_text())}
    return sorted(found)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_fixed_texts_render_as_gettext_would(locale: str) -> None:
    calls = _fixed_texts()
    assert len(calls) > 300  # the pattern sees the templates' texts
    fast, plain = environment(locale), _plain(locale)
    for call in calls:
        source = "{{ " + call + " }}|{{ " + call + " ~ '<b>' }}|{% set x = " + call + " %}{{ x|length }}"
        assert fast.from_string(source).render() == plain.from_string(source).render(), call


def test_fixed_texts_keep_percent_and_markup_rules() -> None:
    fast, plain = environment("en"), _plain("en")
    for source in ('{{ _("100%% sure") }}', '{{ _("a < b & c") }}', "{{ _('it''s') }}", '{{ _("x", n=1) }}'):
        try:
            expected = plain.from_string(source).render()
        except Exception as exc:  # the same failure, then
            with pytest.raises(type(exc)):
                fast.from_string(source).render()
            continue
        assert fast.from_string(source).render() == expected, source
    # values still go through gettext and are escaped
    assert fast.from_string('{{ _("%(n)s entries used", n="<i>") }}').render() == "&lt;i&gt; entries used"


def test_a_chinese_page_text_is_translated_at_compile_time() -> None:
    zh = environment("zh_CN").from_string('<h1>{{ _("Queue") }}</h1>')
    assert "Queue" not in zh.render() and "<h1>" in zh.render()


def test_dict_keys_before_attributes() -> None:
    env = environment("en")
    row = {"items": ["photo"], "number": "SH01-1"}
    assert env.from_string("{{ r.number }} {{ r.items|join(',') }}").render(r=row) == "SH01-1 photo"
    # a dict without such a key still has its methods; other objects keep Jinja's order
    assert (
        env.from_string("{{ r.get('x', 'none') }} {{ r.values()|list|length }}").render(r={"a": 1})
        == "none 1"
    )
    assert env.from_string("{{ 'abc'.upper() }} {{ r.missing }}").render(r={}) == "ABC "
