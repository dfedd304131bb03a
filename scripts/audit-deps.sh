#!/usr/bin/env bash
# Dependency audit (ASVS 4.0 V14.2.1), run by `make lint`: every package installed in the virtual environment
# (runtime and dev) checked with pip-audit against the PyPI vulnerability service.
#
# Offline-tolerant, but only for being offline: pip-audit exits 1 both for "vulnerable" and for "could not
# reach the service", and when the service answers "not found" for a package it skips it and still reports
# "No known vulnerabilities found". So the JSON report decides, not the exit status:
#   - any vulnerability reported                        -> the findings, exit 1
#   - no report and a network error in pip-audit's output -> a warning, exit 0
#   - a report in which no package could be looked up     -> a warning, exit 0 (the service did not answer)
#   - any other failure of pip-audit                      -> its output, exit 2
# Usage: scripts/audit-deps.sh [path/to/pip-audit]  (default .venv/bin/pip-audit; PYTHON picks the parser)
set -uo pipefail

PIP_AUDIT=${1:-.venv/bin/pip-audit}
PYTHON=${PYTHON:-$(dirname "$PIP_AUDIT")/python}
[ -x "$PYTHON" ] || PYTHON=python3
TIMEOUT=${AUDIT_TIMEOUT:-10}  # seconds per connection
LIMIT=${AUDIT_LIMIT:-30}      # seconds for the whole audit: it must not slow CI by more (then: a warning)

report=$(mktemp)
errors=$(mktemp)
trap 'rm -f "$report" "$errors"' EXIT

timeout "$LIMIT" "$PIP_AUDIT" --local --skip-editable --progress-spinner off --timeout "$TIMEOUT" \
    --format json --output "$report" >"$errors" 2>&1
status=$?

"$PYTHON" - "$report" "$errors" "$status" <<'EOF'
import json
import re
import sys

report_path, errors_path, status = sys.argv[1], sys.argv[2], int(sys.argv[3])
log = open(errors_path, encoding="utf-8", errors="replace").read()
NETWORK = re.compile(
    r"ConnectionError|ConnectTimeout|ReadTimeout|Max retries exceeded|NameResolutionError|Failed to resolve"
    r"|Temporary failure in name resolution|Network is unreachable|Connection refused|timed out|SSLError"
    r"|ServiceError"
)
try:
    report = json.load(open(report_path, encoding="utf-8"))
except (OSError, ValueError):
    report = None

if report is None:
    if status == 124 or NETWORK.search(log):
        why = "timed out" if status == 124 else NETWORK.search(log).group(0)
        print(f"WARNING: dependency audit skipped: the vulnerability service cannot be reached ({why}).")
        print("WARNING: run `make lint` again online before a release.")
        sys.exit(0)
    print(log, end="")
    print(f"ERROR: pip-audit failed (exit {status}) without a report and without a network error.")
    sys.exit(2)

deps = report.get("dependencies", [])
vulnerable = [(d, v) for d in deps for v in d.get("vulns", [])]
if vulnerable:
    for d, v in vulnerable:
        fixed = ", ".join(v.get("fix_versions", [])) or "no fixed version"
        print(f"VULNERABLE: {d['name']} {d.get('version', '?')}: {v['id']} (fixed in: {fixed})")
    print(f"ERROR: {len(vulnerable)} known vulnerabilities in {len({d['name'] for d, _ in vulnerable})} packages.")
    sys.exit(1)
skipped = [d for d in deps if "skip_reason" in d]
audited = len(deps) - len(skipped)
if deps and audited == 0:
    print(f"WARNING: dependency audit skipped: the vulnerability service answered for none of {len(deps)} packages")
    print(f"WARNING: ({skipped[0]['skip_reason']}); offline or behind a proxy? Run it again online.")
    sys.exit(0)
for d in skipped:
    print(f"WARNING: not audited: {d['skip_reason']}")
print(f"Dependency audit: {audited} packages, no known vulnerabilities.")
EOF
