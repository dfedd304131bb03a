"""Uploads are judged by decoding them, not by their first bytes, and kept without their metadata (issue 13,
defects 15 and 16; ASVS 4.0 V12.1, V12.2.1, V12.5, V12.6).

Each bad file goes in at both entry points: the API (``POST /api/v1/cases``) and the online application page
(``POST /apply``); the page answers in the reader's language, naming the field and the rule."""

from __future__ import annotations

import functools
import hashlib
import html
import io
import struct
import zlib
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import select
from test_applicant import apply_api, jpeg, problem, run, signed_in
from test_apply_form_errors import _form
from web_support import Web

from cnvisa.http.i18n import gettext
from cnvisa.store.tables import CaseFile
from cnvisa.web.pages.applicant_view import RULE_TEXTS

GPS_LATITUDE = (31.0, 13.0, 47.0)  # a place in Shanghai the uploader would not want to tell


def pdf(pages: int = 1, *, password: str | None = None) -> bytes:
    w = PdfWriter()
    for _ in range(pages):
        w.add_blank_page(595, 842)
    if password is not None:
        w.encrypt(user_password=password, owner_password="owner")
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def png(width: int = 120, height: int = 80) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@functools.cache
def png_bomb(side: int = 20000) -> bytes:
    """A 1-bit grey PNG of side × side pixels whose rows are all zero: a few dozen KB on disk, 400 million
    pixels once decoded."""
    z = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)
    data = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def with_gps(image: bytes, comment: bytes = b"taken at home") -> bytes:
    """The JPEG re-saved with GPS EXIF and an XMP packet, as a phone writes them; the same pixel size."""
    img = Image.open(io.BytesIO(image))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", GPS_LATITUDE, "E", (121.0, 28.0, 11.0)
    buf = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    img.save(buf, "JPEG", quality="keep", exif=exif, xmp=xmp, comment=comment)
    return buf.getvalue()


def photo_with_gps() -> bytes:
    """A photo within the photo rules (20-80 KB as uploaded) carrying GPS EXIF."""
    noisy = Image.effect_noise((360, 480), 40).convert("RGB")
    buf = io.BytesIO()
    noisy.save(buf, "JPEG", quality=30)
    out = with_gps(buf.getvalue())
    assert 20 * 1024 <= len(out) <= 80 * 1024, len(out)
    return out


def polyglot() -> bytes:
    """A PDF that parses as one, and whose first bytes a browser sniffs as HTML with a script."""
    good = pdf()
    header_end = good.index(b"\n") + 1
    return good[:header_end] + b"%<html><script>alert(document.cookie)</script>\n" + good[header_end:]


