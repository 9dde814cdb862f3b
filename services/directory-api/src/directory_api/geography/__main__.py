"""`python -m directory_api.geography load FILE.csv`: load the ONS postcode lookup.

Reads the ONS Postcode Directory or the National Statistics Postcode Lookup (CSV, OGL) into the
directory's `postcode_centroid` table, replacing the rows it names. Terminated postcodes (no
grid reference: latitude 99.999999) are skipped. Once every row is written, the postcode districts
(the centroid of each outward code's postcodes, where a postcode missing from the lookup is
placed) are rebuilt. `load-sample` loads the shipped sample.
"""

import argparse
import asyncio
import csv
import sys
from collections.abc import Iterator
from pathlib import Path

from directory_api.config import DirectorySettings
from directory_api.geography.repository import PostcodeRepository
from signpost_platform.db import Database
from signpost_schemas.geography import (
    InvalidPostcode,
    PostcodeArea,
    normalise_postcode,
    sample_postcode_lookup,
)

BATCH = 5_000
# Column names across ONSPD/NSPL releases and the shipped sample.
_LOCAL_AUTHORITY = ("ladcd", "laua", "lad23cd", "lad22cd", "oslaua")
_LSOA = ("lsoa21cd", "lsoa21", "lsoa11cd", "lsoa11")


def read_lookup(path: Path) -> Iterator[PostcodeArea]:
    """The usable rows of an ONS postcode CSV."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        authority = next((c for c in _LOCAL_AUTHORITY if c in columns), None)
        lsoa = next((c for c in _LSOA if c in columns), None)
        postcode_column = "pcds" if "pcds" in columns else "pcd"
        for row in reader:
            try:
                latitude, longitude = float(row["lat"]), float(row["long"])
                postcode = normalise_postcode(row[postcode_column])
            except (ValueError, KeyError, InvalidPostcode):
                continue
            if latitude > 90:  # ONS marks postcodes without a grid reference with 99.999999
                continue
            yield PostcodeArea(
                postcode=postcode,
                lsoa_code=row.get(lsoa, "") if lsoa else "",
                lsoa_name="",
                local_authority_code=row.get(authority, "") if authority else "",
                local_authority_name=row.get("ladnm", ""),
                latitude=latitude,
                longitude=longitude,
            )


async def load(database_url: str, areas: Iterator[PostcodeArea]) -> int:
    database = Database(database_url)
    loaded = 0
    try:
        batch: list[PostcodeArea] = []
        for area in areas:
            batch.append(area)
            if len(batch) == BATCH:
                loaded += await _write(database, batch)
                batch = []
                print(f"loaded {loaded} postcodes", flush=True)
        loaded += await _write(database, batch)
        async with database.sessionmaker() as session, session.begin():
            await PostcodeRepository(session).refresh_districts()
        print("postcode districts rebuilt", flush=True)
    finally:
        await database.dispose()
    return loaded


async def _write(database: Database, batch: list[PostcodeArea]) -> int:
    async with database.sessionmaker() as session, session.begin():
        await PostcodeRepository(session).replace(batch)
    return len(batch)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m directory_api.geography")
    commands = parser.add_subparsers(dest="command", required=True)
    load_file = commands.add_parser("load", help="load an ONSPD/NSPL CSV file")
    load_file.add_argument("csv", type=Path)
    commands.add_parser("load-sample", help="load the synthetic sample shipped with Signpost")
    args = parser.parse_args(argv)
    url = DirectorySettings().database_url
    areas = (
        read_lookup(args.csv) if args.command == "load" else iter(sample_postcode_lookup().values())
    )
    count = asyncio.run(load(url, areas))
    print(f"done: {count} postcodes loaded", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
