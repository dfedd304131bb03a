"""The texts of notifications (issue 12), in the recipient's language (zh_CN or en) from the Babel catalogs
(``locales/*/LC_MESSAGES/notifications.po``; the duties' and matters' own words come from the catalogs that the
pages use). ``cnvisa.cases.delivery`` calls ``NotificationTexts.render`` once per message, at its first attempt.

A reminder names the duty, its deadline and the article that sets it (``cite_text``, in the reader's language);
its step is an office rule, and says so."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from cnvisa.http.i18n import format_date, gettext
from cnvisa.web.labels import translated
from cnvisa.web.pdf import cite_text

DUTIES = {
    "residence_permit_extension": "Apply to extend the residence permit, if you need to stay longer",
    "visa_stay_extension": "Apply to extend the stay on the visa, if you need to stay longer",
    "residence_permit_after_entry": "Apply for a residence permit after entry",
    "change_of_particulars": "Apply to change the particulars on the residence permit",
    "accommodation_registration": "Register the stay with the police within 24 hours of moving in",
    "employer_report": "Report to the exit-entry office that the person left the organisation",
}
"""The duties' words, as the holder's page says them (obligations/_duty.html)."""

SUBJECTS = {
    "reminder": "Reminder: %(duty)s by %(date)s",
    "late": "Deadline passed: %(duty)s",
    "notice": "Application %(case)s: materials missing (one-time notice)",
    "approved": "Application %(case)s approved",
    "refused": "Application %(case)s refused",
    "issued": "Application %(case)s: your document is issued",
    "work_permit_granted": "Application %(case)s: the work permit is granted",
    "work_permit_refused": "Application %(case)s: the work permit is refused",
    "near": "Case %(case)s is near its statutory deadline",
    "overdue": "Case %(case)s is past its statutory deadline",
}
BODIES = {
    "reminder": "%(duty)s. The deadline is %(date)s, %(days)s days from the day of this message. The law that sets "
    "it: %(cite)s. When to remind you is an office rule (%(step)s days before the deadline).",
    "late": "The deadline of %(date)s has passed with nothing on record: %(duty)s. The law that set it: %(cite)s. "
    "Contact your exit-entry office.",
    "notice": "The office lists what is missing from application %(case)s (%(matter)s), all at once: %(items)s. "
    "Hand it in by %(date)s, or the application lapses (Regulations Art 13 para 2, Art 18 para 2).",
    "approved": "Application %(case)s (%(matter)s) has been approved. The office will tell you when to collect "
    "the document.",
    "refused": "Application %(case)s (%(matter)s) has been refused. The decision and its grounds are on your "
    "application's page (Regulations Art 21).",
    "issued": "The document of application %(case)s (%(matter)s) is issued: collect it at the office.",
    "work_permit_granted": "The work-permit authority granted the work permit of your joint application with "
    "%(case)s (%(matter)s). The exit-entry office decides the residence permit; both are issued together.",
    "work_permit_refused": "The work-permit authority refused the work permit of your joint application with "
    "%(case)s (%(matter)s); its reasons are on the application's page (Administrative Licensing Law Art 38 para 2). "
    "The residence permit applied for with it cannot be issued (Exit and Entry Administration Law Art 41; "
    "Regulations Art 16(1)): that is not a refusal of it.",
    "near": "Case %(case)s (%(matter)s) has its statutory deadline on %(date)s (Regulations Art 36 para 2). "
    "Near is an office rule.",
    "overdue": "Case %(case)s (%(matter)s) passed its statutory deadline of %(date)s (Regulations Art 36 para 2).",
}


class NotificationTexts:
    """``render(template, language, context) -> (subject, body)``."""

    def render(self, template: str, language: str, context: Mapping[str, Any]) -> tuple[str, str]:
        if template not in SUBJECTS:
            raise ValueError(f"no text for the template {template!r}")
        loc = language if language in ("zh_CN", "en") else "en"
        c = dict(context)
        when = c.get("due_by") or c.get("respond_by") or c.get("deadline")
        values: dict[str, Any] = {
            "case": c.get("case", ""),
            "matter": translated(loc, "matter_label").get(c.get("matter", ""), c.get("matter", "")),
            "date": format_date(when, loc, "long") if when else "—",
            "cite": "; ".join(cite_text(x, loc) for x in c.get("citations", [])) or "—",
            "items": (
                ("、" if loc == "zh_CN" else ", ").join(
                    translated(loc, "material_label").get(i, i) for i in c.get("items", [])
                )
                or "—"
            ),
        }
        kind = c.get("kind")
        if kind is not None:
            values["duty"] = gettext(loc, DUTIES[kind]) if kind in DUTIES else kind
        stage = str(c.get("stage", ""))
        if stage.startswith("T-"):
            values["step"] = stage[2:]
            if c.get("due_by") and c.get("today"):
                values["days"] = (dt.date.fromisoformat(c["due_by"]) - dt.date.fromisoformat(c["today"])).days
            else:
                values["days"] = stage[2:]
        subject = gettext(loc, SUBJECTS[template]) % values
        body = gettext(loc, BODIES[template]) % values
        return subject, body
