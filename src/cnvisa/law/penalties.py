"""A penalty for illegal residence, as an officer decides it (issue 12) — pure rules: what the decision may be,
who may make it, and what must come first. The platform shows the most the law allows
(``cnvisa.law.obligations.overstay``) and imposes nothing; this module checks a decision an officer records.

Exit and Entry Administration Law (the Chinese governs):
- Art 78 para 1: 外国人非法居留的，给予警告；情节严重的，处每非法居留一日五百元，总额不超过一万元的罚款或者处五日以上十五日
  以下拘留 — a warning; only when serious (情节严重, the officer's finding, with its reason) a fine of at most 500 yuan
  a day up to 10,000, **or** 5 to 15 days' detention (one of the two, not both; 以上/以下 include the numbers, Civil
  Code Art 1259).
- Art 78 para 2: a child under 16 in illegal residence because the guardian failed in their duty — the guardian
  gets a warning and may also be fined up to 1,000 yuan (可以并处); no detention.
- Art 70: 警告或者五千元以下罚款，可以由县级以上地方人民政府公安机关出入境管理机构决定 — the exit-entry office may decide a
  warning or a fine of at most 5,000 yuan; anything else (a higher fine, detention) is decided by the public security
  organ, whose decision is recorded with its number.

Administrative Penalty Law:
- Art 44, 45: before deciding, the person is told the facts, reasons and basis and their rights, and is heard
  (陈述、申辩): the day they were heard is required, on or after the first day of illegal residence and not after
  the decision.
- Art 29: 对当事人的同一个违法行为，不得给予两次以上罚款的行政处罚 — one decision per spell of illegal residence (the
  register refuses a second for the same last lawful day).
- Art 67 para 3: a fine is paid within 15 days of receiving the decision. Reading: the decision is handed over on
  the day it is made, so the 15 days run from the day after it (Civil Code Art 201 para 1).

Pure: no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

from cnvisa.law.citations import Citation, law
from cnvisa.law.errors import InvalidInput
from cnvisa.law.obligations import (
    ADMINISTRATIVE_PENALTY_LAW,
    DETENTION_DAYS,
    FINE_CAP_CNY,
    FINE_PER_DAY_CNY,
    GUARDIAN_AGE,
    GUARDIAN_FINE_CAP_CNY,
    overstay,
)

OFFICE_FINE_CAP_CNY: Final = 5_000
"""Law Art 70: the most an exit-entry office may fine on its own decision."""
PAYMENT_DAYS: Final = 15
"""Administrative Penalty Law Art 67 para 3."""
Subject = Literal["person", "guardian"]
Authority = Literal["exit_entry", "public_security"]
HEARD: Final = (Citation(ADMINISTRATIVE_PENALTY_LAW, "44"), Citation(ADMINISTRATIVE_PENALTY_LAW, "45"))


@dataclass(frozen=True, slots=True)
class Facts:
    """What the officer records. ``fine_cny`` and ``detention_days``: 0 for none."""

    subject: str
    last_lawful_day: dt.date
    decided_on: dt.date
    heard_on: dt.date
    authority: str
    warning: bool = False
    fine_cny: int = 0
    detention_days: int = 0
    serious: bool = False
    serious_reason: str = ""
    decision_number: str = ""
    birth_date: dt.date | None = None
    """The person's birth date: for a guardian's penalty, the child is under 16 on the day of the decision."""


@dataclass(frozen=True, slots=True)
class Decision:
    days_overstayed: int
    max_fine_cny: int
    payment_due: dt.date | None
    citations: tuple[Citation, ...]


def _age_on(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def check(f: Facts) -> Decision:
    """The decision ``f`` as the law allows it, or ``InvalidInput`` naming the field and the article."""
    if f.subject not in ("person", "guardian"):
        raise InvalidInput("subject", "person (Law Art 78 para 1) or guardian (para 2)", kind="choice")
    if f.authority not in ("exit_entry", "public_security"):
        raise InvalidInput("authority", "exit_entry or public_security (Law Art 70)", kind="choice")
    o = overstay(f.last_lawful_day, f.decided_on)
    if o.days_overstayed < 1:
        raise InvalidInput(
            "last_lawful_day", "no illegal residence on the day of the decision (Regulations Art 25)"
        )
    first_day = f.last_lawful_day + dt.timedelta(days=1)
    if not first_day <= f.heard_on <= f.decided_on:
        raise InvalidInput(
            "heard_on",
            "the day the person was told the facts and heard: on or after the first day of illegal residence and "
            "not after the decision (Administrative Penalty Law Art 44, 45)",
        )
    if f.fine_cny < 0 or f.detention_days < 0:
        raise InvalidInput("fine_cny", "not negative")
    cites: list[Citation] = [*HEARD]
    if f.subject == "guardian":
        para = law(78, paragraph=2)
        if f.birth_date is None or _age_on(f.birth_date, f.decided_on) >= GUARDIAN_AGE:
            raise InvalidInput(
                "subject", f"a guardian is penalised for a child under {GUARDIAN_AGE} ({para.cite})"
            )
        if not f.warning:
            raise InvalidInput("warning", f"the guardian is given a warning ({para.cite})")
        if f.detention_days:
            raise InvalidInput("detention_days", f"no detention for a guardian ({para.cite})")
        if f.fine_cny > GUARDIAN_FINE_CAP_CNY:
            raise InvalidInput(
                "fine_cny", f"at most {GUARDIAN_FINE_CAP_CNY} yuan for a guardian ({para.cite})"
            )
        most = GUARDIAN_FINE_CAP_CNY
    else:
        para = law(78, paragraph=1)
        most = min(FINE_PER_DAY_CNY * o.days_overstayed, FINE_CAP_CNY)
        if not f.serious:
            if f.fine_cny or f.detention_days or not f.warning:
                raise InvalidInput(
                    "serious",
                    f"without a finding that it is serious (情节严重) the penalty is a warning ({para.cite})",
                )
        else:
            if not f.serious_reason.strip():
                raise InvalidInput("serious_reason", "why the illegal residence is serious (情节严重)")
            if bool(f.fine_cny) == bool(f.detention_days):
                raise InvalidInput(
                    "fine_cny", f"when serious: a fine or detention, one of the two ({para.cite})"
                )
            if f.fine_cny > most:
                raise InvalidInput(
                    "fine_cny",
                    f"at most {FINE_PER_DAY_CNY} yuan a day up to {FINE_CAP_CNY}: {most} for "
                    f"{o.days_overstayed} days ({para.cite})",
                )
            low, high = DETENTION_DAYS
            if f.detention_days and not low <= f.detention_days <= high:
                raise InvalidInput("detention_days", f"{low} to {high} days ({para.cite})")
    cites.append(para)
    office_may = not f.detention_days and f.fine_cny <= OFFICE_FINE_CAP_CNY
    if f.authority == "exit_entry" and not office_may:
        raise InvalidInput(
            "authority",
            f"a fine above {OFFICE_FINE_CAP_CNY} yuan or detention is decided by the public security organ, not "
            "the exit-entry office (Law Art 70): record its decision with its number",
        )
    if f.authority == "public_security" and not 3 <= len(f.decision_number.strip()) <= 60:
        raise InvalidInput("decision_number", "the public security organ's decision number (Law Art 70)")
    cites.append(law(70))
    payment_due = None
    if f.fine_cny:
        payment_due = f.decided_on + dt.timedelta(days=PAYMENT_DAYS)
        cites.append(Citation(ADMINISTRATIVE_PENALTY_LAW, "67", 3))
    cites.append(Citation(ADMINISTRATIVE_PENALTY_LAW, "29"))
    return Decision(o.days_overstayed, most, payment_due, tuple(cites))
