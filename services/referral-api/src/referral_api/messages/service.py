"""Processing a referral message: idempotent, order-independent, all or nothing.

1. The Bundle id is the idempotency key. A message already processed with the same content
   (payload hash) gets the response it had the first time and changes nothing; a different
   content under a used id is refused with 409.
2. The whole message is validated before anything is written (see `bundle.py`).
3. The referral is found by the ServiceRequest's identifiers. A `new` message for an unknown
   referral creates it; an `update` for an unknown referral is held (202), reduced to the
   dataset (`held.py`), and applied, in sender-timestamp order, when the referral arrives by a
   message or through REST (`release_held`), or expired after the retention (`expire.py`).
4. Each resource replaces the version held only if it is newer (see `lifecycle.service`), so an
   older update arriving after a newer one changes nothing. The lifecycle summary and the links
   are then derived again and the ServiceRequest re-rendered once (its links are shown when it
   is served, not stored in it). An acceptance, decline or closure writes the message back to
   the referrer (`gp_messages`) in the same transaction.
Any error rolls the whole message back: nothing is half-written.
"""

import dataclasses
import functools
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.audit import trail
from referral_api.geography import service as geography
from referral_api.gp_messages import service as gp_messages
from referral_api.lifecycle import service as lifecycle
from referral_api.lifecycle.repository import Looked
from referral_api.linkage import service as linkage
from referral_api.messages import held as held_copies
from referral_api.messages.bundle import (
    CLOCK_SKEW,
    ReadMessage,
    Timed,
    load_document,
    payload_hash,
    read_message,
)
from referral_api.messages.repository import Found, MessageRepository, SeenMessage
from referral_api.messages.responses import held_response, ok_response, rejected_response
from referral_api.people import identity
from referral_api.people.service import apply_patient
from referral_api.quality import service as quality
from referral_api.referrals import service as referrals
from referral_api.referrals.access import EVERY_ORGANISATION, Reach
from referral_api.referrals.repository import (
    ReferralForUpdate,
    ReferralRepository,
    StoredReferral,
)
from referral_api.rendering import ended
from referral_api.rendering import service_request as rendering
from referral_api.service_use import service as service_use
from referral_api.service_use.repository import CountedReferral
from signpost_platform.audit import AuditEvent
from signpost_platform.db import (
    NeedsDatabase,
    RowsMoved,
    Write,
    dialect_of,
    offline_session,
    untouched,
    write_conflict,
)
from signpost_platform.errors import Conflict, SignpostError, Unprocessable
from signpost_platform.metrics import INGEST_LAG, UNLOCKED_MESSAGES
from signpost_schemas import systems
from signpost_schemas.fhir.encounter import Contact
from signpost_schemas.fhir.observation import WellbeingAssessment
from signpost_schemas.fhir.procedure import SharedDecision
from signpost_schemas.fhir.service_request import ServiceRequest
from signpost_schemas.fhir.service_use import ServiceUseObservation
from signpost_schemas.fhir.task import ReferralTask, as_moment

ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class MessageResult:
    status_code: int
    body: bytes
    referral_id: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    linkage_window_days: int
    base_url: str


