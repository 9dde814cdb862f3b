"""Keeping the report facts current, and the person pseudonyms they count people by.

Triggers on the referral tables queue the id of every referral a write touches
(`report_change`, created by the `report_facts` revision; later revisions watch more tables),
whatever module made the write. `refresh` drains that queue in batches: for each batch it keys
the referrals' people, deletes their facts and derives them again from the normalised tables,
then forgets the queue entries it read, all in one transaction. An entry written by a
transaction still open is not seen yet, so it is handled by a later refresh: nothing is lost.
Report requests only read: the refresh worker (`reports.refresher`, in the app's lifespan) runs
`refresh` soon after every write the service commits and every few seconds otherwise, and a
report says up to when its facts are current (`freshness`). After a bulk load, a lookup reload
or a key change, run:

    python -m referral_api.reports.facts refresh    # drain the queue (e.g. from cron)
    python -m referral_api.reports.facts rebuild    # derive every fact again
    python -m referral_api.reports.facts rekey      # after changing REFERRAL_PSEUDONYM_KEY
                                                    # or REFERRAL_DISCLOSURE_KEY

Record keys (disclosure control, docs/reports.md): every fact carries its referral's record key
and the referral and reason facts a person tag, keyed hashes under REFERRAL_DISCLOSURE_KEY
(`signpost_schemas.disclosure.RecordKeys`). The stored fingerprint covers both keys: after
changing either, reports answer 503 until `rekey` has run.

Pseudonyms: the first 8 bytes of HMAC-SHA256(REFERRAL_PSEUDONYM_KEY, person key), a signed
64-bit integer. The person key is the NHS number or, for a person a sender identifies only by
its own patient number, the `local-<uuid>` key of that person (`people.identity`); when the two
are joined the referrals are queued and keyed again. Without the key a pseudonym cannot be
reversed or recomputed from an NHS number; two of
a million people share one with a probability of about 3 in 100 million. The key's fingerprint
is stored with the facts: a service whose key does not match refuses reports (503) until
`rekey` has run, so pseudonyms made with two keys are never mixed in one count.
"""

import asyncio
import hashlib
import hmac
import logging
import sys
from datetime import UTC, datetime

from pydantic import SecretStr
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from referral_api.commands import command_parser, parse_command
from referral_api.config import ReferralSettings
from referral_api.reports import matching
from referral_api.reports.expressions import month_of_day
from referral_api.reports.facts_repository import FactRepository
from signpost_platform.db import Database, is_sqlite
from signpost_platform.errors import Issue, SignpostError
from signpost_platform.migrations import revisions_seen_by
from signpost_schemas.disclosure import RecordKeys

BATCH = 2_000
logger = logging.getLogger("signpost.reports")
_FINGERPRINT_MESSAGE = b"signpost report pseudonym key fingerprint"


class PseudonymKeyChanged(SignpostError):
    """The configured key is not the one the stored pseudonyms were made with."""

    def __init__(self) -> None:
        super().__init__(
            503,
            [
                Issue(
                    "transient",
                    "reports are unavailable: REFERRAL_PSEUDONYM_KEY or REFERRAL_DISCLOSURE_KEY "
                    "is not the key the stored pseudonyms and record keys were made with; run "
                    "`python -m referral_api.reports.facts rekey` (docs/reports.md, key "
                    "rotation)",
                )
            ],
        )


def person_key(person: str, key: SecretStr) -> int:
    """The pseudonym of a person key (an NHS number, or a local person's key) under `key`."""
    secret = key.get_secret_value().encode()
    digest = hmac.new(secret, person.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def fingerprint(key: SecretStr, disclosure: RecordKeys) -> str:
    """Identifies the two keys without revealing them (stored beside the facts)."""
    secret = key.get_secret_value().encode()
    message = _FINGERPRINT_MESSAGE + disclosure.fingerprint.encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:16]


