"""The API's reference pages (/api/docs, /api/redoc) with their scripts served from the package.

FastAPI's own pages load Swagger UI, ReDoc and their fonts from a CDN: blank without internet access, and
unreliable from mainland China. The assets come from the ``fastapi-offline`` wheel (Swagger UI and ReDoc
bundles under their MIT/Apache licences), served here under /api/docs-assets/; no web fonts are loaded.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from typing import Final

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from cnvisa.http.problems import Problem

router = APIRouter(include_in_schema=False)

ASSETS_URL: Final = "/api/docs-assets"
ASSETS: Final = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
_DIR = files("fastapi_offline") / "static"
_TITLE: Final = "cnvisa — China Visa Service Platform"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def with_policy(page: HTMLResponse) -> HTMLResponse:
    """The reference pages' own Content-Security-Policy (cnvisa.http.headers leaves it as it is): Swagger UI
    starts from one inline script, allowed by its hash only (no 'unsafe-inline' script); both pages inject
    styles at run time (ReDoc's styled-components, a <style> block), and ReDoc searches in a blob: worker.
    Everything else as on the platform's pages."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(m).digest()).decode()}'"
        for m in _INLINE_SCRIPT.findall(page.body)
    )
    page.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    return page


@router.get("/api/docs")
async def swagger(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return with_policy(
        get_swagger_ui_html(
            openapi_url=f"{root}/api/openapi.json",
            title=f"{_TITLE} — API",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        )
    )


@router.get("/api/redoc")
async def redoc(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return with_policy(
        get_redoc_html(
            openapi_url=f"{root}/api/openapi.json",
            title=f"{_TITLE} — API",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
    )


@router.get(ASSETS_URL + "/{name}")
async def asset(name: str) -> FileResponse:
    if name not in ASSETS:  # only the four known files: no path reaches outside the package
        raise Problem(404, "Not found", f"no asset {name!r}", field="name", code="not_found")
    return FileResponse(
        str(_DIR / name), media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=86400"}
    )