async def process(
    session: AsyncSession,
    body: bytes,
    settings: Settings,
    *,
    reach: Reach,
    channel: str = "message",
    source_override: str | None = None,
    savepoint: bool = False,
    event: AuditEvent | None = None,
) -> MessageResult:
    """Process one message (the caller's transaction commits it).

    `event`, the message's audit event, is written with the message's last writes, naming the
    referral, when the message changes one (not a resend, not a held message).

    With `savepoint` the message runs in a savepoint, so a failure (or a lost race, retried)
    undoes only this message: for imports, which commit many messages in one transaction. A
    request has a transaction of its own, rolled back whole instead (two round trips fewer).

    A message is validated first; a request's transaction then begins with one statement that
    both looks the message up among those processed and, for a message naming its referral by
    one identifier, finds and locks that referral (`MessageRepository.seen_and_owner`): a resend
    is answered with its stored response, a new message goes on with the referral locked. So
    only a message that could be applied takes a referral's lock. A resend whose message would
    now be refused still gets its stored response: the refusal is answered only for a message
    not processed before.

    `reach` is whose referrals the sender may change: the message's ServiceRequest must name the
    sender's organisation as requester or performer, and so must the referral it updates.
    """
    document = load_document(body)
    bundle_id = document["id"]
    content_hash = payload_hash(document)
    repository = MessageRepository(session)
    try:
        message = read_message(document, source_override=source_override)
        reach.check_parties(
            message.service_request.resource,
            f"Bundle.entry[{message.service_request.index}].resource",
        )
    except SignpostError:
        replay = _replay(await repository.seen(bundle_id), bundle_id, content_hash, reach)
        if replay is not None:
            return replay
        raise
    identifier = message.identifiers[0] if len(message.identifiers) == 1 else None
    # Processing the message once it is known not to be a resend, whichever way it goes.
    process_new = functools.partial(
        _process_new, session, message, document, content_hash, settings, channel, reach, event
    )
    if (
        identifier is not None
        and not savepoint
        and _may_go_unlocked(message)
        and dialect_of(session) == "postgresql"
        and untouched(session)
    ):
        done = await _process_unlocked(
            session, message, bundle_id, content_hash, reach, identifier, process_new
        )
        if done is not None:
            return done
    for attempt in range(ATTEMPTS):
        try:
            # An import's messages share one transaction: a resend there takes no lock, which
            # would be held until the import commits.
            if identifier is None or savepoint:
                found = Found(await repository.seen(bundle_id))
            else:
                found = await repository.seen_and_owner(
                    bundle_id, identifier, _one_lifecycle_resource(message)
                )
            replay = _replay(found.seen, bundle_id, content_hash, reach)
            if replay is not None:
                return replay
            if not savepoint:
                looked_up = Owner(found.owner, found.looked) if identifier is not None else None
                return await process_new(looked_up)
            async with session.begin_nested():
                return await process_new()
        except (IntegrityError, DBAPIError) as error:
            # A concurrent request recorded this message or created its referral first (the
            # next attempt finds its response), or the two met in a deadlock.
            if (
                isinstance(error, DBAPIError)
                and not isinstance(error, IntegrityError)
                and not write_conflict(error)
            ):
                raise
            if not savepoint:
                await session.rollback()
            if attempt == ATTEMPTS - 1:
                replay = _replay(await repository.seen(bundle_id), bundle_id, content_hash, reach)
                if replay is not None:
                    return replay
                raise
    raise AssertionError("unreachable")


def _may_go_unlocked(message: ReadMessage) -> bool:
    """Whether the message may be applied from the unlocked read alone (`_process_unlocked`):
    an update carrying no Patient (compared with the one stored) and no lifecycle resource but
    a contact without workers (a Task's, an assessment's or those workers' rows are written on
    their own). Any other message would find it needs a statement more, having done the read
    and part of its work for nothing."""
    if message.reason != "update" or message.patient is not None:
        return False
    if not message.lifecycle:
        return True
    if len(message.lifecycle) > 1:
        return False
    resource = message.lifecycle[0].resource
    return isinstance(resource, Contact) and not resource.workers


