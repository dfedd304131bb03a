"""Materials uploaded with a port-visa request (Law Art 20 para 3: the passport and the materials; issue 11 §1).

The filer's side (the inviting organisation's staff, or the foreigner) uploads the materials the law engine listed
for the request when it was filed (``assessment.required_materials``), while the request is open (submitted or
pre-approved). Each file was judged before it reaches here — PDF, JPEG or PNG by content, within the size, pixel
and page limits, kept without metadata (``cnvisa.http.applicant.read_files`` over ``cnvisa.cases.uploads``). A
code the engine did not list is refused naming its field. The desk of the request's port sees what was uploaded
and, by name, what was not: the materials still to bring to the port. Every upload and every read by the desk is
audited; the files are served only to those who may see the request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from cnvisa.cases import audit
from cnvisa.cases.actor import Actor, caseless_event
from cnvisa.cases.clock import Clocked
from cnvisa.cases.errors import BadInput, Forbidden, GuardFailed, NotFound
from cnvisa.cases.queries.port_visa import OPEN_STATES, authorised
from cnvisa.cases.records import FileIn
from cnvisa.cases.workflow import Role
from cnvisa.store.port_visa_tables import PortVisaFile, PortVisaRequest

FILER_SIDE = (Role.ORG_STAFF, Role.APPLICANT)
MAX_FILES = 40
"""Office rule: files kept with one request (the engine lists at most a dozen materials)."""


def _listed(r: PortVisaRequest) -> list[dict[str, Any]]:
    return [m for m in (r.assessment or {}).get("required_materials", []) if isinstance(m, dict)]


def _summary(r: PortVisaRequest, files: Sequence[PortVisaFile]) -> dict[str, Any]:
    listed = _listed(r)
    have = {f.material_code for f in files}
    return {
        "request_id": r.id,
        "required": listed,
        "uploaded": [
            {
                "id": f.id,
                "material_code": f.material_code,
                "filename": f.filename,
                "size": f.size,
                "media_type": f.media_type,
                "sha256": f.sha256,
                "uploaded_at": f.uploaded_at.isoformat(),
            }
            for f in files
        ],
        "missing": [m for m in listed if m.get("code") not in have],
        "citation": "Exit and Entry Administration Law Art 20 para 3",
    }


class PortVisaMaterials(Clocked):
    async def upload(self, actor: Actor, request_id: int, files: Sequence[FileIn]) -> dict[str, Any]:
        """Store ``files`` (each named by a material code the engine listed for the request); all or none."""
        if actor.role not in FILER_SIDE:
            raise Forbidden("the inviting organisation or the foreigner uploads the materials")
        if not files:
            raise BadInput("files", "at least one file, named by the material it is")
        now = self.now()
        async with self.sessions() as s, s.begin():
            r = await s.get(PortVisaRequest, request_id, with_for_update=True)
            await authorised(s, actor, r)
            assert r is not None
            listed = {m.get("code") for m in _listed(r)}
            for f in files:
                if f.material_code not in listed:
                    raise BadInput(
                        f"files.{f.material_code}",
                        "not a material the law engine listed for this request (Law Art 20 para 3)",
                    )
            if r.state not in OPEN_STATES:
                raise GuardFailed(
                    "port_visa_open", "Law Art 20 para 3", "materials go with an open request only"
                )
            held = list(
                (await s.execute(select(PortVisaFile).where(PortVisaFile.request_id == r.id))).scalars()
            )
            if len(held) + len(files) > MAX_FILES:
                raise BadInput("files", f"at most {MAX_FILES} files a request (office rule)")
            added = []
            for f in files:
                sha, size, media = f.checked()
                row = PortVisaFile(
                    request_id=r.id,
                    material_code=f.material_code,
                    filename=f.filename[:255],
                    sha256=sha,
                    size=size,
                    media_type=media,
                    content=f.content,
                    uploaded_at=now,
                    uploaded_by=actor.account_id,
                )
                s.add(row)
                added.append(row)
            await s.flush()
            detail = {"request": r.id, "files": [(a.id, a.material_code, a.sha256) for a in added]}
            await audit.append(s, **caseless_event(actor, now, "port_visa_materials_uploaded", detail, None))
            return _summary(r, [*held, *added])

    async def of_request(self, actor: Actor, request_id: int) -> dict[str, Any]:
        """What the engine listed, what was uploaded, what is missing (by name); the desk's read is audited."""
        async with self.sessions() as s, s.begin():
            r = await s.get(PortVisaRequest, request_id)
            await authorised(s, actor, r)
            assert r is not None
            files = list(
                (
                    await s.execute(
                        select(PortVisaFile).where(PortVisaFile.request_id == r.id).order_by(PortVisaFile.id)
                    )
                ).scalars()
            )
            if actor.role is Role.PORT_VISA_OFFICER:
                detail = {"request": r.id, "files": len(files)}
                await audit.append(
                    s, **caseless_event(actor, self.now(), "port_visa_materials_read", detail, None)
                )
            return _summary(r, files)

    async def content(self, actor: Actor, request_id: int, file_id: int) -> tuple[str, str, bytes]:
        """(media type, file name, bytes) of one file, for those who may see the request; the desk's is audited."""
        async with self.sessions() as s, s.begin():
            r = await s.get(PortVisaRequest, request_id)
            await authorised(s, actor, r)
            f = await s.get(PortVisaFile, file_id)
            if f is None or f.request_id != request_id:
                raise NotFound("no such file of this request")
            if actor.role is Role.PORT_VISA_OFFICER:
                detail = {"request": request_id, "file": file_id}
                await audit.append(
                    s, **caseless_event(actor, self.now(), "port_visa_material_opened", detail, None)
                )
            return f.media_type, f.filename, f.content
