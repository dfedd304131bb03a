"""The colours of the stylesheet (issue 15): every text colour on every background the pages use is ≥ 4.5:1
(WCAG 1.4.3, text of normal size), every rule that sets both a colour and a background too, and the outline of
a form control ≥ 3:1 against the page (WCAG 1.4.11). axe (test_accessibility.py) checks the pairs the pages
render; this checks the palette itself, pairs no demo page happens to show included."""

from __future__ import annotations

import re
from pathlib import Path

from cnvisa.web.templating import STATIC

CSS = re.sub(r"/\*.*?\*/", "", (Path(STATIC) / "style.css").read_text(), flags=re.S)
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_HEX = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b")


def _variables() -> dict[str, str]:
    root = next(body for sel, body in _RULE.findall(CSS) if sel.strip() == ":root")
    return dict(re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", root))


VARS = _variables()


def colour(value: str) -> str | None:
    """A declaration's colour as #rrggbb (a var() resolved; None when it names no colour)."""
    value = re.sub(r"var\((--[\w-]+)\)", lambda m: VARS[m.group(1)], value)
    found = _HEX.search(value)
    if found is None:
        return "#ffffff" if re.search(r"\b(#fff|white)\b", value) else None
    h = found.group().lstrip("#")
    return "#" + ("".join(c * 2 for c in h) if len(h) == 3 else h).lower()


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _declarations() -> list[tuple[str, dict[str, str]]]:
    out = []
    for selector, body in _RULE.findall(CSS):
        decls = dict(re.findall(r"([\w-]+)\s*:\s*([^;]+)", body))
        out.append((" ".join(selector.split()), decls))
    return out


def test_every_text_colour_on_every_background() -> None:
    rules = _declarations()
    texts = {c for _, d in rules if "color" in d and (c := colour(d["color"]))}
    backgrounds = {
        c for _, d in rules for k in ("background", "background-color") if k in d and (c := colour(d[k]))
    }
    backgrounds.add("#ffffff")  # the default of a control
    assert len(texts) >= 5 and len(backgrounds) >= 3, (texts, backgrounds)
    # the white text of a button is only ever on the accent colour (checked below, rule by rule)
    low = {
        (t, b, round(contrast(t, b), 2))
        for t in texts - {"#ffffff"}
        for b in backgrounds - {colour(VARS["--accent"])}
        if contrast(t, b) < 4.5
    }
    assert not low, f"text colours under 4.5:1 on a background of the stylesheet: {sorted(low)}"


def test_each_rule_with_a_colour_and_a_background() -> None:
    low = []
    for selector, d in _declarations():
        text = colour(d.get("color", ""))
        ground = colour(d.get("background", d.get("background-color", "")))
        if text and ground and contrast(text, ground) < 4.5:
            low.append((selector, text, ground, round(contrast(text, ground), 2)))
    assert not low, low


def test_the_outline_of_a_form_control() -> None:
    """WCAG 1.4.11: the border that shows where an input, a list or a secondary button is."""
    rules = dict(_declarations())
    control = next(d for sel, d in rules.items() if sel.startswith("input, select, textarea, button"))
    edge = colour(control["border"])
    assert edge is not None
    for ground in ("#ffffff", colour(VARS["--bg"])):
        assert ground is not None
        assert contrast(edge, ground) >= 3, (
            f"the controls' border {edge} on {ground}: {contrast(edge, ground):.2f}:1"
        )
