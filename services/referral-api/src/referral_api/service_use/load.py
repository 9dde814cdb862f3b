"""Load service-use counts from a CSV extract (a GP system or hospital data-warehouse report).

    python -m referral_api.service_use.load FILE [--database-url URL]

Columns (header row required, order free, names case-insensitive):

| column | value |
|---|---|
| nhs_number | the person's NHS number (10 digits), or |
| local_id | the sender's own patient identifier, as `system|value` or the value alone |
| referral_id | Signpost's referral id, or |
| referral_identifier | a business identifier of the referral, as `system|value` or the value |
| measure | gp-appointments, ae-attendances or emergency-admissions (the service-use list) |
| period | before or after: the six calendar months before the referral date, or from it |
| count | a whole number from 0 to 500 |

Each row is checked as a `POST /fhir/Observation` would be (the person must be the referral's,
the count in range) and kept as one count per referral, measure and period: loading the same
file again changes nothing, and a corrected count replaces the one held. Bad rows are listed
with their line numbers and left out; the good rows are kept. The exit status is 1 when any row
was refused, 0 otherwise. The database is `REFERRAL_DATABASE_URL` (or `--database-url`).
"""

import asyncio
import csv
import io
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.commands import command_parser, command_session, parse_command
from referral_api.referrals.access import EVERY_ORGANISATION
from referral_api.service_use import service
from signpost_platform.errors import SignpostError
from signpost_platform.fhir.parsing import issues_from_validation
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.datatypes import Identifier, Reference
from signpost_schemas.fhir.service_use import PERIODS, ServiceUseObservation, six_months


@dataclass
class LoadResult:
    """What a load did: counts per outcome, and each refused row by line number."""

    outcomes: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[int, str]] = field(default_factory=list)


class RowError(Exception):
    """A row that cannot be kept, with the reason."""


def _split(value: str) -> tuple[str | None, str]:
    system, separator, rest = value.rpartition("|")
    return (system or None, rest) if separator else (None, value)


def _cell(row: dict[str, Any], name: str) -> str:
    return (row.get(name) or "").strip()


async def _load_row(session: AsyncSession, row: dict[str, Any], now: datetime) -> str:
    referral_id, identifier = _cell(row, "referral_id"), _cell(row, "referral_identifier")
    if bool(referral_id) == bool(identifier):
        raise RowError("give one of referral_id or referral_identifier")
    if referral_id:
        reference = Reference(reference=f"ServiceRequest/{referral_id}")
    else:
        system, value = _split(identifier)
        reference = Reference(identifier=Identifier(system=system, value=value))
    referral = await service.referral_of(session, reference, EVERY_ORGANISATION, "referral")
    nhs_number, local_id = _cell(row, "nhs_number"), _cell(row, "local_id")
    if not (nhs_number or local_id):
        raise RowError("give the person's nhs_number or local_id")
    if nhs_number:
        await service.check_person(session, referral, None, nhs_number, "nhs_number")
    else:
        system, value = _split(local_id)
        await service.check_person(session, referral, system, value, "local_id")
    period = _cell(row, "period").lower()
    if period not in PERIODS:
        raise RowError(f"period must be before or after (got {period!r})")
    text = _cell(row, "count")
    if not text.isdigit():
        raise RowError(f"count must be a whole number (got {text!r})")
    counted = six_months(referral.authored_at.astimezone(UTC).date(), period)
    document = {
        "resourceType": "Observation",
        "status": "final",
        "basedOn": [{"reference": f"ServiceRequest/{referral.id}"}],
        "code": {"coding": [{"system": profiles.SERVICE_USE, "code": _cell(row, "measure")}]},
        "effectivePeriod": {"start": counted.start.isoformat(), "end": counted.end.isoformat()},
        "valueInteger": int(text),
    }
    try:
        resource = ServiceUseObservation.model_validate(document)
    except ValidationError as error:
        _, issues = issues_from_validation("Observation", error)
        raise RowError("; ".join(issue.diagnostics for issue in issues)) from None
    recorded = await service.record(session, resource, EVERY_ORGANISATION, "extract", now)
    return recorded.outcome


async def load(session: AsyncSession, text: str, now: datetime) -> LoadResult:
    """Load the extract in `text` (the caller commits): good rows kept, bad rows listed."""
    result = LoadResult()
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = {"measure", "period", "count"} - set(header)
    if missing:
        result.errors.append((1, f"the header lacks {', '.join(sorted(missing))}"))
        return result
    reader.fieldnames = header
    line = reader.line_num
    for row in reader:
        start, line = line + 1, reader.line_num
        # A row is checked in full before its one write: a refused row writes nothing.
        try:
            result.outcomes[await _load_row(session, row, now)] += 1
        except (RowError, SignpostError) as error:
            result.errors.append((start, str(error)))
    return result


async def _run(path: Path, text: str, database_url: str | None) -> int:
    async with command_session(database_url) as session:
        result = await load(session, text, datetime.now(UTC))
    kept = ", ".join(f"{n} {outcome}" for outcome, n in sorted(result.outcomes.items()))
    print(f"{path.name}: {kept or 'no rows kept'}; {len(result.errors)} rows refused")
    for line, reason in result.errors:
        print(f"line {line}: {reason}", file=sys.stderr)
    return 1 if result.errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = command_parser(__doc__)
    parser.add_argument("file", type=Path, help="the CSV extract")
    args = parse_command(parser, argv)
    text = args.file.read_text(encoding="utf-8-sig")
    return asyncio.run(_run(args.file, text, args.database_url))


if __name__ == "__main__":
    sys.exit(main())
