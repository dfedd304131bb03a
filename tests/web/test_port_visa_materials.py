"""Materials uploaded with a port-visa request (Law Art 20 para 3; issue 11 §1), on both engines: the inviting
organisation uploads the materials the law engine listed (judged as every upload: by content, within the limits,
kept without metadata); a code not listed, a file that is not a PDF or image, a closed request are refused naming
the field; the desk of the request's port sees what was uploaded and names what is missing, and its reads are
audited; another port's desk, another filer and the public see nothing."""

from __future__ import annotations

from sqlalchemy import create_engine, func, select
from test_applicant import PDF
from web_support import Web

from cnvisa.store.tables import AuditEvent

V = "/api/v1/port-visa/requests"


def _audited(web: Web, action: str) -> int:
    engine = create_engine(web.db_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg"))
    with engine.connect() as c:
        n = c.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        ).scalar_one()
    engine.dispose()
    return int(n)


def test_the_inviter_uploads_the_listed_materials_and_the_desk_sees_them(web: Web) -> None:
    rid = web.ids["port_visas"]["submitted"]
    csrf = web.signin("employer.hr")
    h = {"X-CSRF-Token": csrf}
    before = web.client.get(f"{V}/{rid}/materials").json()
    listed = [m["code"] for m in before["required"]]
    assert "port_visa_invitation" in listed and before["uploaded"] == []
    assert [m["code"] for m in before["missing"]] == listed
    up = web.client.post(
        f"{V}/{rid}/materials",
        files={"port_visa_invitation": ("invitation.pdf", PDF, "application/pdf")},
        headers=h,
    )
    assert up.status_code == 201, up.text
    assert [f["material_code"] for f in up.json()["uploaded"]] == ["port_visa_invitation"]
    assert "port_visa_invitation" not in [m["code"] for m in up.json()["missing"]]
    not_listed = web.client.post(
        f"{V}/{rid}/materials", files={"work_permit": ("wp.pdf", PDF, "application/pdf")}, headers=h
    )
    assert not_listed.status_code == 422 and not_listed.json()["field"] == "files.work_permit"
    html = web.client.post(
        f"{V}/{rid}/materials",
        files={
            "inviter_enterprise_documents": ("x.pdf", b"<html><script>x</script></html>", "application/pdf")
        },
        headers=h,
    )
    assert html.status_code == 415 and html.json()["field"] == "files.inviter_enterprise_documents"
    closed = web.ids["port_visas"]["refused"]
    late = web.client.post(
        f"{V}/{closed}/materials",
        files={"port_visa_invitation": ("i.pdf", PDF, "application/pdf")},
        headers=h,
    )
    assert late.status_code == 409  # a refused request takes no materials
    file_id = up.json()["uploaded"][0]["id"]
    got = web.client.get(f"{V}/{rid}/materials/{file_id}")
    assert got.status_code == 200 and got.content == PDF
    assert (
        got.headers["content-disposition"].startswith("attachment")
        and "sandbox" in got.headers["content-security-policy"]
    )
    web.client.cookies.clear()

    web.signin("pv.yinchuan")  # the request's port: sees it, the missing ones named
    desk = web.client.get(f"{V}/{rid}/materials").json()
    assert [f["material_code"] for f in desk["uploaded"]] == ["port_visa_invitation"]
    assert "inviter_enterprise_documents" in [m["code"] for m in desk["missing"]]
    assert web.client.get(f"{V}/{rid}/materials/{file_id}").content == PDF
    page = web.client.get(f"/port-desk/requests/{rid}?lang=en")
    assert page.status_code == 200 and "Not uploaded: to bring to the port" in page.text
    assert f"/port-visas/{rid}/materials/{file_id}" in page.text
    assert (
        web.client.post(f"{V}/{rid}/materials", files={"port_visa_invitation": ("i.pdf", PDF)}).status_code
        == 403
    )
    assert _audited(web, "port_visa_materials_read") == 2 and _audited(web, "port_visa_material_opened") == 1
    assert _audited(web, "port_visa_materials_uploaded") == 1
    web.client.cookies.clear()

    web.signin("pv.guiyang")  # another port's desk
    assert web.client.get(f"{V}/{rid}/materials").status_code == 404
    assert web.client.get(f"{V}/{rid}/materials/{file_id}").status_code == 404
    web.client.cookies.clear()
    web.signin("alice")  # another filer
    assert web.client.get(f"{V}/{rid}/materials/{file_id}").status_code == 404
    web.client.cookies.clear()
    assert web.client.get(f"{V}/{rid}/materials").status_code == 401


def test_the_request_page_uploads_and_names_errors(web: Web) -> None:
    rid = web.ids["port_visas"]["submitted"]
    csrf = web.signin("employer.hr")
    page = web.client.get(f"/port-visas/{rid}?lang=zh_CN")
    assert page.status_code == 200 and 'id="file-port_visa_invitation"' in page.text
    ok = web.client.post(
        f"/port-visas/{rid}/materials",
        data={"csrf": csrf},
        files={"port_visa_invitation": ("invitation.pdf", PDF, "application/pdf")},
    )
    assert ok.status_code == 303 and ok.headers["location"].endswith("?uploaded=1#materials-h")
    shown = web.client.get(f"/port-visas/{rid}?uploaded=1&lang=en")
    assert "invitation.pdf" in shown.text and "The files are uploaded." in shown.text
    bad = web.client.post(
        f"/port-visas/{rid}/materials?lang=zh_CN",
        data={"csrf": csrf},
        files={"inviter_enterprise_documents": ("x.pdf", b"not a pdf at all", "application/pdf")},
    )
    assert bad.status_code == 415 and 'href="#file-inviter_enterprise_documents"' in bad.text
    assert "<title>错误" in bad.text and 'aria-invalid="true"' in bad.text
    none = web.client.post(f"/port-visas/{rid}/materials?lang=en", data={"csrf": csrf})
    assert none.status_code == 422 and 'href="#file-' in none.text
