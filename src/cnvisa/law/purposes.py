"""The purposes of stay the rules split on (the ``purpose`` field of the application): Regulations Art 7 and
Art 16 (materials), Guide VI(II)9 and VI(III)9 (S2: family visit or personal matters), Art 22 (off-campus
work-study or internship), Law Art 20 (port visas: ``cnvisa.law.port_visa.PURPOSES``). The schema lists exactly
these; any other value is refused naming the field.
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
    "negotiation": "business negotiation (port visas: Law Art 20 para 1; MPS 2023-08-03)",
    "trade": "trade (port visas: Law Art 20 para 1; MPS 2023-08-03)",
    "installation_repair": "installation and repair of equipment (port visas: Law Art 20 para 1; MPS 2023-08-03)",
    "exhibition": "taking part in an exhibition (port visas: Law Art 20 para 1; MPS 2023-08-03)",
    "investment": "investment (port visas: Law Art 20 para 1; MPS 2023-08-03)",
    "business_cooperation": "business cooperation (port visas: NIA 2024-01-11 no. 1)",
    "visit": "visits and exchanges (port visas: NIA 2024-01-11 no. 1)",
    "employment": "taking up employment (port visas: not a qualifying purpose)",
    "study": "study (port visas: not a qualifying purpose)",
}
"""Purpose → where the rules read it."""
