"""Errors on a form page, after the GOV.UK Design System's error summary and error message patterns (WCAG 2.1
3.3.1, 3.3.3, 3.1.2): every error found is shown at once, in the reader's language, naming the field's visible
label (never its internal key); the summary at the top of the page links to each field, and each field says
its error beside it (``aria-describedby``) and is marked ``aria-invalid``.

A page describes its form once (``Form``: each key's control id and label, the groups of keys), and turns what
went wrong (``InvalidInput`` of the law with the others it found, a ``Problem``, a ``BadInput``, or its own
checks) into ``Errors``, which the templates ask per control: ``errors.attrs(id, hint_id)``,
``errors.message(id)``; ``base.html`` draws the summary and puts "Error: " before the title."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from markupsafe import Markup, escape

from cnvisa.http.i18n import gettext


def _(message: str) -> str:
    """Marks a message for the catalogs; translated when the error is shown."""
    return message


KIND_TEXTS = {
    "missing": _("Answer “%(label)s”."),
    "required": _("Answer “%(label)s”: this application needs it."),
    "less_than_equal": _("“%(label)s” must be %(limit)s or less."),
    "less_than": _("“%(label)s” must be less than %(limit)s."),
    "greater_than_equal": _("“%(label)s” must be %(limit)s or more."),
    "greater_than": _("“%(label)s” must be more than %(limit)s."),
    "int_parsing": _("“%(label)s” must be a whole number."),
    "date_parsing": _("“%(label)s” must be a real date, for example 2026-03-27."),
    "date_range": _("“%(label)s” must be a date from %(first)s to %(last)s."),
    "string_too_long": _("“%(label)s” must be %(limit)s characters or fewer."),
    "string_too_short": _("“%(label)s” must be at least %(limit)s characters."),
    "enum": _("Choose one of the options for “%(label)s”."),
    "bool_parsing": _("Choose yes or no for “%(label)s”."),
    "extra_forbidden": _("“%(label)s” is not asked for this matter."),
    "invalid": _("Check “%(label)s”: the answer is not accepted."),
}
"""What each kind of error says; ``label`` is the field's visible label in the reader's language."""
SAME_KIND = {
    "int_type": "int_parsing",
    "int_from_float": "int_parsing",
    "float_parsing": "int_parsing",
    "date_type": "date_parsing",
    "date_from_datetime_parsing": "date_parsing",
    "date_from_datetime_inexact": "date_parsing",
    "literal_error": "enum",
    "bool_type": "bool_parsing",
    "string_type": "invalid",
    "string_pattern_mismatch": "invalid",
}
_LIMIT_KEYS = ("le", "lt", "ge", "gt", "max_length", "min_length")
_RANGE = re.compile(r"between (\d{4}-\d{2}-\d{2}) and (\d{4}-\d{2}-\d{2})")


class FieldError(NamedTuple):
    key: str
    """The form's key (a dotted path such as ``requested.validity_days``)."""
    target: str
    """The id of the control the summary links to."""
    message: str
    """In the reader's language, naming the field's visible label."""
    marks: tuple[str, ...]
    """The ids of the controls marked invalid: one, or each control of a group (a grouped key, a radio group)."""
    detail: str = ""
    """The technical detail (English) when no catalogued text says more than the generic one."""


@dataclass
class Form:
    """A form's keys: each one's control id and visible label (a msgid), the labels of groups of keys
    (``visa`` for ``visa.*``), and the control to link to when a key is not on the form."""

    fields: dict[str, tuple[str, str]]
    groups: dict[str, str] = field(default_factory=dict)
    fallback: str = "main"

    def place(self, key: str) -> tuple[str, str, tuple[str, ...]]:
        """The target id, the label msgid and the ids to mark of ``key`` — the key itself, the group it names
        (every control under it), or the nearest enclosing key on the form."""
        if key in self.fields:
            id_, label = self.fields[key]
            return id_, label, (id_,)
        under = [v for k, v in self.fields.items() if k.startswith(key + ".")]
        if under:
            return under[0][0], self.groups.get(key, under[0][1]), tuple(i for i, _l in under)
        head = key.rpartition(".")[0]
        if head:
            return self.place(head)
        return self.fallback, self.groups.get(key, key), ()


