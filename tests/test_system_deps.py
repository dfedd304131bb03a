"""scripts/system-deps.sh installs only what is missing (issue 8 item 7): a long font or library listing
whose first line already matches must not look like a missing package (grep -q stops early; under pipefail
the lister's SIGPIPE used to fail the test and trigger a surprise `apt-get`)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).parent.parent / "scripts" / "system-deps.sh"


def _tool(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/usr/bin/env bash\n" + body + "\n")
    path.chmod(0o755)


def _run(tmp_path: Path, *, font: bool) -> tuple[subprocess.CompletedProcess[str], Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "apt-calls"
    first = (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc: Noto Sans CJK SC:style=Regular"
        if font
        else "x"
    )
    # far more than a pipe buffer after the first line, so an early-exiting grep leaves the lister writing
    _tool(
        bin_dir,
        "fc-list",
        f'echo "{first}"; yes "/usr/share/fonts/other.ttf: Other:style=Regular" | head -200000',
    )
    pango = "\tlibpangoft2-1.0.so.0 (libc6,x86-64) => /lib/libpangoft2-1.0.so.0"
    _tool(bin_dir, "ldconfig", f'echo "{pango}"; yes "\tlibz.so.1" | head -200000')
    _tool(bin_dir, "chromium", "true")
    _tool(bin_dir, "pdffonts", "true")
    _tool(bin_dir, "apt-get", f'echo "$*" >> {calls}; exit 0')
    _tool(bin_dir, "id", "echo 0")
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    return done, calls


def test_system_deps_installs_nothing_when_everything_is_there(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, font=True)
    assert done.returncode == 0, done.stderr
    assert not calls.exists(), f"apt-get was called: {calls.read_text()}"


def test_system_deps_installs_the_font_when_it_is_missing(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, font=False)
    assert done.returncode == 0, done.stderr
    assert "fonts-noto-cjk" in calls.read_text()