def truncated_png() -> bytes:
    whole = png(400, 300)
    return whole[: len(whole) // 2]


async def _stored(web: Web, case_id: int) -> dict[str, bytes]:
    platform = web.client.app.state.platform  # type: ignore[attr-defined]
    async with platform.sessions() as s:
        rows = await s.execute(
            select(CaseFile.material_code, CaseFile.content).where(CaseFile.case_id == case_id)
        )
        return {code: content for code, content in rows}


def stored(web: Web, case_id: int) -> dict[str, bytes]:
    return run(web, lambda: _stored(web, case_id))


def no_metadata(content: bytes) -> None:
    """No EXIF (GPS included), no XMP, no comment: Pillow finds none, and no APP1 or COM segment is left."""
    with Image.open(io.BytesIO(content)) as img:
        assert not img.getexif(), dict(img.getexif())
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment"} & set(img.info), set(img.info)
        img.load()
    assert b"Exif\x00\x00" not in content and b"adobe:ns:meta" not in content
    assert b"taken at home" not in content


# ------------------------------------------------------------------------------ defect 15: metadata kept


def test_gps_exif_is_stripped_from_photos_and_scans_via_the_api(web: Web) -> None:
    c, csrf = signed_in(web, "alice")
    photo = photo_with_gps()
    scan = with_gps(jpeg(1000, 700, size=None))
    files = [
        ("passport", ("passport.jpg", scan, "image/jpeg")),
        ("photo", ("me.jpg", photo, "image/jpeg")),
        ("itinerary", ("plan.pdf", pdf(), "application/pdf")),
    ]
    r = apply_api(c, csrf, web, key="exif-api", files=files)
    assert r.status_code == 201, r.text
    kept = stored(web, r.json()["case_id"])
    for code, original in (("photo", photo), ("passport", scan)):
        no_metadata(kept[code])
        with Image.open(io.BytesIO(kept[code])) as before, Image.open(io.BytesIO(original)) as after:
            assert before.size == after.size
    from cnvisa.cases.uploads import strip_jpeg

    # the photo's image data is the applicant's own, byte for byte: only metadata segments went
    assert kept["photo"] == strip_jpeg(photo) and len(kept["photo"]) < len(photo)
    listed = c.get(f"/api/v1/cases/{r.json()['case_id']}").json()["files"]
    assert {f["sha256"] for f in listed} == {hashlib.sha256(b).hexdigest() for b in kept.values()}


def test_gps_exif_is_stripped_from_a_photo_sent_on_the_page(web: Web) -> None:
    c, post = _form(web)
    ok = c.post("/apply", data=post, files=[("photo", ("me.jpg", photo_with_gps(), "image/jpeg"))])
    assert ok.status_code == 303, ok.text
    case_id = int(ok.headers["location"].split("/")[3].split("?")[0])
    no_metadata(stored(web, case_id)["photo"])


def test_a_png_scan_loses_its_text_and_exif_chunks(web: Web) -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "31.2297 N 121.4737 E")
    buf = io.BytesIO()
    exif = Image.Exif()
    exif.get_ifd(0x8825)[2] = GPS_LATITUDE
    Image.new("RGB", (300, 200), (1, 2, 3)).save(buf, "PNG", pnginfo=info, exif=exif)
    c, csrf = signed_in(web, "alice")
    files = [("passport", ("p.png", buf.getvalue(), "image/png"))]
    r = apply_api(c, csrf, web, key="png-meta", files=files)
    assert r.status_code == 201, r.text
    kept = stored(web, r.json()["case_id"])["passport"]
    with Image.open(io.BytesIO(kept)) as img:
        assert img.size == (300, 200) and not img.getexif() and "Location" not in img.info
        assert img.getpixel((5, 5)) == (1, 2, 3)
    assert b"121.4737" not in kept and b"eXIf" not in kept


# ------------------------------------------------------------------------------ defect 16: decode checks

BAD = [
    pytest.param("bomb", png_bomb, 422, "upload.pixels", id="png-bomb-20000x20000"),
    pytest.param("polyglot", polyglot, 415, "upload.active_content", id="pdf-html-polyglot"),
    pytest.param("truncated", truncated_png, 422, "upload.unreadable", id="truncated-png"),
    pytest.param("pages", lambda: pdf(51), 422, "upload.pdf_pages", id="pdf-too-many-pages"),
    pytest.param("encrypted", lambda: pdf(password="x"), 422, "upload.pdf_encrypted", id="encrypted-pdf"),
    pytest.param(
        "encrypted-open",
        lambda: pdf(password=""),
        422,
        "upload.pdf_encrypted",
        id="encrypted-pdf-empty-user-password",
    ),
    pytest.param(
        "fake-pdf", lambda: b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", 422, "upload.unreadable", id="bad-pdf"
    ),
]


def test_the_bomb_is_small_on_disk() -> None:
    assert len(png_bomb()) < 64 * 1024  # the file the penetration test sent was 48 KB


@pytest.mark.parametrize(("name", "make", "status", "rule"), BAD)
def test_bad_files_are_refused_by_the_api(web: Web, name: str, make: Any, status: int, rule: str) -> None:
    c, csrf = signed_in(web, "alice")
    files = [("passport", ("passport.pdf", make(), "application/pdf"))]
    p = problem(apply_api(c, csrf, web, key=f"bad-{name}", files=files), status)
    assert p["field"] == "files.passport" and p["rule"] == rule, p
    assert c.get("/api/v1/cases").json() == []  # nothing stored


@pytest.mark.parametrize(("name", "make", "status", "rule"), BAD)
def test_bad_files_are_refused_on_the_page(web: Web, name: str, make: Any, status: int, rule: str) -> None:
    c, post = _form(web)
    bad = c.post(
        "/apply",
        data=post,
        files=[("passport", ("passport.pdf", make(), "application/pdf"))],
        params={"lang": "zh_CN"},
    )
    assert bad.status_code == status, bad.text[:500]
    box = bad.text.split('id="error-summary"')[1].split("</div>")[0]  # the error summary links to the field
    assert 'href="#file-passport"' in box, box
    if rule in RULE_TEXTS:  # the rule's own words, in the page's language
        assert gettext("zh_CN", RULE_TEXTS[rule]) in html.unescape(box), box
    assert 'id="kept-passport"' not in bad.text  # the refused file is not kept for the next try


