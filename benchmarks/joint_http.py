"""A joint submission end to end THROUGH THE HTTP API (issue 10; ``benchmarks/joint.py submissions`` measures the
service layer only): ``uvicorn`` with 2 workers on 127.0.0.1, a fresh PostgreSQL database (dropped afterwards),
N concurrent clients, each: the employer's HR posts the joint application (``POST /api/v1/joint-applications``,
multipart: the application JSON and the 12 materials — valid one-page PDFs and a photo meeting the photo rules,
as the API decodes every upload), then the SH01 window officer accepts it (``POST /api/v1/office/
joint-applications/{id}/accept``, the passport kept at the applicant's request, as ``joint.py`` does by
default). The latency is the two requests; the platform's and PostgreSQL's CPU are read from /proc.

    .venv/bin/python benchmarks/joint_http.py --seconds 10 [--clients 16]

``--wrk``: each step alone, the load from wrk (C, two threads; a Python client spends as much CPU as the platform
on these multipart bodies): the HR's submissions for ``--seconds`` after ``--warm`` seconds not counted (each
worker's and connection's first statements are prepared then), for ``--people`` foreigners in turn; then the
officer's acceptances of applications stored beforehand (never a key sent twice: that would count replays).

    .venv/bin/python benchmarks/joint_http.py --wrk --seconds 10 --warm 3 --clients 8 [--people 200]

Signed in with cookies and the CSRF header, as the API's clients are; the app's clock starts on the benchmarks'
day (``CNVISA_CLOCK_START``), so the inputs are those of ``joint.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "benchmarks")]

import machine  # noqa: E402
from accommodation import _cpu_seconds, serve, wait_ready  # noqa: E402
from cnvisa.demo import seed  # noqa: E402
from cnvisa.http.security import hash_password  # noqa: E402
from cnvisa.store.db import make_engine  # noqa: E402
from cnvisa.store.migrate import upgrade  # noqa: E402
from cnvisa.store.tables import Account, Mandate, Office, Organisation  # noqa: E402
from joint import CODES, RP_INPUTS, TODAY, WP, _url, drop_pg, fresh_pg  # noqa: E402
from web import LUA_THREAD_ID  # noqa: E402

DB = "cnvisa_bench_joint_http"
CLOCK = {"CNVISA_CLOCK_START": f"{TODAY.isoformat()}T09:00+08:00"}
"""The app's clock starts on the benchmarks' day, so the inputs are those of ``joint.py``."""
PASSWORD = "bench-joint-2025"
V = "/api/v1"


def pdf(title: str) -> bytes:
    w = PdfWriter()
    w.add_blank_page(595, 842)
    w.add_metadata({"/Title": title})
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def photo(width: int = 360, height: int = 480) -> bytes:
    """A photo the photo rules take (JPEG, 3:4, 20-80 KB): an oval on a light background, with noise."""
    rng = random.Random(4)
    img = Image.new("RGB", (width, height), (236, 238, 242))
    px = img.load()
    assert px is not None
    cx, cy, rx, ry = width / 2, height * 0.45, width * 0.28, height * 0.3
    for y in range(height):
        for x in range(width):
            inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1
            base = (205, 170, 150) if inside else (236, 238, 242)
            n = rng.randint(-18, 18)
            px[x, y] = tuple(max(0, min(255, c + n)) for c in base)
    for quality in range(95, 10, -5):
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=quality)
        if 20 * 1024 <= len(buf.getvalue()) <= 80 * 1024:
            return buf.getvalue()
    raise SystemExit("no JPEG quality gives a photo of 20-80 KB")


async def prepare(clients: int, people: int | None = None) -> dict[str, int]:
    """A fresh database: the SH01 window, an employer, its HR (holding a mandate for each of ``people``
    foreigners, default one per client) and a window officer."""
    people = people or clients
    url = await fresh_pg(DB)
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    await seed(engine, cases=0, seed_value=1, population=people + 10, today=TODAY)
    hashed = hash_password(PASSWORD)
    async with engine.begin() as conn:
        office = (await conn.execute(select(Office.id).where(Office.code == "SH01"))).scalar_one()
        employer = (await conn.execute(select(Organisation.id).order_by(Organisation.id))).scalars().first()
        assert employer is not None
        ids = {"office": office, "employer": employer}
        for name, role, extra in (
            ("bench.hr", "org_staff", {"organisation_id": employer}),
            ("bench.officer", "officer", {"office_id": office}),
        ):
            row = await conn.execute(
                insert(Account).values(
                    username=name, display_name=name, role=role, active=True, password_hash=hashed, **extra
                )
            )
            ids[name] = row.inserted_primary_key[0]
        await conn.execute(
            insert(Mandate),
            [
                {
                    "agent_account_id": ids["bench.hr"],
                    "person_id": 1 + w,
                    "capacity": "inviting_entity",
                    "valid_from": TODAY - dt.timedelta(days=30),
                    "valid_until": None,
                }
                for w in range(people)
            ],
        )
    await engine.dispose()
    return ids


async def signin(c: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await c.post(f"{V}/auth/signin", json={"username": username, "password": PASSWORD})
    r.raise_for_status()
    return {"X-CSRF-Token": r.json()["csrf"]}


async def run(seconds: float, clients: int, warm: float, src: Path = ROOT / "src") -> dict[str, Any]:
    ids = await prepare(clients)
    proc, base = serve(_url(DB), src, CLOCK)
    files = [(c, ("photo.jpg", photo(), "image/jpeg") if c == "photo" else (f"{c}.pdf", pdf(c), "application/pdf"))
             for c in CODES]  # fmt: skip
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    try:
        async with (
            httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as hr,
            httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as officer,
        ):
            await wait_ready(hr)
            hr_h, officer_h = await signin(hr, "bench.hr"), await signin(officer, "bench.officer")

            async def one(person: int) -> None:
                app = {
                    "person_id": person,
                    "office_id": ids["office"],
                    "employer_organisation_id": ids["employer"],
                    "work_permit": WP,
                    "inputs": RP_INPUTS,
                }
                r = await hr.post(
                    f"{V}/joint-applications",
                    data={"application": json.dumps(app)},
                    files=files,
                    headers={**hr_h, "Idempotency-Key": uuid.uuid4().hex},
                )
                if r.status_code != 201:
                    raise RuntimeError(f"apply {r.status_code}: {r.text[:300]}")
                j = r.json()
                r = await officer.post(
                    f"{V}/office/joint-applications/{j['joint_id']}/accept",
                    json={
                        "version": j["version"],
                        "passport_kept": True,
                        "retention_reason": "applicant_request",
                    },
                    headers={**officer_h, "Idempotency-Key": uuid.uuid4().hex},
                )
                if r.status_code != 200:
                    raise RuntimeError(f"accept {r.status_code}: {r.text[:300]}")

            async def client(w: int, until: float, counted: bool) -> None:
                while time.perf_counter() < until:
                    t = time.perf_counter()
                    try:
                        await one(1 + w)
                    except (RuntimeError, httpx.HTTPError) as exc:
                        key = str(exc)[:80]
                        errors[key] = errors.get(key, 0) + 1
                        continue
                    if counted:
                        latencies.append(time.perf_counter() - t)

            warm_until = time.perf_counter() + warm
            await asyncio.gather(*(client(w, warm_until, False) for w in range(clients)))
            cpu_app, cpu_pg = _cpu_seconds(root=proc.pid), _pg_cpu()
            started = time.perf_counter()
            await asyncio.gather(*(client(w, started + seconds, True) for w in range(clients)))
            elapsed = time.perf_counter() - started
            cpu_app, cpu_pg = _cpu_seconds(root=proc.pid) - cpu_app, _pg_cpu() - cpu_pg
    finally:
        proc.terminate()
        proc.wait(10)
        await drop_pg(DB)
    latencies.sort()
    n = max(len(latencies), 1)
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "joint_submissions": len(latencies),
        "joint_submissions_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1)
        if latencies
        else None,
        "platform_cpu_ms_per_submission": round(cpu_app / n * 1000, 2),
        "postgresql_cpu_ms_per_submission": round(cpu_pg / n * 1000, 2),
        "errors": errors,
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _pg_cpu() -> float:
    aux = ("walwriter", "checkpointer", "background writer")
    return _cpu_seconds(DB) + sum(_cpu_seconds(f"postgres: 15/main: {a}") for a in aux)


BOUNDARY = "cnvisa-bench-joint"
ACCEPTS_PER_S_AT_MOST = 900
"""Applications stored before the acceptances are measured: this many per second of the measure."""

LUA_APPLY = (
    """
