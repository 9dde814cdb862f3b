"""`make bench`: run every benchmark (or those named with --only) and print their figures.

Each benchmark is a module of this package with `main(argv) -> int`. They need PostgreSQL
(`SIGNPOST_BENCH_POSTGRES_URL`, default the local server) and wrk (installed with apt-get when
missing). Durations: SIGNPOST_BENCH_SECONDS per measurement (default 10).
"""

import argparse
import importlib
import sys
import time

BENCHMARKS = ["hot_path", "cpu", "referral", "ingest", "directory", "screening", "reports", "peer"]
# Run explicitly with --only: faults restarts the local PostgreSQL server; disclosure is a study
# of the disclosure rule against the differencing attack, not a speed measurement.
ON_REQUEST = ["faults", "disclosure"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", choices=BENCHMARKS + ON_REQUEST)
    args, rest = parser.parse_known_args(argv)
    names = args.only or BENCHMARKS
    if "ingest" in names and "peer" in names and importlib.import_module("bench.peer").available():
        # peer measures ingest's update messages right after its harness (beside the hand-rolled
        # server's creates, as issue 13 compares them): once is enough.
        names = [name for name in names if name != "ingest"]
        print("== ingest: measured with peer, after its harness")
    failures = 0
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"bench.{name}":
                print(f"== {name}: not available")
                continue
            raise
        print(f"\n== {name}")
        started = time.monotonic()
        code = module.main(rest)
        print(f"== {name}: done in {time.monotonic() - started:.0f} s (exit {code})")
        failures += code != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
