"""``cnvisa law ports [--on DATE]``: the ports issuing port visas on a day (Exit and Entry Administration Law Art 20
para 1; ``cnvisa.law.port_visa``, ``data/ports.toml`` — a partial list of sourced ports)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, NoReturn

import typer

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _day(value: str) -> dt.date:
    if _ISO_DATE.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    _fail(f"--on: {value!r} is not a date in the form YYYY-MM-DD")


def ports(
    on: Annotated[
        str | None,
        typer.Option(
            "--on",
            help="The day (YYYY-MM-DD); default: the platform's today, Beijing time (CNVISA_CLOCK_START when set)",
        ),
    ] = None,
) -> None:
    """The ports issuing port visas on a day (Law Art 20 para 1), each with its source; prints JSON. The list holds
    only ports with a source: a port not in it is unknown, not refused."""
    from cnvisa.law import port_visa as pv

    if on is None:  # the platform's day: CNVISA_CLOCK_START's when set, as `cnvisa serve`
        from cnvisa.cases.clock import today
        from cnvisa.cli import _clock

        day = today(_clock())
    else:
        day = _day(on)
    stop = pv.suspension_on(day)
    out = {
        "on": day.isoformat(),
        "citation": pv.LAW20_WHO.cite,
        "partial": True,
        "note": "Only ports with a source are listed (data/ports.toml); the NIA counts 99 ports in 72 cities "
        "(FAQs about China's port visas, 2024-02-27) without publishing a list.",
        "suspended": None
        if stop is None
        else {
            "from": stop.from_.isoformat(),
            "until": stop.until.isoformat() if stop.until else None,
            "source": stop.source,
        },
        "ports": [p.as_dict() for p in pv.ports_in_force(day)],
    }
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
