"""/docs in development: Swagger UI from the installed swagger-ui-bundle-v2 package, never a CDN.

The page carries no inline script (its start-up code is /docs/assets/docs.js), so its CSP allows scripts
and styles from this origin only; a CDN or an injected script is refused by the browser.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response

router = APIRouter(prefix="/docs", include_in_schema=False)

DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
Asset = Literal["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "docs.js"]
_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@router.get("", response_class=HTMLResponse)
async def docs_page() -> HTMLResponse:
    return HTMLResponse(_template("docs.html"), headers={"Content-Security-Policy": DOCS_CSP})


@router.get("/assets/{name}")
async def docs_asset(name: Annotated[Asset, PathParam()]) -> Response:
    if name == "docs.js":
        return Response(_template(name), media_type=_MEDIA_TYPES[".js"])
    path = _swagger_ui_dir() / name
    return FileResponse(path, media_type=_MEDIA_TYPES[path.suffix], headers={"Cache-Control": "max-age=86400"})


@functools.cache
def _template(name: str) -> str:
    return resources.files("app").joinpath(f"templates/{name}").read_text(encoding="utf-8")


@functools.cache
def _swagger_ui_dir() -> Path:
    from swagger_ui_bundle import swagger_ui_path  # only when someone opens /docs

    return Path(str(swagger_ui_path))
