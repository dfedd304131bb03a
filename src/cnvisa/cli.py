"""The ``cnvisa`` command line.

Bad input exits with status 2 and one line naming the field and what is wrong — never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from cnvisa.cli_accounts import accounts_app, tokens_app
from cnvisa.cli_agency import agency_app
from cnvisa.cli_desks import desks_app
from cnvisa.cli_law import ports
from cnvisa.cli_monitor import deliver, escalations, sweep_rules
from cnvisa.cli_partitions import partitions_app
from cnvisa.cli_worker import worker
from cnvisa.law import calendar as workdays
from cnvisa.law.errors import InvalidInput, LawError

app = typer.Typer(
    help="cnvisa — the PRC rules for foreigners' visas, stay permits and residence permits, as cited code.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)
calendar_app = typer.Typer(
    help="Chinese working days (Regulations Art 36 last paragraph).", no_args_is_help=True
)
law_app = typer.Typer(help="The law engine itself.", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")
app.add_typer(law_app, name="law")
law_app.command("ports")(ports)
db_app = typer.Typer(
    help="The database (SQLite by default; CNVISA_DATABASE_URL for PostgreSQL).", no_args_is_help=True
)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
demo_app = typer.Typer(help="Deterministic demo data.", no_args_is_help=True)
app.add_typer(db_app, name="db")
db_app.command("escalations")(escalations)
app.command("worker")(worker)
db_app.command("deliver")(deliver)
db_app.add_typer(partitions_app, name="partitions")
app.add_typer(audit_app, name="audit")
app.add_typer(demo_app, name="demo")
app.add_typer(tokens_app, name="tokens")
app.add_typer(accounts_app, name="accounts")
app.add_typer(desks_app, name="desks")
app.add_typer(agency_app, name="agency")
DbUrl = Annotated[str | None, typer.Option("--database-url", help="Overrides CNVISA_DATABASE_URL")]


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
_DASHED_ARGUMENTS = {"ignore_unknown_options": True}
"""Lets an argument that starts with '-' (``add-working-days 2025-01-01 -3``) reach the command, which
then names the field, instead of Click's three-line 'No such option'."""


