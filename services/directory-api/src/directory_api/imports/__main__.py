"""`python -m directory_api.imports FILE`: bulk import an ORUK export (JSON or NDJSON file).

For files over the HTTP body limit. Prints progress per batch and the error report at the end;
exits 1 when any record failed.
"""

import argparse
import asyncio
import json
import sys
from pathlib import Path

from directory_api.config import DirectorySettings
from directory_api.imports.repository import StoredImport
from directory_api.imports.service import ImportRecord, parse_export, report, run_import
from signpost_platform.db import Database


def _progress(job: StoredImport) -> None:
    print(
        f"{job.processed_records}/{job.total_records} processed, {job.imported_records} "
        f"imported, {job.failed_records} failed",
        flush=True,
    )


async def _run(records: list[ImportRecord]) -> StoredImport:
    database = Database(DirectorySettings().database_url)
    try:
        return await run_import(database.sessionmaker, records, "command-line", _progress)
    finally:
        await database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m directory_api.imports")
    parser.add_argument("file", type=Path, help="ORUK JSON (.json) or NDJSON (.ndjson) export")
    args = parser.parse_args(argv)
    path: Path = args.file
    content_type = (
        "application/x-ndjson" if path.suffix in (".ndjson", ".jsonl") else ("application/json")
    )
    job = asyncio.run(_run(parse_export(path.read_bytes(), content_type)))
    print(json.dumps(report(job, "")["errors"], indent=2))
    return 1 if job.failed_records else 0


if __name__ == "__main__":
    sys.exit(main())
