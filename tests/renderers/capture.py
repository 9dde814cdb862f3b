"""Capture what LHC-Forms and Smart Forms export, as fixtures for the screening-api tests.

    .venv/bin/python -m tests.renderers.capture

Runs each scenario through the real renderer in headless Chromium (`drive.mjs`, the same driver
the renderer tests use; run `tests/renderers/setup.sh` once first) on the Questionnaire exactly
as screening-api serves it, and writes the exported QuestionnaireResponse unchanged to
`tests/screening/fixtures/renderers/<name>.json`. The screening-api tests then submit these
exact responses with only `subject` added, so they run without a browser. Run again when a
renderer or a questionnaire changes.
"""

import functools
import json
import os
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from screening_api.questionnaires.tools import packaged_tools
from tests.support.processes import captured
from tests.support.tools import CHROMIUM

HERE = Path(__file__).parent
FIXTURES = HERE.parent / "screening" / "fixtures" / "renderers"
LOINC = "http://loinc.org"
YES, NO = "LA33-6", "LA32-8"
BARTS = "barts-social-welfare-screening"
SHORT = "basic-needs-short-screen"

# name: (renderer, tool, answers clicked in order as (linkId, code), linkId probed)
SCENARIOS: dict[str, tuple[str, str, list[tuple[str, str]], str]] = {
    # Item 1 (finance) and item 5 ("Do you ever feel unsafe?") flagged; wants help.
    "lforms-barts-feels-unsafe": (
        "lforms",
        BARTS,
        [("1", YES), ("7", YES), ("2", NO), ("3", YES), ("4", YES), ("5", YES), ("6", NO)],
        "7",
    ),
    # Item 1 (finance) flagged; wants help.
    "lforms-barts-finance": (
        "lforms",
        BARTS,
        [("1", YES), ("7", YES), ("2", NO), ("3", YES), ("4", YES), ("5", NO), ("6", NO)],
        "7",
    ),
    # No flag: item 7 never shown.
    "lforms-barts-negative": (
        "lforms",
        BARTS,
        [("1", NO), ("2", NO), ("3", YES), ("4", YES), ("5", NO), ("6", NO)],
        "7",
    ),
    "lforms-short-positive": ("lforms", SHORT, [("1", YES), ("2", YES)], "2"),
    # Items 2 (food), 4 (no support) and 5 (feels unsafe) flagged; wants help.
    "smartforms-barts-feels-unsafe": (
        "smartforms",
        BARTS,
        [("1", NO), ("2", YES), ("3", YES), ("4", NO), ("5", YES), ("6", NO), ("7", YES)],
        "7",
    ),
    # Items 2 (food) and 3 (housing) flagged; wants help.
    "smartforms-barts-food-housing": (
        "smartforms",
        BARTS,
        [("1", NO), ("2", YES), ("3", NO), ("4", YES), ("5", NO), ("6", NO), ("7", YES)],
        "7",
    ),
    "smartforms-short-positive": ("smartforms", SHORT, [("1", YES), ("2", YES)], "2"),
}


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _questionnaire(name: str) -> dict[str, Any]:
    [tool] = [t for t in packaged_tools() if t.name == name and t.status == "active"]
    served: dict[str, Any] = json.loads(tool.resource_json)
    return served


def _drive(renderer: str, base: str, scenario: dict[str, Any], work: Path) -> dict[str, Any]:
    path = work / "scenario.json"
    path.write_text(json.dumps(scenario))
    chromium = CHROMIUM or "/usr/bin/chromium"
    done = captured(
        ["node", HERE / "drive.mjs", renderer, base, path],
        cwd=HERE,
        timeout=120,
        env={**os.environ, "CHROMIUM_PATH": chromium},
    )
    if done.returncode != 0:
        raise RuntimeError(f"{renderer}: {done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    if result["externalRequests"] or result["pageErrors"]:
        raise RuntimeError(f"{renderer}: {result['externalRequests']} {result['pageErrors']}")
    return result


def main() -> None:
    handler = functools.partial(_QuietHandler, directory=str(HERE))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    FIXTURES.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory() as work:
            for name, (renderer, tool, answers, probe) in SCENARIOS.items():
                scenario = {
                    "questionnaire": _questionnaire(tool),
                    "probe": probe,
                    "answers": [[link_id, LOINC, code] for link_id, code in answers],
                }
                result = _drive(renderer, base, scenario, Path(work))
                target = FIXTURES / f"{name}.json"
                target.write_text(json.dumps(result["response"], indent=2) + "\n")
                print(f"{target.relative_to(HERE.parent.parent)}")
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