-- the HR's joint applications: one multipart body per foreigner (read from the files named after --), a key of
-- their own per thread and request
local bodies = {}
init = function(args)
  for i, path in ipairs(args) do
    local f = io.open(path, "rb"); bodies[i] = f:read("*a"); f:close()
  end
end
local counter = 0
"""
    + LUA_THREAD_ID
    + """
request = function()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = "apply-" .. thread_id .. "-" .. counter
  return wrk.format("POST", "/api/v1/joint-applications", nil, bodies[(counter % #bodies) + 1])
end
"""
)

LUA_ACCEPT = """
-- the window officer accepts the joint applications just submitted: thread k of T takes ids k, k + T, ...
local ids = {%s}
local threads, counter = 0, 0
setup = function(thread)
  threads = threads + 1
  thread:set("k", threads)
end
request = function()
  local i = (k - 1) + %d * counter + 1
  counter = counter + 1
  if i > #ids then i = ((i - 1) %% #ids) + 1 end  -- (past the list: 409 stale version, counted as an error)
  wrk.headers["Idempotency-Key"] = "accept-" .. ids[i]
  return wrk.format("POST", "/api/v1/office/joint-applications/" .. ids[i] .. "/accept", nil,
    '{"version": 1, "passport_kept": true, "retention_reason": "applicant_request"}')
end
"""


def multipart(fields: list[tuple[str, str | None, bytes, str | None]]) -> bytes:
    """A multipart/form-data body: (name, filename, content, content type) per part."""
    out = b""
    for name, filename, content, media in fields:
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'.encode()
        if filename:
            out += f'; filename="{filename}"\r\nContent-Type: {media}'.encode()
        out += b"\r\n\r\n" + content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


async def run_wrk(
    seconds: float, clients: int, warm: float, src: Path = ROOT / "src", people: int | None = None
) -> dict[str, Any]:
    """Each step end to end through the API, the load from wrk (C, two threads): first the HR's joint
    submissions for ``seconds``, then the window officer's acceptances of the applications just stored, each
    step's throughput and latency as wrk counts them (every request answered, 0 non-2xx). Each step runs
    ``warm`` seconds first, not counted (each worker's and connection's first statements are prepared then)."""
    from web import wrk

    people = people or clients
    ids = await prepare(clients, people)
    log = open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "w")  # noqa: SIM115 (the server's, closed below)
    proc, base = serve(_url(DB), src, CLOCK, log)
    files = [(c, f"{c}.jpg" if c == "photo" else f"{c}.pdf", photo() if c == "photo" else pdf(c),
              "image/jpeg" if c == "photo" else "application/pdf") for c in CODES]  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="cnvisa-joint-wrk-"))
    out: dict[str, Any] = {"clients": clients, "foreigners": people}
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            await wait_ready(c)
            who = {}
            for name in ("bench.hr", "bench.officer"):
                c.cookies.clear()
                csrf = (await signin(c, name))["X-CSRF-Token"]
                who[name] = (csrf, "; ".join(f"{k}={v}" for k, v in c.cookies.items()))
        paths = []
        for w in range(people):
            app = {"person_id": 1 + w, "office_id": ids["office"], "employer_organisation_id": ids["employer"],
                   "work_permit": WP, "inputs": RP_INPUTS}  # fmt: skip
            path = tmp / f"body{w}.bin"
            path.write_bytes(multipart([("application", None, json.dumps(app).encode(), None), *files]))
            paths.append(str(path))

        def headers(name: str, media: str) -> str:
            csrf, cookie = who[name]
            return (f'wrk.headers["Cookie"] = "{cookie}"\nwrk.headers["X-CSRF-Token"] = "{csrf}"\n'
                    f'wrk.headers["Content-Type"] = "{media}"\n')  # fmt: skip

        apply_lua = headers("bench.hr", f"multipart/form-data; boundary={BOUNDARY}") + LUA_APPLY
        if warm:
            await asyncio.to_thread(wrk, base, warm, clients, apply_lua, paths)
        before = await _count_joint("submitted", zero=True)
        cpu_app, cpu_pg = _cpu_seconds(root=proc.pid), _pg_cpu()
        out["apply"] = await asyncio.to_thread(wrk, base, seconds, clients, apply_lua, paths)
        cpu_app, cpu_pg = _cpu_seconds(root=proc.pid) - cpu_app, _pg_cpu() - cpu_pg
        n = max(await _count_joint("submitted") - before, 1)
        out["apply"] |= {
            "platform_cpu_ms": round(cpu_app / n * 1000, 2),
            "postgresql_cpu_ms": round(cpu_pg / n * 1000, 2),
        }
        # enough applications waiting that the acceptances never run out (a key sent again would replay)
        need = ACCEPTS_PER_S_AT_MOST * (seconds + warm)
        if before + n < need:
            more = min(180, int((need - before - n) / max(out["apply"]["rps"], 1)) + 2)
            await asyncio.to_thread(wrk, base, more, clients, apply_lua, paths)
        todo = await _joint_ids("submitted")
        spare = int(ACCEPTS_PER_S_AT_MOST * warm)  # the warm-up's own applications, never the measure's

        def accept_lua(ids: list[int]) -> str:
            return headers("bench.officer", "application/json") + LUA_ACCEPT % (",".join(map(str, ids)), 2)

        if warm:
            await asyncio.to_thread(wrk, base, warm, clients, accept_lua(todo[len(todo) - spare :]))
            todo = todo[: len(todo) - spare]
        accepted_before = await _count_joint("accepted", zero=True)
        cpu_app, cpu_pg = _cpu_seconds(root=proc.pid), _pg_cpu()
        out["accept"] = await asyncio.to_thread(wrk, base, seconds, clients, accept_lua(todo))
        cpu_app, cpu_pg = _cpu_seconds(root=proc.pid) - cpu_app, _pg_cpu() - cpu_pg
        m = await _count_joint("accepted") - accepted_before
        if m < out["accept"]["rps"] * seconds * 0.98:
            raise SystemExit(
                f"only {m} accepted for {out['accept']['rps']}/s: the list ran out, replays counted"
            )
        out["accept"] |= {
            "platform_cpu_ms": round(cpu_app / m * 1000, 2),
            "postgresql_cpu_ms": round(cpu_pg / m * 1000, 2),
        }
        out["stored"] = {"submitted_in_measure": n, "waiting_for_acceptance": len(todo), "accepted": m}
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
        await drop_pg(DB)
        shutil.rmtree(tmp, ignore_errors=True)
    out["loadavg"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return out


async def _joint_ids(state: str) -> list[int]:
    engine = make_engine(_url(DB))
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT id FROM joint_applications WHERE state = :s ORDER BY id"), {"s": state}
        )
        found = [r[0] for r in rows]
    await engine.dispose()
    return found


async def _count_joint(state: str, *, zero: bool = False) -> int:
    found = len(await _joint_ids(state))
    return found if zero else max(found, 1)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--warm", type=float, default=2, help="seconds of warm-up, not counted")
    p.add_argument("--src", type=Path, default=ROOT / "src", help="the platform's sources to serve (A/B)")
    p.add_argument(
        "--people", type=int, help="--wrk: foreigners the HR applies for in turn (default: --clients)"
    )
    p.add_argument(
        "--wrk", action="store_true", help="each step alone, the load from wrk (not a Python client)"
    )
    args = p.parse_args()
    print(f"machine    {machine.line()}")
    if args.wrk:
        for k, v in asyncio.run(
            run_wrk(args.seconds, args.clients, args.warm, args.src, args.people)
        ).items():
            print(f"{k:10s} {v}")
        print(f"machine    {machine.line()}")
        return
    for k, v in asyncio.run(run(args.seconds, args.clients, args.warm, args.src)).items():
        print(f"{k:34s} {v}")
    print(f"machine    {machine.line()}")


if __name__ == "__main__":
    main()