def test_bad_files_are_refused_as_supplements(web: Web) -> None:
    c, csrf = signed_in(web, "alice")
    r = apply_api(c, csrf, web, key="sup-base")
    assert r.status_code == 201, r.text
    case_id, version = r.json()["case_id"], r.json()["version"]
    sup = c.post(
        f"/api/v1/cases/{case_id}/supplement",
        data={"version": str(version)},
        files=[("application_form", ("form.png", png_bomb(), "image/png"))],
        headers={"X-CSRF-Token": csrf, "Idempotency-Key": "sup-bomb"},
    )
    p = problem(sup, 422)  # checked before the case is looked at, whatever its state
    assert p["field"] == "files.application_form" and p["rule"] == "upload.pixels"
    assert "application_form" not in stored(web, case_id)


def test_good_files_are_still_accepted(web: Web) -> None:
    c, csrf = signed_in(web, "alice")
    files = [
        ("passport", ("p.png", png(), "image/png")),
        ("photo", ("me.jpg", jpeg(), "image/jpeg")),
        ("itinerary", ("plan.pdf", pdf(3), "application/pdf")),
        ("application_form", ("form.jpg", jpeg(800, 600, size=None), "image/jpeg")),
    ]
    r = apply_api(c, csrf, web, key="good", files=files)
    assert r.status_code == 201, r.text
    kept = stored(web, r.json()["case_id"])
    assert kept["itinerary"] == files[2][1][1]  # a PDF is kept as it came
    with Image.open(io.BytesIO(kept["passport"])) as img:
        assert img.format == "PNG" and img.size == (120, 80)