class Errors(tuple[FieldError, ...]):
    """The errors of one form submission, as the templates ask for them (empty: no errors)."""

    prefix: str = "Error:"

    def __new__(cls, items: Iterable[FieldError] = (), prefix: str = "Error:") -> Errors:
        self = super().__new__(cls, items)
        self.prefix = prefix
        return self

    def invalid(self, id_: str) -> bool:
        return any(id_ in e.marks for e in self)

    def about(self, id_: str) -> list[FieldError]:
        return [e for e in self if id_ in e.marks]

    def attrs(self, id_: str, *described: str) -> Markup:
        """``aria-invalid`` and ``aria-describedby`` (the error messages first, then the hints given)."""
        bad = self.about(id_)
        ids = list(dict.fromkeys([e.target + "-error" for e in bad] + [d for d in described if d]))
        out = ' aria-invalid="true"' if bad else ""
        if ids:
            out += f' aria-describedby="{escape(" ".join(ids))}"'
        return Markup(out)

    def message(self, id_: str) -> Markup:
        """The error message shown beside control ``id_`` (the messages whose link targets it)."""
        mine = [e for e in self if e.target == id_]
        if not mine:
            return Markup("")
        texts = Markup(" ").join(
            escape(e.message) + (Markup(' <span lang="en">(%s)</span>') % e.detail if e.detail else "")
            for e in mine
        )
        return Markup(
            '<p class="error-message" id="%s-error"><span class="visually-hidden">%s</span> %s</p>'
        ) % (
            id_,
            self.prefix,
            texts,
        )


NO_ERRORS = Errors()


class Found(NamedTuple):
    """One thing found wrong: the key, the kind of error with its limits, or a text already translated."""

    key: str
    kind: str = "invalid"
    params: Mapping[str, Any] = {}
    text: str = ""
    detail: str = ""


def from_law(exc: Any) -> list[Found]:
    """The law's ``InvalidInput`` (with the others found in the same pass) as ``Found``."""
    out = []
    for e in exc.every:
        kind = SAME_KIND.get(e.kind, e.kind)
        params = dict(e.params)
        detail = ""
        if kind not in KIND_TEXTS:
            m = _RANGE.search(e.message)
            if m:
                kind, params = "date_range", {"first": m.group(1), "last": m.group(2)}
            elif "YYYY-MM-DD" in e.message or "calendar date" in e.message:
                kind = "date_parsing"
            elif e.message.startswith("is required"):
                kind = "required"
            else:
                kind, detail = "invalid", e.message
        out.append(Found(e.field, kind, params, detail=detail))
    return out


def build(locale: str, form: Form, found: Iterable[Found]) -> Errors:
    """Errors in the reader's language, one per key (the first found), in the form's order of fields."""
    items: dict[str, FieldError] = {}
    for f in found:
        if f.key in items:
            continue
        target, label_id, marks = form.place(f.key)
        label = gettext(locale, label_id)
        if f.text:
            message = f.text
        else:
            params = dict(f.params)
            limit = next((params[k] for k in _LIMIT_KEYS if k in params), "")
            message = gettext(
                locale,
                KIND_TEXTS.get(f.kind, KIND_TEXTS["invalid"]),
                **{
                    "label": label,
                    "limit": limit,
                    "first": params.get("first", ""),
                    "last": params.get("last", ""),
                },
            )
        items[f.key] = FieldError(f.key, target, message, marks, f.detail)
    order = {id_: n for n, (id_, _l) in enumerate(form.fields.values())}
    ranked = sorted(items.values(), key=lambda e: order.get(e.target, len(order)))
    return Errors(ranked, gettext(locale, "Error:"))
