"""The officers' list of the day's appointments at their office (default today, Beijing date), each with the
application it was booked for."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cnvisa.cases.queries.appointments import of_office_day
from cnvisa.http.deps import PlatformDep
from cnvisa.http.office import OfficeStaff
from cnvisa.web.pages.render import form_errors, page, t

router = APIRouter(include_in_schema=False)


@router.get("/office/appointments", response_class=HTMLResponse)
async def appointments_of_day(
    request: Request, who: OfficeStaff, p: PlatformDep, day: str = ""
) -> HTMLResponse:
    today = p.today()
    try:
        on = dt.date.fromisoformat(day.strip()) if day.strip() else today
    except ValueError:
        return page(
            request,
            "office/appointments.html",
            who,
            status=422,
            day=today,
            today=today,
            rows=None,
            bad_day=day,
            errors=form_errors(
                request, {"day": ("day", "Day")}, ("day", t(request, "Give the day as YYYY-MM-DD."))
            ),
        )
    rows = await of_office_day(p.sessions, who.actor, on, p.now())
    return page(
        request,
        "office/appointments.html",
        who,
        day=on,
        today=today,
        rows=rows,
        previous=on - dt.timedelta(days=1),
        following=on + dt.timedelta(days=1),
    )
