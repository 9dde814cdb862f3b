"""The third-party OpenAPI tools the tool tests run, and where they are.

The npm packages (@redocly/cli, openapi-typescript, typescript) are pinned in
node/package-lock.json and installed by node/setup.sh; openapi-python-client is a dev dependency
of the virtual environment. Without them the tool tests are skipped, unless
SIGNPOST_REQUIRE_OPENAPI_TOOLS=1 (CI), where they fail.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.processes import captured
from tests.support.tools import missing, requires_tools

NODE_BIN = Path(__file__).parent / "node" / "node_modules" / ".bin"
VENV_BIN = Path(sys.executable).parent
REDOCLY = NODE_BIN / "redocly"
OPENAPI_TYPESCRIPT = NODE_BIN / "openapi-typescript"
TSC = NODE_BIN / "tsc"
OPENAPI_PYTHON_CLIENT = VENV_BIN / "openapi-python-client"
SERVICES = ("referral", "directory", "screening")

MISSING = missing(
    ("node", shutil.which("node") is not None),
    ("@redocly/cli", REDOCLY.exists()),
    ("openapi-typescript", OPENAPI_TYPESCRIPT.exists()),
    ("typescript", TSC.exists()),
    ("openapi-python-client", OPENAPI_PYTHON_CLIENT.exists()),
)
requires_openapi_tools = requires_tools(
    MISSING, "tests/openapi/node/setup.sh and make venv", "SIGNPOST_REQUIRE_OPENAPI_TOOLS"
)
# The tools run offline: no telemetry, no update checks; openapi-python-client's post-generation
# hook runs ruff from the virtual environment.
ENVIRONMENT = {
    **os.environ,
    "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    "REDOCLY_TELEMETRY": "off",
    "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
    "NO_UPDATE_NOTIFIER": "1",
}


def run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a tool (bounded in time), capturing what it prints."""
    return captured(command, cwd=cwd, env=ENVIRONMENT, timeout=300)
