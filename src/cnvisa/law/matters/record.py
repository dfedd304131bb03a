"""The record an assessment builds while the rules run: the answer, its citations and its trace."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from cnvisa.law import acceptance
from cnvisa.law.application import Application
from cnvisa.law.citations import Citation
from cnvisa.law.materials import Requirement, need
from cnvisa.law.versions import ENGINE_VERSION, law_version

TRACE_VERSION: Final = 1
OUTPUT_KEYS: Final = (
    "acceptable",
    "problems",
    "required_materials",
    "missing_materials",
    "proxy_allowed",
    "last_day_of_stay",
    "apply_by",
    "max_extension_days",
    "issuable",
    "receipt_valid_until",
    "fee_cny",
    "law_version",
    "citations",
    "trace",
)


def iso(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


class Assessment:
    """Collects the answer, its citations and its trace while the rules run."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.problems: list[dict[str, Any]] = []
        self.requirements: dict[str, Requirement] = {}
        self.cites: dict[Citation, None] = {}
        self.steps: list[dict[str, Any]] = []
        self.out: dict[str, Any] = dict.fromkeys(OUTPUT_KEYS)
        self.extra: dict[str, Any] = {}
        self.missing_extra: list[str] = []
        self._missing: tuple[tuple[int, int], list[str]] | None = None

    # -- recording -----------------------------------------------------------------------------
    def step(
        self, rule: str, cites: tuple[Citation, ...] | list[Citation], inputs: dict[str, Any], result: Any
    ) -> None:
        for c in cites:
            self.cites[c] = None
        self.steps.append(
            {
                "rule": rule,
                "citations": [c.cite for c in cites],
                "inputs": {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in inputs.items()},
                "result": iso(result),
            }
        )

    def problem(
        self,
        code: str,
        en: str,
        zh: str,
        cites: tuple[Citation, ...] | list[Citation],
        *,
        blocking: bool = True,
        field: str | None = None,
    ) -> None:
        for c in cites:
            self.cites[c] = None
        self.problems.append(
            {
                "code": code,
                "severity": "blocking" if blocking else "warning",
                "field": field,
                "message": {"en": en, "zh": zh},
                "citations": [c.as_dict() for c in cites],
            }
        )

    def require(self, *reqs: Requirement) -> None:
        for r in reqs:
            if r.code not in self.requirements:
                self.requirements[r.code] = r
            for c in r.citations:
                self.cites[c] = None

    def require_codes(self, codes: tuple[str, ...], *cites: Citation) -> None:
        self.require(*(need(code, *cites) for code in codes))

    def missing(self) -> list[str]:
        """The one-time notice so far (Art 13 para 2, Art 18 para 2); computed again only when something was added
        (requirements and extra lines only grow)."""
        key = (len(self.requirements), len(self.missing_extra))
        if self._missing is None or self._missing[0] != key:
            notice = acceptance.one_time_notice(list(self.requirements.values()), self.app.materials)
            self._missing = (key, notice + self.missing_extra)
        return list(self._missing[1])

    # -- result --------------------------------------------------------------------------------
    def result(self) -> dict[str, Any]:
        required = list(self.requirements.values())
        missing = self.missing()
        if missing:
            self.step(
                "acceptance.one_time_notice",
                acceptance.notice_citations(self.app.matter),
                {"provided": list(self.app.materials)},
                list(missing),
            )
        blocking = [p for p in self.problems if p["severity"] == "blocking"]
        out = self.out
        out["acceptable"] = not blocking and not missing
        out["problems"] = self.problems
        out["required_materials"] = [r.as_dict() for r in required]
        out["missing_materials"] = missing
        out["law_version"] = law_version(self.app.on)
        out["citations"] = [c.as_dict() for c in self.cites]
        out["trace"] = {"version": TRACE_VERSION, "engine": ENGINE_VERSION, "steps": self.steps}
        for key in ("last_day_of_stay", "apply_by", "receipt_valid_until"):
            out[key] = iso(out[key])
        return {"matter": self.app.matter, "on": self.app.on.isoformat(), **out, **self.extra}