async def _process_unlocked(
    session: AsyncSession,
    message: ReadMessage,
    bundle_id: str,
    content_hash: str,
    reach: Reach,
    identifier: tuple[str, str],
    process_new: functools.partial[Coroutine[Any, Any, MessageResult]],
) -> MessageResult | None:
    """The usual update, in two round trips and no lock held in between: one statement reads
    what `seen_and_owner` reads, without the locks; the message is applied from what it read
    alone (a session that may not reach the database: `offline_session`); its writes then run
    as one statement of their own, guarded by the referral and its summary being unchanged
    since they were read (`MessageRepository.record_guarded`). A resend is answered from the
    read.

    None, with nothing written, when the message needs the usual transaction: the identifier
    names no referral with a summary (a message held), applying it needs another statement, or
    what it was worked out from changed meanwhile (or another request recorded the message or
    wrote its contact first). The caller then processes it with the referral locked from its
    first statement, as every message was before.

    `process_new` is `_process_new` given the message; it is called with the referral read and
    `unmoved`. Every try is counted once by how it ended (`UNLOCKED_MESSAGES`), a refusal and an
    error too."""
    outcome = "error"
    try:
        repository = MessageRepository(session)
        found = await repository.seen_and_owner(
            bundle_id, identifier, _one_lifecycle_resource(message), locked=False
        )
        replay = _replay(found.seen, bundle_id, content_hash, reach)
        if replay is not None:
            outcome = "resent"
            return replay
        if found.owner is None or found.unmoved is None:
            outcome = "no-referral"
            return None
        try:
            result = await process_new(Owner(found.owner, found.looked), unmoved=found.unmoved)
        except NeedsDatabase:
            outcome = "needs-statement"
        except RowsMoved:
            outcome = "moved-on"
        except IntegrityError:
            outcome = "key-taken"
        except DBAPIError as error:
            if not write_conflict(error):
                raise
            outcome = "write-conflict"
        else:
            outcome = "applied"
            return result
        return None
    except SignpostError:
        outcome = "refused"
        raise
    finally:
        UNLOCKED_MESSAGES.labels("referral", outcome).inc()


@dataclass(frozen=True, slots=True)
class Owner:
    """The referral found, and locked, by the message's one identifier, with its summary; None
    when no referral with a summary has it."""

    found: tuple[ReferralForUpdate, dict[str, Any]] | None
    # The version the referral holds of the message's one lifecycle resource, looked up with it.
    looked: Looked | None = None


def _one_lifecycle_resource(message: ReadMessage) -> tuple[str, str] | None:
    """The resource type and sender id of the message's lifecycle resource when it carries one
    (not a service use count, which is kept apart), whose version held is looked up with its
    referral; None otherwise."""
    if len(message.lifecycle) != 1:
        return None
    resource = message.lifecycle[0].resource
    if isinstance(resource, ServiceUseObservation):
        return None
    return resource.resourceType, resource.id


def _replay(
    seen: SeenMessage | None, bundle_id: str, content_hash: str, reach: Reach
) -> MessageResult | None:
    """The stored answer to a message already processed (`seen`); None for a new message."""
    if seen is None:
        return None
    if seen.requester_ods is not None and not reach.allows(seen.requester_ods, seen.receiver_ods):
        raise Conflict(
            f"the message id {bundle_id} was already used for a referral your organisation did "
            "not send or receive",
            expression="Bundle.id",
            issue_code="duplicate",
        )
    if seen.payload_hash != content_hash:
        raise Conflict(
            f"the message id {bundle_id} was already used for a different message; a resend "
            "must be byte-for-byte the same content, a new message needs a new Bundle.id",
            expression="Bundle.id",
            issue_code="duplicate",
        )
    return MessageResult(seen.response_status, seen.response.encode())


