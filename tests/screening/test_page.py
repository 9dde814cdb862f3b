"""The screening page as served (its markup; the page itself runs in Chromium in tests/pages)."""

import html
import json
import re
from pathlib import Path

import httpx

from screening_api.config import ScreeningSettings
from screening_api.main import create_app
from signpost_platform.auth import Authenticator
from signpost_platform.pages import assets


def _app(assets_dir: Path | None = None) -> httpx.AsyncClient:
    app = create_app(
        ScreeningSettings(
            database_url="sqlite+aiosqlite://", environment="test", pages_assets_dir=assets_dir
        )
    )
    # The page reads only the settings and the questionnaires: no lifespan, no database.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://page.test")


def _installed_assets(folder: Path) -> Path:
    """A folder the page takes for installed assets (it reads only their stamp), so the markup
    does not depend on whether `make assets` has been run here."""
    (folder / assets.STAMP).write_text(json.dumps(assets._pins()))
    return folder


async def test_the_page_offers_every_active_questionnaire_and_knows_their_canonicals(
    tmp_path: Path,
) -> None:
    async with _app(_installed_assets(tmp_path)) as client:
        page = await client.get("/screen")

    assert page.status_code == 200
    offered = re.findall(r'name="questionnaire" type="radio"\s+value="([^"]+)"', page.text)
    assert sorted(offered) == [
        "barts-social-welfare-screening-2023.1",
        "basic-needs-short-screen-2023.1",
    ]
    [mapping] = re.findall(r'data-questionnaires="([^"]*)"', page.text)
    assert json.loads(html.unescape(mapping)) == {
        "https://signpost.nhs.example/Questionnaire/barts-social-welfare-screening|2023.1": (
            "barts-social-welfare-screening-2023.1"
        ),
        "https://signpost.nhs.example/Questionnaire/basic-needs-short-screen|2023.1": (
            "basic-needs-short-screen-2023.1"
        ),
    }
    assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_a_development_sign_in_acts_for_the_synthetic_clinic() -> None:
    settings = ScreeningSettings(database_url="sqlite+aiosqlite://", environment="test")
    async with _app() as client:
        answer = await client.post("/pages/sign-in/development")

    caller = await Authenticator(settings).verify(answer.json()["access_token"])
    assert caller.organisation_ods == "R1H12"
    assert caller.scopes == frozenset({"screening:read", "screening:write"})