def test_limits_are_configurable(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from cnvisa.http.settings import Settings

    monkeypatch.setenv("CNVISA_UPLOAD_MAX_PIXELS", "10000")
    monkeypatch.setenv("CNVISA_UPLOAD_MAX_PDF_PAGES", "2")
    platform = web.client.app.state.platform  # type: ignore[attr-defined]
    web.client.app.state.platform = dataclasses.replace(  # type: ignore[attr-defined]
        platform, settings=Settings(database_url=web.db_url)
    )
    c, csrf = signed_in(web, "alice")
    big = [("passport", ("p.png", png(101, 100), "image/png"))]
    assert problem(apply_api(c, csrf, web, key="lim1", files=big), 422)["rule"] == "upload.pixels"
    pages = [("passport", ("p.pdf", pdf(3), "application/pdf"))]
    assert problem(apply_api(c, csrf, web, key="lim2", files=pages), 422)["rule"] == "upload.pdf_pages"
    fits = [("passport", ("p.png", png(100, 100), "image/png")), ("itinerary", ("i.pdf", pdf(2), "x/y"))]
    assert apply_api(c, csrf, web, key="lim3", files=fits).status_code == 201


# ------------------------------------------------------------------------------ serving stored files


def test_stored_files_are_served_as_attachments_of_their_checked_type(web: Web) -> None:
    c, csrf = signed_in(web, "alice")
    files = [("passport", ("<p>.html", png(), "text/html")), ("itinerary", ("plan.pdf", pdf(), "text/html"))]
    r = apply_api(c, csrf, web, key="serve", files=files)
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    web.signin("sh01.officer")
    view = web.client.get(f"/api/v1/office/cases/{case_id}").json()
    types = {"passport": "image/png", "itinerary": "application/pdf"}
    for f in view["files"]:
        got = web.client.get(f["url"])
        assert got.status_code == 200
        assert got.headers["content-type"] == types[f["material_code"]]  # never the uploader's claim
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-disposition"].startswith("attachment;")
        assert "sandbox" in got.headers["content-security-policy"]


# ------------------------------------------------------------------------------ the JPEG, losslessly


@pytest.mark.parametrize("progressive", [False, True])
def test_stripping_a_jpeg_keeps_every_pixel_and_drops_what_follows_its_end(progressive: bool) -> None:
    from cnvisa.cases.uploads import strip_jpeg

    noisy = Image.effect_noise((200, 150), 30).convert("RGB")
    buf = io.BytesIO()
    noisy.save(buf, "JPEG", quality=80, progressive=progressive, optimize=progressive)
    original = with_gps(buf.getvalue()) + b"<html><script>alert(1)</script></html>"
    clean = strip_jpeg(original)
    no_metadata(clean)
    assert not clean.endswith(b"</html>") and clean.endswith(b"\xff\xd9")
    with Image.open(io.BytesIO(original)) as a, Image.open(io.BytesIO(clean)) as b:
        assert a.tobytes() == b.tobytes()  # the same decoded pixels: only metadata went
    with pytest.raises(ValueError):
        strip_jpeg(clean[: len(clean) // 2])


def test_stripping_a_png_keeps_its_image_chunks_only() -> None:
    from PIL import PngImagePlugin

    from cnvisa.cases.uploads import strip_png

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at home")
    img = Image.effect_noise((64, 48), 30).convert("RGBA")
    buf = io.BytesIO()
    img.save(buf, "PNG", pnginfo=info)
    original = buf.getvalue() + b"<html><script>alert(1)</script></html>"
    clean = strip_png(original)
    assert b"taken at home" not in clean and b"tEXt" not in clean and clean.endswith(b"IEND\xaeB`\x82")
    with Image.open(io.BytesIO(clean)) as b:
        assert b.tobytes() == img.tobytes()
    with pytest.raises(ValueError):
        strip_png(clean[:40])


# ------------------------------------------------------------------------------ decoding, not guessing


class _Rules:
    max_pixels = 4_000_000
    max_pdf_pages = 20


def _noisy_jpeg(progressive: bool, exif: Image.Exif | None = None) -> bytes:
    img = Image.effect_noise((240, 320), 40).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85, progressive=progressive, exif=exif or Image.Exif())
    return buf.getvalue()


def _full_decode_refuses(content: bytes) -> bool:
    """The reference: Pillow decoding every pixel at full size."""
    try:
        with Image.open(io.BytesIO(content), formats=["JPEG"]) as img:
            img.load()
    except (OSError, ValueError, SyntaxError):
        return True
    return False


@pytest.mark.parametrize("progressive", [False, True])
def test_a_damaged_jpeg_is_judged_as_a_full_decode_judges_it(progressive: bool) -> None:
    """An upright JPEG is decoded at libjpeg's 1/8 scale (cnvisa.cases.uploads._image): all of its compressed
    data is still read, so every damaged file a full-size decode refuses is refused (libjpeg itself passes over
    some damage inside the data, at either scale; the marker checks may refuse more) and a cut one is refused."""
    import random

    from cnvisa.cases.uploads import UploadRejected, inspect_upload

    good = _noisy_jpeg(progressive)
    assert inspect_upload(good, _Rules(), "photo").media_type == "image/jpeg"
    start = good.index(b"\xff\xda")  # the first scan
    damaged = [good[: len(good) * 2 // 3]]
    for seed in range(24):
        rng = random.Random(seed)
        flipped = bytearray(good)
        for _ in range(60):
            i = rng.randrange(start + 20, len(good) - 4)
            flipped[i] = rng.randrange(256) if flipped[i] != 0xFF else 0xFF
        damaged.append(bytes(flipped))
    verdicts = []
    for content in damaged:
        try:
            inspect_upload(content, _Rules(), "photo")
            refused = False
        except UploadRejected as exc:
            assert (exc.rule, exc.field) == ("upload.unreadable", "photo")
            refused = True
        verdicts.append(refused)
        # nothing a full-size decode refuses gets through (the marker checks of strip_jpeg may refuse more)
        assert refused or not _full_decode_refuses(content)
    assert verdicts[0] and sum(verdicts) >= 2  # the cut one, and scrambled ones


def test_a_jpeg_turned_by_its_exif_is_kept_upright_without_it() -> None:
    from cnvisa.cases.uploads import inspect_upload

    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    clean = inspect_upload(_noisy_jpeg(False, exif), _Rules(), "photo")
    with Image.open(io.BytesIO(clean.content)) as kept:
        assert kept.size == (320, 240)  # turned: the full-size pixels, not a reduced draft
        assert kept.getexif().get(0x0112) is None
    no_metadata(clean.content)
