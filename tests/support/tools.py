"""Suites that need tools from outside the Python environment (npm packages, a browser).

Locally such a suite is skipped, saying how to install what it misses; where the environment
variable it names is 1 (CI sets each), a missing tool fails the run instead, so a suite cannot
pass by not running.
"""

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

# The browser the headless-Chromium suites drive (Debian's, or the one CHROMIUM_PATH names).
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


def missing(*tools: tuple[str, bool]) -> list[str]:
    """The names of `tools`, each (name, whether it is there), that are not there."""
    return [name for name, there in tools if not there]


def missing_for_chromium(*tools: tuple[str, bool]) -> list[str]:
    """What a suite driving headless Chromium from node misses: the browser, node, then `tools`."""
    return missing(
        ("Debian chromium", CHROMIUM is not None),
        ("node", shutil.which("node") is not None),
        *tools,
    )


def requires_tools(missing: list[str], setup: str, require_variable: str) -> pytest.MarkDecorator:
    """A `skipif` mark for a suite whose tools `missing` names (empty: all there), or, when
    `require_variable` is 1, an error naming them. `setup` says how to install them."""
    reason = f"missing {', '.join(missing)}: run {setup}"
    if missing and os.environ.get(require_variable) == "1":
        raise RuntimeError(f"{reason} ({require_variable}=1: these tests must run)")
    return pytest.mark.skipif(bool(missing), reason=reason)


async def drive_chromium(
    script: Path, *arguments: str, seconds: float, cwd: Path | None = None
) -> dict[str, Any]:
    """Run the node `script` that drives headless Chromium with `arguments`, check it ended well
    within `seconds`, and return the JSON result it prints."""
    process = await asyncio.create_subprocess_exec(
        "node",
        str(script),
        *arguments,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "CHROMIUM_PATH": str(CHROMIUM)},
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), seconds)
    assert process.returncode == 0, stderr.decode()
    result: dict[str, Any] = json.loads(stdout)
    return result
