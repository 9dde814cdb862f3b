"""`make run`: migrate and start the three services on SQLite under ./var/, one process each,
and the development tools beside them (the referrer endpoint messages back to the GP go to)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from signpost_platform.migrations import upgrade
from signpost_platform.settings import find_repo_file

# Development defaults a service reads unless the environment sets them: the synthetic clinic of
# the examples (R1H12) routes positive screens to the synthetic GP-based social prescribing team
# (F84001), so a screen sent with a clinic's token reaches a team's queue.
# referral-api sends its messages back to the synthetic GP practice (F84001) to the development
# referrer endpoint started beside it (`referral_api.gp_messages.receiver`, never deployed).
GP_RECEIVER_PORT = 8009
DEVELOPMENT_DEFAULTS = {
    "screening": {"SCREENING_REFERRAL_ROUTES": "R1H12=F84001"},
    "referral": {
        "REFERRAL_GP_MESSAGE_ENDPOINTS": (
            f"F84001=http://127.0.0.1:{GP_RECEIVER_PORT}/F84001/$process-message"
        )
    },
}
# Development tools started beside the services: (name, app factory, port).
TOOLS = [("gp-receiver", "referral_api.gp_messages.receiver:create_app", GP_RECEIVER_PORT)]

SERVICES = [
    ("referral", "referral_api.main:create_app", 8001),
    ("directory", "directory_api.main:create_app", 8002),
    ("screening", "screening_api.main:create_app", 8003),
]


def _serve(
    factory: str, host: str, port: int, environment: dict[str, str]
) -> subprocess.Popen[bytes]:
    """Start uvicorn on the app `factory` builds, at `host`:`port`, without access logs."""
    command = [sys.executable, "-m", "uvicorn", "--factory", factory]
    return subprocess.Popen(  # noqa: S603 (fixed argument list)
        [*command, "--host", host, "--port", str(port), "--no-access-log"], env=environment
    )


def main() -> int:
    alembic_ini = find_repo_file("alembic.ini")
    Path("var").mkdir(exist_ok=True)
    host = os.environ.get("SIGNPOST_HOST", "127.0.0.1")
    processes: list[subprocess.Popen[bytes]] = []
    for name, factory, port in SERVICES:
        url_variable = f"{name.upper()}_DATABASE_URL"
        url = os.environ.get(url_variable, f"sqlite+aiosqlite:///./var/{name}.db")
        upgrade(alembic_ini, name, url)
        print(f"{name}-api: migrated; starting on http://{host}:{port}", flush=True)
        environment = {**DEVELOPMENT_DEFAULTS.get(name, {}), **os.environ, url_variable: url}
        processes.append(_serve(factory, host, port, environment))
    for name, factory, port in TOOLS:
        print(f"{name}: starting on http://127.0.0.1:{port}", flush=True)
        processes.append(_serve(factory, "127.0.0.1", port, dict(os.environ)))
    print(
        "Signpost is running in DEVELOPMENT auth mode (insecure, local use only). "
        "Get a token with: make token. Stop with Ctrl-C.",
        flush=True,
    )

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
    finally:
        requested = stopping  # before stop(): a service that ended by itself is no stop asked
        stop()
        for process in processes:
            process.wait(timeout=15)
    return exit_status([process.returncode or 0 for process in processes], stopping=requested)


_STOP_SIGNALS = {-signal.SIGTERM, -signal.SIGINT}


def exit_status(returncodes: list[int], *, stopping: bool) -> int:
    """0 when a stop was asked for (Ctrl-C, SIGTERM) and every service ended cleanly or by the
    signal sent to stop it (uvicorn re-raises the signal it shut down on, so `make run` said
    "Error 241" after a plain SIGTERM); else the first failure (a signal as 128 + its number,
    as a shell reports it), or 1 when a service ended by itself."""
    failures = [code for code in returncodes if code != 0 and code not in _STOP_SIGNALS]
    if failures:
        return 128 - failures[0] if failures[0] < 0 else failures[0]
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main())
