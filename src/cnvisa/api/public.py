"""The public check of a document's authenticity (no sign-in): the QR code on a receipt, notice or decision
leads here. It confirms the document is genuine and gives its kind, number, office, dates and state — never the
person's name, birth date or nationality. See ``cnvisa.cases.queries.documents`` for the token."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends

from cnvisa.cases.queries import documents
from cnvisa.http import throttle
from cnvisa.http.deps import PlatformDep
from cnvisa.http.problems import Problem

router = APIRouter(tags=["public"])

Kind = Literal["receipt", "notice", "decision"]


@router.get(
    "/public/check/{kind}/{token}",
    response_model=dict[str, Any],
    summary="Check that a receipt, one-time notice or decision is genuine (no sign-in; no personal data)",
    dependencies=[Depends(throttle.check_lookup)],
    responses={429: {"description": "too many lookups from this address (Retry-After)"}},
)
async def check(kind: Kind, token: str, p: PlatformDep) -> dict[str, Any]:
    found = await documents.check(p.sessions, kind, token, p.today())
    if found is None:
        raise Problem(
            404,
            "Not genuine",
            "no document of this kind matches this check code",
            field="token",
            code="not_genuine",
        )
    return found
