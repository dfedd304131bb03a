"""A port visa (口岸签证) — Exit and Entry Administration Law Art 20, Art 21, Art 25.

The rules, ports and purposes are in ``cnvisa.law.port_visa``; this module runs them for one application: the
port on the arrival date, the purpose, the urgent need, the materials, what may be issued (category, one entry,
at most 30 days, only at that port) and the grounds on which it may be refused.
"""

from __future__ import annotations

import datetime as dt

from cnvisa.law import port_visa as pv
from cnvisa.law import refusals
from cnvisa.law.citations import law, reg
from cnvisa.law.errors import InvalidInput
from cnvisa.law.matters.record import Assessment
from cnvisa.law.matters.steps import category_on, check_requested_stay, issuable


def run(a: Assessment) -> None:
    app = a.app
    facts = app.port_visa
    if facts is None:
        raise InvalidInput("port_visa", "is required for a port visa: the port and the facts (Law Art 20)")
    if app.purpose is None:
        raise InvalidInput("purpose", "is required for a port visa: the category follows it (Law Art 20)")
    arrival = facts.arrival_date or app.on
    a.require_codes(("passport", "application_form", "photo"), pv.LAW20_PORT, reg(7, paragraph=1))
    if arrival < app.on:
        a.problem(
            "arrival_before_application",
            f"The arrival on {arrival.isoformat()} is before the application ({app.on.isoformat()}): a port visa is "
            "applied for in advance or on arrival at the port.",
            f"抵达口岸日期{arrival.isoformat()}早于申请日期{app.on.isoformat()}：口岸签证应当提前或者抵达口岸时申请。",
            [pv.LAW20_WHO, pv.LAW20_PORT],
            field="port_visa.arrival_date",
        )
    # Law Art 20 para 1: a port the State Council approved, on the day of arrival (pv.READING_DATE)
    check = pv.check_port(facts.port, arrival)
    a.step(
        "port_visa.check_port",
        list(check.citations),
        {"port": facts.port, "arrival_date": arrival},
        check.problem or "issues port visas",
    )
    if check.problem is not None:
        a.problem(check.problem, check.en, check.zh, list(check.citations), field="port_visa.port")
    purpose = pv.PURPOSES.get(app.purpose)
    purpose_ok = _purpose(a, purpose, arrival)
    ok = check.problem is None and purpose_ok
    a.extra["port_visa"] = {
        "port": facts.port,
        "arrival_date": arrival.isoformat(),
        "consent_required": None,
        "readings": [pv.READING_DATE, pv.READING_CONSENT, pv.READING_CATEGORY],
    }
    _refusal(a)
    a.out["fee_cny"] = None
    a.extra["fee_basis"] = "no port-visa fee in the sources (reforms.md §11 q8)"
    if purpose is None:
        return
    if purpose.urgent and facts.urgent is not True:
        a.problem(
            "no_urgent_need" if facts.urgent is False else "urgent_need_not_stated",
            "A port visa is for an urgent need to enter with no time to get a visa abroad (Law Art 20 para 1)"
            + (
                ": the application states there is none."
                if facts.urgent is False
                else ": say whether there is one."
            ),
            "口岸签证适用于紧急入境需要、来不及在境外办妥签证的外国人"
            + ("，申请未说明紧急事由。" if facts.urgent is False else "，请说明是否有紧急入境需要。"),
            [pv.LAW20_WHO],
            field="port_visa.urgent",
        )
    if purpose.code == "group_tourism" and facts.inviter != "travel_agency":
        a.problem(
            "group_visa_needs_travel_agency",
            "A group tourist visa at a port is applied for by the travel agency organising the tour (Law Art 20 "
            "para 2).",
            "团体旅游口岸签证由组织入境旅游的旅行社申请办理。",
            [pv.LAW20_GROUP],
            field="port_visa.inviter",
        )
    materials = purpose.materials
    consent = pv.consent_required(purpose, arrival)
    if consent:
        materials = (*materials, pv.CONSENT_MATERIAL)
    basis = pv.basis_on(purpose, arrival)
    a.require_codes(materials, *basis)
    a.step(
        "port_visa.materials",
        [*basis, pv.LAW20_PORT],
        {"purpose": purpose.code, "arrival_date": arrival},
        {"materials": list(materials), "consent_required": consent},
    )
    a.extra["port_visa"]["consent_required"] = consent
    code = pv.category_for(purpose, facts.inviter)
    if code is None and purpose.code == "family_visit":
        a.problem(
            "category_not_determined",
            "The visa category cannot be determined: say whether the person visited is a Chinese citizen or "
            "permanent resident (Q2) or a foreigner residing in China (S2).",
            "无法确定签证种类：请说明探望对象是中国公民、永久居留外国人（Q2字）还是在华居留的外国人（S2字）。",
            [pv.LAW20_WHO, reg(6)],
            field="port_visa.inviter",
        )
    elif code is None:
        a.problem(
            "category_not_determined",
            "Another urgent need names no visa category: the port visa authority issues the category matching the "
            "reason for entry (Regulations Art 6).",
            "其他紧急入境需要未对应特定签证种类，由口岸签证机关按照入境事由签发相应种类的签证。",
            [pv.LAW20_WHO, reg(6)],
            blocking=False,
            field="purpose",
        )
    if not ok:
        return
    cat = category_on(a, code, "purpose") if code else None
    if app.requested.category is not None and code is not None and app.requested.category != code:
        a.problem(
            "category_does_not_match_purpose",
            f"A port visa for {purpose.code.replace('_', ' ')} is issued as {code}, not "
            f"{app.requested.category}.",
            f"口岸签证按申请事由签发{code}字签证，而非{app.requested.category}字签证。",
            [pv.LAW20_WHO, *((cat.art6(app.on),) if cat else ())],
            field="requested.category",
        )
    if app.requested.entries not in (None, pv.ENTRIES):
        a.problem(
            "port_visa_single_entry",
            "A port visa is valid for a single entry (Law Art 20 para 4).",
            "口岸签证一次入境有效。",
            [pv.LAW20_LIMITS],
            field="requested.entries",
        )
    check_requested_stay(a, app.requested.stay_days, pv.MAX_STAY_DAYS, [pv.LAW20_LIMITS])
    issuable(
        a,
        code,
        [pv.ENTRIES],
        None,
        pv.MAX_STAY_DAYS,
        port=facts.port,
        usable_only_at_port=True,
    )
    a.step(
        "port_visa.issuable",
        [pv.LAW20_LIMITS, pv.LAW20_PORT, *((cat.art6(app.on),) if cat else ())],
        {"purpose": purpose.code, "inviter": facts.inviter, "port": facts.port},
        a.out["issuable"],
    )


