"""What the pages share (signpost_platform.pages): the development sign-in only in development
mode, the content security policy, the pinned assets served from their folder only, and a plain
message when they are not installed. The pages themselves run in Chromium in tests/pages."""

import json
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi import FastAPI

from referral_api.config import ReferralSettings
from referral_api.main import create_app
from signpost_platform.auth import Authenticator
from signpost_platform.pages import assets
from signpost_platform.settings import DEV_AUDIENCE
from tests.platform.test_auth_modes import jwks_settings, signing_key  # noqa: F401 (fixtures)


def _client(app: FastAPI) -> httpx.AsyncClient:
    # The page routes read only the settings: no lifespan, no database.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pages.test")


def _development(**overrides: object) -> ReferralSettings:
    return ReferralSettings(database_url="sqlite+aiosqlite://", environment="test", **overrides)  # type: ignore[arg-type]


async def test_development_sign_in_gives_a_token_the_service_accepts() -> None:
    settings = _development()
    async with _client(create_app(settings)) as client:
        response = await client.post("/pages/sign-in/development")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    token = response.json()["access_token"]
    caller = await Authenticator(settings).verify(token)
    assert caller.scopes == frozenset({"reports:read"})
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == DEV_AUDIENCE


async def test_development_sign_in_is_off_outside_development_mode(jwks_settings) -> None:  # noqa: F811
    async with _client(create_app(jwks_settings)) as client:
        refused = await client.post("/pages/sign-in/development")
        page = await client.get("/reports/dashboard")

    assert refused.status_code == 404
    assert "dev-sign-in" not in page.text
    assert 'data-sign-in="token"' in page.text
    assert 'id="token"' in page.text


async def test_behind_an_authenticating_proxy_the_page_asks_for_no_token(jwks_settings) -> None:  # noqa: F811
    settings = jwks_settings.model_copy(update={"pages_sign_in": "proxy"})
    async with _client(create_app(settings)) as client:
        page = await client.get("/reports/dashboard")

    assert 'data-sign-in="proxy"' in page.text
    assert 'id="token"' not in page.text


async def test_pages_allow_scripts_from_the_service_only() -> None:
    async with _client(create_app(_development())) as client:
        page = await client.get("/reports/dashboard")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = dict(
        part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "<script>" not in page.text  # no inline script


async def test_a_page_says_plainly_when_its_assets_are_not_installed(tmp_path: Path) -> None:
    async with _client(create_app(_development(pages_assets_dir=tmp_path))) as client:
        page = await client.get("/reports/dashboard")
        asset = await client.get("/pages/assets/nhsuk-frontend/nhsuk-frontend.min.css")

    assert page.status_code == 200
    assert "assets are not installed" in page.text and "make assets" in page.text
    assert "<script" not in page.text
    assert asset.status_code == 404
    assert "make assets" in asset.json()["detail"]


async def test_only_the_listed_asset_files_are_served(tmp_path: Path) -> None:
    (tmp_path / "nhsuk-frontend").mkdir()
    (tmp_path / "nhsuk-frontend" / "secret.txt").write_text("not an asset")
    (tmp_path / "nhsuk-frontend" / "nhsuk-frontend.min.js").write_text("export {};")
    async with _client(create_app(_development(pages_assets_dir=tmp_path))) as client:
        listed = await client.get("/pages/assets/nhsuk-frontend/nhsuk-frontend.min.js")
        unlisted = await client.get("/pages/assets/nhsuk-frontend/secret.txt")
        outside = await client.get("/pages/assets/nhsuk-frontend/..%2F..%2Fetc%2Fpasswd")
        script = await client.get("/pages/static/dashboard.js")
        shared = await client.get("/pages/static/pages.js")

    assert listed.status_code == 200
    assert listed.headers["content-type"].startswith("text/javascript")
    assert (unlisted.status_code, outside.status_code) == (404, 404)
    assert script.status_code == shared.status_code == 200


def test_a_tarball_that_differs_from_its_pinned_integrity_is_refused() -> None:
    with pytest.raises(ValueError, match="differs"):
        assets._verified(assets.PACKAGES[0], b"not the tarball")


def test_assets_count_as_installed_only_for_these_pinned_versions(tmp_path: Path) -> None:
    assert not assets.installed(tmp_path)
    stamp = {package.name: f"0.0.1 {package.integrity}" for package in assets.PACKAGES}
    (tmp_path / assets.STAMP).write_text(json.dumps(stamp))
    assert not assets.installed(tmp_path)
    pins = {package.name: f"{package.version} {package.integrity}" for package in assets.PACKAGES}
    (tmp_path / assets.STAMP).write_text(json.dumps(pins))
    assert assets.installed(tmp_path)
