"""What the bulk demo data is made of: offices, names, matters and states with their weights, and the small
makers of realistic identifiers (USCC, passport MRZ) and application inputs."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from cnvisa.cases.workflow import State
from cnvisa.law.documents import icao_check_digit, organisation_code_check_char, social_credit_check_char

OFFICES = [
    ("SH01", "上海市公安局出入境管理局", "Shanghai Exit-Entry Administration Bureau", "provincial", "310000"),
    ("BJ01", "北京市公安局出入境管理总队", "Beijing Exit-Entry Administration", "provincial", "110000"),
    ("GZ01", "广州市公安局出入境管理支队", "Guangzhou Exit-Entry Administration", "prefecture", "440100"),
    ("SZ01", "深圳市公安局出入境管理支队", "Shenzhen Exit-Entry Administration", "prefecture", "440300"),
    ("HZ01", "杭州市公安局出入境管理局", "Hangzhou Exit-Entry Administration", "prefecture", "330100"),
    ("CD01", "成都市公安局出入境管理支队", "Chengdu Exit-Entry Administration", "prefecture", "510100"),
    ("YW01", "义乌市公安局出入境管理大队", "Yiwu Exit-Entry Administration", "county", "330782"),
    ("XA01", "西安市公安局出入境管理支队", "Xi'an Exit-Entry Administration", "prefecture", "610100"),
]
NATIONS = [
    "USA",
    "GBR",
    "D",
    "FRA",
    "JPN",
    "KOR",
    "RUS",
    "ITA",
    "ESP",
    "CAN",
    "AUS",
    "BRA",
    "IND",
    "SGP",
    "THA",
    "VNM",
    "NGA",
    "EGY",
    "MEX",
    "NLD",
]
SURNAMES = [
    "SMITH",
    "MUELLER",
    "DUBOIS",
    "TANAKA",
    "KIM",
    "IVANOV",
    "ROSSI",
    "GARCIA",
    "BROWN",
    "SILVA",
    "NGUYEN",
    "OKAFOR",
    "HASSAN",
    "LOPEZ",
    "JANSEN",
    "WILSON",
    "SATO",
    "PARK",
    "PETROV",
    "MARTIN",
]
GIVEN = [
    "ANNA",
    "JOHN",
    "MARIA",
    "DAVID",
    "YUKI",
    "MIN",
    "OLGA",
    "LUCA",
    "SOFIA",
    "JAMES",
    "EMMA",
    "NOAH",
    "LI",
    "AISHA",
    "CARLOS",
    "EVA",
    "HIRO",
    "JI WOO",
    "IVAN",
    "CLAIRE",
]
MATTERS = [
    ("visa_extension", 30),
    ("residence_permit", 20),
    ("residence_permit_extension", 20),
    ("visa_replacement", 10),
    ("stay_permit", 6),
    ("visa_reissue", 4),
    ("residence_permit_replacement", 4),
    ("residence_permit_reissue", 2),
    ("study_work_annotation", 3),
    ("exit_without_passport", 1),
]
STATES = [
    (State.DRAFT, 5),
    (State.SUBMITTED, 10),
    (State.DEFICIENT, 8),
    (State.ACCEPTED, 25),
    (State.UNDER_VERIFICATION, 5),
    (State.REFUSAL_PROPOSED, 2),
    (State.APPROVED, 8),
    (State.REFUSED, 3),
    (State.ISSUED, 6),
    (State.COLLECTED, 20),
    (State.WITHDRAWN, 4),
    (State.LAPSED, 4),
]
ACCEPTED_STATES = {
    State.ACCEPTED,
    State.UNDER_VERIFICATION,
    State.REFUSAL_PROPOSED,
    State.APPROVED,
    State.REFUSED,
    State.ISSUED,
    State.COLLECTED,
}
ALNUM = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc(rng: random.Random, region: str) -> str:
    body = "91" + region + "".join(rng.choice("0123456789") for _ in range(8))
    body += organisation_code_check_char(body[8:16])
    return body + social_credit_check_char(body)


def mrz(surname: str, given: str, nat: str, number: str, birth: dt.date, sex: str, expiry: dt.date) -> str:
    line1 = f"P<{nat:<<3}{surname.replace(' ', '<')}<<{given.replace(' ', '<')}".ljust(44, "<")[:44]
    num = number.ljust(9, "<")
    b, e = birth.strftime("%y%m%d"), expiry.strftime("%y%m%d")
    parts = (
        num + icao_check_digit(num) + f"{nat:<<3}" + b + icao_check_digit(b) + sex + e + icao_check_digit(e)
    )
    optional = "<" * 14
    line2 = parts + optional + "0"
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    return line1 + "\n" + line2 + icao_check_digit(composite)


def weighted(rng: random.Random, table: list[tuple[Any, int]]) -> Any:
    return rng.choices([x for x, _ in table], [w for _, w in table])[0]


def batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def inputs(
    rng: random.Random, matter: str, on: dt.date, entry: dt.date, birth: dt.date, nat: str
) -> dict[str, Any]:
    base: dict[str, Any] = {"applicant": {"birth_date": birth.isoformat(), "nationality": nat}}
    if matter.startswith("visa"):
        cat = rng.choice(["L", "M", "F", "Q2", "S2"])
        base |= {
            "entry_date": entry.isoformat(),
            "visa": {
                "category": cat,
                "entries": rng.choice(["single", "double", "multiple"]),
                "valid_until": (on + dt.timedelta(days=rng.randint(30, 300))).isoformat(),
                "stay_days": rng.choice([30, 60, 90]),
            },
        }
        if matter == "visa_extension":
            base["requested"] = {"extension_days": 30}
        elif matter == "visa_replacement":
            base |= {
                "ground": "change_of_purpose",
                "requested": {
                    "category": "M",
                    "entries": "multiple",
                    "entry_validity_days": 180,
                    "stay_days": 90,
                },
            }
        else:
            base["ground"] = rng.choice(["lost", "stolen", "damaged"])
    elif matter == "residence_permit":
        base |= {
            "entry_date": entry.isoformat(),
            "visa": {"category": "Z", "entries": "single", "stay_days": 30},
            "requested": {"permit_type": "work", "validity_days": rng.choice([365, 730, 1095])},
        }
    elif matter.startswith("residence_permit") or matter == "study_work_annotation":
        ptype = (
            "study" if matter == "study_work_annotation" else rng.choice(["work", "study", "family_reunion"])
        )
        base["residence_permit"] = {
            "type": ptype,
            "valid_until": (on + dt.timedelta(days=rng.randint(31, 200))).isoformat(),
        }
        if matter == "residence_permit_extension":
            base["requested"] = {"validity_days": 365}
        elif matter == "residence_permit_replacement":
            base["ground"] = "new_passport"
        elif matter == "residence_permit_reissue":
            base["ground"] = "lost"
    elif matter == "stay_permit":
        base |= {"entry_date": entry.isoformat(), "requested": {"validity_days": 60}}
    else:
        base["ground"] = "lost"
    return base


def visa_category(rng: random.Random, birth: dt.date, today: dt.date) -> str:
    """A visa that fits its holder's age: a child comes with family (S2, Q2) or as a tourist (L); study (X1)
    is for the young; work (Z) and business (M) are for adults of working age."""
    age = (today - birth).days // 365
    if age < 16:
        return rng.choice(["S2", "Q2", "L"])
    if age < 26:
        return rng.choice(["X1", "X1", "L", "F", "Q2"])
    if age < 60:
        return rng.choice(["Z", "M", "F", "L", "Q2"])
    return rng.choice(["L", "Q2", "F"])