def _purpose(a: Assessment, purpose: pv.PortPurpose | None, arrival: dt.date) -> bool:
    """Does the purpose qualify for a port visa on the arrival date (Law Art 20 para 1-2; the measures)?"""
    app = a.app
    assert app.purpose is not None
    if purpose is None:
        a.problem(
            "purpose_not_qualifying",
            f"{app.purpose.replace('_', ' ').capitalize()} does not qualify for a port visa: Law Art 20 allows them for "
            "urgent humanitarian, business or repair needs and group tourism; the MPS 2023 and NIA 2024 measures "
            "add business, visits, relatives and private affairs. Apply at a Chinese mission abroad.",
            "该申请事由不属于可以申办口岸签证的情形，应当向中国驻外签证机关申请签证。",
            [pv.LAW20_WHO, pv.LAW20_GROUP, pv.MPS_MEASURE, pv.NIA_MEASURE],
            field="purpose",
        )
        a.step("port_visa.purpose", [pv.LAW20_WHO], {"purpose": app.purpose}, "does not qualify")
        return False
    if arrival < purpose.from_:
        a.problem(
            "purpose_not_yet_qualifying",
            f"{purpose.code.replace('_', ' ').capitalize()} qualifies for a port visa from "
            f"{purpose.from_.isoformat()} (NIA measures 2024-01-11 no. 1); on {arrival.isoformat()} only the "
            "grounds of Law Art 20 did (urgent humanitarian, business, repair or other need with the competent "
            "department's consent).",
            f"该事由自{purpose.from_.isoformat()}起可以申办口岸签证，{arrival.isoformat()}尚不适用。",
            [*purpose.basis],
            field="purpose",
        )
        a.step("port_visa.purpose", [*purpose.basis], {"purpose": purpose.code}, "not yet qualifying")
        return False
    a.step("port_visa.purpose", [*pv.basis_on(purpose, arrival)], {"purpose": purpose.code}, "qualifies")
    return True


def _refusal(a: Assessment) -> None:
    """Law Art 21 (visa refusal grounds) and Art 25 (refusal of entry): codes as ``cnvisa.law.refusals`` names them;
    the reasons may be withheld (Law Art 21 para 2, Art 25 para 2)."""
    grounds = refusals.grounds_for("port_visa", on=a.app.on)
    withheld = (law(21, paragraph=2), law(25, paragraph=2))
    a.extra["refusal"] = {
        "grounds": [g.code for g in grounds],
        "reasons_may_be_withheld": True,
        "final": False,
        "citations": [c.as_dict() for c in withheld],
    }
    a.step(
        "refusals.grounds_for",
        [*(g.citation for g in grounds), *withheld],
        {"matter": "port_visa"},
        [g.code for g in grounds],
    )
