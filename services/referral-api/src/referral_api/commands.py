"""What referral-api's command-line tools (`python -m referral_api.…`) share: a parser described
by the command's module docstring, the `--database-url` option every one of them takes, and the
session a load runs in.
"""

import argparse
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.config import ReferralSettings
from signpost_platform.db import Database


def command_parser(
    doc: str | None, *, prog: str | None = None, epilog: bool = False
) -> argparse.ArgumentParser:
    """A parser whose description is the first paragraph of `doc` (the command's module
    docstring) and, with `epilog`, whose epilog is the rest of it, as written."""
    first, _, rest = (doc or "").partition("\n\n")
    if not epilog:
        return argparse.ArgumentParser(prog=prog, description=first)
    return argparse.ArgumentParser(
        prog=prog,
        description=first,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=rest,
    )


def parse_command(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace:
    """`argv` parsed by `parser` with `--database-url` as its last option."""
    parser.add_argument("--database-url", help="default: REFERRAL_DATABASE_URL")
    return parser.parse_args(argv)


@asynccontextmanager
async def command_database(database_url: str | None) -> AsyncIterator[Database]:
    """The database at `database_url` (default: REFERRAL_DATABASE_URL), for a command that
    commits as it goes; its connections are closed when the block ends."""
    database = Database(database_url or ReferralSettings().database_url)
    try:
        yield database
    finally:
        await database.dispose()


@asynccontextmanager
async def command_session(database_url: str | None) -> AsyncIterator[AsyncSession]:
    """A session of the database at `database_url` (default: REFERRAL_DATABASE_URL) in one
    transaction, committed when the block ends; the connections are closed after it."""
    async with (
        command_database(database_url) as database,
        database.sessionmaker() as session,
        session.begin(),
    ):
        yield session
