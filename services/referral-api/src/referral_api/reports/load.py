"""Load the report lookups: IMD decile by LSOA, and list sizes by age and sex.

    python -m referral_api.reports.load --sample
    python -m referral_api.reports.load --imd File_7_IoD2025_All_Ranks_Scores_Deciles.csv
    python -m referral_api.reports.load --list-sizes gp-reg-pat-prac-sing-age-male.csv \\
        gp-reg-pat-prac-sing-age-female.csv

IMD: the English Indices of Deprivation File 7 CSV (the LSOA code from the column starting
"LSOA code", the decile from "Index of Multiple Deprivation (IMD) Decile ...", the rank from
"... (IMD) Rank ..."), or a plain `lsoa_code,imd_decile[,imd_rank]` file. Use the edition on
2021 LSOAs (IoD2025): referral-api derives 2021 LSOAs from postcodes.

List sizes: NHS England "Patients Registered at a GP Practice", single year of age files
(ORG_TYPE, ORG_CODE, SEX, AGE, NUMBER_OF_PATIENTS, EXTRACT_DATE; ORG_TYPE GP or PCN, other
rows skipped; SEX ALL and AGE ALL rows skipped). Ages are summed into the report age bands
(0-17, 18-24, ..., 85+), which the 5-year-band files cannot give. A practice's PCN comes from a
PCN_CODE column if the file has one, else from the loaded practice-to-PCN lookup
(`python -m referral_api.geography.load --practice-pcn`); PCN list sizes are the sums of their
practices unless the file has PCN rows. A plain `area_type,area_code,age_band,sex,population`
file (area_type practice or pcn) is accepted too.

Each load replaces that lookup in one transaction (a failed load leaves the previous one) and
is recorded in `lookup_load`. The database is REFERRAL_DATABASE_URL (or --database-url).
"""

import argparse
import asyncio
import csv
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.commands import command_parser, command_session, parse_command
from referral_api.geography.models import PracticePcn
from referral_api.mapping.native import AGE_BANDS
from referral_api.reports.facts_repository import FactRepository
from referral_api.reports.repository import ReportRepository

SEXES = {"MALE": "male", "FEMALE": "female", "M": "male", "F": "female"}
ORG_TYPES = {"GP": "practice", "PCN": "pcn"}


class LookupFileError(ValueError):
    """A lookup file is not in a layout the loader knows."""


def _rows(path: Path) -> tuple[list[str], Iterator[dict[str, str]]]:
    handle = path.open(encoding="utf-8-sig", newline="")
    reader = csv.DictReader(handle)
    header = [h.strip() for h in reader.fieldnames or []]

    def rows() -> Iterator[dict[str, str]]:
        with handle:
            for row in reader:
                yield {(k or "").strip(): (v or "").strip() for k, v in row.items()}

    return header, rows()


def _find(header: list[str], *tests: Any) -> str | None:
    for test in tests:
        for name in header:
            if test(name.lower()):
                return name
    return None


# IMD -----------------------------------------------------------------------------------------


def imd_rows(path: Path) -> list[dict[str, Any]]:
    """LSOA code, IMD decile and rank from an IoD File 7 or a plain lsoa_code,imd_decile file."""
    header, rows = _rows(path)
    lsoa = _find(
        header,
        lambda h: h in ("lsoa_code", "lsoa21cd", "lsoa11cd"),
        lambda h: h.startswith("lsoa code"),
    )
    decile = _find(
        header,
        lambda h: h == "imd_decile",
        lambda h: "index of multiple deprivation" in h and "decile" in h,
    )
    rank = _find(
        header,
        lambda h: h == "imd_rank",
        lambda h: "index of multiple deprivation" in h and "rank" in h,
    )
    if lsoa is None or decile is None:
        raise LookupFileError(
            f"{path.name}: no LSOA code and IMD decile columns (expected the IoD File 7 "
            "headers or lsoa_code,imd_decile)"
        )
    vintage = "2011" if "2011" in lsoa or "11" in lsoa.lower().replace("lsoa code", "") else "2021"
    loaded = []
    for number, row in enumerate(rows, start=2):
        code = row.get(lsoa, "")
        if not code:
            continue
        try:
            value = int(row[decile])
            ranked = int(row[rank]) if rank and row.get(rank) else None
        except ValueError:
            raise LookupFileError(
                f"{path.name} line {number}: the decile is not a number"
            ) from None
        if not 1 <= value <= 10:
            raise LookupFileError(f"{path.name} line {number}: decile {value} is not 1 to 10")
        loaded.append(
            {"lsoa_code": code, "imd_decile": value, "imd_rank": ranked, "lsoa_vintage": vintage}
        )
    return loaded


