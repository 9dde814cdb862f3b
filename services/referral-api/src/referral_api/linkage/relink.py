"""`python -m referral_api.linkage.relink`: work out every person's links again.

A person's links are worked out again whenever one of their referrals is written in a way that
could change them, so they follow the linkage window and rules of the release that last wrote
that person. After a change of REFERRAL_LINKAGE_WINDOW_DAYS, or a release that changes the
linking rules, run this once, with the service's settings, when every instance of the service
has them: it relinks every person, `--batch` people (500) to a transaction, each under the
person's lock as any writer takes it, so the service may go on serving (a writer for one of a
batch's people waits for the batch). A batch that meets a deadlock or serialisation failure
with another writer is run again, up to three times in all. It logs how many people it relinked
and how many referrals' links changed, and on a failure only the kind of error, never a person
(the statements carry person keys); the report facts of those referrals are refreshed by the
service as after any write. The database is REFERRAL_DATABASE_URL (or --database-url).
"""

import argparse
import asyncio
import logging
import sys
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

from referral_api.commands import command_database, command_parser, parse_command
from referral_api.config import ReferralSettings
from referral_api.linkage.repository import LinkageRepository
from referral_api.linkage.service import relink_people
from signpost_platform.db import Database, retrying_write_conflicts, sqlstate
from signpost_platform.logging import configure_logging

logger = logging.getLogger("signpost.linkage.relink")
ATTEMPTS = 3  # a batch's tries in all, as a service write's (`referrals.service.WRITE_ATTEMPTS`)


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
        keys, changed_here = await _relink_batch(database, after, batch, window_days)
        if not keys:
            break
        people, changed, after = people + len(keys), changed + changed_here, keys[-1]
    logger.info(
        "people relinked",
        extra={"people": people, "changed_referrals": changed, "window_days": window_days},
    )
    return Relinked(people, changed)


async def _relink_batch(
    database: Database, after: str | None, batch: int, window_days: int
) -> tuple[list[str], int]:
    """The next `batch` people after `after`, relinked in one transaction (in a new one again
    on a write conflict); the people and how many referrals' links changed."""

    async def once() -> tuple[list[str], int]:
        async with database.sessionmaker() as session, session.begin():
            keys = await LinkageRepository(session).people_after(after, batch)
            changed = await relink_people(session, set(keys), window_days) if keys else set()
        return keys, len(changed)

    return await retrying_write_conflicts(once, ATTEMPTS)


async def _run(database_url: str | None, window_days: int, batch: int) -> Relinked:
    async with command_database(database_url) as database:
        return await relink_everyone(database, window_days, batch)


def main(argv: list[str] | None = None) -> int:
    parser = command_parser(__doc__, prog="python -m referral_api.linkage.relink", epilog=True)
    parser.add_argument(
        "--batch", type=_batch_size, default=500, help="people to a transaction (1-5000; 500)"
    )
    args = parse_command(parser, argv)
    settings = ReferralSettings()
    if not logging.getLogger().handlers:  # run as a command: JSON lines, as the service logs
        configure_logging("referral-api", settings.log_level)
    window = settings.linkage_window_days
    try:
        relinked = asyncio.run(_run(args.database_url, window, args.batch))
    except DBAPIError as error:
        # The statement and its parameters name people: say only what kind of error it was.
        logger.error(
            "relinking stopped",
            extra={"error": type(error.orig).__name__, "sqlstate": sqlstate(error)},
        )
        return 1
    print(
        f"{relinked.people} people relinked with a window of {window} days; the links of "
        f"{relinked.changed} referrals changed"
    )
    return 0


def _batch_size(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 5000:
        raise argparse.ArgumentTypeError("a batch is 1 to 5000 people")
    return value


if __name__ == "__main__":
    sys.exit(main())