async def _process_new(
    session: AsyncSession,
    message: ReadMessage,
    document: dict[str, Any],
    content_hash: str,
    settings: Settings,
    channel: str,
    reach: Reach,
    event: AuditEvent | None,
    looked_up: Owner | None = None,
    *,
    unmoved: dict[str, str] | None = None,
) -> MessageResult:
    """`looked_up`: the referral the message's one identifier names, found and locked already
    in this transaction; or, with `unmoved`, read without the locks (`_process_unlocked`): the
    message is then applied without a statement (`NeedsDatabase` if it needs one) and its
    writes run as one statement of their own, guarded by `unmoved`."""
    repository = MessageRepository(session)
    now = datetime.now(UTC)
    found: tuple[ReferralForUpdate, dict[str, Any] | None] | None = None
    looked: Looked | None = None
    if looked_up is not None:
        found, looked = looked_up.found, looked_up.looked
    elif len(message.identifiers) == 1:
        # The usual update: find, lock and read the referral in one round trip. The referral's
        # row lock orders the messages about it; the identifier locks are needed only while
        # there is no referral to lock (a message held, or creating it), and no message that
        # names one identifier adds another to a referral.
        found = await lifecycle.owner_and_summary(session, message.identifiers[0])
    if found is not None:
        owners = [found[0].stored.id]
    else:
        await repository.serialise(message.identifiers)
        owners = await ReferralRepository(session).ids_by_identifiers(message.identifiers)
    where = f"Bundle.entry[{message.service_request.index}].resource"
    if owners and not reach.unrestricted:
        # Checked before anything names a referral: another organisation's stays unnamed.
        referral_repository = ReferralRepository(session)
        for owner in owners:
            current = found[0] if found else await referral_repository.for_update(owner)
            if current is None or not reach.allows(current.requester_ods, current.receiver_ods):
                raise Conflict(
                    "the ServiceRequest's identifier belongs to a referral your organisation "
                    "did not send or receive",
                    expression=f"{where}.identifier",
                    issue_code="duplicate",
                )
    if len(owners) > 1:
        raise Conflict(
            "the ServiceRequest's identifiers belong to different referrals: "
            + ", ".join(f"ServiceRequest/{o}" for o in owners),
            expression=f"{where}.identifier",
        )
    record = {
        "bundle_id": message.bundle.id,
        "header_id": message.header.id,
        "payload_hash": content_hash,
        "event": message.event,
        "reason": message.reason,
        "source_system": message.source_system,
        "channel": channel,
        "sent_at": message.bundle.timestamp,
        "received_at": now,
    }
    if not owners and message.reason == "update":
        body = held_response(message, now)
        # The full postcode is read here, once, as when a Patient is stored, and not kept.
        place = (
            await geography.derive(session, message.patient.resource.postcode)
            if message.patient is not None
            else None
        )
        copy = held_copies.minimise(document, message, place)
        held = repository.hold(
            message.bundle.id,
            message.identifiers[0],
            message.bundle.timestamp,
            copy.body,
            copy.derived,
        )
        await repository.record(
            {
                **record,
                "referral_id": None,
                "outcome": "held",
                "response_status": 202,
                "response": body,
            },
            [held],
        )
        return MessageResult(202, body.encode())

    if unmoved is None:
        applied = await apply_message(
            session,
            message,
            owners[0] if owners else None,
            settings,
            now,
            found=found,
            looked=looked,
            reach=reach,
        )
    else:
        async with offline_session(session) as offline:
            applied = await apply_message(
                offline, message, owners[0], settings, now, found=found, looked=looked, reach=reach
            )
    body = ok_response(message, applied, settings.base_url, now)
    values = {
        **record,
        "referral_id": applied.referral_id,
        "outcome": "applied",
        "response_status": 200,
        "response": body,
    }
    writes = [
        *applied.pending,
        *(
            [trail.with_others(dataclasses.replace(event, resource_id=applied.referral_id))]
            if event is not None
            else []
        ),
    ]
    if unmoved is None:
        await repository.record(values, writes)
    else:
        await repository.record_guarded(values, writes, applied.referral_id, unmoved)
    if message.bundle.timestamp is not None:
        INGEST_LAG.labels("referral", message.source_system).observe(
            max((now - message.bundle.timestamp).total_seconds(), 0.0)
        )
    if applied.created:
        await release_held(session, message.service_request.resource, applied.referral_id, settings)
    return MessageResult(200, body.encode(), applied.referral_id)


@dataclass
class Applied:
    """What a message did to its referral."""

    referral_id: str
    created: bool
    counts: dict[str, dict[str, int]]
    # Writes left to the caller, to run with its record of the message (`execute_writes`).
    pending: list[Write]


