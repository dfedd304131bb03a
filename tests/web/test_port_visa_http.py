"""Port-visa requests over HTTP (issue 11 §1; Law Art 20), on both engines: the inviting organisation files through
the API with an Idempotency-Key (a repeat changes nothing; a port not on the list is a problem+json naming the field
and the rule), the port's desk sees its queue by arrival, approves, and issues at the port with the passport and
face checked; the visa is then in the registry; a mismatch names the field; another port's desk and anyone else
are refused."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from test_org import db, signed_in
from web_support import TODAY, Web

from cnvisa.api import port_visa as api
from cnvisa.cases.clock import SHANGHAI
from cnvisa.law import port_visa as pv
from cnvisa.store.port_visa_tables import PortVisaRequest
from cnvisa.store.tables import Holding

V = "/api/v1/port-visa"
ARRIVAL = TODAY + dt.timedelta(days=3)


def body(**over: Any) -> dict[str, Any]:
    return {
        "purpose": "negotiation",
        "urgent": True,
        "urgency": "supplier negotiation brought forward",
        "port": "yinchuan_hedong_airport",
        "arrival_at": dt.datetime.combine(ARRIVAL, dt.time(7, 40), tzinfo=SHANGHAI).isoformat(),
        "flight": "HO1077",
        "surname": "LARSEN",
        "given_names": "ERIK",
        "birth_date": "1975-02-11",
        "sex": "M",
        "nationality": "NOR",
        "passport_number": "NP7654321",
        "passport_issuing_state": "NOR",
        **over,
    }


def post(client: Any, csrf: str, path: str, payload: dict[str, Any], key: str | None = "new") -> Any:
    headers = {"X-CSRF-Token": csrf}
    if key is not None:
        headers["Idempotency-Key"] = uuid.uuid4().hex if key == "new" else key
    return client.post(path, json=payload, headers=headers)


def count(web: Web) -> int:
    async def q(s: AsyncSession) -> int:
        return int((await s.execute(select(func.count()).select_from(PortVisaRequest))).scalar_one())

    return db(web, q)


def test_the_api_lists_the_purposes_and_inviters_of_the_law() -> None:
    assert set(api.PURPOSES.__args__) == set(pv.PURPOSES)  # type: ignore[attr-defined]
    assert set(api.INVITERS.__args__) == set(pv.INVITER_KINDS)  # type: ignore[attr-defined]


def test_filed_by_the_inviter_approved_and_issued_at_the_port(web: Web) -> None:
    hr, csrf = signed_in(web, "employer.hr")
    before = count(web)
    bad = post(hr, csrf, f"{V}/requests", body(port="tianjin_nowhere"))
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["field"] == "port" and "Art 20" in bad.json()["detail"]
    assert post(hr, csrf, f"{V}/requests", body(), key=None).json()["field"] == "Idempotency-Key"
    assert count(web) == before
    key = uuid.uuid4().hex
    first = post(hr, csrf, f"{V}/requests", body(), key=key)
    assert first.status_code == 201, first.text
    again = post(hr, csrf, f"{V}/requests", body(), key=key)
    assert again.status_code == 200 and again.json()["number"] == first.json()["number"]
    assert count(web) == before + 1
    rid = first.json()["id"]
    assert (
        first.json()["category"] == "M"
        and first.json()["present_by"] == (ARRIVAL + dt.timedelta(1)).isoformat()
    )

    desk, dcsrf = signed_in(web, "pv.yinchuan")
    queue = desk.get(f"{V}/desk").json()
    arrivals = [r["arrival_at"] for r in queue["requests"]]
    assert arrivals == sorted(arrivals, key=dt.datetime.fromisoformat) and rid in {
        r["id"] for r in queue["requests"]
    }
    assert all(r["port"]["code"] == "yinchuan_hedong_airport" for r in queue["requests"])
    other, ocsrf = signed_in(web, "pv.guiyang")
    assert rid not in {r["id"] for r in other.get(f"{V}/desk").json()["requests"]}
    assert other.get(f"{V}/requests/{rid}").status_code == 404
    assert post(other, ocsrf, f"{V}/desk/requests/{rid}/approve", {"version": 1}).status_code == 404

    approved = post(desk, dcsrf, f"{V}/desk/requests/{rid}/approve", {"version": 1})
    assert approved.status_code == 200 and approved.json()["state"] == "pre_approved"
    web.clock.set(dt.datetime.combine(ARRIVAL, dt.time(8, 5), tzinfo=SHANGHAI))
    desk, dcsrf = signed_in(web, "pv.yinchuan")  # at the port, on the arrival day (a new session)
    hr, csrf = signed_in(web, "employer.hr")
    wrong = post(
        desk,
        dcsrf,
        f"{V}/desk/requests/{rid}/issue",
        {"version": 2, "passport_number": "NP0000000", "face_matches": True},
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "passport_number"
    face = post(
        desk,
        dcsrf,
        f"{V}/desk/requests/{rid}/issue",
        {"version": 2, "passport_number": "NP7654321", "face_matches": False},
    )
    assert face.status_code == 422 and face.json()["field"] == "face_matches"
    issued = post(
        desk,
        dcsrf,
        f"{V}/desk/requests/{rid}/issue",
        {"version": 2, "passport_number": "NP7654321", "face_matches": True},
    )
    assert issued.status_code == 200, issued.text
    visa = issued.json()["visa"]
    assert (visa["category"], visa["entries"], visa["stay_days"], visa["port"]) == (
        "M",
        "single",
        30,
        "yinchuan_hedong_airport",
    )

    async def held(s: AsyncSession) -> tuple[str, str | None]:
        h = (await s.execute(select(Holding).where(Holding.number == visa["number"]))).scalar_one()
        return h.kind, h.entries

    assert db(web, held) == ("visa", "single")
    seen = hr.get(f"{V}/requests/{rid}").json()
    assert seen["state"] == "issued" and [c["outcome"] for c in seen["checks"]] == [
        "mismatch",
        "mismatch",
        "issued",
    ]
    assert rid in {r["id"] for r in hr.get(f"{V}/requests").json()}
    school, _ = signed_in(web, "university.office")
    assert school.get(f"{V}/requests/{rid}").status_code == 404
    assert rid not in {r["id"] for r in school.get(f"{V}/requests").json()}
    assert web.new_client().get(f"{V}/requests/{rid}").status_code == 401


def test_refusal_withholds_the_reasons_and_the_inviter_sees_the_grounds(web: Web) -> None:
    hr, csrf = signed_in(web, "employer.hr")
    rid = post(hr, csrf, f"{V}/requests", body(flight="HO1078")).json()["id"]
    desk, dcsrf = signed_in(web, "pv.yinchuan")
    bad = post(desk, dcsrf, f"{V}/desk/requests/{rid}/refuse", {"version": 1, "grounds": ["reg21_1"]})
    assert bad.status_code == 422 and bad.json()["field"] == "grounds"
    stale = post(desk, dcsrf, f"{V}/desk/requests/{rid}/refuse", {"version": 7, "grounds": ["law21_3"]})
    assert stale.status_code == 409
    out = post(desk, dcsrf, f"{V}/desk/requests/{rid}/refuse", {"version": 1, "grounds": ["law21_3"]})
    assert out.status_code == 200 and out.json()["refusal"]["reasons_withheld"] is True
    seen = hr.get(f"{V}/requests/{rid}").json()
    assert seen["state"] == "refused" and seen["refusal"]["grounds"] == ["law21_3"]
    assert seen["refusal"]["reasons"] is None
    again = post(desk, dcsrf, f"{V}/desk/requests/{rid}/approve", {"version": 2})
    assert again.status_code == 409


def test_the_demo_requests_are_where_the_story_says(web: Web) -> None:
    pv_ids = web.ids["port_visas"]
    desk, _ = signed_in(web, "pv.yinchuan")
    states = {
        k: desk.get(f"{V}/requests/{pv_ids[k]}").json()["state"] for k in ("submitted", "approved", "issued")
    }
    assert states == {"submitted": "submitted", "approved": "pre_approved", "issued": "issued"}
    assert desk.get(f"{V}/requests/{pv_ids['lapsed']}").json()["state"] == "lapsed"
    assert desk.get(f"{V}/requests/{pv_ids['guiyang']}").status_code == 404
