"""Port visas (Law Art 20): the port data, the arithmetic of the bounds, and the command line."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cnvisa.law import assess
from cnvisa.law import port_visa as pv
from cnvisa.law.materials import CATALOGUE
from cnvisa.law.purposes import PURPOSES

ROOT = Path(__file__).parents[1]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cnvisa.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_every_port_is_dated_and_sourced() -> None:
    assert pv.PORTS, "the list is partial, not empty"
    for port in pv.PORTS.values():
        assert port.source.strip() and port.name_zh and port.name_en
        assert port.from_kind in ("start", "attested")
        assert port.until is None or port.until >= port.from_
    for stop in pv.SUSPENSIONS:
        assert stop.source.strip() and (stop.until is None or stop.until >= stop.from_)


def test_purposes_and_materials_are_known_codes() -> None:
    assert set(pv.PURPOSES) <= set(PURPOSES)
    for purpose in pv.PURPOSES.values():
        assert all(code in CATALOGUE for code in purpose.materials)
        assert purpose.category in (None, "M", "F", "S2", "L")
    assert pv.CONSENT_MATERIAL in CATALOGUE


@given(st.integers(1, 3660), st.integers(0, 3660))
def test_extension_ceiling_never_passes_30_nor_the_stated_stay(stay: int, extended: int) -> None:
    """Law Art 20 para 4, Art 29 para 2; Regulations Art 14 para 1."""
    ceiling = pv.extension_ceiling(stay, extended)
    assert 0 <= ceiling <= pv.MAX_STAY_DAYS
    if stay <= pv.MAX_STAY_DAYS:
        assert ceiling == max(0, stay - extended)
        assert extended + ceiling <= max(stay, extended)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 30),
    st.integers(0, 30),
    st.sampled_from(["M", "F", "L", "S2"]),
)
def test_port_visa_extension_in_assess_is_bounded(stay: int, extended: int, category: str) -> None:
    """However the visa reads, a port visa's maximum extension never takes the total past its stated stay."""
    app: dict[str, Any] = {
        "matter": "visa_extension",
        "on": "2025-11-20",
        "entry_date": "2025-11-19",
        "visa": {
            "category": category,
            "entries": "single",
            "stay_days": stay,
            "extended_days": extended,
            "port_visa": True,
        },
    }
    out = assess(app)
    maximum = out["max_extension_days"]
    assert maximum is not None and 0 <= maximum <= pv.MAX_STAY_DAYS
    assert extended + maximum <= max(stay, extended)


@settings(max_examples=80, deadline=None)
@given(
    st.dates(dt.date(2013, 9, 1), dt.date(2030, 12, 31)),
    st.sampled_from([*sorted(pv.PORTS), "not_a_port"]),
    st.sampled_from(sorted(PURPOSES)),
    st.sampled_from([None, *pv.INVITER_KINDS]),
)
def test_issuable_only_when_port_and_purpose_qualify(
    on: dt.date, port: str, purpose: str, inviter: str | None
) -> None:
    """Whatever is issuable is one entry, at most 30 days, at that port — and only at a port in force that day
    for a qualifying purpose."""
    out = assess(
        {
            "matter": "port_visa",
            "on": on.isoformat(),
            "purpose": purpose,
            "port_visa": {"port": port, "urgent": True, "inviter": inviter},
        }
    )
    issued = out["issuable"]
    if issued is None:
        return
    assert port in pv.codes_in_force(on)
    assert purpose in pv.PURPOSES and on >= pv.PURPOSES[purpose].from_
    assert issued["entries"] == ["single"] and issued["max_stay_days"] == 30
    assert issued["port"] == port and issued["usable_only_at_port"] is True


def test_cli_law_ports_on_a_day() -> None:
    r = _cli("law", "ports", "--on", "2024-09-01")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["on"] == "2024-09-01" and out["partial"] is True and out["suspended"] is None
    assert [p["code"] for p in out["ports"]] == pv.codes_in_force(dt.date(2024, 9, 1))
    assert all(p["source"] for p in out["ports"])
    during = json.loads(_cli("law", "ports", "--on", "2021-06-01").stdout)
    assert during["ports"] == [] and during["suspended"]["from"] == "2020-03-28"
    before = json.loads(_cli("law", "ports", "--on", "2013-12-31").stdout)
    assert "yinchuan_hedong_airport" not in [p["code"] for p in before["ports"]]


def test_cli_law_ports_without_a_day_is_the_platforms_beijing_today() -> None:
    """CNVISA_CLOCK_START runs the platform at an instant: 23:59 UTC on 31 Dec is 1 Jan in Beijing."""
    r = _cli("law", "ports", env={"CNVISA_CLOCK_START": "2023-12-31T23:59:00+00:00"})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["on"] == "2024-01-01"


def test_cli_law_ports_bad_date_exit_2_one_line() -> None:
    r = _cli("law", "ports", "--on", "2025-02-30")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "--on" in r.stderr


def test_cli_assess_port_visa() -> None:
    r = _cli("assess", "examples/visa_port_M_trade.json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["matter"] == "port_visa" and out["acceptable"] is True
    assert out["issuable"]["category"] == "M" and out["issuable"]["port"] == "yinchuan_hedong_airport"
    r = _cli("assess", "--summary", "examples/visa_port_M_trade.json")
    assert r.returncode == 0 and "ACCEPTABLE" in r.stdout