async def _check_key(repository: FactRepository, key: SecretStr, disclosure: RecordKeys) -> None:
    state = await repository.state()
    if state is None:
        await repository.start_state(fingerprint(key, disclosure))
    elif state[0] != fingerprint(key, disclosure):
        raise PseudonymKeyChanged()


async def _derive(
    repository: FactRepository,
    changed: list[str],
    key: SecretStr,
    disclosure: RecordKeys,
) -> int:
    """Key the people of the `changed` referrals and derive the facts of those referrals, and
    of their people's other referrals, again; returns how many referrals that was. The other
    referrals' facts that do not depend on the person (the workers' activity, data quality)
    are kept: only their person, and the flags it sets, may have changed."""
    ids = await repository.with_siblings(changed)
    mapping = matching.support_groups_for()
    await repository.save_pseudonyms(_keyed(await repository.person_keys(ids), key))
    await repository.assign_keys(ids)
    await repository.assign_codes(ids)
    days = await repository.quality_days(changed)
    await repository.delete_facts(ids, changed)
    await repository.insert_facts(ids, changed, mapping, disclosure)
    days |= await repository.quality_days(changed)
    await repository.derive_quality_days(days)
    await repository.derive_quality_months(
        {(month_of_day(day), system, sender) for day, system, sender in days}
    )
    return len(ids)


def _keyed(rows: list[tuple[str, int, str]], key: SecretStr) -> list[dict[str, object]]:
    return [
        {
            "referral_id": referral_id,
            "person_key": person_key(person, key),
            "referral_version": version,
        }
        for referral_id, version, person in rows
    ]


async def refresh(
    database: Database,
    key: SecretStr,
    disclosure_key: SecretStr,
    known_revisions: set[str] | None = None,
) -> int:
    """Bring the facts of every queued referral up to date; returns how many were rebuilt.

    Run by the refresh worker (`reports.refresher`), the `refresh` command and tools; never by a
    report request. When it drained anything, `report_state.refreshed_at` becomes the moment its
    last pass (the one that found the queue empty) began: every change committed before that
    is in the facts.

    With `known_revisions` (the worker's: its release's migrations), each batch first checks
    the database is at one of them, under the refresh lock, and otherwise stops: a newer
    release's migration that adds facts (taking the same lock) has run since the pass began,
    and this release would take referrals off the queue without deriving them."""
    disclosure = RecordKeys.of(disclosure_key.get_secret_value())
    async with database.read_sessionmaker() as session:
        # The usual case, answered without a lock or a write: nothing queued, the key unchanged
        # (or no facts yet).
        repository = FactRepository(session)
        state = await repository.state()
        current = state is None or state[0] == fingerprint(key, disclosure)
        if current and not await repository.pending(1):
            return 0
    rebuilt = 0
    while True:
        await _analyse_grown(database)
        began = datetime.now(UTC)
        async with database.sessionmaker() as session, session.begin():
            repository = FactRepository(session)
            await repository.give_way()
            await repository.lock()
            if known_revisions is not None and not await revisions_seen_by(session) <= (
                known_revisions
            ):
                return rebuilt  # the newer release's workers go on from here
            await _check_key(repository, key, disclosure)
            pending = await repository.pending(BATCH)
            if not pending:
                if rebuilt:
                    await repository.set_state(fingerprint(key, disclosure), began)
                return rebuilt
            changed = sorted({r for _, r in pending})
            rebuilt += await _derive(repository, changed, key, disclosure)
            await repository.forget([sequence for sequence, _ in pending])


async def _analyse_grown(database: Database) -> None:
    """Planner statistics for the tables the next batch reads and writes, as they now stand
    (`FactRepository.analyse_grown`), committed at once: ANALYZE holds its table against
    another ANALYZE, VACUUM or a schema change until then. An optimisation: when it fails the
    batch goes on with the statistics there are."""
    try:
        async with database.read_sessionmaker() as session:
            await FactRepository(session).analyse_grown()
    except DBAPIError:
        logger.warning("report facts: planner statistics not refreshed", exc_info=True)