async def apply_message(
    session: AsyncSession,
    message: ReadMessage,
    referral_id: str | None,
    settings: Settings,
    now: datetime,
    *,
    found: tuple[ReferralForUpdate, dict[str, Any] | None] | None = None,
    looked: Looked | None = None,
    reach: Reach = EVERY_ORGANISATION,
    place: geography.Geography | None = None,
) -> Applied:
    """Apply a validated message to its referral (creating it for a `new` message).

    `found` is the referral already locked, with its lifecycle summary, when the caller has it,
    and `looked` the version it holds of the message's one lifecycle resource, looked up with it
    (`lifecycle.apply`).
    `place` is the Patient's geography, derived when a held message was reduced.
    """
    request = message.service_request
    created = referral_id is None
    person: identity.Person | None = None
    if referral_id is None:
        person = await _identify(session, message, request.resource)
        stored = await referrals.create_from_message(
            session,
            request.resource,
            source_system=message.source_system,
            as_of=request.as_of,
            person_key=person.key,
        )
        referral_id = stored.id
    if found is None or found[0].stored.id != referral_id:
        found = await lifecycle.referral_and_summary(session, referral_id)
        looked = None
    assert found is not None
    current, previous_summary = found

    newer_request = (
        created or current.source_updated_at is None or (request.as_of > current.source_updated_at)
    )
    if newer_request and not created:
        reach.check_change(
            current.requester_ods,
            current.receiver_ods,
            request.resource,
            f"Bundle.entry[{request.index}].resource",
        )
    # A newer copy of the same ServiceRequest (updates carry it unchanged) only moves the
    # sender timestamp on: no rewrite of reasons and identifiers, no relinking.
    content_changed = newer_request and (
        created or not _same_request(request.resource, current, previous_summary)
    )
    authored_at = request.resource.authored_at if newer_request else current.authored_at
    _check_dates(message, authored_at, now)

    counts: dict[str, dict[str, int]] = {}
    stored_person = False
    if message.patient is not None:
        stored_person = await apply_patient(
            session,
            referral_id,
            message.patient.resource,
            as_of=message.patient.as_of,
            content_hash=message.patient.content_hash,
            referral_year=authored_at.year,
            place=place,
        )
        counts["Patient"] = {"applied" if stored_person else "superseded": 1}
    await quality.record(
        session,
        referral_id,
        service_request=request.gaps if created or content_changed else None,
        patient=message.patient.gaps if message.patient and stored_person else None,
        new=created,
    )
    if person is None and (content_changed or message.patient is not None):
        # The ServiceRequest's new subject or the Patient may name the person anew, or show
        # that a local identifier and an NHS number are one person (joined).
        person = await _identify(
            session, message, request.resource if content_changed else None, current
        )
    person_keys = {current.person_key}
    if person is not None:
        if person.key != current.person_key:
            await identity.file_referral(session, referral_id, person.key)
        person_keys |= {person.key, *person.joined}
    subject = request.resource.subject.key if newer_request else current.subject
    assert subject is not None
    context = lifecycle.ReferralContext(referral_id, subject)
    stored_resources = await lifecycle.apply(
        session,
        context,
        [
            lifecycle.Incoming(item.resource, item.as_of, item.content_hash)
            for item in message.lifecycle
            if not isinstance(item.resource, ServiceUseObservation)
        ],
        now,
        # The summary's activity alone will be derived again (below): a contact may do it.
        refresh_activity=previous_summary is not None and not content_changed,
        looked=looked,
        summary=previous_summary,
    )
    pending: list[Write] = list(stored_resources.pending)
    outcomes = stored_resources.outcomes
    counted = CountedReferral(
        referral_id,
        authored_at,
        subject[1] if subject[0] == systems.NHS_NUMBER else None,
        current.person_key,
    )
    for item in message.lifecycle:
        if isinstance(item.resource, ServiceUseObservation):
            kept = await service_use.keep(
                session,
                counted,
                item.resource,
                "message",
                item.as_of,
                now,
                where=f"Bundle.entry[{item.index}].resource",
            )
            outcomes["Observation"].append(kept.outcome)
    for resource_type, results in outcomes.items():
        if results:
            counts[resource_type] = {o: results.count(o) for o in sorted(set(results))}

    sender_status = (
        request.resource.status
        if newer_request
        else (previous_summary or {}).get("sender_status", current.status)
    )
    sender_updated_at = request.as_of if newer_request else current.source_updated_at
    tasks_unchanged = not content_changed and not any(
        o in ("created", "updated") for o in outcomes["Task"]
    )
    summary = await lifecycle.refresh_summary(
        session,
        referral_id,
        sender_status,
        sender_updated_at,
        previous_summary,
        tasks_unchanged=tasks_unchanged,
        stored=stored_resources,
    )
    relinking = (
        created
        or content_changed
        or len(person_keys) > 1  # the person changed, or people were joined
        or ended.ended_at(previous_summary) != summary.ended_at
    )
    if relinking:
        # The people's locks before the new content's writes (its identifiers among them), as
        # every writer of these people and identifiers takes them: first.
        await linkage.lock_people(session, person_keys)
    rendered = await _render(
        session,
        current,
        pending,
        summary.values,
        message.source_system if created else current.source_system,
        request.resource if content_changed and not created else None,
        request.as_of if newer_request and not created else None,
        keep_version=created,
    )
    if relinking:
        # After the new content (role, date) and the summary (when it ended) are written: the
        # links are worked out from the rows as they now are.
        await linkage.relink_people(session, person_keys, settings.linkage_window_days, locked=True)
    # The referrer hears of an acceptance, decline or closure in this same transaction.
    await gp_messages.record_outcomes(
        session,
        previous_summary,
        summary.values,
        (rendered or current.stored).resource,
        requester_ods=current.requester_ods,
        receiver_ods=request.resource.receiver_ods if newer_request else current.receiver_ods,
        base_url=settings.base_url,
        now=now,
    )
    if created or content_changed:
        request_outcome = "created" if created else "updated"
    elif newer_request or request.as_of == current.source_updated_at:
        request_outcome = "unchanged"
    else:
        request_outcome = "superseded"
    counts["ServiceRequest"] = {request_outcome: 1}
    return Applied(referral_id, created, counts, pending)


