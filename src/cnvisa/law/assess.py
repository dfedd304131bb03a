"""``assess``: one application in, one cited answer out.

The assessment is what an officer at the acceptance window needs: may the application be accepted
as submitted, and if not, the one-time notice of everything missing (Regulations Art 13 para 2,
Art 18 para 2); the limits the law sets (last day of stay, last day to apply, the longest extension,
what may be issued); whether someone else may submit it (Art 19); the receipt's last day (Art 13,
18, 36); the fee (Guide IX). Every value is traced to the rule and article that produced it.

This module dispatches to one module per matter (``cnvisa.law.matters``) and then runs the steps every
matter shares: who may submit (Art 19), foreign documents (Guide XII), the receipt (Art 13, 18, 36).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from cnvisa.law import acceptance, proxy
from cnvisa.law import calendar as workdays
from cnvisa.law.application import VISA_MATTERS, Application, parse
from cnvisa.law.citations import guide, reg
from cnvisa.law.definitions import foreign_document_needs
from cnvisa.law.errors import CalendarYearNotLoaded, NotInForce
from cnvisa.law.matters import (
    exit_without_passport,
    office,
    port_visa,
    residence_permit,
    stay_permit,
    visa,
    visa_extension,
    visa_reissue,
    visa_replacement,
)
from cnvisa.law.matters.record import OUTPUT_KEYS, TRACE_VERSION, Assessment
from cnvisa.law.versions import ENGINE_VERSION, GUIDE, law_version, require

__all__ = ["HANDLERS", "OUTPUT_KEYS", "TRACE_VERSION", "assess"]

HANDLERS: Final[dict[str, Callable[[Assessment], None]]] = {
    "visa": visa.run,
    "visa_extension": visa_extension.run,
    "visa_replacement": visa_replacement.run,
    "visa_reissue": visa_reissue.run,
    "stay_permit": stay_permit.run,
    "residence_permit": residence_permit.residence_permit,
    "residence_permit_extension": residence_permit.residence_permit_extension,
    "residence_permit_replacement": lambda a: residence_permit.residence_permit_replacement(a, False),
    "residence_permit_reissue": lambda a: residence_permit.residence_permit_replacement(a, True),
    "study_work_annotation": residence_permit.study_work_annotation,
    "exit_without_passport": exit_without_passport.run,
    "port_visa": port_visa.run,
}
"""One handler per matter (``cnvisa.law.matters``)."""


def _proxy(a: Assessment) -> None:
    app = a.app
    ans = proxy.proxy_allowed(
        app.matter,
        app.on,
        birth_date=app.applicant.birth_date,
        mobility_impaired=app.applicant.mobility_impaired,
        first_entry=app.applicant.first_entry,
        good_record=app.applicant.good_record,
        inviter_covers_expenses=app.inviter_covers_expenses,
        talent=app.applicant.talent,
    )
    a.out["proxy_allowed"] = ans.allowed
    if ans.allowed is None:
        return
    cites = [*ans.citations, *(proxy.GROUND_CITATIONS[g] for g in ans.grounds)]
    a.step(
        "proxy.proxy_allowed",
        cites,
        {
            "age": ans.age,
            "mobility_impaired": app.applicant.mobility_impaired,
            "first_entry": app.applicant.first_entry,
            "good_record": app.applicant.good_record,
            "inviter_covers_expenses": app.inviter_covers_expenses,
            "talent": app.applicant.talent,
        },
        {"allowed": ans.allowed, "grounds": list(ans.grounds)},
    )
    a.extra["proxy_grounds"] = list(ans.grounds)
    if app.submitted_by != "self" and not ans.allowed:
        a.problem(
            "proxy_not_allowed",
            f"Submission by {app.submitted_by.replace('_', ' ')} is not allowed: none of the grounds of "
            "Regulations Art 19 applies; the applicant must apply in person.",
            "不符合《条例》第十九条规定的代为申请情形，应当由本人申请。",
            list(ans.citations),
            field="submitted_by",
        )


def _receipt(a: Assessment) -> None:
    app = a.app
    spec = acceptance.receipt_working_days(app.matter)
    if spec is None:
        return
    days, cites = spec
    accepted = app.accepted_on
    if accepted is None:
        if a.missing() or any(p["severity"] == "blocking" for p in a.problems):
            return  # not acceptable as submitted: no receipt to project
        accepted = app.on  # projected: were it accepted on the day of application
    try:
        until = workdays.add_working_days(accepted, days)
    except CalendarYearNotLoaded as exc:
        a.problem(
            "calendar_year_not_loaded",
            str(exc),
            f"未载入{exc.year}年国务院节假日安排通知，无法计算工作日。",
            list(cites),
            blocking=False,
        )
        return
    a.out["receipt_valid_until"] = until
    a.step(
        "acceptance.receipt_valid_until",
        list(cites),
        {"accepted_on": accepted, "working_days": days, "projected": app.accepted_on is None},
        until,
    )


def _foreign_documents(a: Assessment) -> None:
    for doc in a.app.foreign_documents:
        req = foreign_document_needs(
            doc.code,
            a.app.on,
            issued_abroad=doc.issued_abroad,
            issuing_state_apostille_party=doc.issuing_state_apostille_party,
            legalisation=doc.legalisation,
            language=doc.language,
            translated_into_chinese=doc.translated_into_chinese,
        )
        a.step("definitions.foreign_document_needs", req.citations, {"code": doc.code}, list(req.needs))
        for what in req.needs:
            a.missing_extra.append(f"{what}:{doc.code}")


def assess(application: dict[str, Any] | Application) -> dict[str, Any]:
    """Assess one application (see ``cnvisa.law.application`` for the input contract).

    Raises ``InvalidInput`` naming the field when the input is malformed. Rules that are not in force
    on the date asked produce a blocking ``not_in_force`` problem, never a silent answer.
    """
    app = parse(application)
    a = Assessment(app)
    try:
        law_version(app.on)
    except NotInForce as exc:
        a.problem(
            "not_in_force", str(exc), f"{app.on.isoformat()}时《外国人入境出境管理条例》尚未施行。", [reg(39)]
        )
        out = a.out
        out.update(
            acceptable=False,
            problems=a.problems,
            required_materials=[],
            missing_materials=[],
            law_version=None,
            citations=[c.as_dict() for c in a.cites],
            trace={"version": TRACE_VERSION, "engine": ENGINE_VERSION, "steps": []},
        )
        return {"matter": app.matter, "on": app.on.isoformat(), **out}
    if app.matter in VISA_MATTERS:
        try:
            require(GUIDE, app.on, "The Guide on visa extension, replacement and reissuance", guide("I"))
        except NotInForce as exc:
            a.problem("not_in_force", str(exc), "申请之日《指南》尚未适用。", [guide("I")])
    HANDLERS[app.matter](a)
    office.run(a)
    _proxy(a)
    _foreign_documents(a)
    _receipt(a)
    return a.result()