def _date(value: str, field: str) -> dt.date:
    """Only YYYY-MM-DD: Python's ``fromisoformat`` would also take 20250101 or 2025-W01-1."""
    if _ISO_DATE.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    _fail(f"{field}: {value!r} is not a date in the form YYYY-MM-DD")


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _read_json(file: str) -> Any:
    """The application: UTF-8 JSON (a leading byte-order mark is allowed) from FILE or standard input."""
    try:
        raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        _fail(f"FILE: cannot read {file}: {exc.strerror}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        _fail(f"FILE: not UTF-8 text (byte {exc.start + 1} is {raw[exc.start]:#04x})")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        _fail(f"FILE: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    except ValueError as exc:  # NaN, Infinity, or an integer too long to read
        _fail(f"FILE: not valid JSON ({exc})")
    except RecursionError:
        _fail("FILE: not valid JSON (nested too deeply)")


def _dump(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


@app.command()
def assess(
    file: Annotated[str | None, typer.Argument(help="Application JSON file, or - for standard input")] = None,
    schema: Annotated[bool, typer.Option("--schema", help="Print the input JSON Schema and exit")] = False,
    summary: Annotated[
        bool, typer.Option("--summary", help="Print a short human summary instead of JSON")
    ] = False,
) -> None:
    """Assess an application and print the cited answer as JSON."""
    from cnvisa.law import assess as run
    from cnvisa.law.application import json_schema

    if schema:
        _dump(json_schema())
        return
    if file is None:
        _fail("FILE: give an application JSON file, or - for standard input (see --schema)")
    data = _read_json(file)
    try:
        result = run(data)
    except LawError as exc:
        _fail(str(exc))
    if summary:
        typer.echo(_summary(result))
    else:
        _dump(result)


def _summary(r: dict[str, Any]) -> str:
    lines = [
        f"{r['matter']} on {r['on']}: {'ACCEPTABLE' if r['acceptable'] else 'NOT ACCEPTABLE as submitted'}"
    ]
    for key in (
        "last_day_of_stay",
        "apply_by",
        "max_extension_days",
        "receipt_valid_until",
        "fee_cny",
        "proxy_allowed",
    ):
        if r.get(key) is not None:
            lines.append(f"  {key}: {r[key]}")
    if r.get("issuable"):
        lines.append(f"  issuable: {json.dumps(r['issuable'], ensure_ascii=False)}")
    for p in r["problems"]:
        cites = "; ".join(c["cite"] for c in p["citations"])
        lines.append(f"  [{p['severity']}] {p['code']}: {p['message']['en']} ({cites})")
    if r["missing_materials"]:
        lines.append("  one-time notice — missing: " + ", ".join(r["missing_materials"]))
    lines.append(
        f"  law: {r['law_version']}; {len(r['citations'])} citations; {len(r['trace']['steps'])} trace steps"
    )
    return "\n".join(lines)


@calendar_app.command("is-working-day", context_settings=_DASHED_ARGUMENTS)
def is_working_day(day: Annotated[str, typer.Argument(metavar="DATE")]) -> None:
    """Print true or false."""
    try:
        typer.echo("true" if workdays.is_working_day(_date(day, "DATE")) else "false")
    except LawError as exc:
        _fail(str(exc))


@calendar_app.command("add-working-days", context_settings=_DASHED_ARGUMENTS)
def add_working_days(
    day: Annotated[str, typer.Argument(metavar="DATE")],
    n: Annotated[str, typer.Argument(metavar="N")],
) -> None:
    """Print the N-th working day after DATE (DATE itself does not count)."""
    start = _date(day, "DATE")
    text = n.strip()
    if not _WHOLE_NUMBER.fullmatch(text):
        _fail(f"N: {n!r} is not a whole number of working days")
    if text.startswith("-"):
        _fail(f"N: the number of working days must be an integer ≥ 1, got {text}")
    # A count of more than nine digits reaches past any loaded notice just as 10**9 does (and Python
    # refuses to read integers of more than 4300 digits): the calendar then names the missing year.
    count = int(text) if len(text.lstrip("+0")) <= 9 else 10**9
    try:
        typer.echo(workdays.add_working_days(start, count).isoformat())
    except InvalidInput as exc:
        _fail(f"N: {exc.message}" if exc.field == "n" else str(exc))
    except LawError as exc:
        _fail(str(exc))


@app.command("check-mrz")
def check_mrz(line1: str, line2: str) -> None:
    """Check a passport (TD3) or visa (MRV) machine-readable zone; prints JSON with `valid`."""
    from cnvisa.law.documents import check_mrz as check

    _dump(check(line1, line2).as_dict())


@law_app.command("work-permit-points")
def work_permit_points(
    file: Annotated[str | None, typer.Argument(help="Facts JSON file, or - for standard input")] = None,
    schema: Annotated[bool, typer.Option("--schema", help="Print the input JSON Schema and exit")] = False,
) -> None:
    """Work-permit points and category (A/B/C) from the facts, each factor cited; prints JSON."""
    from cnvisa.law.work_permit import json_schema, points_and_category

    if schema:
        _dump(json_schema())
        return
    if file is None:
        _fail("FILE: give a facts JSON file, or - for standard input (see --schema)")
    data = _read_json(file)
    if not isinstance(data, dict):
        _fail("FILE: must hold one JSON object")
    try:
        _dump(points_and_category(data))
    except LawError as exc:
        _fail(str(exc))


@law_app.command("overstay", context_settings=_DASHED_ARGUMENTS)
def overstay(
    last_lawful_day: Annotated[str, typer.Argument(metavar="LAST_LAWFUL_DAY")],
    on: Annotated[str, typer.Argument(metavar="ON")],
) -> None:
    """Days of illegal residence on ON after LAST_LAWFUL_DAY (both counted from the day after it) and the most
    the law allows (Law Art 78 para 1: 500 yuan a day, at most 10,000); prints JSON. Nothing is imposed."""
    from cnvisa.law.obligations import overstay as count

    _dump(count(_date(last_lawful_day, "LAST_LAWFUL_DAY"), _date(on, "ON")).as_dict())


@law_app.command("coverage")
def coverage(
    tests: Annotated[
        Path | None, typer.Option(help="The tests folder to read (default: the repository's)")
    ] = None,
) -> None:
    """Every article of the Regulations and section of the Guide: code and tests, or why not applicable."""
    from cnvisa.coverage import render, report

    folder = tests or Path(__file__).resolve().parents[2] / "tests"
    if not folder.is_dir():
        _fail(f"--tests: {folder} is not a folder (run from a checkout, or pass --tests)")
    lines = report(folder)
    typer.echo(render(lines))
    if any(not line.ok for line in lines):
        raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(database_url: DbUrl = None) -> None:
    """Create or migrate the schema (Alembic migrations are the only way the schema is made); then, if this
    release's holiday data differs from the one open deadlines were computed under, recompute them (audited)."""
    from cnvisa.store.db import database_url as resolve
    from cnvisa.store.migrate import upgrade

    url = resolve(database_url)
    clock = _clock()
    try:
        upgrade(url)
        changes = _recompute_deadlines(url, clock)
    except Exception as exc:  # one line, never a traceback
        _fail(f"database: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    typer.echo(f"schema at head on {url.split('@')[-1]}")
    typer.echo(f"open deadlines under calendar {workdays.calendar_version()}: {len(changes)} changed")


def _clock() -> Any:
    """The platform's clock: ``CNVISA_CLOCK_START`` (as ``cnvisa serve`` reads it), else the real time."""
    import os

    from cnvisa.cases.clock import StartedClock, SystemClock

    start = os.environ.get("CNVISA_CLOCK_START")
    if not start:
        return SystemClock()
    try:
        return StartedClock(dt.datetime.fromisoformat(start))
    except ValueError:
        _fail(f"CNVISA_CLOCK_START: {start!r} is not an ISO date-time (2025-11-20T09:00+08:00)")


def _recompute_deadlines(url: str | None, clock: Any) -> list[dict[str, Any]]:
    """Open deadlines recomputed if the holiday data changed since they were computed; each change audited."""
    import asyncio

    from cnvisa.cases.service import CaseService
    from cnvisa.store.db import make_engine, sessionmaker

    async def run() -> list[dict[str, Any]]:
        engine = make_engine(url)
        try:
            return await CaseService(sessionmaker(engine), clock).recompute_deadlines()
        finally:
            await engine.dispose()

    return asyncio.run(run())


@db_app.command("sweep")
def db_sweep(database_url: DbUrl = None) -> None:
    """Daily upkeep (``cnvisa worker`` runs it as the queue's daily_sweep job; this runs it now): recompute open
    deadlines when the holiday data changed (Regulations Art 36 last paragraph), lapse drafts past retention and
    one-time notices unanswered past their reply date (Regulations Art 13 para 2, Art 18 para 2), lapse port-visa
    requests whose arrival window ran out (office rule, CNVISA_PORT_VISA_ARRIVAL_WINDOW_DAYS), and keep the
    obligations register (open, met, late, waived: cnvisa.cases.obligations). Every change is written to the
    audit log."""
    import asyncio

    from cnvisa.cases.errors import BadInput
    from cnvisa.cases.port_visa.service import port_visa_window
    from cnvisa.cases.sweep import SweepReport, daily_sweep
    from cnvisa.store.db import make_engine, sessionmaker

    clock = _clock()
    rules = sweep_rules()  # reminders and escalations (office rules), refused here naming the variable
    try:
        window = port_visa_window()  # office rule (cnvisa.cases.port_visa.flow.ARRIVAL_WINDOW_DAYS)
    except BadInput as exc:
        _fail(f"{exc.field}: {exc.message}")

    async def run() -> SweepReport:
        engine = make_engine(database_url)
        try:
            return await daily_sweep(
                sessionmaker(engine),
                clock,
                arrival_window_days=window,
                reminder_steps=rules[0],
                near_working_days=rules[1],
            )
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(run())
    except Exception as exc:  # one line, never a traceback
        _fail(f"database: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    typer.echo(
        f"open deadlines under calendar {workdays.calendar_version()}: {len(report.deadlines)} changed"
    )
    for change in report.deadlines:
        typer.echo(f"  {change['case']}: {change['from']} -> {change['to']}")
    typer.echo(f"lapsed: {len(report.lapsed)}")
    for number in report.lapsed:
        typer.echo(f"  {number}")
    typer.echo("obligations: " + ", ".join(f"{k} {len(v)}" for k, v in report.obligations.items()))


@db_app.command("overstays")
def db_overstays(
    database_url: DbUrl = None,
    on: Annotated[
        str | None, typer.Option("--on", help="The day (YYYY-MM-DD); default: today, Beijing time")
    ] = None,
    office: Annotated[str | None, typer.Option("--office", help="An office code: its list only")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 1000,
) -> None:
    """Illegal residence on a day (Regulations Art 25): everyone in China whose last lawful day is before it,
    with the days and the most Law Art 78 allows (shown, never imposed); prints JSON. The read is audited."""
    import asyncio

    from sqlalchemy import select

    from cnvisa.cases.actor import SYSTEM
    from cnvisa.cases.service import CaseService
    from cnvisa.store.db import make_engine, sessionmaker
    from cnvisa.store.tables import Office

    clock = _clock()
    day = _date(on, "--on") if on is not None else None

    async def run() -> tuple[dt.date, list[dict[str, Any]]]:
        engine = make_engine(database_url)
        try:
            svc = CaseService(sessionmaker(engine), clock)
            office_id = None
            if office is not None:
                async with svc.sessions() as s:
                    office_id = (await s.execute(select(Office.id).where(Office.code == office))).scalar()
                if office_id is None:
                    _fail(f"--office: no office {office!r}")
            when = day or svc.today()
            return when, await svc.illegal_residence(SYSTEM, when, office_id=office_id, limit=limit)
        finally:
            await engine.dispose()

    try:
        when, found = asyncio.run(run())
    except typer.Exit:
        raise
    except Exception as exc:  # one line, never a traceback
        _fail(f"database: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    _dump({"on": when.isoformat(), "office": office, "count": len(found), "people": found})


@audit_app.command("verify")
def audit_verify(database_url: DbUrl = None) -> None:
    """Recompute the whole chain; name the first event that does not match (exit 1)."""
    import asyncio

    from cnvisa.cases.audit import verify
    from cnvisa.store.db import make_engine, sessionmaker

    async def run() -> tuple[bool, str]:
        engine = make_engine(database_url)
        try:
            async with sessionmaker(engine)() as s:
                r = await verify(s)
        finally:
            await engine.dispose()
        if r.ok:
            return True, f"audit chain ok: {r.events} events"
        return (
            False,
            f"audit chain BROKEN at event {r.first_bad_seq}: {r.reason} ({r.events} events verified before it)",
        )

    try:
        ok, message = asyncio.run(run())
    except Exception as exc:
        _fail(f"database: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    typer.echo(message)
    if not ok:
        raise typer.Exit(1)


@demo_app.command("seed")
def demo_seed(
    cases: Annotated[int, typer.Option(min=0, help="How many cases")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data")] = 1,
    database_url: DbUrl = None,
) -> None:
    """Load realistic, deterministic synthetic data: offices, organisations, people, documents, cases (each
    with the records its state implies: notice, receipt, decision, document). For benchmarks; see demo setup."""
    import asyncio
    import time

    from cnvisa.demo import seed as run_seed
    from cnvisa.store.db import make_engine

    async def run() -> dict[str, int]:
        engine = make_engine(database_url)
        try:
            return await run_seed(engine, cases, seed)
        finally:
            await engine.dispose()

    t = time.perf_counter()
    try:
        counts = asyncio.run(run())
    except Exception as exc:
        _fail(f"database: {type(exc).__name__}: {str(exc).splitlines()[0]} (run `cnvisa db upgrade` first?)")
    typer.echo(", ".join(f"{k}: {v}" for k, v in counts.items()) + f" in {time.perf_counter() - t:.1f} s")


@demo_app.command("setup")
def demo_setup(
    cases: Annotated[
        int, typer.Option(min=0, help="Demo cases to play through the workflow on first setup")
    ] = 300,
    database_url: DbUrl = None,
) -> None:
    """Make the database ready for a demo: migrate; on first setup seed offices, people and the demo sign-ins,
    and play the demo cases through the workflow's own commands; print the sign-ins."""
    import asyncio

    from sqlalchemy import func, select

    from cnvisa.cases.clock import today
    from cnvisa.demo import DEMO
    from cnvisa.demo.setup import setup
    from cnvisa.store.db import database_url as resolve
    from cnvisa.store.db import make_engine
    from cnvisa.store.migrate import upgrade
    from cnvisa.store.tables import Account

    url = resolve(database_url)
    upgrade(url)
    clock = _clock()

    async def run() -> bool:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                has = (
                    await conn.execute(
                        select(func.count()).select_from(Account).where(Account.username == "alice")
                    )
                ).scalar_one()
            if has:
                return False
            # CNVISA_CLOCK_START's day when set, so the data agrees with the server's clock
            await setup(engine, today(clock), cases)
            return True
        finally:
            await engine.dispose()

    try:
        fresh = asyncio.run(run())
    except Exception as exc:  # one line, never a traceback
        _fail(f"demo setup: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    typer.echo("demo data seeded" if fresh else "demo data already present")
    typer.echo("demo sign-ins (user name / password — who):")
    for d in DEMO:
        typer.echo(f"  {d.username:18s} {d.password:22s} {d.description}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
    ssl_certfile: Annotated[
        Path | None, typer.Option(help="TLS certificate (PEM): serve over https (cookies then Secure)")
    ] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="TLS private key (PEM) of --ssl-certfile")] = None,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Behind a reverse proxy that terminates https: the proxy's addresses whose X-Forwarded-Proto "
            "and X-Forwarded-For are trusted (comma-separated); unset: no forwarded header is trusted"
        ),
    ] = None,
    log_format: Annotated[
        str, typer.Option(help="text (uvicorn's) or json (one object a line, with the request id)")
    ] = "text",
) -> None:
    """Serve the platform (pages, and the JSON API under /api/v1) with uvicorn.

    Session and language cookies are HttpOnly/SameSite and Secure whenever the request came over https
    (directly with --ssl-certfile, or through a trusted proxy), or always with CNVISA_SECURE_COOKIES=1."""
    import os

    import uvicorn

    if (ssl_certfile is None) != (ssl_keyfile is None):
        _fail("--ssl-certfile and --ssl-keyfile go together")
    # QR codes and printed check addresses name the address served here unless CNVISA_PUBLIC_URL says
    # otherwise (the workers inherit the environment).
    os.environ.setdefault("CNVISA_PUBLIC_URL", public_url(host, port, https=ssl_certfile is not None))
    typer.echo(f"public address (QR codes, printed check addresses): {os.environ['CNVISA_PUBLIC_URL']}")
    from cnvisa.http.logs import uvicorn_config

    try:
        log_config = uvicorn_config(log_format)
    except ValueError as exc:
        _fail(f"--log-format: {exc}")
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # /metrics answers for all workers, whichever one is asked (prometheus-client's multiprocess mode)
        import tempfile

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="cnvisa-metrics-")
    uvicorn.run(
        "cnvisa.app:create_app",
        log_config=log_config,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips,
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
        timeout_graceful_shutdown=10,  # a stop never waits for ever on a stuck request
    )


def public_url(host: str, port: int, *, https: bool) -> str:
    """The address a person reaches ``cnvisa serve --host HOST --port PORT`` at. A wildcard host (all
    interfaces) has no one address: the loopback is named, and CNVISA_PUBLIC_URL should be set."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"{'https' if https else 'http'}://{host}:{port}"


def main() -> None:
    app()


if __name__ == "__main__":
    main()
