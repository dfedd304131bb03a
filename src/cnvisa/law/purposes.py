"""The purposes of stay the rules split on (the ``purpose`` field of the application): Regulations Art 7 and
Art 16 (materials), Guide VI(II)9 and VI(III)9 (S2: family visit or personal matters), Art 22 (off-campus
work-study or internship). The schema lists exactly these; any other value is refused naming the field.
"""

from __future__ import annotations

from typing import Final

S2_PERSONAL: Final = ("private_affairs", "humanitarian", "other")
"""Guide VI(II)9, VI(III)9: an S2 holder staying for personal or humanitarian matters (else visiting family)."""
PURPOSES: Final[dict[str, str]] = {
    "family_visit": "visiting family (Guide VI(II)9, VI(III)9; Regulations Art 16(5))",
    "private_affairs": "private affairs (Regulations Art 7, Art 16(5); Guide VI(II)9, VI(III)9)",
    "humanitarian": "humanitarian matters (Guide VI(II)9, VI(III)9)",
    "other": "other personal matters (Guide VI(II)9, VI(III)9)",
    "foster_care": "foster care (Regulations Art 7 Q1, Art 16(4))",
    "group_tourism": "group tourism (Regulations Art 7 L; Guide VI(II)5)",
    "work_study": "off-campus work-study (Regulations Art 22)",
    "internship": "internship (Regulations Art 22)",
}
"""Purpose → where the rules read it."""
