"""Files of the online application form kept across a refused submission.

A browser cannot refill a file input, so a page re-shown after a refusal would ask for every file again. The
files the form accepted (each checked as ``cnvisa.http.applicant.read_files`` checks it) are kept server-side
under the account and the form's key; the re-shown form names them, and the next submission of the same form
uses them for every material not chosen again. Kept files are deleted when the application is submitted, and
after ``KEEP_HOURS`` in any case (an office rule of this platform, not the law's)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from starlette.datastructures import FormData

from cnvisa.cases.records import FileIn
from cnvisa.http import applicant as api
from cnvisa.http.deps import Platform, Principal
from cnvisa.http.problems import Problem
from cnvisa.store.tables import KeptUpload

KEEP_HOURS = 24


async def gather(
    p: Platform, who: Principal, form_key: str, form: FormData, skip: frozenset[str]
) -> list[FileIn]:
    """The form's files: those chosen now, each checked alone, plus those kept from before for the materials
    not chosen again. The accepted ones are kept first; then the first refusal, if any, is raised."""
    chosen: dict[str, list[FileIn]] = {}
    refusal: Exception | None = None
    for name, value in form.multi_items():
        if name in skip:
            continue
        try:
            for f in await api.read_files(p, FormData([(name, value)])):
                chosen.setdefault(f.material_code, []).append(f)
        except Problem as exc:
            refusal = refusal or exc  # the refused file replaces nothing kept: it is to be chosen again
    now = p.now()
    async with p.sessions() as s, s.begin():
        await s.execute(
            delete(KeptUpload).where(KeptUpload.created_at < now - dt.timedelta(hours=KEEP_HOURS))
        )
        mine = (KeptUpload.account_id == who.account.id, KeptUpload.form_key == form_key)
        if chosen:
            await s.execute(delete(KeptUpload).where(*mine, KeptUpload.material_code.in_(sorted(chosen))))
            for files in chosen.values():
                for f in files:
                    s.add(
                        KeptUpload(
                            account_id=who.account.id,
                            form_key=form_key,
                            material_code=f.material_code,
                            filename=f.filename[:255],
                            content=f.content,
                            created_at=now,
                        )
                    )
        kept = (await s.execute(select(KeptUpload).where(*mine).order_by(KeptUpload.id))).scalars().all()
    if refusal is not None:
        raise refusal  # after the commit: what was accepted stays kept
    return [FileIn(k.material_code, k.filename, k.content) for k in kept]


async def kept(p: Platform, who: Principal, form_key: str) -> dict[str, list[str]]:
    """The names of the files kept for this form, by material."""
    if not form_key:
        return {}
    async with p.sessions() as s:
        rows = (
            await s.execute(
                select(KeptUpload.material_code, KeptUpload.filename)
                .where(KeptUpload.account_id == who.account.id, KeptUpload.form_key == form_key)
                .order_by(KeptUpload.id)
            )
        ).all()
    out: dict[str, list[str]] = {}
    for code, filename in rows:
        out.setdefault(code, []).append(filename)
    return out


async def forget(p: Platform, who: Principal, form_key: str) -> None:
    """The application is submitted: its kept files are in the case now."""
    async with p.sessions() as s, s.begin():
        await s.execute(
            delete(KeptUpload).where(KeptUpload.account_id == who.account.id, KeptUpload.form_key == form_key)
        )
