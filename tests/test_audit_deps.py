"""scripts/audit-deps.sh (issue 13, hardening; ASVS 4.0 V14.2.1): a known vulnerability fails `make lint`; a
vulnerability service that cannot be reached, or answers for no package, only warns. pip-audit's exit status
cannot tell these apart (1 for both), so the script reads its JSON report: each case is played by a stand-in
pip-audit that answers as the real one does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent / "scripts" / "audit-deps.sh"

VULNERABLE = {
    "dependencies": [
        {
            "name": "jinja2",
            "version": "2.10",
            "vulns": [{"id": "PYSEC-2019-217", "fix_versions": ["2.10.1"]}],
        },
        {"name": "pillow", "version": "13.0.0", "vulns": []},
    ],
    "fixes": [],
}
CLEAN = {"dependencies": [{"name": "pillow", "version": "13.0.0", "vulns": []}], "fixes": []}
NOT_FOUND = {
    "dependencies": [
        {
            "name": "pillow",
            "skip_reason": "Dependency not found on PyPI and could not be audited: pillow (13.0.0)",
        }
    ],
    "fixes": [],
}
OFFLINE = (
    "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org', port=443): Max retries "
    "exceeded with url: /pypi/pillow/13.0.0/json (Caused by NameResolutionError)"
)


def _run(
    tmp_path: Path, *, report: dict[str, object] | None, stderr: str, status: int
) -> subprocess.CompletedProcess[str]:
    """Run the script with a stand-in pip-audit that writes ``report`` to --output and exits ``status``."""
    fake = tmp_path / "pip-audit"
    body = json.dumps(report) if report is not None else None
    fake.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "out = sys.argv[sys.argv.index('--output') + 1]\n"
        f"body = {body!r}\n"
        "if body is not None:\n"
        "    open(out, 'w').write(body)\n"
        f"sys.stderr.write({stderr!r})\n"
        f"sys.exit({status})\n"
    )
    fake.chmod(0o755)
    return subprocess.run(
        ["bash", str(SCRIPT), str(fake)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable},
    )


def test_a_known_vulnerability_fails(tmp_path: Path) -> None:
    r = _run(tmp_path, report=VULNERABLE, stderr="Found 1 known vulnerability in 1 package\n", status=1)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "jinja2 2.10: PYSEC-2019-217 (fixed in: 2.10.1)" in r.stdout


def test_no_vulnerability_passes(tmp_path: Path) -> None:
    r = _run(tmp_path, report=CLEAN, stderr="No known vulnerabilities found\n", status=0)
    assert r.returncode == 0 and "1 packages, no known vulnerabilities" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize(
    ("report", "stderr", "status"), [(None, OFFLINE, 1), (NOT_FOUND, "No known vulnerabilities found\n", 0)]
)
def test_an_unreachable_service_only_warns(
    tmp_path: Path, report: dict[str, object] | None, stderr: str, status: int
) -> None:
    r = _run(tmp_path, report=report, stderr=stderr, status=status)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("WARNING: dependency audit skipped"), r.stdout


def test_any_other_failure_fails(tmp_path: Path) -> None:
    r = _run(tmp_path, report=None, stderr="pip-audit: error: unrecognized arguments: --bogus\n", status=2)
    assert r.returncode == 2 and "unrecognized arguments" in r.stdout, r.stdout + r.stderr
