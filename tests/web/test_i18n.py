"""Every string the templates show has a Chinese translation, and the catalogs do not contradict each other."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

WEB = Path(__file__).parents[2] / "src" / "cnvisa" / "web"
MSGID = re.compile(r"""_\(\s*(["'])(.+?)\1\s*[,)]""")


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


def test_every_template_string_is_translated() -> None:
    zh = _zh()
    missing = []
    for tpl in sorted((WEB / "templates").rglob("*.html")):
        for _, msgid in MSGID.findall(tpl.read_text(encoding="utf-8")):
            if msgid not in zh and "{{" not in msgid:
                missing.append(f"{tpl.relative_to(WEB)}: {msgid}")
    assert not missing, "\n".join(missing[:50])
