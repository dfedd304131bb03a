"""Server-rendered pages. Each area has its module and its router; ``ROUTERS`` lists them."""

from __future__ import annotations

from fastapi import APIRouter

from cnvisa.web import pdf
from cnvisa.web.pages import accommodation as accommodation_pages
from cnvisa.web.pages import admin as admin_pages
from cnvisa.web.pages import applicant as applicant_pages
from cnvisa.web.pages import common, office_appointments
from cnvisa.web.pages import joint as joint_pages
from cnvisa.web.pages import joint_desk as joint_desk_pages
from cnvisa.web.pages import notifications as notifications_pages
from cnvisa.web.pages import obligations as obligations_pages
from cnvisa.web.pages import office as office_pages
from cnvisa.web.pages import org as org_pages
from cnvisa.web.pages import penalties as penalty_pages
from cnvisa.web.pages import police as police_pages
from cnvisa.web.pages import port_visa as port_visa_pages
from cnvisa.web.pages import port_visa_materials as port_visa_materials_pages
from cnvisa.web.pages import post_change as post_change_pages
from cnvisa.web.pages import progress as progress_page
from cnvisa.web.pages import public as public_pages
from cnvisa.web.pages import verify as verify_pages

ROUTERS: list[APIRouter] = [
    common.router,
    applicant_pages.router,
    org_pages.router,
    post_change_pages.router,
    verify_pages.router,
    office_pages.router,
    office_appointments.router,
    obligations_pages.router,
    penalty_pages.router,
    notifications_pages.router,
    accommodation_pages.router,
    police_pages.router,
    port_visa_pages.router,
    joint_pages.router,
    joint_desk_pages.router,
    port_visa_materials_pages.router,
    public_pages.router,
    progress_page.router,
    admin_pages.router,
    pdf.router,
]
