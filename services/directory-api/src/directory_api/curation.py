"""Rules every curated record shares: create/update/upsert semantics and input digests.

A create that repeats an earlier one (same id, same content) returns the record unchanged, so a
retried request never duplicates and never bumps `last_modified`; a create whose id is taken by
different content is a conflict. Retired records are never changed or silently revived.
"""

import hashlib
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel

from signpost_platform.errors import Conflict, NotFound

# Namespace for ids Signpost derives (seeded records, children sent without ids).
SIGNPOST_NAMESPACE = uuid.UUID("6f1c1d2e-8a51-4d0c-9a57-2d7e0f3b9c41")


class WriteMode(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UPSERT = "upsert"  # bulk import and seeding


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class Curated(Protocol):
    retired_at: datetime | None
    input_digest: str


def digest(model: BaseModel) -> str:
    """SHA-256 of the input's meaningful content (export-only fields left out)."""
    text = model.model_dump_json(exclude_none=True, exclude={"last_modified", "metadata"})
    return hashlib.sha256(text.encode()).hexdigest()


def derived_id(*parts: str) -> str:
    """A stable UUID for a record Signpost names itself (the same on every deployment)."""
    return str(uuid.uuid5(SIGNPOST_NAMESPACE, "/".join(parts)))


def decide(
    kind: str, record_id: str, existing: Curated | None, new_digest: str, mode: WriteMode
) -> Outcome | None:
    """What a write should do: None means go ahead; an Outcome means stop with that outcome."""
    if existing is None:
        if mode is WriteMode.UPDATE:
            raise NotFound(f"no {kind} with id {record_id}", expression="id")
        return None
    if existing.retired_at is not None:
        raise Conflict(
            f"{kind} {record_id} was retired on {existing.retired_at.date().isoformat()} and "
            "cannot be changed",
            expression="id",
        )
    if existing.input_digest == new_digest:
        return Outcome.UNCHANGED
    if mode is WriteMode.CREATE:
        raise Conflict(
            f"{kind} {record_id} already exists with different content; update it with PUT",
            expression="id",
            issue_code="duplicate",
        )
    return None
