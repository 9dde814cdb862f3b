"""The side-by-side harness: referral-api beside bare FastAPI, fhirstarter and a hand-rolled server.

The harness is not part of this repository: it lives in the brief pack beside a checkout
(`../shared/bench-peer/run.sh` from the repository root) or wherever SIGNPOST_BENCH_PEER_DIR
points. It builds its own venvs for the peers, runs each server alone on one uvicorn worker
against the local PostgreSQL and prints rates and ratios from one run. This module runs it on
this checkout with one repetition (BENCH_PEER_REPS to change) and passes its exit status on.
When the harness is not there, it says so and measures nothing.

Right after the harness, the `ingest` benchmark's update messages (2 workers) are measured and
set beside the hand-rolled server's creates in the harness's run: issue 13 asks for update
messages at least as fast as those creates, on the same machine at the same time.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import ingest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HARNESS = ROOT.parent / "shared" / "bench-peer"


def harness() -> Path:
    """Where the harness is looked for (`run.sh` in it when it is there)."""
    return Path(os.environ.get("SIGNPOST_BENCH_PEER_DIR", DEFAULT_HARNESS))


def available() -> bool:
    """Whether the harness is there, so `main` runs it and the update messages after it."""
    return (harness() / "run.sh").is_file()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args(argv)
    if not available():
        print(f"no side-by-side harness at {harness()} (set SIGNPOST_BENCH_PEER_DIR): skipped")
        return 0
    script = harness() / "run.sh"
    env = {
        **os.environ,
        "REPS": os.environ.get("BENCH_PEER_REPS", "1"),
        "SIGNPOST_DIR": str(ROOT),
    }
    print(f"running {script} on {ROOT} (REPS={env['REPS']})", flush=True)
    started = time.time()
    code = subprocess.call(["bash", str(script)], cwd=ROOT, env=env)
    # The update messages are measured whatever the harness did (`make bench` runs them only
    # here when the harness is there), and set beside its creates when it has some.
    runs = _runs_folder(env, harness())
    creates = hand_rolled_creates(runs, started) if code == 0 else None
    print("\nupdate messages beside the hand-rolled server's creates (issue 13)", flush=True)
    update = ingest.run()["update"]["rps"]
    if not creates:  # the harness failed, or no create finished in its newest run
        print(f"no creates of the hand-rolled server in the newest run in {runs}: not compared")
        return code
    print(
        f"update messages/s with {ingest.WORKERS} workers {update:.0f}; the hand-rolled server's "
        f"creates/s in the run above {creates:.0f}: {update / creates:.2f}x (target >= 1) "
        f"{'MET' if update >= creates else 'MISSED'}"
    )
    return 0


def _runs_folder(env: dict[str, str], harness: Path) -> Path:
    """Where the harness keeps its runs (run.sh, from its own folder: `$BENCH_WORK_DIR`, or
    `var/bench-peer` of the checkout, then `runs/`)."""
    work = env.get("BENCH_WORK_DIR") or str(Path(env["SIGNPOST_DIR"]) / "var" / "bench-peer")
    return harness / work / "runs"  # an absolute `work` stands as it is


def hand_rolled_creates(runs: Path, since: float) -> float | None:
    """The median creates/s of the hand-rolled server ("naive") in the newest run the harness
    began at or after `since` (results.jsonl, one JSON object per server, operation and
    repetition); None when there is no such run."""
    newest = max(
        (r for r in runs.glob("*/results.jsonl") if r.parent.stat().st_mtime >= since - 1),
        key=lambda r: r.parent.name,
        default=None,
    )
    if newest is None:
        return None
    rates = [
        row["rps"]
        for row in map(json.loads, newest.read_text().splitlines())
        if row.get("server") == "naive" and row.get("op") == "create"
    ]
    return statistics.median(rates) if rates else None


if __name__ == "__main__":
    sys.exit(main())
