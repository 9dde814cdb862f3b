"""Load a SNOMED CT release (RF2 Snapshot) into referral-api's database.

    python -m referral_api.terminology.load DIR        (make load-snomed DIR=...)

DIR is an unzipped RF2 release, or its Snapshot/Terminology folder: every
sct2_Concept_Snapshot_*.txt, sct2_Description_Snapshot-en_*.txt and
sct2_Relationship_Snapshot_*.txt below it is read (so the International release and the UK
extension can sit side by side). Active concepts, their fully specified names and active |is a|
links replace those loaded before, in one transaction: a failed load leaves the previous
release in place. Every descendant of a concept the shipped code lists map takes the group of
its nearest mapped ancestor; stored reasons and sources of referral are regrouped, and the
report facts of the referrals that changed are derived again. The database is
`REFERRAL_DATABASE_URL` (or `--database-url`).
"""

import asyncio
import sys
from pathlib import Path

from referral_api.commands import command_parser, parse_command
from referral_api.config import ReferralSettings
from referral_api.reports import facts
from referral_api.terminology.rf2 import ReleaseError
from referral_api.terminology.service import load_release
from signpost_platform.db import Database


async def _run(directory: Path, database_url: str | None) -> int:
    settings = ReferralSettings()
    database = Database(database_url or settings.database_url)
    try:
        async with database.sessionmaker() as session, session.begin():
            summary = await load_release(session, directory)
        print(f"{summary.concepts:,} concepts and {summary.is_a:,} is-a links loaded")
        for code_list, count in summary.placed.items():
            print(f"{code_list}: {count:,} more concepts placed in a group")
        print(
            f"regrouped {summary.regrouped_reasons:,} stored reasons and "
            f"{summary.regrouped_sources:,} sources of referral"
        )
        rebuilt = await facts.refresh(database, settings.pseudonym_key, settings.disclosure_key)
        print(f"report facts of {rebuilt:,} referrals brought up to date")
    except ReleaseError as error:
        print(f"not loaded: {error}", file=sys.stderr)
        return 2
    except facts.PseudonymKeyChanged as error:
        print(f"loaded; report facts not refreshed: {error}", file=sys.stderr)
        return 2
    finally:
        await database.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = command_parser(__doc__)
    parser.add_argument("directory", type=Path, help="an unzipped SNOMED CT RF2 release")
    args = parse_command(parser, argv)
    if not args.directory.is_dir():
        parser.error(f"{args.directory} is not a directory")
    return asyncio.run(_run(args.directory, args.database_url))


if __name__ == "__main__":
    sys.exit(main())
