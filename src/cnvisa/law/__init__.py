"""The law as code: the Regulations (revised 2025), the Exit and Entry Administration Law articles
they lean on, and the NIA Guide — pure, dated, cited rules. No I/O (beyond reading the bundled data
files once), no clock, no database: every rule takes the date it is asked "as of".
"""

from __future__ import annotations

from cnvisa.law.assess import assess
from cnvisa.law.errors import CalendarYearNotLoaded, InvalidInput, LawError, NotInForce
from cnvisa.law.five_year import five_year_permit
from cnvisa.law.obligations import due, overstay
from cnvisa.law.post_change import post_change
from cnvisa.law.work_permit import work_permit_points

__all__ = [
    "CalendarYearNotLoaded",
    "InvalidInput",
    "LawError",
    "NotInForce",
    "assess",
    "due",
    "five_year_permit",
    "overstay",
    "post_change",
    "work_permit_points",
]