def sample_imd_rows() -> list[dict[str, Any]]:
    with resources.as_file(
        resources.files("referral_api.reports").joinpath("data", "lsoa-imd-sample.csv")
    ) as path:
        return imd_rows(path)


# List sizes ----------------------------------------------------------------------------------


def age_band_of(age: str) -> str | None:
    """The report age band of a single-year AGE value (`95+` included), None for ALL."""
    text = age.strip().upper()
    if text == "ALL" or not text:
        return None
    years = int(text.rstrip("+"))
    for low, high in AGE_BANDS:
        if low <= years <= high:
            return f"{low}-{high}"
    return "85+"


def _extract_on(text: str) -> date | None:
    for pattern in ("%Y-%m-%d", "%d%b%Y", "%d-%b-%Y", "%d/%m/%Y", "%d-%b-%y"):
        try:
            return datetime.strptime(text.strip().title(), pattern).date()
        except ValueError:
            continue
    return None


def list_size_rows(
    paths: Iterable[Path], practice_pcn: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """List sizes summed into (area type, area code, age band, sex), with practices' PCNs and
    PCN sums of practices for PCNs the files do not give."""
    totals: Counter[tuple[str, str, str, str]] = Counter()
    pcn_of: dict[str, str] = dict(practice_pcn or {})
    extract: date | None = None
    for path in paths:
        header, rows = _rows(path)
        lowered = {h.lower(): h for h in header}
        if "age_group_5" in lowered:
            raise LookupFileError(
                f"{path.name}: 5-year bands cannot give the report age bands (0-17, 18-24, "
                "...): load the single year of age files"
            )
        if {"area_type", "area_code", "age_band", "sex", "population"} <= lowered.keys():
            for row in rows:
                key = (
                    row[lowered["area_type"]],
                    row[lowered["area_code"]].upper(),
                    row[lowered["age_band"]],
                    row[lowered["sex"]].lower(),
                )
                totals[key] += int(row[lowered["population"]])
            continue
        needed = ("org_code", "sex", "age", "number_of_patients")
        if any(name not in lowered for name in needed):
            raise LookupFileError(
                f"{path.name}: expected the columns ORG_CODE, SEX, AGE, NUMBER_OF_PATIENTS "
                "(NHS England single year of age) or area_type,area_code,age_band,sex,population"
            )
        for row in rows:
            area_type = ORG_TYPES.get(row.get(lowered.get("org_type", ""), "GP").upper())
            sex = SEXES.get(row[lowered["sex"]].upper())
            band = age_band_of(row[lowered["age"]])
            if area_type is None or sex is None or band is None:
                continue
            code = row[lowered["org_code"]].upper()
            totals[(area_type, code, band, sex)] += int(row[lowered["number_of_patients"]])
            if "pcn_code" in lowered and area_type == "practice" and row[lowered["pcn_code"]]:
                pcn_of[code] = row[lowered["pcn_code"]].upper()
            if extract is None and "extract_date" in lowered:
                extract = _extract_on(row[lowered["extract_date"]])
    given_pcns = {code for (area_type, code, _, _) in totals if area_type == "pcn"}
    for (area_type, code, band, sex), population in list(totals.items()):
        pcn = pcn_of.get(code)
        if area_type == "practice" and pcn and pcn not in given_pcns:
            totals[("pcn", pcn, band, sex)] += population
    for area_type, code, band, sex in totals:
        if band not in _BANDS or sex not in ("male", "female"):
            raise LookupFileError(f"unknown age band {band!r} or sex {sex!r} for {code}")
        if area_type not in ("practice", "pcn"):
            raise LookupFileError(f"unknown area type {area_type!r} for {code}")
    return [
        {
            "area_type": area_type,
            "area_code": code,
            "age_band": band,
            "sex": sex,
            "population": population,
            "extract_on": extract,
            "pcn_ods": pcn_of.get(code) if area_type == "practice" else None,
        }
        for (area_type, code, band, sex), population in sorted(totals.items())
    ]


_BANDS = {*(f"{low}-{high}" for low, high in AGE_BANDS), "85+"}


def sample_list_size_rows() -> list[dict[str, Any]]:
    with resources.as_file(
        resources.files("referral_api.reports").joinpath("data", "list-size-sample.csv")
    ) as path:
        return list_size_rows([path])


# Loading -------------------------------------------------------------------------------------


async def replace_imd(
    session: AsyncSession, rows: list[dict[str, Any]], source: str, is_sample: bool
) -> int:
    """Replace the IMD lookup and the deciles in the report facts (the caller commits)."""
    repository = ReportRepository(session)
    await repository.replace_imd(rows)
    await repository.record_load("lsoa-imd", source, is_sample, len(rows))
    await FactRepository(session).update_imd()
    return len(rows)


async def replace_list_sizes(
    session: AsyncSession, rows: list[dict[str, Any]], source: str, is_sample: bool
) -> int:
    """Replace the list sizes of the area types `rows` has (the caller commits)."""
    repository = ReportRepository(session)
    for area_type in sorted({row["area_type"] for row in rows}):
        await repository.replace_list_sizes(
            area_type, [row for row in rows if row["area_type"] == area_type]
        )
    await repository.record_load("list-size", source, is_sample, len(rows))
    return len(rows)


async def practice_pcn_lookup(session: AsyncSession) -> dict[str, str]:
    """The loaded practice-to-PCN lookup (geography)."""
    result = await session.execute(select(PracticePcn.practice_ods, PracticePcn.pcn_ods))
    return {row[0]: row[1] for row in result}


async def _run(args: argparse.Namespace) -> int:
    try:
        async with command_session(args.database_url) as session:
            if args.sample:
                imd = await replace_imd(session, sample_imd_rows(), "sample (synthetic)", True)
                sizes = await replace_list_sizes(
                    session, sample_list_size_rows(), "sample (synthetic)", True
                )
                print(
                    f"{imd} sample IMD deciles and {sizes} sample list-size rows loaded "
                    "(synthetic: tests and make run only)"
                )
            if args.imd:
                count = await replace_imd(session, imd_rows(args.imd), args.imd.name, False)
                print(f"{count:,} LSOA IMD deciles loaded from {args.imd.name}")
            if args.list_sizes:
                rows = list_size_rows(args.list_sizes, await practice_pcn_lookup(session))
                count = await replace_list_sizes(
                    session, rows, ", ".join(p.name for p in args.list_sizes)[:255], False
                )
                print(f"{count:,} list-size rows loaded")
    except LookupFileError as error:
        print(f"not loaded: {error}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = command_parser(__doc__, epilog=True)
    parser.add_argument(
        "--sample", action="store_true", help="load the synthetic samples (tests and make run only)"
    )
    parser.add_argument("--imd", type=Path, help="an IoD File 7 (or lsoa_code,imd_decile) CSV")
    parser.add_argument(
        "--list-sizes",
        type=Path,
        nargs="+",
        help="single year of age list-size CSV files (male and female)",
    )
    args = parse_command(parser, argv)
    if not (args.sample or args.imd or args.list_sizes):
        parser.error("say what to load: --sample, --imd FILE or --list-sizes FILE ...")
    return asyncio.run(_run(args))


if __name__ == "__main__":
    sys.exit(main())
