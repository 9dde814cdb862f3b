"""The side-by-side harness: referral-api beside bare FastAPI, fhirstarter and a hand-rolled server.

The harness is not part of this repository: it lives in the brief pack beside a checkout
(`../shared/bench-peer/run.sh` from the repository root) or wherever SIGNPOST_BENCH_PEER_DIR
points. It builds its own venvs for the peers, runs each server alone on one uvicorn worker
against the local PostgreSQL and prints rates and ratios from one run. This module runs it on
this checkout with one repetition (BENCH_PEER_REPS to change) and passes its exit status on.
When the harness is not there, it says so and measures nothing.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HARNESS = ROOT.parent / "shared" / "bench-peer"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args(argv)
    harness = Path(os.environ.get("SIGNPOST_BENCH_PEER_DIR", DEFAULT_HARNESS))
    script = harness / "run.sh"
    if not script.is_file():
        print(f"no side-by-side harness at {harness} (set SIGNPOST_BENCH_PEER_DIR): skipped")
        return 0
    env = {
        **os.environ,
        "REPS": os.environ.get("BENCH_PEER_REPS", "1"),
        "SIGNPOST_DIR": str(ROOT),
    }
    print(f"running {script} on {ROOT} (REPS={env['REPS']})", flush=True)
    return subprocess.call(["bash", str(script)], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
