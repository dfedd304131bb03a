"""``cnvisa desks``: the police stations and who serves which desk — list, assign a police officer to a station, a
port-visa officer to a port (issue 11; as the administrator's page ``/admin/desks`` does). Every change and every
look is audited as the system."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cnvisa.cli_accounts import DbUrl, _fail, _run

desks_app = typer.Typer(help="Desks: police stations and port-visa desks.", no_args_is_help=True)
Note = Annotated[str | None, typer.Option("--note", help="why, for the audit log")]


def _do(url: str | None, call: Any) -> dict[str, Any]:
    """``call(desks)`` as the system; a refusal is one line naming the field (exit 2)."""
    from cnvisa.cases.clock import ManualClock
    from cnvisa.cases.desks import DeskAssignments
    from cnvisa.cases.errors import BadInput

    async def work(sessions: Any, now: Any) -> dict[str, Any]:
        try:
            return dict(await call(DeskAssignments(sessions, ManualClock(now))))
        except BadInput as exc:
            return {"error": f"{exc.field}: {exc.message}"}

    out = _run(url, work)
    if "error" in out:
        _fail(str(out["error"]))
    return out


@desks_app.command("list")
def desks_list(database_url: DbUrl = None) -> None:
    """The police stations with their areas, the police officers' stations, the port-visa officers' ports."""
    from cnvisa.cases.actor import SYSTEM

    out = _do(database_url, lambda d: d.overview(SYSTEM))
    for s in out["stations"]:
        typer.echo(f"station\t{s['code']}\t{s['office']}\t{s['area']}\t{s['name_en']}\t{s['source']}")
    for p in out["police"]:
        typer.echo(f"police\t{p['username']}\t{p['station'] or '-'}")
    for p in out["port_desks"]:
        typer.echo(f"port\t{p['username']}\t{p['port'] or '-'}")


@desks_app.command("assign-police")
def desks_assign_police(username: str, station: str, note: Note = None, database_url: DbUrl = None) -> None:
    """Assign a police officer's desk to a police station (by its code)."""
    from cnvisa.cases.actor import SYSTEM

    out = _do(database_url, lambda d: d.assign_police(SYSTEM, username, station, note))
    typer.echo(f"{out['username']} serves police station {out['station']} (area {out['area']})")


@desks_app.command("assign-port")
def desks_assign_port(username: str, port: str, note: Note = None, database_url: DbUrl = None) -> None:
    """Assign a port-visa officer's desk to a port (a code of `cnvisa law ports`)."""
    from cnvisa.cases.actor import SYSTEM

    out = _do(database_url, lambda d: d.assign_port(SYSTEM, username, port, note))
    typer.echo(f"{out['username']} serves the port {out['port']}")
