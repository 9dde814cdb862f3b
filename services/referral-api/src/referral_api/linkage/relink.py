"""`python -m referral_api.linkage.relink`: work out every person's links again.

A person's links are worked out again whenever one of their referrals is written in a way that
could change them, so they follow the linkage window and rules of the release that last wrote
that person. After a change of REFERRAL_LINKAGE_WINDOW_DAYS, or a release that changes the
linking rules, run this once: it relinks every person, `--batch` people (500) to a transaction,
each under the person's lock as any writer takes it, so the service may go on serving. It logs
how many people it relinked and how many referrals' links changed (no personal data); the
report facts of those referrals are refreshed by the service as after any write. The database
is REFERRAL_DATABASE_URL (or --database-url).
"""

import asyncio
import logging
import sys
from dataclasses import dataclass

from referral_api.commands import command_parser, parse_command
from referral_api.config import ReferralSettings
from referral_api.linkage.repository import LinkageRepository
from referral_api.linkage.service import relink_people
from signpost_platform.db import Database
from signpost_platform.logging import configure_logging

logger = logging.getLogger("signpost.linkage.relink")


@dataclass(frozen=True, slots=True)
class Relinked:
    people: int
    # Referrals that gained or lost a link.
    changed: int


async def relink_everyone(database: Database, window_days: int, batch: int = 500) -> Relinked:
    """Relink every person with a referral, `batch` people a transaction, in person-key order."""
    people = changed = 0
    after: str | None = None
    while True:
        async with database.sessionmaker() as session, session.begin():
            keys = await LinkageRepository(session).people_after(after, batch)
            if not keys:
                break
            changed += len(await relink_people(session, set(keys), window_days))
        people += len(keys)
        after = keys[-1]
    logger.info(
        "people relinked",
        extra={"people": people, "changed_referrals": changed, "window_days": window_days},
    )
    return Relinked(people, changed)


async def _run(database_url: str, window_days: int, batch: int) -> Relinked:
    database = Database(database_url)
    try:
        return await relink_everyone(database, window_days, batch)
    finally:
        await database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = command_parser(__doc__, prog="python -m referral_api.linkage.relink", epilog=True)
    parser.add_argument("--batch", type=int, default=500, help="people to a transaction (500)")
    args = parse_command(parser, argv)
    settings = ReferralSettings()
    if not logging.getLogger().handlers:  # run as a command: JSON lines, as the service logs
        configure_logging("referral-api", settings.log_level)
    relinked = asyncio.run(
        _run(args.database_url or settings.database_url, settings.linkage_window_days, args.batch)
    )
    print(f"{relinked.people} people relinked; the links of {relinked.changed} referrals changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
