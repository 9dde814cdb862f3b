"""The rules for creating, reading, updating and searching referrals.

Writes for one person are serialised while their links are recomputed (`linkage.relink_people`);
a write that still meets a concurrent one (a deadlock or serialisation failure) is retried, up to
`WRITE_ATTEMPTS` in all.

Conditional create is race-safe: identifiers are unique in the database, so of two concurrent
creates with one identifier exactly one inserts; the other meets the constraint, rolls back and
returns the referral that won.
"""

import dataclasses
import functools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.linkage import service as linkage
from referral_api.people import identity
from referral_api.quality import service as quality
from referral_api.referrals.access import Reach
from referral_api.referrals.repository import (
    ReasonRow,
    ReferralColumns,
    ReferralForUpdate,
    ReferralRepository,
    StoredReferral,
)
from referral_api.referrals.search import ReferralFilter
from referral_api.rendering import service_request as rendering
from referral_api.terminology import service as terminology
from signpost_platform.audit import AuditEvent
from signpost_platform.db import Write, dialect_of, retrying_write_conflicts, untouched
from signpost_platform.errors import (
    BadRequest,
    Conflict,
    NotFound,
    require_url_id,
)
from signpost_platform.fhir.preconditions import stale_version
from signpost_platform.fhir.search import Token
from signpost_schemas import systems
from signpost_schemas.fhir.gaps import Gap
from signpost_schemas.fhir.service_request import ServiceRequest

# How a reason sent as text only is stored (its rows need a code; the served resource keeps
# the reason as sent). Senders cannot send it: it is not in the referral-reasons list.
UNCODED_REASON = (systems.REFERRAL_REASON, "uncoded")
# A write that meets a concurrent one (a serialisation failure or a deadlock) is retried this many
# times in all; one that still fails is 503 with Retry-After (signpost_platform.errors).
WRITE_ATTEMPTS = 3
T = TypeVar("T")
P = ParamSpec("P")


