"""Keyed person pseudonyms: reports count people without ever handling an NHS number.

A person's pseudonym is the first 8 bytes of HMAC-SHA256(key, NHS number), as a signed 64-bit
integer, kept per referral in `report_person`. Without the key (`REFERRAL_PSEUDONYM_KEY`) it
cannot be reversed or recomputed from an NHS number; with 8 bytes, two of a million people
share one with a probability of about 3 in 100 million.

Referrals are keyed incrementally: referrals updated since the last run (less an overlap that
covers transactions committing out of order) whose pseudonym is missing or was made from an
older version of the referral. Report requests run this first; after a bulk load, or to
rotate the key, run the command:

    python -m referral_api.reports.pseudonyms refresh
    python -m referral_api.reports.pseudonyms rekey    # after changing REFERRAL_PSEUDONYM_KEY

The key's fingerprint is stored beside the pseudonyms. A service whose key does not match it
refuses people counts (503) until `rekey` has run, so pseudonyms made with two keys are never
mixed in one count.
"""

import argparse
import asyncio
import hashlib
import hmac
import sys
from datetime import timedelta

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.config import ReferralSettings
from referral_api.reports.repository import ReportRepository
from signpost_platform.db import Database
from signpost_platform.errors import Issue, SignpostError

# Longer than any write transaction: a referral updated at T but committed after a run that
# read up to T is still seen by the next run.
OVERLAP = timedelta(minutes=5)
BATCH = 5_000
_FINGERPRINT_MESSAGE = b"signpost report pseudonym key fingerprint"


class PseudonymKeyChanged(SignpostError):
    """The configured key is not the one the stored pseudonyms were made with."""

    def __init__(self) -> None:
        super().__init__(
            503,
            [
                Issue(
                    "transient",
                    "people cannot be counted: REFERRAL_PSEUDONYM_KEY is not the key the stored "
                    "pseudonyms were made with; run `python -m referral_api.reports.pseudonyms "
                    "rekey` (docs/reports.md, key rotation)",
                )
            ],
        )


def person_key(nhs_number: str, key: SecretStr) -> int:
    """The pseudonym of an NHS number under `key`."""
    digest = hmac.new(key.get_secret_value().encode(), nhs_number.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def fingerprint(key: SecretStr) -> str:
    """Identifies a key without revealing it (stored beside the pseudonyms)."""
    return hmac.new(
        key.get_secret_value().encode(), _FINGERPRINT_MESSAGE, hashlib.sha256
    ).hexdigest()[:16]


async def refresh(session: AsyncSession, key: SecretStr) -> int:
    """Key the referrals that need it; returns how many were keyed (the caller commits)."""
    repository = ReportRepository(session)
    state = await repository.pseudonym_state()
    if state is None:
        await repository.start_pseudonyms(fingerprint(key))
        state = await repository.pseudonym_state()
        assert state is not None
    stored_fingerprint, keyed_through = state
    if stored_fingerprint != fingerprint(key):
        raise PseudonymKeyChanged()
    # Read the high-water mark first: anything committed later is above it or in the overlap.
    latest = await repository.latest_referral_update()
    since = keyed_through - OVERLAP if keyed_through else None
    keyed, after = 0, ""
    while candidates := await repository.key_candidates(since, after, BATCH):
        await repository.save_pseudonyms(
            [
                {
                    "referral_id": c.referral_id,
                    "person_key": person_key(c.nhs_number, key),
                    "referral_version": c.version,
                }
                for c in candidates
            ]
        )
        keyed += len(candidates)
        after = candidates[-1].referral_id
    if latest is not None:
        await repository.advance_pseudonyms(latest)
    return keyed


async def rekey(session: AsyncSession, key: SecretStr) -> int:
    """Drop every pseudonym and key all referrals with `key` (the caller commits)."""
    await ReportRepository(session).reset_pseudonyms(fingerprint(key))
    return await refresh(session, key)


async def ensure_current(database: Database, key: SecretStr) -> None:
    """Key what needs keying, in a transaction of its own, before a report counts people."""
    async with database.sessionmaker() as session, session.begin():
        await refresh(session, key)


async def _run(command: str, database_url: str | None) -> int:
    settings = ReferralSettings()
    database = Database(database_url or settings.database_url)
    try:
        async with database.sessionmaker() as session, session.begin():
            if command == "rekey":
                count = await rekey(session, settings.pseudonym_key)
            else:
                count = await refresh(session, settings.pseudonym_key)
    finally:
        await database.dispose()
    print(f"{count:,} referrals keyed")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["refresh", "rekey"])
    parser.add_argument("--database-url", help="default: REFERRAL_DATABASE_URL")
    args = parser.parse_args(argv)
    return asyncio.run(_run(args.command, args.database_url))


if __name__ == "__main__":
    sys.exit(main())
