"""Materials uploaded with a port-visa request (Law Art 20 para 3; issue 11 §1): the inviting organisation or the
foreigner uploads the materials the law engine listed (a multipart body, each file a part named by its material
code, judged as every upload: PDF, JPEG or PNG by content, size, pixel and page limits, kept without metadata); the
desk of the request's port sees them and, by name, the materials still missing (``cnvisa.cases.port_visa.
materials``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import Response

from cnvisa.api.port_visa import Filer, Reader, RowId
from cnvisa.cases.port_visa.materials import PortVisaMaterials
from cnvisa.http.applicant import read_files
from cnvisa.http.deps import Platform, PlatformDep, check_csrf
from cnvisa.http.downloads import file_answer

router = APIRouter(tags=["port visas (Law Art 20)"])


def materials(p: Platform) -> PortVisaMaterials:
    return PortVisaMaterials(p.sessions, p.cases.clock)


@router.post(
    "/port-visa/requests/{request_id}/materials",
    status_code=201,
    summary="Upload materials the law engine listed for the request: each file a part named by its material code",
)
async def upload(
    request_id: RowId,
    request: Request,
    who: Filer,
    p: PlatformDep,
    port_visa_invitation: Annotated[
        UploadFile | None,
        File(
            description="e.g. the invitation letter (port_visa_invitation); every material is a part named "
            "by its code (PDF, JPEG, PNG)"
        ),
    ] = None,
) -> dict[str, Any]:
    await check_csrf(request, who)
    files = await read_files(p, await request.form(), skip=frozenset({"csrf"}))
    return await materials(p).upload(who.actor, request_id, files)


@router.get(
    "/port-visa/requests/{request_id}/materials",
    summary="The materials the engine listed, those uploaded, and those still missing (by name)",
)
async def listed(request_id: RowId, who: Reader, p: PlatformDep) -> dict[str, Any]:
    return await materials(p).of_request(who.actor, request_id)


@router.get(
    "/port-visa/requests/{request_id}/materials/{file_id}",
    summary="One uploaded material (a download)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}},
)
async def one_file(request_id: RowId, file_id: RowId, who: Reader, p: PlatformDep) -> Response:
    media, name, content = await materials(p).content(who.actor, request_id, file_id)
    return file_answer(media, name, content, file_id)
