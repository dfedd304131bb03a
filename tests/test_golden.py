"""Runs every golden case in tests/golden/*.yaml (see tests/golden/README.md)."""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

GOLDEN = Path(__file__).parent / "golden"


def _load() -> list[Any]:
    params = []
    for path in sorted(GOLDEN.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(doc, dict) and "source" in doc and "cases" in doc, f"{path.name}: source and cases"
        for i, case in enumerate(doc["cases"]):
            if isinstance(case.get("input"), dict) and True in case["input"]:
                case["input"]["on"] = case["input"].pop(True)  # YAML 1.1 reads a bare `on:` key as true
            params.append(pytest.param(path.name, case, id=f"{path.stem}[{i}] {case.get('name', '')}"))
    return params


CASES = _load()


def _resolve(dotted: str) -> Callable[..., Any]:
    module, _, name = dotted.rpartition(".")
    fn = getattr(importlib.import_module(module), name)
    assert callable(fn), dotted
    return fn  # type: ignore[no-any-return]


def _norm(value: Any) -> Any:
    """Expected values from YAML: dates become ISO strings to compare with JSON-shaped output."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


def _jsonish(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonish(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonish(v) for v in value]
    if hasattr(value, "as_dict"):
        return _jsonish(value.as_dict())
    return value


def _match(actual: Any, expected: Any, path: str) -> None:
    if isinstance(expected, dict) and set(expected) <= {"contains", "excludes"} and expected:
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        for item in expected.get("contains", []):
            assert item in actual, f"{path}: {item!r} not in {actual!r}"
        for item in expected.get("excludes", []):
            assert item not in actual, f"{path}: {item!r} unexpectedly in {actual!r}"
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected a mapping, got {actual!r}"
        for key, sub in expected.items():
            assert key in actual, f"{path}.{key}: missing from output (keys: {sorted(actual)})"
            _match(actual[key], sub, f"{path}.{key}")
        return
    assert actual == expected, f"{path}: expected {expected!r}, got {actual!r}"


def _derived(out: dict[str, Any]) -> dict[str, Any]:
    """Convenience views a lawyer can write expectations against."""
    extra = dict(out)
    if isinstance(out.get("problems"), list):
        extra["problem_codes"] = [p["code"] for p in out["problems"]]
    if isinstance(out.get("citations"), list):
        extra["cites"] = [c["cite"] if isinstance(c, dict) else str(c) for c in out["citations"]]
    if isinstance(out.get("required_materials"), list):
        extra["required_codes"] = [m["code"] for m in out["required_materials"]]
    return extra


@pytest.mark.parametrize(("filename", "case"), CASES)
def test_golden(filename: str, case: dict[str, Any]) -> None:
    assert case.get("article"), f"{filename}: every case names its article"
    assert "expect" in case or "raises" in case, f"{filename}: a case needs expect or raises"
    if "call" in case:
        fn = _resolve(case["call"])
        run: Callable[[], Any] = lambda: fn(*case.get("args", []), **case.get("kwargs", {}))  # noqa: E731
    else:
        from cnvisa.law import assess

        run = lambda: assess(case["input"])  # noqa: E731
    if "raises" in case:
        spec = case["raises"]
        with pytest.raises(Exception) as info:
            run()
        assert type(info.value).__name__ == spec["type"] or any(
            cls.__name__ == spec["type"] for cls in type(info.value).__mro__
        ), f"raised {type(info.value).__name__}: {info.value}"
        if "match" in spec:
            assert re.search(spec["match"], str(info.value)), str(info.value)
        return
    result = run()
    expected = case["expect"]
    if isinstance(result, dict) or hasattr(result, "as_dict"):
        out = _derived(_jsonish(result))
        _match(out, _norm(expected), "result")
    elif isinstance(expected, dict) and hasattr(result, "__dataclass_fields__"):
        _match(
            _jsonish({k: getattr(result, k) for k in result.__dataclass_fields__}), _norm(expected), "result"
        )
    else:
        _match(_jsonish(result), _norm(expected), "result")


def test_enough_golden_cases() -> None:
    """Issue 2: at least 200 golden cases, one file per article or section."""
    assert len(CASES) >= 200, len(CASES)
