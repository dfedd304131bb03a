"""Materials with a port-visa request on the pages (Law Art 20 para 3; issue 11 §1): the inviter or the foreigner
uploads the materials the law engine listed, on the request's page; the filer and the port's desk open them; the
missing ones are named on both pages (``cnvisa.cases.port_visa.materials``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from cnvisa.cases.errors import CaseError
from cnvisa.cases.port_visa.materials import PortVisaMaterials
from cnvisa.cases.queries.port_visa import PortVisaReads
from cnvisa.cases.workflow import Role
from cnvisa.http.applicant import read_files
from cnvisa.http.deps import Platform, PlatformDep, Principal, check_csrf, require
from cnvisa.http.downloads import file_answer
from cnvisa.http.i18n import negotiate
from cnvisa.http.problems import Problem
from cnvisa.law.materials import CATALOGUE
from cnvisa.web.pages.applicant_view import error_of
from cnvisa.web.pages.render import form_errors, t

router = APIRouter(include_in_schema=False)

Filer = Annotated[Principal, Depends(require(Role.ORG_STAFF, Role.APPLICANT))]
Reader = Annotated[Principal, Depends(require(Role.ORG_STAFF, Role.APPLICANT, Role.PORT_VISA_OFFICER))]


def _(message: str) -> str:
    """Marks a message for the catalogs; translated where it is shown."""
    return message


def materials(p: Platform) -> PortVisaMaterials:
    return PortVisaMaterials(p.sessions, p.cases.clock)


def fields(request: Request, listed: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Each listed material's file input (``files.<code>`` → ``file-<code>``), labelled in the page's language."""
    zh = negotiate(request) == "zh_CN"
    out = {"files": (f"file-{listed[0]['code']}" if listed else "files", _("Materials"))}
    for m in listed:
        known = CATALOGUE.get(m["code"])
        label = (known.zh if zh else known.en) if known else m["code"]
        out[f"files.{m['code']}"] = (f"file-{m['code']}", label)
    return out


@router.post("/port-visas/{request_id}/materials", response_model=None)
async def upload(request: Request, request_id: int, who: Filer, p: PlatformDep) -> Response:
    from cnvisa.web.pages.port_visa import FIELDS, _detail  # the request's page, with the errors on it

    await check_csrf(request, who)
    form = await request.form()
    try:
        files = await read_files(p, form, skip=frozenset({"csrf"}))
        if not files:
            raise Problem(422, "Invalid input", "choose at least one file", field="files", code="bad_input")
        await materials(p).upload(who.actor, request_id, files)
    except (Problem, CaseError) as exc:
        e = error_of(request, exc)
        if e["status"] in (401, 403, 404):
            raise
        r = await PortVisaReads(p.sessions, p.cases.clock).read(who.actor, request_id)
        held = await materials(p).of_request(who.actor, request_id)
        text = " ".join(e["explain"]) or t(
            request, "Choose a PDF, JPEG or PNG file for a material listed here, within the size limit."
        )
        found = ((str(e["field"] or "files"), text),)
        response = _detail(
            request,
            who,
            r,
            desk=False,
            values={},
            materials=held,
            errors=form_errors(request, {**FIELDS, **fields(request, held["required"])}, *found),
        )
        response.status_code = e["status"] if e["status"] in (409, 413, 415) else 422
        return response
    return RedirectResponse(f"/port-visas/{request_id}?uploaded=1#materials-h", status_code=303)


@router.get("/port-visas/{request_id}/materials/{file_id}", response_model=None)
async def download(request_id: int, file_id: int, who: Reader, p: PlatformDep) -> Response:
    media, name, content = await materials(p).content(who.actor, request_id, file_id)
    return file_answer(media, name, content, file_id)