# What a create does next in its own transaction, once the referral is stored, when a message
# is held for one of its identifiers: release the messages held for it
# (`flows.create_referral`). True if it changed the referral.
AfterCreate = Callable[[StoredReferral, ServiceRequest], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class CreateOutcome:
    referral: StoredReferral
    created: bool
    # False when the referral is known to have no links (a person's first referral, or one
    # their others cannot be linked to): it is served without looking for them.
    may_be_linked: bool = True


async def create(
    session: AsyncSession,
    resource: ServiceRequest,
    if_none_exist: Token | None,
    *,
    reach: Reach,
    gaps: list[Gap],
    linkage_window_days: int = 90,
    after_create: AfterCreate | None = None,
    event: AuditEvent | None = None,
    alone: bool = False,
) -> CreateOutcome:
    """Store a new referral with its `gaps`, or return the one `if_none_exist` already names.

    `after_create` runs in the same transaction once the referral is stored; the outcome then
    holds the referral as it stands after it. `event`, the create's audit event, is written with
    the referral (naming it) when one is created.

    `alone`: the create has `session` (not yet begun) to itself, with nothing else to commit
    with it, so on PostgreSQL the usual create (a person named by NHS number alone, with no
    other referral it could be linked to, nothing held for its identifiers, no gaps, no
    condition) is committed as one statement of its own (`ReferralRepository.insert_alone`).
    """
    return await _retrying(
        session,
        lambda: _create(
            session,
            resource,
            if_none_exist,
            reach=reach,
            gaps=gaps,
            linkage_window_days=linkage_window_days,
            after_create=after_create,
            event=event,
            alone=alone,
        ),
    )


async def _retrying(session: AsyncSession, write: Callable[[], Awaitable[T]]) -> T:
    """`write()`, rolled back and run again on a deadlock or serialisation failure, at most
    `WRITE_ATTEMPTS` times in all; the last failure propagates (answered 503)."""
    return await retrying_write_conflicts(write, WRITE_ATTEMPTS, session.rollback)


def _retried(
    write: Callable[Concatenate[AsyncSession, P], Awaitable[T]],
) -> Callable[Concatenate[AsyncSession, P], Awaitable[T]]:
    """`write(session, ...)` run through `_retrying`: run again on a write conflict."""

    @functools.wraps(write)
    async def retrying(session: AsyncSession, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await _retrying(session, lambda: write(session, *args, **kwargs))

    return retrying


async def _create(
    session: AsyncSession,
    resource: ServiceRequest,
    if_none_exist: Token | None,
    *,
    reach: Reach,
    gaps: list[Gap],
    linkage_window_days: int,
    after_create: AfterCreate | None,
    event: AuditEvent | None,
    alone: bool,
) -> CreateOutcome:
    reach.check_parties(resource)
    repository = ReferralRepository(session)
    identifiers = _identifiers(resource)
    # A person named by NHS number alone is known before any query: their linkage lock is
    # taken with the identifiers' (one round trip), so the insert can tell whether they have
    # anything to link.
    person_key = identity.key_without_lookup(resource.nhs_number, _local_identifiers(resource))
    if (
        alone
        and person_key is not None
        and if_none_exist is None
        and event is not None
        and not gaps  # and so no reason code to place through the loaded release (a query)
        and dialect_of(session) == "postgresql"
        and untouched(session)
    ):
        # The usual create: nothing to link it to (a person's first referral, or one their
        # others cannot be linked to), nothing held for it, nothing to record of its gaps. Then
        # the locks, the looks and the insert are one statement, committed on its own; if it
        # finds something to link or release it writes nothing, and the create goes on below.
        stored = _new_stored(resource)
        columns, reasons = await _rows(session, resource)
        try:
            written = untouched(session) and await repository.insert_alone(
                stored,
                dataclasses.replace(columns, person_key=person_key),
                identifiers,
                reasons,
                event,
                linkage_window_days,
            )
        except IntegrityError:
            written = False  # an identifier is taken: below says by what, as for any create
        if written:
            return CreateOutcome(stored, created=True, may_be_linked=False)
    # Before looking: a message about these identifiers, held or applied, waits for this create.
    await repository.lock_identifiers(identifiers, person_keys=[person_key] if person_key else [])
    if if_none_exist is not None:
        _require_own_identifier(if_none_exist, identifiers)
        existing = await _by_identifier(repository, if_none_exist, reach)
        if existing is not None:
            return CreateOutcome(existing, created=False)

    stored = _new_stored(resource)
    referral_id = stored.id
    person = await _identify(session, resource)
    columns, reasons = await _rows(session, resource)
    columns = dataclasses.replace(columns, person_key=person.key)
    try:
        neighbours = await repository.insert(stored, columns, identifiers, reasons, event=event)
    except IntegrityError:
        await session.rollback()
        if if_none_exist is not None:
            winner = await _by_identifier(repository, if_none_exist, reach)
            if winner is not None:
                return CreateOutcome(winner, created=False)
        owners = await repository.owners_of_identifiers(identifiers)
        raise await _identifier_taken(repository, owners, reach) from None
    await quality.record(session, referral_id, service_request=gaps, new=True)
    linked = True
    if person_key is None:
        await _link(session, {person.key, *person.joined}, linkage_window_days)
    elif neighbours.person_known:
        await linkage.relink(session, person_key, linkage_window_days)  # its lock is held
    else:
        linked = False  # the person's first referral: nothing to link
    if after_create is not None and neighbours.held and await after_create(stored, resource):
        stored = await repository.get(referral_id) or stored
        linked = True
    return CreateOutcome(stored, created=True, may_be_linked=linked)


def _new_stored(resource: ServiceRequest) -> StoredReferral:
    """A new referral's first version, as it is stored and served."""
    now = datetime.now(UTC)
    referral_id = str(uuid.uuid4())
    return StoredReferral(referral_id, 1, now, rendering.render_sent(resource, referral_id, 1, now))


async def create_from_message(
    session: AsyncSession,
    resource: ServiceRequest,
    *,
    source_system: str,
    as_of: datetime,
    person_key: str,
) -> StoredReferral:
    """Insert a referral a message brought, filed under `person_key`; raises IntegrityError if
    an identifier is taken (a concurrent message created it: the caller retries and finds it)."""
    now = datetime.now(UTC)
    referral_id = str(uuid.uuid4())
    stored = StoredReferral(
        referral_id, 1, now, rendering.render_sent(resource, referral_id, 1, now)
    )
    columns, reasons = await _rows(session, resource)
    await ReferralRepository(session).insert(
        stored,
        dataclasses.replace(columns, person_key=person_key),
        _identifiers(resource),
        reasons,
        source_system=source_system,
        source_updated_at=as_of,
    )
    return stored


async def save_from_message(
    session: AsyncSession,
    current: ReferralForUpdate,
    resource: ServiceRequest | None,
    pending: list[Write],
    *,
    as_of: datetime | None,
    server_extensions: list[dict[str, Any]],
    status: str,
    keep_version: bool,
) -> StoredReferral | None:
    """Write a referral after a message: new content from `resource` (when the message's
    ServiceRequest is newer) and/or new derived extensions and status. None if nothing changed.

    New content is written at once; a new rendering or sender timestamp alone is added to
    `pending`, which the caller writes with its own last writes (`execute_writes`), checking
    that each wrote its row (a referral it holds locked cannot have moved on).
    `keep_version` is for a referral created by this same message: it has not been served yet.
    """
    stored = current.stored
    version = stored.version if keep_version else stored.version + 1
    now = stored.last_updated_at if keep_version else datetime.now(UTC)
    repository = ReferralRepository(session)
    if resource is not None:
        document = rendering.render_sent(
            resource, stored.id, version, now, server_extensions=server_extensions, status=status
        )
        new = StoredReferral(stored.id, version, now, document)
        columns, reasons = await _rows(session, resource)
        columns = dataclasses.replace(columns, status=status)
        updated = await repository.update(
            new,
            stored.version,
            columns,
            _identifiers(resource),
            reasons,
            source_updated_at=as_of,
        )
        if not updated:
            raise AssertionError("a referral locked for update moved on")
        return new
    held = orjson.loads(stored.resource)
    # Rerendering changes the content only by the status, and the derived extensions.
    if rendering.shows(held, server_extensions, status):
        if as_of is not None:
            pending.append(repository.source_timestamp_moved(stored.id, as_of))
        return None
    document = rendering.rerender(
        held, version, now, server_extensions=server_extensions, status=status
    )
    new = StoredReferral(stored.id, version, now, document)
    pending.append(repository.rendered(new, stored.version, status, source_updated_at=as_of))
    return new


async def read(session: AsyncSession, referral_id: str, reach: Reach) -> StoredReferral:
    stored = await ReferralRepository(session).get(referral_id, reach)
    if stored is None:
        raise NotFound(f"no ServiceRequest with id {referral_id}")
    return stored


async def read_served(
    session: AsyncSession, referral_id: str, reach: Reach, event: AuditEvent
) -> tuple[StoredReferral, bytes]:
    """The referral and its document as a caller of `reach` is served it (`served`), with
    `event` (the read's audit event) written: on PostgreSQL the read, its links and the event
    are one statement."""
    found = await ReferralRepository(session).read(referral_id, reach, event)
    if found is None:
        raise NotFound(f"no ServiceRequest with id {referral_id}")
    stored, links = found
    if links is None:
        (body,) = await rendering.served(session, [stored], reach)
    else:
        (body,) = rendering.served_with([stored], reach, links)
    return stored, body


@_retried
async def update(
    session: AsyncSession,
    referral_id: str,
    resource: ServiceRequest,
    expected_version: int,
    *,
    reach: Reach,
    gaps: list[Gap],
    linkage_window_days: int = 90,
) -> StoredReferral:
    """Replace a referral and its gaps, refusing with 412 if `expected_version` is no longer
    current."""
    require_url_id(resource.id, referral_id, "ServiceRequest", id_required=True)
    repository = ReferralRepository(session)
    current = await repository.get(referral_id, reach)
    if current is None:
        raise NotFound(f"no ServiceRequest with id {referral_id}")
    reach.check_parties(resource)
    if current.version != expected_version:
        raise stale_version("referral", current.version, expected_version)
    if not reach.unrestricted:
        requester, receiver = await repository.parties(referral_id)
        reach.check_change(requester, receiver, resource, "ServiceRequest")
    current_subject = rendering.subject_identifier_of(current.resource)
    identifiers = _identifiers(resource)
    if taken := await repository.owners_of_identifiers(identifiers, excluding=referral_id):
        raise await _identifier_taken(repository, taken, reach)
    now = datetime.now(UTC)
    version = current.version + 1
    kept = rendering.server_extensions_of(current.resource)
    document = rendering.render_sent(resource, referral_id, version, now, server_extensions=kept)
    stored = StoredReferral(referral_id, version, now, document)
    former_person = await repository.person_of(referral_id)
    # An update that replaces the sender's patient identifier by an NHS number says they are
    # one person: the people are joined.
    found_nhs_number = (
        current_subject is not None
        and current_subject[0] != systems.NHS_NUMBER
        and resource.nhs_number is not None
    )
    person = await _identify(session, resource, [current_subject] if found_nhs_number else [])
    columns, reasons = await _rows(session, resource)
    updated = await repository.update(
        stored,
        expected_version,
        dataclasses.replace(columns, person_key=person.key),
        identifiers,
        reasons,
    )
    if not updated:  # another update committed between our read and our write
        latest = await repository.get(referral_id)
        raise stale_version("referral", latest.version if latest else version, expected_version)
    await quality.record(session, referral_id, service_request=gaps)
    await _link(session, {person.key, former_person, *person.joined}, linkage_window_days)
    return stored


async def _identify(
    session: AsyncSession,
    resource: ServiceRequest,
    also: Sequence[tuple[str, str] | None] = (),
) -> identity.Person:
    """The person the referral is for (people.identity), joining people `also` names."""
    local = [*_local_identifiers(resource), *(i for i in also if i)]
    return await identity.identify(session, resource.nhs_number, local)


def _local_identifiers(resource: ServiceRequest) -> list[tuple[str, str]]:
    """The sender's own patient identifier of the referral's subject, if that is how it names
    the person."""
    local = resource.local_patient_identifier
    return [local] if local else []


async def _link(session: AsyncSession, person_keys: set[str], window_days: int) -> None:
    """Relink the people a write touched (its person, a former person, people joined)."""
    await linkage.relink_people(session, person_keys, window_days)


async def served(
    session: AsyncSession, stored: Sequence[StoredReferral], reach: Reach, *, unlinked: bool = False
) -> list[bytes]:
    """The referrals as a caller of `reach` is served them: with their links (`rendering`);
    `unlinked` when they are known to have none (`CreateOutcome.may_be_linked`)."""
    return await rendering.served(session, stored, reach, unlinked=unlinked)


async def search_served(
    session: AsyncSession,
    search_filter: ReferralFilter,
    reach: Reach,
    event: AuditEvent,
    *,
    returned_ids: bool,
) -> tuple[int | None, list[StoredReferral], list[bytes]]:
    """The total, the page's referrals and their documents as a caller of `reach` is served
    them (`served`), with `event` (the search's audit event; naming the ids of the page when
    `returned_ids`) written: on PostgreSQL in the statement that reads the page and its links
    (`ReferralRepository.search_recorded`)."""
    total, rows, shown = await ReferralRepository(session).search_recorded(
        search_filter, reach, event, naming_ids=returned_ids
    )
    if shown is None:
        return total, rows, await rendering.served(session, rows, reach)
    return total, rows, rendering.served_with(rows, reach, shown)


async def _by_identifier(
    repository: ReferralRepository, token: Token, reach: Reach
) -> StoredReferral | None:
    """The referral `token` identifies; a Conflict if it exists out of the caller's reach."""
    assert token.system is not None
    referral_id = await repository.id_by_identifier(token.system, token.code)
    if referral_id is None:
        return None
    found = await repository.get(referral_id, reach)
    if found is None:
        raise await _identifier_taken(repository, [referral_id], reach)
    return found


async def _identifier_taken(
    repository: ReferralRepository, owners: list[str], reach: Reach
) -> Conflict:
    """The 409 for identifiers other referrals hold, naming only those the caller may see."""
    visible = sorted(
        {o for o in owners if reach.unrestricted or await repository.get(o, reach) is not None}
    )
    if len(visible) < len(set(owners)):
        detail = "a referral your organisation did not send or receive"
    else:
        detail = "ServiceRequest/" + ", ServiceRequest/".join(visible)
    return Conflict(
        f"an identifier of this referral is already used by {detail}; send If-None-Exist to "
        "make a create idempotent",
        expression="ServiceRequest.identifier",
        issue_code="duplicate",
    )


def _require_own_identifier(token: Token, identifiers: list[tuple[str, str]]) -> None:
    if not token.system:
        raise BadRequest(
            "If-None-Exist must name a full identifier: identifier=<system>|<value>",
            expression="If-None-Exist",
        )
    if (token.system, token.code) not in identifiers:
        raise BadRequest(
            "the identifier in If-None-Exist must be one of the referral's identifiers",
            expression="ServiceRequest.identifier",
        )


def _identifiers(resource: ServiceRequest) -> list[tuple[str, str]]:
    return [(i.system, i.value) for i in resource.identifier]


async def _rows(
    session: AsyncSession, resource: ServiceRequest
) -> tuple[ReferralColumns, list[ReasonRow]]:
    """The searchable columns and the reason rows, SNOMED CT codes outside the shipped lists
    grouped through the loaded release (one query, only when there are such codes)."""
    source, *reasons = await terminology.place(
        session,
        [
            (terminology.SOURCES, resource.source_of_referral),
            *((terminology.REASONS, reason) for reason in resource.reasons),
        ],
    )
    assert source.system is not None and source.code is not None
    columns = ReferralColumns(
        status=resource.status,
        intent=resource.intent,
        nhs_number=resource.nhs_number,
        requester_ods=resource.requester_ods,
        received_by_role=resource.received_by_role.code,
        source_of_referral_system=source.system,
        source_of_referral_code=source.code,
        authored_at=resource.authored_at,
        source_of_referral_group=source.group,
        receiver_ods=resource.receiver_ods,
        priority=resource.priority,
    )
    rows = [
        ReasonRow(reason.system, reason.code, reason.text, reason.group)
        if reason.system and reason.code
        else ReasonRow(*UNCODED_REASON, reason.text, reason.group)
        for reason in reasons
    ]
    return columns, rows
