"""Load the postcode-to-LSOA lookup (and optionally practice-to-PCN) into referral-api's database.

    python -m referral_api.geography.load --sample
    python -m referral_api.geography.load --postcodes NSPL_FEB_2026_UK.csv
    python -m referral_api.geography.load --practice-pcn epcn.csv

The postcode file is the ONS National Statistics Postcode Lookup (NSPL) or ONS Postcode Directory
(ONSPD) CSV: the postcode is read from `pcds` (or `pcd`), the LSOA 2021 code from `lsoa21cd` or
`lsoa21`, and the local authority from `ladcd`, `laua` or `lad23cd`. A load replaces the whole
table in one transaction, so a failed load leaves the previous lookup in place. The database is
`REFERRAL_DATABASE_URL` (or `--database-url`).
The practice file has `practice_code` and `pcn_code` columns (ODS ePCN membership).
"""

import argparse
import asyncio
import csv
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.commands import command_parser, command_session, parse_command
from referral_api.geography.repository import GeographyRepository
from referral_api.reports.facts_repository import FactRepository
from signpost_schemas.geography import InvalidPostcode, normalise_postcode, sample_postcode_lookup

BATCH = 5_000
_POSTCODE = ("pcds", "pcd", "postcode")
_LSOA = ("lsoa21cd", "lsoa21", "lsoa11cd", "lsoa11")
_AUTHORITY = ("ladcd", "laua", "lad23cd", "lad22cd", "oslaua")


def _pick(header: Sequence[str], names: tuple[str, ...], what: str) -> str:
    lowered = {h.lower(): h for h in header}
    for name in names:
        if name in lowered:
            return lowered[name]
    raise SystemExit(f"the file has no {what} column (looked for {', '.join(names)})")


def postcode_rows(path: Path) -> Iterator[dict[str, str | None]]:
    """Rows of an NSPL/ONSPD file, normalised; rows without an LSOA or postcode are skipped."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        postcode_column = _pick(header, _POSTCODE, "postcode")
        lsoa_column = _pick(header, _LSOA, "LSOA")
        vintage = "2011" if "11" in lsoa_column else "2021"
        authority_column = next((h for h in header if h.lower() in _AUTHORITY), None)
        for row in reader:
            lsoa = (row.get(lsoa_column) or "").strip()
            try:
                postcode = normalise_postcode(row.get(postcode_column) or "")
            except InvalidPostcode:
                continue
            if lsoa:
                yield {
                    "postcode": postcode,
                    "lsoa_code": lsoa,
                    "lsoa_vintage": vintage,
                    "local_authority_code": (row.get(authority_column) or None)
                    if authority_column
                    else None,
                }


def sample_rows() -> Iterator[dict[str, str | None]]:
    for area in sample_postcode_lookup().values():
        yield {
            "postcode": area.postcode,
            "lsoa_code": area.lsoa_code,
            "lsoa_vintage": "2021",
            "local_authority_code": area.local_authority_code,
        }


def practice_rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        practice = _pick(header, ("practice_code", "practice_ods"), "practice code")
        pcn = _pick(header, ("pcn_code", "pcn_ods"), "PCN code")
        for row in reader:
            if row.get(practice) and row.get(pcn):
                yield {
                    "practice_ods": row[practice].strip().upper(),
                    "pcn_ods": row[pcn].strip().upper(),
                }


async def replace_postcodes(
    session: AsyncSession,
    rows: Iterator[dict[str, str | None]],
    source: str,
    is_sample: bool,
    progress: bool = False,
) -> int:
    """Replace the postcode lookup with `rows` (the caller commits)."""
    repository = GeographyRepository(session)
    await repository.clear_postcodes()
    count = 0
    batch: list[dict[str, str | None]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            await repository.add_postcodes(batch)
            count += len(batch)
            batch = []
            if progress:
                print(f"\r{count:,} postcodes", end="", file=sys.stderr, flush=True)
    await repository.add_postcodes(batch)
    count += len(batch)
    await repository.record_load("postcode-lsoa", source, is_sample, count, datetime.now(UTC))
    if progress:
        print(f"\r{count:,} postcodes loaded", file=sys.stderr)
    return count


async def replace_practices(
    session: AsyncSession, rows: Iterator[dict[str, str]], source: str
) -> int:
    """Replace the practice-to-PCN lookup with `rows` (the caller commits), and queue the
    referrals that take their PCN from it, so the next refresh of the report facts (every
    report request makes one) gives them the PCN it now says."""
    repository = GeographyRepository(session)
    await repository.clear_practices()
    batch = list(rows)
    for start in range(0, len(batch), BATCH):
        await repository.add_practices(batch[start : start + BATCH])
    await repository.record_load("practice-pcn", source, False, len(batch), datetime.now(UTC))
    await FactRepository(session).queue_without_pcn()
    return len(batch)


async def _run(args: argparse.Namespace) -> int:
    async with command_session(args.database_url) as session:
        if args.sample:
            count = await replace_postcodes(session, sample_rows(), "sample (synthetic)", True)
            print(f"{count} sample postcodes loaded (synthetic: tests and make run only)")
        if args.postcodes:
            count = await replace_postcodes(
                session,
                postcode_rows(args.postcodes),
                args.postcodes.name,
                False,
                progress=True,
            )
            print(f"{count:,} postcodes loaded from {args.postcodes.name}")
        if args.practice_pcn:
            count = await replace_practices(
                session, practice_rows(args.practice_pcn), args.practice_pcn.name
            )
            print(f"{count:,} practices loaded from {args.practice_pcn.name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = command_parser(__doc__)
    parser.add_argument("--sample", action="store_true", help="load the synthetic sample lookup")
    parser.add_argument("--postcodes", type=Path, help="an ONS NSPL or ONSPD CSV file")
    parser.add_argument("--practice-pcn", type=Path, help="a practice_code,pcn_code CSV file")
    args = parse_command(parser, argv)
    if not (args.sample or args.postcodes or args.practice_pcn):
        parser.error("say what to load: --sample, --postcodes FILE or --practice-pcn FILE")
    return asyncio.run(_run(args))


if __name__ == "__main__":
    sys.exit(main())
