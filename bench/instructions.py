"""Instructions counted by valgrind's callgrind: a cost that other work on the machine cannot move.

CPU time on a shared virtual machine moves by 5-30% between runs of the same code, which hides
changes of a few percent. The number of instructions a process executes for the same requests
does not depend on what else runs, so two versions of the code can be compared exactly (the
same total twice, give or take the event loop's extra turns while it waits for PostgreSQL).

`rerun_under_callgrind(module, argv)` runs a benchmark again under `valgrind --tool=callgrind` with
instrumentation off (Python starts, imports and seeds at about a fifth of its normal speed);
inside it, `Counter` switches instrumentation on once the setup is done, and counts what runs
between `zero()` and `read(name)` through callgrind's client requests (a small C library,
compiled here with the machine's C compiler from valgrind's own header, called with ctypes).
Needs valgrind and gcc (Debian's `valgrind` package has the header).
"""

import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

UNDER_CALLGRIND = "SIGNPOST_CALLGRIND_DIR"  # set in the rerun: where callgrind writes its dumps

_SOURCE = r"""
#include <valgrind/callgrind.h>
void counter_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void counter_zero(void) { CALLGRIND_ZERO_STATS; }
void counter_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
"""


def under_callgrind() -> bool:
    return UNDER_CALLGRIND in os.environ


def rerun_under_callgrind(module: str, argv: list[str]) -> int:
    """Run `python -m module *argv` under callgrind (its exit status)."""
    for tool in ("valgrind", "gcc"):
        if shutil.which(tool) is None:
            sys.exit(f"counting instructions needs {tool} (Debian: apt-get install valgrind gcc)")
    directory = Path(tempfile.mkdtemp(prefix="signpost-callgrind-"))
    library = directory / "counter.so"
    source = directory / "counter.c"
    source.write_text(_SOURCE)
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(library), str(source)], check=True)
    command = [
        "valgrind",
        "--tool=callgrind",
        "--quiet",
        "--instr-atstart=no",
        f"--callgrind-out-file={directory}/callgrind.out",
        sys.executable,
        "-m",
        module,
        *argv,
    ]
    try:
        return subprocess.run(
            command, env={**os.environ, UNDER_CALLGRIND: str(directory)}
        ).returncode
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class Counter:
    """Inside the rerun: counts the instructions between `zero()` and `read(name)`."""

    def __init__(self) -> None:
        self.directory = Path(os.environ[UNDER_CALLGRIND])
        self.library = ctypes.CDLL(str(self.directory / "counter.so"))
        self.library.counter_dump.argtypes = [ctypes.c_char_p]
        self.dumps = 0

    def start(self) -> None:
        """Instrument from here on (the setup before ran uninstrumented, so faster)."""
        self.library.counter_start()

    def zero(self) -> None:
        self.library.counter_zero()

    def read(self, name: str) -> int:
        """The instructions executed since `zero()` (callgrind writes them to a dump file)."""
        self.library.counter_dump(name.encode())
        self.dumps += 1
        dump = self.directory / f"callgrind.out.{self.dumps}"
        found = re.search(r"^summary: (\d+)", dump.read_text(), re.MULTILINE)
        if found is None:
            raise RuntimeError(f"no summary line in {dump}")
        dump.unlink()
        return int(found.group(1))
