"""`cnvisa law work-permit-points`: the contract of issue 10 (scripts and agencies rely on it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[1]

FACTS: dict[str, Any] = {
    "on": "2024-06-01",
    "birth_date": "1990-03-15",
    "education": "doctorate",
    "annual_salary_cny": 500_000,
    "years_experience": 10,
    "months_in_china_per_year": 12,
    "hsk_level": 3,
    "region": "ordinary",
    "extras": ["fortune_500"],
}


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cnvisa.cli", "law", "work-permit-points", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_stdin_and_file_print_points_category_version_and_cited_factors(tmp_path: Path) -> None:
    r = run("-", stdin=json.dumps(FACTS))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    # 20 salary + 20 doctorate + 13 experience + 15 months + 3 HSK + 0 region + 15 age + 5 extras = 91
    assert (out["points"], out["category"], out["table_version"]) == (91, "A", "zanxing")
    assert {f["factor"] for f in out["factors"]} >= {"salary", "education", "experience", "age", "chinese"}
    assert all(f["citation"] and isinstance(f["points"], int) for f in out["factors"])
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(FACTS), encoding="utf-8")
    assert json.loads(run(str(path)).stdout) == out


def test_the_same_function_is_in_cnvisa_law() -> None:
    from cnvisa.law import work_permit_points

    assert json.loads(run("-", stdin=json.dumps(FACTS)).stdout) == json.loads(
        json.dumps(work_permit_points(FACTS), ensure_ascii=False)
    )


def test_schema_lists_exactly_the_contract_fields() -> None:
    schema = json.loads(run("--schema").stdout)
    assert set(schema["properties"]) == set(FACTS)
    assert set(schema["required"]) == set(FACTS)
    assert schema["properties"]["education"]["enum"] == ["doctorate", "master", "bachelor", "other"]
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"education": "phd"}, "education"),
        ({"hsk_level": 7}, "hsk_level"),
        ({"hsk_level": True}, "hsk_level"),
        ({"annual_salary_cny": "500000"}, "annual_salary_cny"),
        ({"annual_salary_cny": -1}, "annual_salary_cny"),
        ({"months_in_china_per_year": 13}, "months_in_china_per_year"),
        ({"region": "west"}, "region"),
        ({"extras": ["nobel"]}, "extras.0"),
        ({"extras": ["provincial_bonus:11"]}, "extras.0"),
        ({"birth_date": "1990-02-30"}, "birth_date"),
        ({"birth_date": "2030-01-01"}, "birth_date"),
        ({"on": 20240601}, "on"),
        ({"salary": 1}, "salary"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_field(change: dict[str, Any], field: str) -> None:
    r = run("-", stdin=json.dumps({**FACTS, **change}))
    assert r.returncode == 2, r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}:"), r.stderr
    assert r.stdout == ""


def test_missing_field_and_not_an_object_and_no_file() -> None:
    missing = {k: v for k, v in FACTS.items() if k != "region"}
    r = run("-", stdin=json.dumps(missing))
    assert r.returncode == 2 and r.stderr.strip() == "error: region: is required"
    r = run("-", stdin="[1]")
    assert r.returncode == 2 and "FILE" in r.stderr
    r = run()
    assert r.returncode == 2 and "FILE" in r.stderr.strip().splitlines()[0]


def test_a_date_before_either_table_is_refused_naming_the_rule() -> None:
    r = run("-", stdin=json.dumps({**FACTS, "on": "2016-09-30", "birth_date": "1980-01-01"}))
    assert r.returncode == 2 and "2016-10-01" in r.stderr and len(r.stderr.strip().splitlines()) == 1
