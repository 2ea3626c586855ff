"""Swagger UI and ReDoc from the package's own files, for a municipal intranet that reaches nothing outside.

fastapi-offline serves both bundles locally, but ReDoc's bundle still draws its footer logo from
cdn.redoc.ly (an `<img>` it adds after the page has loaded): a browser on a closed network waits on it and an
open one tells a third party who reads the API. The bundle is served here with that one address replaced by
the package's own favicon, before fastapi-offline's static mount can answer for it."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import Response
from fastapi_offline import FastAPIOffline

STATIC_URL = "/static-offline-docs"
REDOC_BUNDLE = Path(fastapi_offline.__file__).parent / "static" / "redoc.standalone.js"
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@lru_cache(maxsize=1)
def offline_redoc_bundle() -> bytes:
    """The ReDoc bundle with its one outside address (the footer logo) pointing at the local favicon."""
    return REDOC_BUNDLE.read_text(encoding="utf-8").replace(REDOC_LOGO, f"{STATIC_URL}/favicon.png").encode()


def offline_docs_app(**settings: Any) -> FastAPI:
    """A FastAPI app whose /docs and /redoc load nothing from outside this service."""
    app = FastAPIOffline(static_url=STATIC_URL, **settings)

    async def redoc_bundle() -> Response:
        return Response(offline_redoc_bundle(), media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=86400"})

    app.add_api_route(f"{STATIC_URL}/redoc.standalone.js", redoc_bundle, include_in_schema=False)
    # fastapi-offline mounted its static folder first; a route must come before the mount to answer instead
    app.router.routes.insert(0, app.router.routes.pop())
    return app
