"""The public check page ``/check/{kind}/{token}`` (no sign-in), reached from the QR code of a document."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from cnvisa.cases.queries import documents
from cnvisa.http import throttle
from cnvisa.http.deps import OptionalPrincipalDep, PlatformDep
from cnvisa.http.i18n import negotiate
from cnvisa.web import pdf
from cnvisa.web.pages.render import page

router = APIRouter(include_in_schema=False)


@router.get(
    "/check/{kind}/{token}", response_class=HTMLResponse, dependencies=[Depends(throttle.check_lookup)]
)
async def check_page(
    kind: str, token: str, request: Request, p: PlatformDep, who: OptionalPrincipalDep
) -> HTMLResponse:
    found = await documents.check(p.sessions, kind, token, p.today()) if kind in documents.KINDS else None
    response = page(
        request,
        "public/check.html",
        who,
        status=200 if found else 404,
        found=found,
        kind=kind if kind in documents.KINDS else None,
        **pdf.helpers(negotiate(request)),
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
