"""The command line: outputs and exit status 2 with one line on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cnvisa.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_calendar_commands() -> None:
    assert run("calendar", "is-working-day", "2025-09-28").stdout.strip() == "true"
    assert run("calendar", "is-working-day", "2025-10-01").stdout.strip() == "false"
    assert run("calendar", "add-working-days", "2025-09-26", "7").stdout.strip() == "2025-10-13"
    assert run("calendar", "add-working-days", "2024-09-27", "7").stdout.strip() == "2024-10-12"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("calendar", "is-working-day", "2025-02-30"), "DATE"),
        (("calendar", "add-working-days", "2025-09-26", "seven"), "N"),
        (("calendar", "add-working-days", "2025-09-26", "0"), "N"),
        (("calendar", "add-working-days", "2026-12-28", "7"), "2027"),
        (("calendar", "is-working-day", "2019-06-01"), "2019"),
        (("assess", "no-such-file.json"), "FILE"),
    ],
)
def test_bad_input_exit_2_one_line(args: tuple[str, ...], needle: str) -> None:
    r = run(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_assess_file_stdin_and_schema() -> None:
    r = run("assess", "examples/visa_extension_L.json")
    assert r.returncode == 0
    out = json.loads(r.stdout)
    assert out["acceptable"] is True and out["max_extension_days"] == 30
    r = run(
        "assess",
        "-",
        stdin=json.dumps({"matter": "visa", "on": "2025-10-02", "requested": {"category": "Z"}}),
    )
    assert r.returncode == 0 and json.loads(r.stdout)["residence_permit_required"]["permit_type"] == "work"
    schema = json.loads(run("assess", "--schema").stdout)
    assert "matter" in schema["properties"]


@pytest.mark.parametrize(
    ("stdin", "field"),
    [
        ("{not json", "FILE"),
        (
            '{"matter": "visa_extension", "on": "2025-01-01", "visa": {"category": "L", "stay_days": "x"}}',
            "visa.stay_days",
        ),
        ('{"matter": "nope", "on": "2025-01-01"}', "matter"),
        ("[1, 2]", "application"),
    ],
)
def test_assess_bad_input(stdin: str, field: str) -> None:
    r = run("assess", "-", stdin=stdin)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and field in r.stderr and "Traceback" not in r.stderr


def test_check_mrz() -> None:
    ok = run(
        "check-mrz",
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    )
    assert json.loads(ok.stdout)["valid"] is True
    bad = run(
        "check-mrz",
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<11",
    )
    assert json.loads(bad.stdout)["valid"] is False


def test_law_coverage_has_no_gap() -> None:
    r = run("law", "coverage")
    assert r.returncode == 0, r.stdout[-3000:]
    assert "0 gap(s)" in r.stdout
    for n in range(1, 40):
        assert f"Regulations Art {n}:" in r.stdout
    for s in ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"):
        assert f"Guide {s}:" in r.stdout
