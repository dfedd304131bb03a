"""Labels of the codes pages and PDFs show (matters, case states, submitters, kinds of document, materials), in
the reader's language. Each table is translated once per locale; templates apply them as filters
(``{{ case.matter|matter_label }}``), which Jinja calls directly — the queue page shows hundreds."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from cnvisa.http.i18n import gettext
from cnvisa.law.materials import CATALOGUE

MATTERS = {
    "visa": "Visa",
    "visa_extension": "Visa extension",
    "visa_replacement": "Visa replacement",
    "visa_reissue": "Visa reissue",
    "stay_permit": "Stay permit",
    "residence_permit": "Residence permit",
    "residence_permit_extension": "Residence permit extension",
    "residence_permit_replacement": "Residence permit replacement",
    "residence_permit_reissue": "Residence permit reissue",
    "study_work_annotation": "Off-campus work or internship annotation",
    "exit_without_passport": "Exit formalities without a passport",
}
STATES = {
    "draft": "Draft",
    "submitted": "Submitted",
    "deficient": "One-time notice issued",
    "accepted": "Accepted",
    "under_verification": "Under verification",
    "refusal_proposed": "Refusal proposed",
    "approved": "Approved",
    "refused": "Refused",
    "issued": "Issued",
    "collected": "Collected",
    "withdrawn": "Withdrawn",
    "lapsed": "Lapsed",
    "not_issuable": "Not issuable: the work permit was refused",
}
SUBMITTERS = {
    "self": "The applicant in person",
    "inviting_entity": "The inviting entity",
    "inviting_person": "The inviting person",
    "relative": "A relative",
    "service_agency": "A specialised service agency",
}
HOLDING_KINDS = {
    "visa": "Visa",
    "stay_permit": "Stay permit",
    "residence_permit": "Residence permit",
    "exit_permit": "Exit permit",
}

TABLES = {
    "matter_label": MATTERS,
    "state_label": STATES,
    "submitter_label": SUBMITTERS,
    "holding_label": HOLDING_KINDS,
}


@cache
def translated(locale: str, name: str) -> dict[str, str]:
    if name == "material_label":
        return {code: (m.zh if locale == "zh_CN" else m.en) for code, m in CATALOGUE.items()}
    return {code: gettext(locale, text) for code, text in TABLES[name].items()}


def filters(locale: str) -> dict[str, Callable[[str], str]]:
    """One filter per table; an unknown code shows as itself."""

    def label_of(table: dict[str, str]) -> Callable[[str], str]:
        get = table.get
        return lambda code: get(code, code)

    return {name: label_of(translated(locale, name)) for name in (*TABLES, "material_label")}