async def _identify(
    session: AsyncSession,
    message: ReadMessage,
    resource: ServiceRequest | None,
    current: ReferralForUpdate | None = None,
) -> identity.Person:
    """The person of the message's ServiceRequest (`resource`, else the referral held) and
    Patient: an NHS number from either, and every local patient identifier they carry."""
    patient = message.patient.resource if message.patient is not None else None
    if resource is not None:
        nhs_number, local = resource.nhs_number, resource.local_patient_identifier
    else:
        assert current is not None
        subject = current.subject
        nhs_number = current.nhs_number
        local = subject if subject and subject[0] != systems.NHS_NUMBER else None
    locals_ = [local] if local else []
    if patient is not None:
        nhs_number = nhs_number or patient.nhs_number
        locals_ += patient.local_identifiers
    return await identity.identify(session, nhs_number, locals_)


def _same_request(
    resource: ServiceRequest, current: ReferralForUpdate, previous_summary: dict[str, Any] | None
) -> bool:
    """Whether a ServiceRequest says what the stored one says (its status included)."""
    sender_status = (previous_summary or {}).get("sender_status", current.status)
    same = rendering.same_content(resource, current.stored.resource)
    return same and resource.status == sender_status


async def _render(
    session: AsyncSession,
    current: ReferralForUpdate,
    pending: list[Write],
    summary: dict[str, Any],
    source_system: str,
    resource: Any,
    as_of: datetime | None,
    *,
    keep_version: bool,
) -> StoredReferral | None:
    """Save the referral re-rendered (or add its write to `pending`); the version written, None
    if nothing changed."""
    # Links are not part of the stored document: they are rendered when it is served.
    extensions, status = rendering.derived(summary, source_system)
    return await referrals.save_from_message(
        session,
        current,
        resource,
        pending,
        as_of=as_of,
        server_extensions=extensions,
        status=status,
        keep_version=keep_version,
    )


