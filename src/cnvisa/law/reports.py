"""Reports by employers and schools — Regulations Art 26.

Entities that employ foreigners or enrol foreign students report promptly to the local exit-entry
administration when they discover any of the events below. Which events an entity may report depends
on the relationship: items (1) concerns employees, item (2) students, items (3)-(4) both.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

from cnvisa.law.citations import Citation, reg
from cnvisa.law.errors import InvalidInput
from cnvisa.law.versions import require_cited

Relationship = Literal["employee", "student"]


@dataclass(frozen=True, slots=True)
class ReportEvent:
    code: str
    en: str
    zh: str
    relationships: frozenset[str]
    citation: Citation


EVENTS: Final[dict[str, ReportEvent]] = {
    e.code: e
    for e in (
        ReportEvent(
            "resigned", "The employee resigned", "聘用的外国人离职", frozenset({"employee"}), reg(26, 1)
        ),
        ReportEvent(
            "changed_work_location",
            "The employee changed work location",
            "聘用的外国人变更工作地域",
            frozenset({"employee"}),
            reg(26, 1),
        ),
        ReportEvent(
            "graduated", "The student graduated", "招收的外国留学生毕业", frozenset({"student"}), reg(26, 2)
        ),
        ReportEvent(
            "completed_studies",
            "The student completed the studies",
            "招收的外国留学生结业",
            frozenset({"student"}),
            reg(26, 2),
        ),
        ReportEvent(
            "discontinued_studies",
            "The student discontinued the studies",
            "招收的外国留学生肄业",
            frozenset({"student"}),
            reg(26, 2),
        ),
        ReportEvent(
            "withdrew",
            "The student withdrew from school",
            "招收的外国留学生退学",
            frozenset({"student"}),
            reg(26, 2),
        ),
        ReportEvent(
            "left_institution",
            "The student left the admitting institution",
            "招收的外国留学生离开原招收单位",
            frozenset({"student"}),
            reg(26, 2),
        ),
        ReportEvent(
            "violated_exit_entry_rules",
            "Violated the provisions on exit and entry administration",
            "违反出境入境管理规定",
            frozenset({"employee", "student"}),
            reg(26, 3),
        ),
        ReportEvent("died", "Died", "死亡", frozenset({"employee", "student"}), reg(26, 4)),
        ReportEvent("missing", "Went missing", "失踪", frozenset({"employee", "student"}), reg(26, 4)),
        ReportEvent(
            "other", "Other such circumstances", "其他情形", frozenset({"employee", "student"}), reg(26, 4)
        ),
    )
}


def report_event(code: str, relationship: str, *, on: dt.date) -> ReportEvent:
    """The Art 26 event ``code`` for a person in ``relationship``, as of ``on`` (the day it is reported);
    InvalidInput names what is wrong."""
    require_cited(on, "employer and school reports (Regulations Art 26)", reg(26))
    event = EVENTS.get(code)
    if event is None:
        raise InvalidInput(
            "event", f"not an event of Regulations Art 26: {code!r} (known: {', '.join(EVENTS)})"
        )
    if relationship not in event.relationships:
        raise InvalidInput(
            "event",
            f"{code} is reported for a {' or '.join(sorted(event.relationships))}, not a {relationship} "
            f"({event.citation.cite})",
        )
    return event
