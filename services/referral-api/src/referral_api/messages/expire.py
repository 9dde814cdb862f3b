"""`python -m referral_api.messages.expire`: expire the held messages past their retention.

An `update` for a referral Signpost has not received is held until the referral arrives (by a
`new` message or through REST). One held for REFERRAL_HELD_MESSAGE_RETENTION_DAYS (30 by
default) is expired: deleted with everything it carried, never applied. Its sender learns it
by the log line written for it (its Bundle.id, source system, sending endpoint and requesting
organisation, never a person's details) and by the answer a resend of it gets: 422 saying it
expired. Run it daily (deploy/k8s/referral-expire-held.yaml; `make expire-held`). The database
is REFERRAL_DATABASE_URL (or --database-url).
"""

import asyncio
import logging
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.commands import command_parser, command_session, parse_command
from referral_api.config import ReferralSettings
from referral_api.messages.repository import Expiring, MessageRepository
from referral_api.messages.responses import expired_response
from signpost_platform.logging import configure_logging

logger = logging.getLogger("signpost.messages.expire")


@dataclass(frozen=True, slots=True)
class Expired:
    """A held message expired, as its sender and an operator know it (no personal data)."""

    bundle_id: str
    source_system: str
    sender_endpoint: str | None
    requester_ods: str | None
    received_at: datetime


async def expire_held(
    session: AsyncSession, *, now: datetime, retention_days: int
) -> list[Expired]:
    """Expire the messages held since before `now` minus `retention_days` (the caller commits).

    Each is logged, then counted per source system in one summary line.
    """
    repository = MessageRepository(session)
    expired = []
    for held in await repository.held_before(now - timedelta(days=retention_days)):
        await repository.release(
            held.bundle_id,
            outcome="expired",
            referral_id=None,
            status=422,
            response=expired_response(
                held.bundle_id,
                (held.identifier_system, held.identifier_value),
                retention_days,
                now,
            ),
        )
        item = _expired(held)
        expired.append(item)
        logger.warning(
            "held message expired: its referral did not arrive",
            extra={
                "bundle_id": item.bundle_id,
                "source_system": item.source_system,
                "sender_endpoint": item.sender_endpoint,
                "requester_ods": item.requester_ods,
                "received_at": item.received_at.isoformat(),
                "retention_days": retention_days,
            },
        )
    logger.info(
        "held messages expired",
        extra={
            "expired": len(expired),
            "by_source_system": dict(Counter(item.source_system for item in expired)),
            "retention_days": retention_days,
        },
    )
    return expired


def _expired(held: Expiring) -> Expired:
    """What identifies a held message to its sender, read from its (reduced) body."""
    document: dict[str, Any] = orjson.loads(held.body)
    entries = [entry.get("resource", {}) for entry in document.get("entry", [])]
    header = entries[0] if entries else {}
    request: dict[str, Any] = next(
        (r for r in entries if r.get("resourceType") == "ServiceRequest"), {}
    )
    requester = request.get("requester", {}).get("identifier", {}).get("value")
    return Expired(
        held.bundle_id,
        held.source_system,
        header.get("source", {}).get("endpoint"),
        requester,
        held.received_at,
    )


async def _run(database_url: str, retention_days: int) -> int:
    async with command_session(database_url) as session:
        expired = await expire_held(session, now=datetime.now(UTC), retention_days=retention_days)
    return len(expired)


def main(argv: list[str] | None = None) -> int:
    parser = command_parser(__doc__, prog="python -m referral_api.messages.expire", epilog=True)
    args = parse_command(parser, argv)
    settings = ReferralSettings()
    if not logging.getLogger().handlers:  # run as a command: JSON lines, as the service logs
        configure_logging("referral-api", settings.log_level)
    asyncio.run(
        _run(args.database_url or settings.database_url, settings.held_message_retention_days)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
