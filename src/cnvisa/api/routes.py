"""All API routers, in the order they appear in the OpenAPI document."""

from __future__ import annotations

from fastapi import APIRouter

from cnvisa.api import accommodation as accommodation_api
from cnvisa.api import admin as admin_api
from cnvisa.api import applicant as applicant_api
from cnvisa.api import auth
from cnvisa.api import joint as joint_api
from cnvisa.api import notifications as notifications_api
from cnvisa.api import obligations as obligations_api
from cnvisa.api import office as office_api
from cnvisa.api import org as org_api
from cnvisa.api import penalties as penalties_api
from cnvisa.api import police as police_api
from cnvisa.api import port_visa as port_visa_api
from cnvisa.api import port_visa_materials as port_visa_materials_api
from cnvisa.api import post_change as post_change_api
from cnvisa.api import progress as progress_api
from cnvisa.api import public as public_api
from cnvisa.api import verify as verify_api
from cnvisa.api import work_permit_desk as work_permit_desk_api

ROUTERS: list[APIRouter] = [
    auth.router,
    applicant_api.router,
    progress_api.router,
    org_api.router,
    post_change_api.router,
    verify_api.router,
    office_api.router,
    obligations_api.router,
    penalties_api.router,
    notifications_api.router,
    accommodation_api.router,
    police_api.router,
    port_visa_api.router,
    joint_api.router,
    work_permit_desk_api.router,
    port_visa_materials_api.router,
    public_api.router,
    admin_api.router,
]
