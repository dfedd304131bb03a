"""Sign-in for API clients and the signed-in account."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from cnvisa.http.deps import PlatformDep, PrincipalDep
from cnvisa.http.signin import do_sign_in, do_sign_out

router = APIRouter(tags=["auth"])


class SignIn(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)


class Me(BaseModel):
    account_id: int
    username: str
    display_name: str
    role: str
    office_id: int | None
    organisation_id: int | None
    person_id: int | None
    represents: list[int]
    csrf: str | None


@router.post("/auth/signin", response_model=dict[str, str], summary="Sign in (sets the session cookie)")
async def sign_in(body: SignIn, request: Request, response: Response, p: PlatformDep) -> dict[str, str]:
    csrf = await do_sign_in(p, request, response, body.username, body.password)
    return {"csrf": csrf}


@router.post("/auth/signout", status_code=204, summary="Sign out")
async def sign_out(request: Request, who: PrincipalDep, p: PlatformDep) -> Response:
    return await do_sign_out(p, request, who, Response(status_code=204))


@router.get("/auth/me", response_model=Me, summary="The signed-in account")
async def me(who: PrincipalDep) -> Me:
    a = who.account
    return Me(
        account_id=a.id,
        username=a.username,
        display_name=a.display_name,
        role=a.role,
        office_id=a.office_id,
        organisation_id=a.organisation_id,
        person_id=a.person_id,
        represents=sorted(who.actor.represents),
        csrf=who.csrf,
    )
