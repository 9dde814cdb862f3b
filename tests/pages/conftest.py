"""The pages in headless Chromium against real services: referral-api and screening-api each
served by uvicorn on a loopback port (the browser needs real HTTP), on their own databases built
by the migrations, with the hand-off worker delivering to referral-api over HTTP as in `make run`.

Needs what the renderer tests need (Debian chromium, tests/renderers/setup.sh: playwright-core
and axe-core) and the page assets (`make assets`); skipped with the reason when they are missing,
unless SIGNPOST_REQUIRE_RENDERERS=1 (CI).
"""

import json
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from referral_api.config import ReferralSettings
from referral_api.main import create_app as create_referral_app
from screening_api.config import ScreeningSettings
from screening_api.main import create_app as create_screening_app
from signpost_platform.pages.assets import default_assets_dir, installed
from tests.support.clients import running
from tests.support.databases import drop_database, migrated_database
from tests.support.report_examples import example_dataset
from tests.support.tools import drive_chromium, missing_for_chromium, requires_tools

HERE = Path(__file__).parent
RENDERERS = HERE.parent / "renderers"
# Where the page tests leave their screenshots (docs/ when SIGNPOST_PAGE_SCREENSHOTS=docs).
SCREENSHOTS = os.environ.get("SIGNPOST_PAGE_SCREENSHOTS")

MISSING = missing_for_chromium(
    ("playwright-core", (RENDERERS / "node_modules" / "playwright-core").is_dir()),
    ("axe-core", (RENDERERS / "node_modules" / "axe-core").is_dir()),
    ("the page assets (make assets)", installed(default_assets_dir())),
)
# What a page shows does not depend on the database: the tests run once, on SQLite.
pytestmark = [
    requires_tools(
        MISSING, "tests/renderers/setup.sh and make assets", "SIGNPOST_REQUIRE_RENDERERS"
    ),
    pytest.mark.sqlite_only,
]


class Served:
    """An app served by uvicorn on a loopback port, in a thread with its own event loop."""

    def __init__(self, app: FastAPI) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> "Served":
        self.thread.start()
        # Starting takes well under a second; the bound only keeps a broken start from hanging.
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the service did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.socket.close()


@dataclass(frozen=True)
class Services:
    referral: str
    screening: str


@pytest.fixture(scope="package")
async def page_services(backend: str, session_tmp: Path) -> AsyncIterator[Services]:
    """referral-api (with the synthetic report dataset) and screening-api, served.

    Package-scoped: their workers set the process-wide outbox and facts gauges, so they stop
    before other packages' tests read those gauges."""
    referral_url = await migrated_database(backend, session_tmp, "referral")
    screening_url = await migrated_database(backend, session_tmp, "screening")
    loader = create_referral_app(ReferralSettings(database_url=referral_url, environment="test"))
    async with running(loader, "http://referral.test"):
        await example_dataset().write(loader)
        await loader.state.report_facts.refresh()  # the dashboard reads the facts only
    # Served as deployed: its facts refresh worker runs (the tests turn it off elsewhere).
    referral_app = create_referral_app(
        ReferralSettings(
            database_url=referral_url, environment="test", report_refresh_worker_enabled=True
        )
    )
    with Served(referral_app) as referral:
        screening_app = create_screening_app(
            ScreeningSettings(
                database_url=screening_url,
                environment="test",
                referral_api_url=referral.url,
                referral_routes={"R1H12": "F84001"},  # type: ignore[arg-type]
                handoff_poll_seconds=0.2,
            )
        )
        with Served(screening_app) as screening:
            yield Services(referral.url, screening.url)
    await drop_database(referral_url)
    await drop_database(screening_url)


@pytest.fixture
def screenshots(tmp_path: Path) -> Iterator[Path]:
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    yield folder


async def drive(journey: str, scenario: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """Run tests/pages/drive.mjs; its result, after checking nothing left 127.0.0.1, no script
    failed and axe-core found nothing serious or critical in any state of the page."""
    path = tmp_path / f"{journey}-scenario.json"
    path.write_text(json.dumps(scenario))
    result = await drive_chromium(HERE / "drive.mjs", journey, str(path), seconds=180)
    if "failure" in result:
        # In full, the failure first: a repr of it in an assertion is cut to a line or two.
        pytest.fail(
            f"{result['failure']}\nsteps done: {json.dumps(result.get('failedSteps'))}"
            f"\nthe page's alert: {result.get('alert')}"
            f"\nscript errors: {json.dumps(result['pageErrors'] + result['consoleErrors'])}",
            pytrace=False,
        )
    assert result["externalRequests"] == []
    assert result["pageErrors"] == []
    serious = [
        (state["state"], violation)
        for state in result["axe"]
        for violation in state["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert serious == []
    # No token anywhere but the tab's session storage; never in the address.
    assert result["storage"]["local"] == []
    assert "token" not in result["storage"]["url"]
    return result


def axe_summary(result: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(state, rules passed, violations of any impact) per state checked."""
    return [(s["state"], s["passes"], len(s["violations"])) for s in result["axe"]]
