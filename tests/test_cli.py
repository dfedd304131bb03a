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
        (("assess",), "FILE"),
        # only YYYY-MM-DD: not the other ISO 8601 forms that Python's fromisoformat reads
        (("calendar", "is-working-day", "20250101"), "DATE"),
        (("calendar", "is-working-day", "2025-W01-1"), "DATE"),
        (("calendar", "add-working-days", "2025-09-26", "-3"), "N"),
        (("calendar", "add-working-days", "2025-09-26", "\u0667"), "N"),  # an Arabic-Indic 7
        (("calendar", "add-working-days", "2025-09-26", "1e3"), "N"),
        (("calendar", "add-working-days", "2025-09-26", "9" * 5000), "2027"),
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


def test_assess_schema_lists_the_values_ground_purpose_and_submitted_by_accept() -> None:
    """Issue 8 item 6: a client learns the accepted values from `cnvisa assess --schema`, not from errors."""
    from cnvisa.law.application import json_schema

    props = json.loads(run("assess", "--schema").stdout)["properties"]
    for key in ("ground", "purpose", "submitted_by"):
        assert props[key]["enum"] == json_schema()["properties"][key]["enum"], key
    assert "change_of_purpose" in props["ground"]["enum"] and "private_affairs" in props["purpose"]["enum"]


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
        ('"an application"', "application"),
        ("null", "application"),
        ("{}", "matter"),
        ('{"matter": NaN, "on": "2025-01-01"}', "FILE"),
        ("[" * 100_000 + "]" * 100_000, "FILE"),
        ('{"matter": "visa", "on": 1735689600, "requested": {"category": "L"}}', "on"),
        ('{"matter": "visa", "on": "2025-01-01T08:00:00", "requested": {"category": "L"}}', "on"),
        (
            '{"matter": "stay_permit", "on": "2025-01-01", "entry_date": "2024-12-01", '
            '"visa": {"category": "L", "stay_days": 30, "extended_days": 99999999999}}',
            "visa.extended_days",
        ),
        (
            '{"matter": "visa", "on": "2025-01-01", "requested": {"category": "K"}, "materials": "all"}',
            "materials",
        ),
    ],
)
def test_assess_bad_input(stdin: str, field: str) -> None:
    r = run("assess", "-", stdin=stdin)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and field in r.stderr and "Traceback" not in r.stderr


def test_assess_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.json"
    bad.write_bytes('{"matter": "visa", "on": "2025-01-01", "purpose": "caf\u00e9"}'.encode("latin-1"))
    for args, stdin in ((("assess", str(bad)), None), (("assess", "-"), bad.read_bytes())):
        r = subprocess.run(
            [sys.executable, "-m", "cnvisa.cli", *args],
            input=stdin,
            capture_output=True,
            cwd=ROOT,
            timeout=60,
        )
        err = r.stderr.decode()
        assert r.returncode == 2 and len(err.strip().splitlines()) == 1, err
        assert "FILE: not UTF-8" in err and "Traceback" not in err


def test_assess_accepts_a_byte_order_mark() -> None:
    app = {"matter": "visa", "on": "2025-10-02", "requested": {"category": "Z"}}
    r = subprocess.run(
        [sys.executable, "-m", "cnvisa.cli", "assess", "-"],
        input=b"\xef\xbb\xbf" + json.dumps(app).encode(),
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode == 0 and json.loads(r.stdout)["matter"] == "visa"


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


@pytest.mark.parametrize(
    ("part", "value", "field"),
    [
        ({"applicant": {"nationality": "ZZZ"}}, None, "applicant.nationality"),
        ({"applicant": {"nationality": "US\u0000"}}, None, "applicant.nationality"),
        ({"ground": "lost\u0000"}, None, "ground"),
    ],
)
def test_assess_refuses_codes_outside_their_table_naming_the_field(
    part: dict[str, object], value: None, field: str
) -> None:
    """Issue 13: a nationality is an ISO 3166-1 alpha-3 / ICAO 9303 code; no text takes control characters."""
    r = run("assess", "-", stdin=json.dumps({"matter": "visa_replacement", "on": "2025-11-20", **part}))
    assert r.returncode != 0 and field in r.stderr + r.stdout, (r.stdout, r.stderr)
