"""The public progress inquiry page ``/progress`` (no sign-in; NIA measures 2024-03-20): the page of the API's
``/api/v1/progress``, answered by the same ``cnvisa.cases.queries.progress.find`` and the same checks of the two numbers.
A wrong pair is "not found" without saying which half was wrong, as in the API. The form posts the numbers (no
passport number in the URL, the access log or the browser's history: PIPL Art 6, ASVS 4.0 V8.3.1); a GET with
the numbers in the query string (an old link) is still answered, and redacted from the access log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from cnvisa.cases.queries import progress
from cnvisa.http import throttle
from cnvisa.http.deps import OptionalPrincipalDep, PlatformDep, Principal, check_csrf
from cnvisa.web.pages.render import form_errors, page, t


def _(message: str) -> str:
    """Marks a message for the catalogs; translated in the template."""
    return message


router = APIRouter(include_in_schema=False)

NEXT_STEP = {
    "draft": _("You: submit the application."),
    "submitted": _("The office: accept the application, or issue the one-time notice of what is missing."),
    "deficient": _("You: supply what the one-time notice lists."),
    "accepted": _("The office: decide within the validity of the acceptance receipt."),
    "under_verification": _("The office: verify the reasons for the application (Regulations Art 20)."),
    "refusal_proposed": _("The office: a second officer confirms or revokes the proposed refusal."),
    "approved": _("The office: issue the document."),
    "issued": _("You: collect the document in person with the receipt and the passport (Guide X)."),
    "collected": _("Nothing: the application is concluded."),
    "refused": _("Nothing: the decision is final (Exit and Entry Administration Law Art 36)."),
    "withdrawn": _("Nothing: the application was withdrawn."),
    "lapsed": _("Nothing: the application lapsed."),
}
"""The next step of each state in the reader's words (the API's ``next_step`` says the same in English)."""
assert set(NEXT_STEP) == set(progress.NEXT_STEP)

FIELD_MESSAGES = {
    "number": _("Give the case number as printed on the receipt (8-24 letters, digits or hyphens)."),
    "passport": _("Give the passport number (5-20 letters or digits)."),
}


@router.get("/progress", response_class=HTMLResponse)
async def progress_page(
    request: Request, p: PlatformDep, who: OptionalPrincipalDep, number: str = "", passport: str = ""
) -> HTMLResponse:
    return await _inquiry(request, p, who, number, passport, asked="number" in request.query_params)


@router.post("/progress", response_class=HTMLResponse)
async def progress_post(
    request: Request,
    p: PlatformDep,
    who: OptionalPrincipalDep,
    number: Annotated[str, Form(max_length=100)] = "",
    passport: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    if who is not None:  # a signed-in reader's form carries the session's token, as every form does
        await check_csrf(request, who)
    return await _inquiry(request, p, who, number, passport, asked=True)


async def _inquiry(
    request: Request, p: PlatformDep, who: Principal | None, number: str, passport: str, asked: bool
) -> HTMLResponse:
    """The form, and the answer when it was sent (``asked``: a POST, or a GET naming a number) — an empty
    field sent is an error, not a blank form again."""
    number, passport = number.strip(), passport.strip().replace(" ", "")
    context: dict[str, object] = {"values": {"number": number, "passport": passport}, "next_step": NEXT_STEP}
    status = 200
    if asked or number or passport:
        bad = [
            f
            for f, rule, v in (("number", progress.NUMBER, number), ("passport", progress.PASSPORT, passport))
            if not rule.admits(v)
        ]
        if bad:
            status = 422
            fields = {
                "number": ("progress-number", "Case number"),
                "passport": ("progress-passport", "Passport number"),
            }
            messages = ((f, t(request, FIELD_MESSAGES[f])) for f in bad)  # both at once (WCAG 3.3.1)
            context.update(errors=form_errors(request, fields, *messages))
        else:
            await throttle.limit(p, "progress", request)
            found = await progress.find(p.tolerant, number, passport, p.today())
            status = 200 if found else 404
            context.update(found=found, asked=True)
    response = page(request, "public/progress.html", who, status=status, **context)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
