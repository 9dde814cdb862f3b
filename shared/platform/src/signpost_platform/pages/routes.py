"""The routes every service with pages shares: the installed assets, the pages' scripts and
styles, and (development mode only) the development sign-in.

They are left out of the OpenAPI document: they serve a browser, not an integration.
"""

from collections.abc import Sequence
from importlib import resources
from importlib.resources.abc import Traversable

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, JSONResponse, Response

from signpost_platform.auth import mint_development_token
from signpost_platform.errors import NotFound
from signpost_platform.pages.assets import PACKAGES, default_assets_dir
from signpost_platform.routing import CheckedRoute
from signpost_platform.settings import ServiceSettings

_MEDIA_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
# The assets change only with their pinned version, so browsers may keep them for a day.
_ASSET_CACHE = "public, max-age=86400"
_SERVED_ASSETS = {f"{package.folder}/{name}" for package in PACKAGES for name in package.files}
SHARED_STATIC = resources.files("signpost_platform.pages").joinpath("static")
# A development token lives as long as a clinic session.
DEVELOPMENT_TOKEN_SECONDS = 8 * 3600


def _media_type(name: str) -> str:
    return _MEDIA_TYPES.get(name[name.rfind(".") :], "application/octet-stream")


def _static_file(folders: Sequence[Traversable], name: str) -> Response:
    if "/" in name or name.startswith("."):
        raise NotFound(f"no page file {name}")
    for folder in folders:
        file = folder.joinpath(name)
        if file.is_file():
            return Response(
                file.read_bytes(),
                media_type=_media_type(name),
                headers={"Cache-Control": "no-cache"},
            )
    raise NotFound(f"no page file {name}")


def router(
    *,
    static: Traversable | None = None,
    development_scopes: Sequence[str] = (),
    development_ods: str | None = None,
) -> APIRouter:
    """The shared routes; `static` is the service's own folder of page scripts and styles,
    `development_scopes` and `development_ods` what a development sign-in grants."""
    pages = APIRouter(route_class=CheckedRoute, prefix="/pages", include_in_schema=False)
    folders = [SHARED_STATIC, *([static] if static is not None else [])]

    @pages.get("/assets/{package}/{path:path}")
    async def asset(package: str, path: str, request: Request) -> Response:
        settings: ServiceSettings = request.app.state.settings
        if f"{package}/{path}" not in _SERVED_ASSETS:
            raise NotFound(f"no asset {package}/{path}")
        file = (settings.pages_assets_dir or default_assets_dir()) / package / path
        if not file.is_file():
            raise NotFound(f"the asset {package}/{path} is not installed: run make assets")
        return FileResponse(
            file, media_type=_media_type(path), headers={"Cache-Control": _ASSET_CACHE}
        )

    @pages.get("/static/{name}")
    async def static_file(name: str) -> Response:
        return _static_file(folders, name)

    @pages.post("/sign-in/development")
    async def development_sign_in(request: Request) -> Response:
        """A development token for the page (development mode only; 404 otherwise)."""
        settings: ServiceSettings = request.app.state.settings
        if settings.auth_mode != "development" or settings.environment == "production":
            raise NotFound("development sign-in is off: sign in with your organisation's token")
        token = mint_development_token(
            list(development_scopes),
            subject="dev-page-user",
            client_id="signpost-pages",
            ods=development_ods,
            lifetime_seconds=DEVELOPMENT_TOKEN_SECONDS,
            secret=settings.dev_token_secret.get_secret_value(),
        )
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": DEVELOPMENT_TOKEN_SECONDS,
                "scope": " ".join(development_scopes),
            },
            headers={"Cache-Control": "no-store"},
        )

    return pages
