"""`python -m referral_api.imports FILE`: backfill referral history from a file.

FILE is NDJSON (one message Bundle per line, as `$process-message` takes them) or the CSV
template (`.csv`; columns in docs/lifecycle.md). Progress goes to stderr; rows that fail are
listed in the error report (default FILE.errors.csv) and the import goes on. Interrupt it at any
time: running the same command again resumes after the last committed batch, never duplicating.
The database is REFERRAL_DATABASE_URL (or --database-url).
"""

import asyncio
import sys
from pathlib import Path

from referral_api.commands import command_parser, parse_command
from referral_api.config import ReferralSettings
from referral_api.imports.runner import run_import


def main(argv: list[str] | None = None) -> int:
    parser = command_parser(__doc__, prog="python -m referral_api.imports")
    parser.add_argument("file", type=Path)
    parser.add_argument("--format", choices=["ndjson", "csv"], help="default: from the suffix")
    parser.add_argument("--errors", type=Path, help="the error report (default FILE.errors.csv)")
    parser.add_argument("--batch-size", type=int, default=200)
    args = parse_command(parser, argv)
    settings = ReferralSettings()
    summary = asyncio.run(
        run_import(
            args.database_url or settings.database_url,
            args.file,
            errors_path=args.errors or args.file.with_name(args.file.name + ".errors.csv"),
            file_format=args.format,
            batch_size=args.batch_size,
            linkage_window_days=settings.linkage_window_days,
        )
    )
    if summary.already_finished:
        print(
            f"{args.file.name} was already imported: {summary.done} rows, {summary.failed} failed"
        )
    else:
        print(
            f"{summary.done}/{summary.rows} rows processed ({summary.skipped} resumed past), "
            f"{summary.failed} failed"
        )
    return 0 if summary.failed == 0 else 2


if __name__ == "__main__":
    sys.exit(main())
