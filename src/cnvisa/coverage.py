"""The statute-coverage report: every article of the Regulations (1-39) and every section of the Guide
(I-XII) with the code and tests that implement it, or the reason it does not apply. No silent gap."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cnvisa.law import coverage_map

_REG = re.compile(r"Regulations Art (\d+)")
_GUIDE = re.compile(r"Guide ([IVX]+)(?![IVX])")


@dataclass
class Line:
    provision: str
    code: list[str]
    reason: str | None
    tests: dict[str, int] = field(default_factory=dict)
    broken: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        if self.broken:
            return False
        if self.reason:
            return True
        return bool(self.code) and bool(self.tests)


def _resolve(dotted: str) -> bool:
    module, _, name = dotted.rpartition(".")
    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


def _test_citations(tests_dir: Path) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    regs: dict[str, dict[str, int]] = {}
    guide: dict[str, dict[str, int]] = {}

    def add(table: dict[str, dict[str, int]], key: str, where: str) -> None:
        table.setdefault(key, {}).setdefault(where, 0)
        table[key][where] += 1

    for path in sorted((tests_dir / "golden").glob("*.yaml")):
        doc: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in doc.get("cases", []):
            text = str(case.get("article", ""))
            for n in set(_REG.findall(text)):
                add(regs, n, f"golden/{path.name}")
            for s in set(_GUIDE.findall(text)):
                add(guide, s, f"golden/{path.name}")
    for path in sorted(tests_dir.glob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        for n in set(_REG.findall(text)):
            add(regs, n, path.name)
        for s in set(_GUIDE.findall(text)):
            add(guide, s, path.name)
    return regs, guide


def report(tests_dir: Path) -> list[Line]:
    regs, guide = _test_citations(tests_dir)
    lines: list[Line] = []
    for n in range(1, 40):
        code, reason = coverage_map.REGULATIONS.get(n, ((), None))
        line = Line(f"Regulations Art {n}", list(code), reason, regs.get(str(n), {}))
        line.broken = [c for c in code if not _resolve(c)]
        lines.append(line)
    for s in ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"):
        code, reason = coverage_map.GUIDE.get(s, ((), None))
        line = Line(f"Guide {s}", list(code), reason, guide.get(s, {}))
        line.broken = [c for c in code if not _resolve(c)]
        lines.append(line)
    return lines


def render(lines: list[Line]) -> str:
    out = []
    for line in lines:
        mark = "ok " if line.ok else "GAP"
        if line.reason and not line.code:
            out.append(f"{mark} {line.provision}: not applicable — {line.reason}")
            continue
        tests = ", ".join(f"{where} ({n})" for where, n in sorted(line.tests.items())) or "NO TESTS"
        code = ", ".join(line.code) or "NO CODE"
        extra = f"  BROKEN REFERENCES: {', '.join(line.broken)}" if line.broken else ""
        out.append(f"{mark} {line.provision}: code {code}; tests {tests}{extra}")
    gaps = sum(not line.ok for line in lines)
    out.append(f"{len(lines)} provisions, {gaps} gap(s)")
    return "\n".join(out)
