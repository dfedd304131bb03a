"""The administrator's page: accounts, offices and their capacity, mandates, API tokens, and the verification
of the audit chains (what ``cnvisa audit verify`` does), for the administrator role only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from cnvisa.cases.audit import VerifyResult
from cnvisa.cases.queries import administration
from cnvisa.cases.workflow import Role
from cnvisa.http.deps import PlatformDep, Principal, check_csrf, require
from cnvisa.web.pages.org import when
from cnvisa.web.pages.render import page

router = APIRouter(include_in_schema=False)


def _(message: str) -> str:
    """Marks a message for the catalogs; translated in the template."""
    return message


ROLE_LABELS = {
    "applicant": _("Applicant"),
    "agent": _("Acting for others (relative or agency)"),
    "org_staff": _("Employer or school staff"),
    "officer": _("Officer"),
    "supervisor": _("Supervisor"),
    "verifier": _("Identity-checking institution"),
    "hotel_staff": _("Hotel front desk"),
    "admin": _("Administrator"),
}
LEVEL_LABELS = {
    "provincial": _("Provincial"),
    "prefecture": _("Prefecture"),
    "county": _("County"),
}

Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


async def _page(
    request: Request, who: Principal, p: PlatformDep, verified: VerifyResult | None = None
) -> HTMLResponse:
    data: dict[str, Any] = await administration.overview(p.sessions, who.actor, p.now())
    for token in data["tokens"]:
        token["when"] = when(request, token["created_at"])
    return page(
        request,
        "admin/overview.html",
        who,
        today=p.today(),
        verified=verified,
        role_labels=ROLE_LABELS,
        level_labels=LEVEL_LABELS,
        **data,
    )


@router.get("/admin", response_class=HTMLResponse)
async def overview(request: Request, who: Admin, p: PlatformDep) -> HTMLResponse:
    return await _page(request, who, p)


@router.post("/admin/audit/verify", response_class=HTMLResponse)
async def verify_audit(request: Request, who: Admin, p: PlatformDep) -> HTMLResponse:
    await check_csrf(request, who)
    result = await administration.verify_audit(p.sessions, who.actor, p.now())
    return await _page(request, who, p, verified=result)
