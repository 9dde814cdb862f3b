"""Child processes the tests and the benchmarks run: a free loopback port for a server, a wait
for a served process to answer its ping, and a command run to its end with what it prints
captured."""

import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx


def free_port() -> int:
    """A loopback TCP port nothing listens on (at the moment of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers_ping(
    url: str,
    process: subprocess.Popen[bytes],
    *,
    within: float,
    interval: float,
    request_timeout: float,
) -> bool:
    """Wait until `url` answers `/_ping` with 200 (True), or until `process` has exited or
    `within` seconds have passed (False)."""
    deadline = time.monotonic() + within
    while True:
        try:
            if httpx.get(f"{url}/_ping", timeout=request_timeout).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(interval)


def captured(
    command: Sequence[str | Path],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `command` to its end (at most `timeout` seconds) with its output captured as text; a
    non-zero exit is the caller's to judge."""
    return subprocess.run(  # noqa: S603 (commands the callers build from fixed parts)
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
