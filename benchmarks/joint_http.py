"""A joint submission end to end THROUGH THE HTTP API (issue 10; ``benchmarks/joint.py submissions`` measures the
service layer only): ``uvicorn`` with 2 workers on 127.0.0.1, a fresh PostgreSQL database (dropped afterwards),
N concurrent clients, each: the employer's HR posts the joint application (``POST /api/v1/joint-applications``,
multipart: the application JSON and the 12 materials — valid one-page PDFs and a photo meeting the photo rules,
as the API decodes every upload), then the SH01 window officer accepts it (``POST /api/v1/office/
joint-applications/{id}/accept``, the passport kept at the applicant's request, as ``joint.py`` does by
default). The latency is the two requests; the platform's and PostgreSQL's CPU are read from /proc.

    .venv/bin/python benchmarks/joint_http.py --seconds 10 [--clients 16]

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
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "benchmarks")]

from accommodation import _cpu_seconds, _free_port  # noqa: E402
from cnvisa.demo import seed  # noqa: E402
from cnvisa.http.security import hash_password  # noqa: E402
from cnvisa.store.db import make_engine  # noqa: E402
from cnvisa.store.migrate import upgrade  # noqa: E402
from cnvisa.store.tables import Account, Mandate, Office, Organisation  # noqa: E402
from joint import CODES, RP_INPUTS, TODAY, WP, _url, drop_pg, fresh_pg  # noqa: E402

DB = "cnvisa_bench_joint_http"
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


async def prepare(clients: int) -> dict[str, int]:
    url = await fresh_pg(DB)
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    await seed(engine, cases=0, seed_value=1, population=clients + 10, today=TODAY)
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
                for w in range(clients)
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
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CNVISA_DATABASE_URL": _url(DB),
        "CNVISA_CLOCK_START": f"{TODAY.isoformat()}T09:00+08:00",
        "PYTHONPATH": str(src),
    }
    args = [sys.executable, "-m", "uvicorn", "cnvisa.app:create_app", "--factory", "--workers", "2"]
    args += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
            for _ in range(300):
                try:
                    if (await hr.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                raise SystemExit("the server did not start")
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


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--warm", type=float, default=2, help="seconds of warm-up, not counted")
    p.add_argument("--src", type=Path, default=ROOT / "src", help="the platform's sources to serve (A/B)")
    args = p.parse_args()
    for k, v in asyncio.run(run(args.seconds, args.clients, args.warm, args.src)).items():
        print(f"{k:34s} {v}")


if __name__ == "__main__":
    main()
