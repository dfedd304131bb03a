"""Every string the templates and the web code show has a Chinese translation, nothing English is left unmarked
in the templates, the catalogs compile and do not contradict each other."""

from __future__ import annotations

import io
import re
from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from cnvisa.http.i18n import translations

WEB = Path(__file__).parents[2] / "src" / "cnvisa" / "web"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _zh() -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for po in sorted((WEB / "locales" / "zh_CN" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for m in read_po(fh, locale="zh_CN"):
                if m.id and m.string:
                    found.setdefault(str(m.id), []).append((po.name, str(m.string)))
    return found


def test_catalogs_agree() -> None:
    conflicts = {k: v for k, v in _zh().items() if len({s for _, s in v}) > 1}
    assert not conflicts, conflicts


def _extracted() -> list[tuple[str, int, str]]:
    """Every message the templates and the web and API code mark for translation, as Babel extracts them:
    ``_()``/``gettext`` and ``{% trans %}`` in the templates; ``_()``, ``t(request, …)`` and
    ``gettext(locale, …)`` in Python."""
    found: list[tuple[str, int, str]] = []
    for tpl in sorted((WEB / "templates").rglob("*.html")):
        for line, msg, _c, _x in extract_from_file(
            "jinja2", str(tpl), options={"extensions": "jinja2.ext.i18n", "trimmed": "false"}
        ):
            found.append((str(tpl.relative_to(WEB)), line, msg if isinstance(msg, str) else msg[0]))
    code = [WEB.parent / "law" / "questionnaire.py"]
    for folder in (WEB, WEB.parent / "api", WEB.parent / "http"):
        code += sorted(folder.rglob("*.py"))
    for py in code:
        for line, msg, _c, _x in extract_from_file(
            "python", str(py), keywords={"_": None, "t": (2,), "gettext": (2,)}
        ):
            found.append((str(py.relative_to(WEB.parent)), line, msg if isinstance(msg, str) else msg[0]))
    return found


def test_every_marked_string_is_translated() -> None:
    extracted = _extracted()
    templates = {f for f, _l, _m in extracted if f.endswith(".html")}
    assert len(templates) >= 20 and len(extracted) >= 500  # the extraction sees the templates and the code
    zh = _zh()
    missing = [f"{f}:{line}: {msg}" for f, line, msg in extracted if msg not in zh]
    assert not missing, "\n".join(missing[:50])


def test_templates_show_no_unmarked_english() -> None:
    """Text between tags and in title/placeholder/aria-label/alt attributes is always marked for
    translation: what remains after removing Jinja expressions and tags has no English words."""
    allowed = {"English", "SHA", "KB"}  # the language switch names itself; SHA-256; a unit
    leftovers = []
    for tpl in sorted((WEB / "templates").rglob("*.html")):
        text = tpl.read_text(encoding="utf-8")
        text = re.sub(r"\{#.*?#\}|<style.*?</style>|\{\{.*?\}\}|\{%.*?%\}", "", text, flags=re.S)
        for node in re.findall(r">([^<]+)<", text):
            if set(re.findall(r"[A-Za-z]{2,}", node)) - allowed:
                leftovers.append(f"{tpl.relative_to(WEB)}: {node.strip()!r}")
        for attr in re.findall(r'\b(?:title|placeholder|aria-label|alt)="([^"]*)"', text):
            if re.search(r"[A-Za-z]{2,}", attr):
                leftovers.append(f"{tpl.relative_to(WEB)}: {attr!r}")
    assert not leftovers, "\n".join(leftovers)


def test_the_catalogs_compile() -> None:
    """Each catalog compiles, with no fuzzy or untranslated entries and the same placeholders as its msgid."""
    for po in sorted((WEB / "locales" / "zh_CN" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale="zh_CN")
        problems = [(m.id, errors) for m, errors in catalog.check()]
        assert not problems, (po.name, problems[:5])
        for m in catalog:
            if not m.id:
                continue
            assert m.string and not m.fuzzy, (po.name, m.id)
            assert sorted(PLACEHOLDER.findall(str(m.id))) == sorted(PLACEHOLDER.findall(str(m.string))), m.id
        write_mo(io.BytesIO(), catalog)
    assert translations("zh_CN").gettext("China Visa Service Platform") != "China Visa Service Platform"
