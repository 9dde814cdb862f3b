"""`python -m directory_api.imports FILE`: bulk import an ORUK export (JSON or NDJSON file).

For files over the HTTP body limit. Prints progress per batch and the error report at the end;
exits 1 when any record failed, 2 when the import was refused or stopped. `--max-records`
raises the record cap (DIRECTORY_IMPORT_MAX_RECORDS); `--resume ID` carries on a failed import.
"""

import argparse
import asyncio
import json
import sys
from pathlib import Path

from directory_api.config import DirectorySettings
from directory_api.imports.repository import StoredImport
from directory_api.imports.service import (
    ImportRecord,
    parse_export,
    report,
    resume_import,
    run_import,
)
from signpost_platform.db import Database
from signpost_platform.errors import SignpostError


def _progress(job: StoredImport) -> None:
    print(
        f"{job.processed_records}/{job.total_records} processed, {job.imported_records} "
        f"imported, {job.failed_records} failed",
        flush=True,
    )


async def _run(
    records: list[ImportRecord], max_records: int | None, resume: str | None
) -> StoredImport:
    settings = DirectorySettings()
    limit = max_records or settings.import_max_records
    database = Database(settings.database_url)
    try:
        if resume:
            return await resume_import(
                database.sessionmaker,
                resume,
                records,
                _progress,
                max_records=limit,
                stale_after_seconds=settings.import_stale_after_seconds,
            )
        return await run_import(
            database.sessionmaker, records, "command-line", _progress, max_records=limit
        )
    finally:
        await database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m directory_api.imports")
    parser.add_argument("file", type=Path, help="ORUK JSON (.json) or NDJSON (.ndjson) export")
    parser.add_argument(
        "--max-records",
        type=int,
        help="allow this many records (default DIRECTORY_IMPORT_MAX_RECORDS)",
    )
    parser.add_argument("--resume", help="the id of a failed import to carry on (same file)")
    args = parser.parse_args(argv)
    path: Path = args.file
    content_type = (
        "application/x-ndjson" if path.suffix in (".ndjson", ".jsonl") else ("application/json")
    )
    try:
        job = asyncio.run(
            _run(parse_export(path.read_bytes(), content_type), args.max_records, args.resume)
        )
    except SignpostError as error:
        print(f"import refused or stopped: {error}", file=sys.stderr, flush=True)
        return 2
    print(json.dumps(report(job, "")["errors"], indent=2))
    return 1 if job.failed_records else 0


if __name__ == "__main__":
    sys.exit(main())
