"""Where each article of the Regulations (1-39) and each section of the Guide (I-XII) lives in code,
or why it does not apply to this platform. ``cnvisa law coverage`` joins this map with the tests that
cite each provision; a provision with neither code nor a reason is a gap and fails the report.
"""

from __future__ import annotations

from typing import Final

Entry = tuple[tuple[str, ...], str | None]
"""(dotted names of the implementing code, reason it does not apply — or None)."""

REGULATIONS: Final[dict[int, Entry]] = {
    1: (
        (),
        "Purpose clause: states the basis (the Exit and Entry Administration Law); no rule to run. Cited by "
        "cnvisa.law.versions.",
    ),
    2: (
        (),
        "Coordination mechanisms of the State Council and provincial governments: inter-government "
        "organisation, not a rule applied to an application.",
    ),
    3: (
        (),
        "The MPS information platform and information sharing between departments: the platform consumes "
        "shared records in the 2024 reform measures (paper evidence waived), not a rule of the law engine.",
    ),
    4: (
        (),
        "Duty of ministries to publish the rules at websites and application sites: served by the platform's "
        "public pages (issue 4); no decision rule.",
    ),
    5: (
        (),
        "Diplomatic, courtesy and service visas are the Ministry of Foreign Affairs' (Art 5); this platform "
        "handles ordinary visas only (Guide I).",
    ),
    6: (("cnvisa.law.categories.CATEGORIES", "cnvisa.law.categories.visa_category"), None),
    7: (("cnvisa.law.matters.visa.run", "cnvisa.law.materials.CATALOGUE"), None),
    8: (("cnvisa.law.matters.visa.run",), None),
    9: (("cnvisa.law.categories.residence_permit_requirement",), None),
    10: (
        (
            "cnvisa.law.replacement.replacement_row",
            "cnvisa.law.matters.visa_replacement.run",
            "cnvisa.law.office_choice.office_rule",
        ),
        None,
    ),
    11: (
        (
            "cnvisa.law.reissue.GROUNDS",
            "cnvisa.law.matters.visa_reissue.run",
            "cnvisa.law.office_choice.office_rule",
        ),
        None,
    ),
    12: (("cnvisa.law.matters.steps.base_materials",), None),
    13: (
        (
            "cnvisa.law.acceptance.receipt_valid_until",
            "cnvisa.law.acceptance.one_time_notice",
            "cnvisa.law.status.residence_status",
        ),
        None,
    ),
    14: (
        (
            "cnvisa.law.extension.max_extension_days",
            "cnvisa.law.matters.visa_extension.run",
            "cnvisa.law.port_visa.extension_ceiling",
        ),
        None,
    ),
    15: (("cnvisa.law.residence.PERMIT_TYPES",), None),
    16: (
        (
            "cnvisa.law.residence.permit_materials",
            "cnvisa.law.residence.needs_health_certificate",
            "cnvisa.law.residence.health_certificate_valid_until",
            "cnvisa.law.office_choice.office_rule",
        ),
        None,
    ),
    17: (
        (
            "cnvisa.law.matters.residence_permit.residence_permit_extension",
            "cnvisa.law.matters.residence_permit.residence_permit_replacement",
        ),
        None,
    ),
    18: (("cnvisa.law.acceptance.receipt_valid_until", "cnvisa.law.acceptance.one_time_notice"), None),
    19: (("cnvisa.law.proxy.proxy_allowed",), None),
    20: (("cnvisa.law.verification.verification_method", "cnvisa.law.refusals.GROUNDS"), None),
    21: (("cnvisa.law.refusals.check_refusal",), None),
    22: (("cnvisa.law.matters.residence_permit.study_work_annotation",), None),
    23: (("cnvisa.law.matters.exit_without_passport.run",), None),
    24: (("cnvisa.law.status.residence_status",), None),
    25: (("cnvisa.law.status.residence_status",), None),
    26: (("cnvisa.law.reports.report_event",), None),
    27: (("cnvisa.law.verification.institution_may_verify",), None),
    28: (
        (),
        "Stay and residence permits of foreigners on diplomatic or official missions follow the Ministry of "
        "Foreign Affairs' provisions (Art 28), outside this platform.",
    ),
    29: (("cnvisa.law.status.check_detention_transfer",), None),
    30: (
        (),
        "Decisions restricting a foreigner's scope of activities (Law Art 61) are made in enforcement "
        "proceedings outside this platform; the restricted area they set enters a person's status through "
        "Art 24 and Art 25(3) (cnvisa.law.status.residence_status).",
    ),
    31: (("cnvisa.law.status.check_entry_ban_years",), None),
    32: (
        (),
        "Who bears repatriation expenses and which authority executes it (Art 32) is enforcement finance, "
        "not decided on this platform.",
    ),
    33: (("cnvisa.law.status.check_exit_deadline",), None),
    34: (("cnvisa.law.status.declare_void",), None),
    35: (("cnvisa.law.status.cancel",), None),
    36: (
        (
            "cnvisa.law.calendar.add_working_days",
            "cnvisa.law.status.last_day_of_stay",
            "cnvisa.law.status.term",
            "cnvisa.law.status.entry_validity_ends_at",
            "cnvisa.law.status.entries_left",
        ),
        None,
    ),
    37: (
        (),
        "Overseas visa authorities entrusting local institutions with visa-application services (Art 37) "
        "concerns Ministry of Foreign Affairs missions abroad.",
    ),
    38: (
        (),
        "Formats of visas (MFA with MPS) and of stay and residence permits (MPS) are set by the ministries; "
        "the platform renders the documents it issues but sets no format rule.",
    ),
    39: (("cnvisa.law.versions.regulations_version",), None),
}

GUIDE: Final[dict[str, Entry]] = {
    "I": (("cnvisa.law.versions.GUIDE", "cnvisa.law.assess.assess"), None),
    "II": (("cnvisa.law.citations.REGULATIONS", "cnvisa.law.citations.LAW"), None),
    "III": (("cnvisa.law.office_choice.office_rule", "cnvisa.law.office_choice.covers"), None),
    "IV": (("cnvisa.law.proxy.proxy_allowed",), None),
    "V": (("cnvisa.law.refusals.check_refusal",), None),
    "VI": (
        (
            "cnvisa.law.extension.extension_rule",
            "cnvisa.law.replacement.replacement_row",
            "cnvisa.law.reissue.GROUNDS",
            "cnvisa.law.business_visa.multiple_entry_max_days",
        ),
        None,
    ),
    "VII": (
        (
            "cnvisa.law.acceptance.one_time_notice",
            "cnvisa.law.verification.verification_method",
            "cnvisa.law.matters.office.run",
        ),
        None,
    ),
    "VIII": (("cnvisa.law.acceptance.receipt_working_days",), None),
    "IX": (("cnvisa.law.fees.visa_fee", "cnvisa.law.fees.fee_row"), None),
    "X": (
        (),
        "Collection in person with the receipt is a step of the case workflow (issue 3: collect, passport "
        "presented), not a rule of the law engine.",
    ),
    "XI": (
        (),
        "The applicant's obligations (truthful materials, cooperation) are shown to applicants; their "
        "breach is decided through refusal grounds reg21_2 and law31_2 (Guide V).",
    ),
    "XII": (
        (
            "cnvisa.law.definitions.is_family_member",
            "cnvisa.law.definitions.identity_documents",
            "cnvisa.law.definitions.foreign_document_needs",
        ),
        None,
    ),
}