async def freshness(
    session: AsyncSession, key: SecretStr, disclosure_key: SecretStr
) -> datetime | None:
    """Up to when the facts include every committed change, read without writing: now when
    nothing is queued, else when the last refresh began (None if none ever ran). Raises
    `PseudonymKeyChanged` when the facts were made with other keys."""
    now = datetime.now(UTC)
    repository = FactRepository(session)
    state = await repository.state()
    if state is not None and state[0] != fingerprint(
        key, RecordKeys.of(disclosure_key.get_secret_value())
    ):
        raise PseudonymKeyChanged()
    if not await repository.pending(1):
        return now
    return state[1] if state is not None else None


async def rebuild(
    sessionmaker: async_sessionmaker[AsyncSession],
    key: SecretStr,
    disclosure_key: SecretStr,
    *,
    rekeyed: bool = False,
) -> int:
    """Derive every fact again in one transaction of whole-table statements (reports go on
    reading the previous facts until it commits); returns how many referrals. With `rekeyed`,
    every pseudonym is made again with `key` (and every record key with `disclosure_key`).
    Long statements: use `maintenance_sessions`."""
    disclosure = RecordKeys.of(disclosure_key.get_secret_value())
    began = datetime.now(UTC)
    async with sessionmaker() as session, session.begin():
        repository = FactRepository(session)
        await repository.lock(bulk=True)
        if rekeyed:
            await repository.start_state(fingerprint(key, disclosure))
            await repository.set_state(fingerprint(key, disclosure), None)
        else:
            await _check_key(repository, key, disclosure)
        # Changes queued before this transaction are covered by it; later ones stay queued.
        await repository.clear_queue()
        people = await repository.all_person_keys()
        await repository.forget_pseudonyms()
        await repository.load_pseudonyms(
            [(referral_id, person_key(p, key), version) for referral_id, version, p in people]
        )
        mapping = matching.support_groups_for()
        await repository.assign_keys(None)
        await repository.assign_codes(None)
        await repository.analyse_sources()
        await repository.delete_facts(None, None)
        await repository.insert_facts(None, None, mapping, disclosure)
        await repository.derive_quality_days(None)
        await repository.derive_quality_months(None)
        await repository.set_state(fingerprint(key, disclosure), began)
    async with sessionmaker() as session, session.begin():
        await FactRepository(session).analyse()
    return len(people)


def maintenance_sessions(database_url: str) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    """Sessions for the commands: as the service's, but with no statement timeout on
    PostgreSQL (a rebuild of a million referrals runs statements of a minute or more)."""
    if is_sqlite(database_url):
        database = Database(database_url)
        return database.engine, database.sessionmaker
    engine = create_async_engine(
        database_url, poolclass=NullPool, connect_args={"command_timeout": None}
    )
    return engine, async_sessionmaker(engine, expire_on_commit=False)


async def _run(command: str, database_url: str | None) -> int:
    settings = ReferralSettings()
    engine, sessionmaker = maintenance_sessions(database_url or settings.database_url)
    try:
        if command == "refresh":
            database = Database(database_url or settings.database_url)
            try:
                count = await refresh(database, settings.pseudonym_key, settings.disclosure_key)
            finally:
                await database.dispose()
            print(f"{count:,} referrals brought up to date")
        else:
            count = await rebuild(
                sessionmaker,
                settings.pseudonym_key,
                settings.disclosure_key,
                rekeyed=command == "rekey",
            )
            print(
                f"{count:,} referrals' facts derived again"
                + (" with the new key" if command == "rekey" else "")
            )
    except PseudonymKeyChanged as error:
        print(str(error), file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = command_parser(__doc__, epilog=True)
    parser.add_argument("command", choices=["refresh", "rebuild", "rekey"])
    args = parse_command(parser, argv)
    return asyncio.run(_run(args.command, args.database_url))


if __name__ == "__main__":
    sys.exit(main())
