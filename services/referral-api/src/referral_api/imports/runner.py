"""Importing a history file through the same message processing as `$process-message`.

Rows are committed in batches together with a checkpoint (the number of rows done), so an
import that is killed resumes after the last committed batch. Each row is also a message with a
stable Bundle id, so even a row processed twice changes nothing. A row that fails is written to
the error report (CSV: line, message id, status, element, problem) and the import goes on.
"""

import csv
import hashlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.imports import csv_template
from referral_api.imports.repository import ImportRepository
from referral_api.messages import service as messages
from referral_api.referrals.access import EVERY_ORGANISATION
from signpost_platform.bodies import check_fhir_json
from signpost_platform.csv_output import CsvWriter
from signpost_platform.db import Database
from signpost_platform.errors import SignpostError

ERROR_COLUMNS = ["line", "message_id", "status", "element", "problem"]


@dataclass
class ImportSummary:
    rows: int
    done: int
    failed: int
    skipped: int  # rows committed by an earlier, interrupted run
    already_finished: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    body: bytes | None
    error: csv_template.RowError | None = None


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def detect_format(path: Path) -> str:
    return "csv" if path.suffix.lower() == ".csv" else "ndjson"


def read_rows(path: Path, file_format: str) -> Iterator[Row]:
    """Each data row with its line number (1 = the first line of the file)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if file_format == "ndjson":
            for line_number, line in enumerate(handle, start=1):
                if line.strip():
                    yield Row(line_number, line.strip().encode())
            return
        reader = csv.DictReader(handle)
        csv_template.check_header(list(reader.fieldnames or []))
        for row in reader:
            try:
                body = orjson.dumps(csv_template.row_to_message(row))
                yield Row(reader.line_num, body)
            except csv_template.RowError as error:
                yield Row(reader.line_num, None, error)


async def run_import(
    database_url: str,
    path: Path,
    *,
    errors_path: Path,
    file_format: str | None = None,
    batch_size: int = 200,
    linkage_window_days: int = 90,
    progress: TextIO | None = sys.stderr,
    stop_after_batches: int | None = None,
) -> ImportSummary:
    """Import `path`, resuming an earlier run of the same file; failures go to `errors_path`.

    `stop_after_batches` ends the run early, as an interruption would (for tests)."""
    file_format = file_format or detect_format(path)
    digest = file_digest(path)
    total = sum(1 for _ in read_rows(path, file_format))
    database = Database(database_url)
    settings = messages.Settings(linkage_window_days, "urn:signpost:import")
    source = "import" if file_format == "csv" else None
    try:
        async with database.sessionmaker() as session, session.begin():
            repository = ImportRepository(session)
            state = await repository.progress(digest)
            if state is None:
                await repository.start(digest, path.name, file_format, datetime.now(UTC))
                state = (0, 0, None)
        done, failed, finished_at = state
        if finished_at is not None:
            return ImportSummary(total, done, failed, done, already_finished=True)
        skipped = done
        errors = ErrorReport(errors_path, fresh=done == 0)
        started = time.monotonic()
        batches = 0
        rows = read_rows(path, file_format)
        for _ in range(done):
            next(rows)
        while True:
            batch = [row for _, row in zip(range(batch_size), rows, strict=False)]
            if not batch:
                break
            failures: list[list[str]] = []
            async with database.sessionmaker() as session, session.begin():
                for row in batch:
                    problem = await _import_row(session, row, settings, source)
                    if problem:
                        failures.append(problem)
                done += len(batch)
                failed += len(failures)
                await ImportRepository(session).checkpoint(
                    digest, done, failed, datetime.now(UTC), finished=done >= total
                )
            errors.write(failures)
            batches += 1
            if progress:
                rate = (done - skipped) / max(time.monotonic() - started, 1e-6)
                print(
                    f"\r{done:,}/{total:,} rows  {failed:,} failed  {rate:,.0f} rows/s",
                    end="",
                    file=progress,
                    flush=True,
                )
            if stop_after_batches is not None and batches >= stop_after_batches:
                break
        if progress:
            print(file=progress)
        errors.close()
        return ImportSummary(total, done, failed, skipped)
    finally:
        await database.dispose()


async def _import_row(
    session: AsyncSession, row: Row, settings: messages.Settings, source: str | None
) -> list[str] | None:
    """Process one row in its own savepoint; the error report line if it failed."""
    if row.error is not None:
        return [str(row.line), "", "422", row.error.column, str(row.error)]
    assert row.body is not None
    try:
        # As a request's body is checked: no NUL or control character outside free text, no
        # repeated key, no deep nesting (PostgreSQL cannot store a NUL; it would stop the run).
        check_fhir_json(row.body, keeps_free_text=True)
        await messages.process(
            session,
            row.body,
            settings,
            reach=EVERY_ORGANISATION,  # an import is run by the operator, for every sender
            channel="import",
            source_override=source,
            savepoint=True,
        )
    except SignpostError as error:
        message_id = _message_id(row.body)
        issue = error.issues[0]
        return [
            str(row.line),
            message_id,
            str(error.status_code),
            ";".join(issue.expression or []),
            "; ".join(i.diagnostics for i in error.issues),
        ]
    return None


def _message_id(body: bytes) -> str:
    try:
        return str(orjson.loads(body).get("id", ""))
    except (orjson.JSONDecodeError, AttributeError):
        return ""


class ErrorReport:
    """The CSV error report; appended to when an import resumes."""

    def __init__(self, path: Path, *, fresh: bool) -> None:
        new_file = fresh or not path.exists()
        self.handle = path.open("w" if new_file else "a", encoding="utf-8", newline="")
        self.writer = CsvWriter(self.handle)
        if new_file:
            self.writer.writerow(ERROR_COLUMNS)

    def write(self, rows: list[list[str]]) -> None:
        """Add rows and flush, so the report matches what was committed."""
        self.writer.writerows(rows)
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()
