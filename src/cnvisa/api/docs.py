"""The API's reference pages (/api/docs, /api/redoc) with their scripts served from the package.

FastAPI's own pages load Swagger UI, ReDoc and their fonts from a CDN: blank without internet access, and
unreliable from mainland China. The assets come from the ``fastapi-offline`` wheel (Swagger UI and ReDoc
bundles under their MIT/Apache licences), served here under /api/docs-assets/; no web fonts are loaded.
"""

from __future__ import annotations

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


@router.get("/api/docs")
async def swagger(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}/api/openapi.json",
        title=f"{_TITLE} — API",
        swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
    )


@router.get("/api/redoc")
async def redoc(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_redoc_html(
        openapi_url=f"{root}/api/openapi.json",
        title=f"{_TITLE} — API",
        redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        with_google_fonts=False,
    )


@router.get(ASSETS_URL + "/{name}")
async def asset(name: str) -> FileResponse:
    if name not in ASSETS:  # only the four known files: no path reaches outside the package
        raise Problem(404, "Not found", f"no asset {name!r}", field="name", code="not_found")
    return FileResponse(
        str(_DIR / name), media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=86400"}
    )