def _check_dates(message: ReadMessage, authored_at: datetime, now: datetime) -> None:
    """Refuse dates before the referral was made, or in the future."""
    referral_day = authored_at.astimezone(UTC).date()
    latest = now + CLOCK_SKEW
    for item in message.lifecycle:
        for element, moment in _dates_of(item):
            where = f"Bundle.entry[{item.index}].resource.{element}"
            if moment.astimezone(UTC).date() < referral_day:
                raise Unprocessable(
                    f"{where}: {moment.date().isoformat()} is before the referral date "
                    f"{referral_day.isoformat()}",
                    expression=where,
                    issue_code="business-rule",
                )
            if moment > latest:
                raise Unprocessable(
                    f"{where}: the date is in the future",
                    expression=where,
                    issue_code="business-rule",
                )


def _dates_of(item: Timed) -> list[tuple[str, datetime]]:
    resource = item.resource
    if isinstance(resource, Contact):
        return [("period.start", resource.contact_at)]
    if isinstance(resource, WellbeingAssessment):
        return [("effectiveDateTime", resource.assessed_at)]
    if isinstance(resource, ServiceUseObservation):
        return []  # a count may be of the months before the referral, and is checked so
    if isinstance(resource, SharedDecision):
        return [("performed[x]", resource.performed_at)]
    assert isinstance(resource, ReferralTask)
    dates = []
    if resource.accepted_at:
        dates.append(("executionPeriod.start", resource.accepted_at))
    if resource.executionPeriod and resource.executionPeriod.end:
        dates.append(("executionPeriod.end", as_moment(resource.executionPeriod.end)))
    for index, output in enumerate(resource.output or []):
        if output.offered_at:
            dates.append((f"output[{index}].extension", output.offered_at))
    return [(element, moment) for element, moment in dates if moment is not None]


async def release_held(
    session: AsyncSession, arrived: ServiceRequest, referral_id: str, settings: Settings
) -> int:
    """Apply the updates held for a referral just created, by a `new` message or through REST,
    oldest first; the number released.

    The caller holds the identifier locks (`ReferralRepository.lock_identifiers`) from before
    it looked for the referral, so no update can be held unseen while the referral commits.
    Each release deletes the held row in the creating transaction: a released message is
    applied once, and its stored response is what a resend of it gets.
    """
    repository = MessageRepository(session)
    released = 0
    for held in await repository.held_for([(i.system, i.value) for i in arrived.identifier]):
        document = orjson.loads(held.body)
        now = datetime.now(UTC)
        try:
            async with session.begin_nested():
                held_message, place = held_copies.restore(read_message(document), held.derived)
                _check_same_parties(held_message, arrived)
                applied = await apply_message(
                    session, held_message, referral_id, settings, now, place=place
                )
                body = ok_response(held_message, applied, settings.base_url, now)
            await repository.release(
                held.bundle_id,
                outcome="applied",
                referral_id=referral_id,
                status=200,
                response=body,
                pending=applied.pending,
            )
        except SignpostError as error:
            # Valid when held, invalid against the referral (a contact before its date).
            await repository.release(
                held.bundle_id,
                outcome="rejected",
                referral_id=referral_id,
                status=error.status_code,
                response=rejected_response(error),
            )
        released += 1
    return released


def _check_same_parties(held: ReadMessage, arrived: Any) -> None:
    """A held update applies only to a referral between the same organisations: the same
    requester, and the same receiver if it names one. Its sender was checked to be one of them
    when it was held, so an organisation cannot reach another's referral by sending early."""
    resource = held.service_request.resource
    same_receiver = resource.receiver_ods in (None, arrived.receiver_ods)
    if resource.requester_ods != arrived.requester_ods or not same_receiver:
        raise Conflict(
            "the held update names other organisations than the referral that arrived (its "
            "requester, or its performer organisation)",
            expression=f"Bundle.entry[{held.service_request.index}].resource.requester",
            issue_code="business-rule",
        )
