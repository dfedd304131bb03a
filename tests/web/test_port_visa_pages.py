"""Port-visa pages (issue 11 §1) in Chinese and English, on both engines: the inviter files through the form (an
error names the field, nothing written) and follows the request; the foreigner sees theirs; the port desk sees its
queue by arrival, approves, and a passport mismatch at the port is shown on the form naming the field."""

from __future__ import annotations

import datetime as dt
import re

from test_org import signed_in
from web_support import TODAY, Web

ARRIVAL = TODAY + dt.timedelta(days=5)


def form(csrf: str, **over: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "key": "k-" + "-".join(f"{k}{v}" for k, v in sorted(over.items()))[:40],
        "surname": "LARSEN",
        "given_names": "ERIK",
        "birth_date": "1975-02-11",
        "sex": "M",
        "nationality": "NOR",
        "passport_number": "NP7654321",
        "purpose": "exhibition",
        "urgent": "yes",
        "urgency": "stand for a trade fair",
        "port": "yinchuan_hedong_airport",
        "arrival_at": f"{ARRIVAL.isoformat()}T10:20",
        "flight": "CA1234",
        "stay_days": "20",
        **over,
    }


def test_the_inviter_files_and_follows_a_request(web: Web) -> None:
    hr, csrf = signed_in(web, "employer.hr")
    listing = hr.get("/port-visas?lang=zh_CN")
    assert listing.status_code == 200 and "口岸签证" in listing.text and "银川河东国际机场" in listing.text
    assert hr.get("/port-visas/new?lang=en").status_code == 200
    bad = hr.post("/port-visas?lang=en", data=form(csrf, port="tianjin_nowhere"))
    assert bad.status_code == 422 and "There is a problem" in bad.text and 'href="#port"' in bad.text
    late = hr.post("/port-visas?lang=en", data=form(csrf, urgent=""))
    assert late.status_code == 422 and 'href="#urgent"' in late.text
    ok = hr.post("/port-visas?lang=en", data=form(csrf))
    assert ok.status_code == 303, ok.text[:500]
    page = hr.get(ok.headers["location"] + "&lang=en")
    assert page.status_code == 200 and "LARSEN ERIK" in page.text and "Visa category M" in page.text
    assert "Withdraw the request" in page.text
    rid = int(re.search(r"/port-visas/(\d+)", ok.headers["location"]).group(1))  # type: ignore[union-attr]
    school, _ = signed_in(web, "university.office")
    assert school.get(f"/port-visas/{rid}").status_code == 404


def test_the_desk_decides_and_a_mismatch_at_the_port_names_the_field(web: Web) -> None:
    ids = web.ids["port_visas"]
    desk, csrf = signed_in(web, "pv.yinchuan")
    queue = desk.get("/port-desk?lang=en")
    assert queue.status_code == 200 and "Yinchuan Hedong" in queue.text
    shown = re.findall(r'href="/port-desk/requests/(\d+)"', queue.text)
    assert str(ids["submitted"]) in shown and str(ids["guiyang"]) not in shown
    assert shown.index(str(ids["approved"])) < shown.index(str(ids["submitted"]))  # tomorrow before after
    page = desk.get(f"/port-desk/requests/{ids['submitted']}?lang=zh_CN")
    assert page.status_code == 200 and "预审" in page.text
    approved = desk.post(
        f"/port-desk/requests/{ids['submitted']}/approve", data={"csrf": csrf, "version": "1"}
    )
    assert approved.status_code == 303
    # the one arriving tomorrow: at the port, its passport presented
    web.clock.set(dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(15, 0), tzinfo=dt.UTC))
    desk, csrf = signed_in(web, "pv.yinchuan")
    wrong = desk.post(
        f"/port-desk/requests/{ids['approved']}/issue?lang=en",
        data={"csrf": csrf, "version": "2", "passport_number": "X0000000", "face_matches": "yes"},
    )
    assert wrong.status_code == 422 and 'href="#passport_number"' in wrong.text
    issued = desk.post(
        f"/port-desk/requests/{ids['approved']}/issue",
        data={"csrf": csrf, "version": "2", "passport_number": "G4PV00102", "face_matches": "yes"},
    )
    assert issued.status_code == 303
    after = desk.get(f"/port-desk/requests/{ids['approved']}?lang=en")
    assert "The visa issued" in after.text and "did not match" in after.text


def test_the_foreigner_sees_their_own_page(web: Web) -> None:
    alice, _ = signed_in(web, "alice")
    mine = alice.get("/port-visas?lang=en")
    assert mine.status_code == 200 and "No port-visa requests." in mine.text
    assert alice.get("/port-visas/new?lang=en").status_code == 200
    assert alice.get(f"/port-visas/{web.ids['port_visas']['submitted']}").status_code == 404
    assert alice.get("/port-desk").status_code == 403
