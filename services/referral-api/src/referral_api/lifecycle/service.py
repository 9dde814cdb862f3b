"""The lifecycle rules: accept a sender's resource only if it is newer, derive the summary.

Order independence: every sender resource (Task, Encounter, Observation, and the Patient) is
kept with the sender's timestamp (`meta.lastUpdated`, else the message's `Bundle.timestamp`) and
a hash of its content. A version replaces the held one only if (timestamp, hash) is greater, so
the same set of messages gives the same state whatever order they arrive in, and a replay
changes nothing. The lifecycle summary is then derived from the rows, never accumulated.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.lifecycle import search
from referral_api.lifecycle.models import Assessment, Contact, ReferralTask, SharedDecision
from referral_api.lifecycle.repository import (
    CONTACT_ACTIVITY,
    RESOURCE_TABLES,
    HeldVersion,
    LifecycleRepository,
    Looked,
    StoredResource,
    contact_activity_write,
    first_version_write,
)
from referral_api.referrals.access import Reach
from referral_api.referrals.repository import ReferralForUpdate, ReferralRepository
from referral_api.rendering import ended
from referral_api.service_use.models import ServiceUse
from referral_api.terminology import service as terminology
from signpost_platform.db import Write
from signpost_platform.fhir.responses import instant
from signpost_platform.fhir.search import SearchQuery
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.encounter import Contact as ContactResource
from signpost_schemas.fhir.observation import WellbeingAssessment
from signpost_schemas.fhir.procedure import SharedDecision as ProcedureResource
from signpost_schemas.fhir.task import ReferralTask as TaskResource
from signpost_schemas.fhir.task import TaskOutput

# Served ids are derived from (referral, resource type, sender id): stable across replays.
_ID_NAMESPACE = uuid.UUID("6f1c9a56-52f3-4c1e-9d0e-3b7f1a2c8e44")

Outcome = Literal["created", "updated", "unchanged", "superseded"]


@dataclass(frozen=True, slots=True)
class Incoming:
    """A sender resource with the timestamp and content hash the ordering rule compares."""

    resource: TaskResource | ContactResource | WellbeingAssessment | ProcedureResource
    as_of: datetime
    content_hash: str


@dataclass(frozen=True, slots=True)
class ReferralContext:
    referral_id: str
    # (system, value) of the person the referral names: an NHS number or a local identifier.
    subject: tuple[str, str]


def served_id(referral_id: str, resource_type: str, source_id: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"{referral_id}/{resource_type}/{source_id}"))


def is_newer(as_of: datetime, content_hash: str, held: HeldVersion | None) -> Outcome:
    """Whether an incoming version replaces the held one: later timestamp, or at the same
    instant the larger content hash (an arbitrary but fixed tie-break)."""
    if held is None:
        return "created"
    incoming, current = (as_of, content_hash), (held.as_of, held.content_hash)
    if incoming == current:
        return "unchanged"
    return "updated" if incoming > current else "superseded"


@dataclass(frozen=True, slots=True)
class Stored:
    """What `apply` did: each resource type's outcomes, and the summary's activity columns when
    they were derived again with the write (`refreshed`: their new values, None if unchanged)."""

    outcomes: dict[str, list[Outcome]]
    refreshed: bool = False
    activity: dict[str, Any] | None = None
    # Writes left to the caller, to run with its last ones (`execute_writes`).
    pending: tuple[Write, ...] = ()


async def apply(
    session: AsyncSession,
    context: ReferralContext,
    incoming: list[Incoming],
    now: datetime,
    *,
    refresh_activity: bool = False,
    looked: Looked | None = None,
    summary: dict[str, Any] | None = None,
) -> Stored:
    """Store each incoming resource that is newer than the version held; say what happened.

    `refresh_activity`: the caller will derive the summary's activity columns again after this
    (`refresh_summary` with `tasks_unchanged`), so a single new contact may do it with its own
    insert (the usual update message: one round trip for both).

    `looked`: the version held of the one incoming resource, looked up already in this
    transaction with its referral locked. A first version of a contact, with `refresh_activity`
    and the referral's `summary`, is then left to the caller's last writes (`Stored.pending`)
    with the summary's new activity (no round trip); any other first version is written here."""
    repository = LifecycleRepository(session)
    outcomes: dict[str, list[Outcome]] = {kind: [] for kind in _TABLES}
    if not incoming:
        # Nothing stored, so the activity is as it was: derived again, it would be unchanged.
        return Stored(outcomes, refresh_activity)
    if len(incoming) == 1:
        [item] = incoming
        table, row = _version(context, item, None, now)
        refresh = refresh_activity and table is Contact
        kind = item.resource.resourceType
        if looked is not None and looked.held is None and refresh and summary is not None:
            contact = item.resource
            assert isinstance(contact, ContactResource)
            if not contact.workers:  # its workers' rows would name it before it is written
                outcomes[kind].append("created")
                activity = _with_contact(summary, row)
                pending = [first_version_write(table, row)]
                if activity is not None:
                    pending.append(contact_activity_write(context.referral_id, activity))
                return Stored(outcomes, True, activity, tuple(pending))
        if looked is not None and looked.held is not None:
            version = looked.held
        else:
            first = await repository.insert_unless_held(table, row, refresh_activity=refresh)
            if first.held is None:
                outcomes[kind].append("created")
                await _save_parts(repository, context, item, row["id"], replacing=False)
                return Stored(outcomes, refresh, first.activity)
            version = first.held
        outcome = is_newer(item.as_of, item.content_hash, version)
        outcomes[kind].append(outcome)
        if outcome == "updated":
            await _save(repository, context, item, version, now)
        return Stored(outcomes)
    by_type: dict[str, list[Incoming]] = {kind: [] for kind in _TABLES}
    for item in incoming:
        by_type[item.resource.resourceType].append(item)
    for resource_type, items in by_type.items():
        if not items:
            continue
        table = _TABLES[resource_type]
        held = await repository.held_versions(
            table, context.referral_id, [i.resource.id for i in items]
        )
        for item in _newest_per_id(items):
            previous = held.get(item.resource.id)
            outcome = is_newer(item.as_of, item.content_hash, previous)
            outcomes[resource_type].append(outcome)
            if outcome in ("created", "updated"):
                await _save(repository, context, item, previous, now)
    return Stored(outcomes)


def _with_contact(summary: dict[str, Any], contact: dict[str, Any]) -> dict[str, Any] | None:
    """The summary's contact activity (`CONTACT_ACTIVITY`) once the first version of a contact,
    `contact` (its row), is added to the referral's contacts; None when it does not change.

    The rule is the one `LifecycleRepository.activity` derives from the rows, applied to the
    one row added: a contact entered in error is not counted, a missed one is counted as did
    not attend, and the first contact is the earliest attended one."""
    if contact["status"] in (None, "entered-in-error"):  # as SQL's `!=` leaves out NULL
        return None
    activity = {name: summary[name] for name in CONTACT_ACTIVITY}
    activity["contact_count"] += 1
    outcome, at = contact["attendance_outcome"], contact["contact_at"]
    if outcome == "dna":
        activity["dna_count"] += 1
    first = activity["first_contact_at"]
    if outcome == "attended" and at is not None and (first is None or at < first):
        activity["first_contact_at"] = at.astimezone(UTC)  # as the summary's column reads back
    return activity


def _newest_per_id(items: list[Incoming]) -> list[Incoming]:
    """If one message carries two versions of a resource, only the newest counts."""
    newest: dict[str, Incoming] = {}
    for item in items:
        seen = newest.get(item.resource.id)
        if seen is None or (item.as_of, item.content_hash) > (seen.as_of, seen.content_hash):
            newest[item.resource.id] = item
    return list(newest.values())


async def _save(
    repository: LifecycleRepository,
    context: ReferralContext,
    item: Incoming,
    previous: HeldVersion | None,
    now: datetime,
) -> None:
    """Store a new version of a resource: its row (inserted, or replacing `previous`) and the
    rows it carries."""
    table, row = _version(context, item, previous, now)
    await repository.save(table, row, previous)
    await _save_parts(repository, context, item, row["id"], replacing=previous is not None)


def _version(
    context: ReferralContext, item: Incoming, previous: HeldVersion | None, now: datetime
) -> tuple[Any, dict[str, Any]]:
    """The table and row of a resource's new version, replacing `previous` if one is held."""
    resource = item.resource
    resource_id = (
        previous.id
        if previous
        else served_id(context.referral_id, resource.resourceType, resource.id)
    )
    version = previous.version + 1 if previous else 1
    common = {
        "id": resource_id,
        "referral_id": context.referral_id,
        "source_id": resource.id,
        "status": resource.status,
        "as_of": item.as_of,
        "content_hash": item.content_hash,
        "version": version,
        "last_updated_at": now,
        "resource": _served_json(resource, resource_id, version, now, context),
    }
    if isinstance(resource, TaskResource):
        reason = resource.reason
        owner = resource.owner_worker
        return ReferralTask, {
            **common,
            "lifecycle_state": resource.lifecycle_state,
            "reason_system": reason.system if reason else None,
            "reason_code": reason.code if reason else None,
            "closure_outcome": resource.closure_outcome,
            "accepted_at": resource.accepted_at,
            "ended_at": resource.ended_at,
            "owner_system": owner.system if owner else None,
            "owner_value": owner.value if owner else None,
        }
    if isinstance(resource, ContactResource):
        mechanism, attendance = resource.mechanism, resource.attendance
        return Contact, {
            **common,
            "contact_at": resource.contact_at,
            "mechanism_system": mechanism.system,
            "mechanism_code": mechanism.code,
            "mechanism_group": mechanism.group,
            "attendance_code": attendance.code,
            "attendance_outcome": attendance.group,
        }
    if isinstance(resource, ProcedureResource):
        conversation, worker = resource.conversation, resource.worker
        assert conversation is not None
        return SharedDecision, {
            **common,
            "code_system": conversation.system,
            "code": conversation.code,
            "code_group": conversation.group,
            "performed_at": resource.performed_at,
            "worker_system": worker.system if worker else None,
            "worker_value": worker.value if worker else None,
            "worker_role": worker.role if worker else None,
        }
    return Assessment, {
        **common,
        "instrument": resource.instrument.code,
        "timepoint": resource.timepoint,
        "assessed_at": resource.assessed_at,
        "total_score": resource.total,
    }


async def _save_parts(
    repository: LifecycleRepository,
    context: ReferralContext,
    item: Incoming,
    resource_id: str,
    *,
    replacing: bool,
) -> None:
    """The rows a version carries, replacing those of the version held if `replacing` (a first
    version has none): a Task's support offered, a contact's workers, an assessment's scores."""
    resource = item.resource
    if isinstance(resource, TaskResource):
        outputs = resource.output or []
        supports = await terminology.place(
            repository.session, [(terminology.SUPPORT, output.support) for output in outputs]
        )
        await repository.replace_support(
            resource_id,
            [
                {
                    "task_id": resource_id,
                    "position": position,
                    "referral_id": context.referral_id,
                    "support_code": support.code,
                    "support_group": support.group,
                    "kind": output.kind,
                    "directory_service_id": output.directory_service_id,
                    "directory_service_name": output.directory_service_name,
                    "offered_at": output.offered_at,
                    **_budget_columns(output),
                }
                for position, (output, support) in enumerate(
                    zip(outputs, supports, strict=True), start=1
                )
            ],
            replacing=replacing,
        )
    elif isinstance(resource, ContactResource):
        await repository.replace_workers(
            resource_id,
            [
                {
                    "contact_id": resource_id,
                    "position": position,
                    "referral_id": context.referral_id,
                    "worker_system": worker.system,
                    "worker_value": worker.value,
                    "role": worker.role,
                }
                for position, worker in enumerate(resource.workers, start=1)
            ],
            replacing=replacing,
        )
    elif isinstance(resource, WellbeingAssessment):
        await repository.replace_scores(
            resource_id,
            [
                {
                    "assessment_id": resource_id,
                    "item_code": item_score.code,
                    "value": item_score.value,
                    "value_text": item_score.text,
                }
                for item_score in resource.items
            ],
            replacing=replacing,
        )


def _budget_columns(output: TaskOutput) -> dict[str, str | None]:
    budget = output.personal_health_budget
    return {
        "budget_stage": budget.stage if budget else None,
        "budget_type": budget.type if budget else None,
        "budget_amount_band": budget.amount_band if budget else None,
    }


_TABLES: dict[str, Any] = {
    "Task": ReferralTask,
    "Encounter": Contact,
    "Observation": Assessment,
    "Procedure": SharedDecision,
}
_PROFILES = {
    "Task": profiles.TASK_PROFILE,
    "Encounter": profiles.ENCOUNTER_PROFILE,
    "Observation": profiles.OBSERVATION_PROFILE,
    "Procedure": profiles.PROCEDURE_PROFILE,
}


def _served_json(
    resource: TaskResource | ContactResource | WellbeingAssessment | ProcedureResource,
    resource_id: str,
    version: int,
    at: datetime,
    context: ReferralContext,
) -> str:
    """The resource as Signpost serves it: our id and references, the sender's id kept."""
    body: dict[str, Any] = resource.to_fhir()
    body.pop("id", None)
    body.pop("meta", None)
    referral = {"reference": f"ServiceRequest/{context.referral_id}", "type": "ServiceRequest"}
    person = {
        "type": "Patient",
        "identifier": {"system": context.subject[0], "value": context.subject[1]},
    }
    if isinstance(resource, TaskResource):
        body["focus"] = referral
        body["basedOn"] = [referral]
        body["for"] = person
        body.setdefault("code", {"coding": [{"system": profiles.TASK_CODE, "code": "fulfill"}]})
    else:
        body["basedOn"] = [referral]
        body["subject"] = person
    if isinstance(resource, ContactResource):
        body["class"] = resource.served_class.to_fhir()
    sender_id = {"system": profiles.SENDER_RESOURCE_ID, "value": resource.id}
    body["identifier"] = [*(body.get("identifier") or []), sender_id]
    document: dict[str, Any] = {
        "resourceType": resource.resourceType,
        "id": resource_id,
        "meta": {
            "versionId": str(version),
            "lastUpdated": instant(at),
            "profile": [_PROFILES[resource.resourceType]],
        },
    }
    document.update((k, v) for k, v in body.items() if k != "resourceType")
    return orjson.dumps(document).decode()


@dataclass(frozen=True, slots=True)
class Summary:
    """The derived lifecycle of a referral (a row of referral_lifecycle)."""

    values: dict[str, Any]

    @property
    def status(self) -> str:
        return str(self.values["status"])

    @property
    def ended_at(self) -> datetime | None:
        return ended.ended_at(self.values)


CANCELLED_BY_SENDER = {"revoked", "entered-in-error"}


async def derive_summary(
    session: AsyncSession,
    referral_id: str,
    sender_status: str,
    sender_updated_at: datetime | None,
) -> Summary:
    """The lifecycle from the newest Task, the referrer's status and the activity rows."""
    repository = LifecycleRepository(session)
    activity = await repository.activity(referral_id)
    tasks = await repository.task_states(referral_id)
    current = max(tasks, key=lambda t: (t.as_of, t.content_hash)) if tasks else None
    state = current.lifecycle_state if current else "received"
    accepted = [t.accepted_at for t in tasks if t.accepted_at]
    values: dict[str, Any] = {
        "referral_id": referral_id,
        "status": state,
        "sender_status": sender_status,
        "accepted_at": min(accepted) if accepted else None,
        "declined_at": None,
        "decline_reason_system": None,
        "decline_reason_code": None,
        "cancelled_at": None,
        "closed_at": None,
        "closure_reason_code": None,
        "closure_outcome": None,
        "first_contact_at": activity.first_contact_at,
        "contact_count": activity.contact_count,
        "dna_count": activity.dna_count,
        "support_offered_count": activity.support_offered_count,
        "onward_referral_count": activity.onward_referral_count,
        "assessment_count": activity.assessment_count,
    }
    if current and state == "declined":
        values.update(
            declined_at=current.ended_at,
            decline_reason_system=current.reason_system,
            decline_reason_code=current.reason_code,
        )
    elif current and state == "closed":
        values.update(
            closed_at=current.ended_at,
            closure_reason_code=current.reason_code,
            closure_outcome=current.closure_outcome,
        )
    elif current and state == "cancelled":
        values.update(cancelled_at=current.ended_at)
    if state in ("received", "accepted") and sender_status in CANCELLED_BY_SENDER:
        values.update(status="cancelled", cancelled_at=sender_updated_at)
    return Summary(values)


async def refresh_summary(
    session: AsyncSession,
    referral_id: str,
    sender_status: str,
    sender_updated_at: datetime | None,
    previous: dict[str, Any] | None,
    *,
    tasks_unchanged: bool,
    stored: Stored | None = None,
) -> Summary:
    """Derive a referral's summary again and save it if it changed.

    `tasks_unchanged`: the summary `previous` is saved and neither its Tasks nor the referrer's
    status changed since, so only its activity counts are derived again, and saved, in one
    statement, unless `stored` (what `apply` did) says they were with its write."""
    if previous is not None and tasks_unchanged:
        if stored is not None and stored.refreshed:
            activity = stored.activity
        else:
            activity = await LifecycleRepository(session).refresh_activity(referral_id)
        return Summary(previous if activity is None else {**previous, **activity})
    summary = await derive_summary(session, referral_id, sender_status, sender_updated_at)
    await save_summary(session, summary, previous)
    return summary


async def save_summary(
    session: AsyncSession, summary: Summary, previous: dict[str, Any] | None
) -> bool:
    """Store the summary; False when nothing changed."""
    if previous == summary.values:
        return False
    await LifecycleRepository(session).save_summary(summary.values, exists=previous is not None)
    return True


async def referral_and_summary(
    session: AsyncSession, referral_id: str
) -> tuple[ReferralForUpdate, dict[str, Any] | None] | None:
    """The referral locked for update and its current lifecycle summary (None before the first
    message): one round trip once the referral has a summary."""
    repository = LifecycleRepository(session)
    found = await repository.referral_and_summary_for_update(referral_id)
    if found is not None:
        return found
    referral = await ReferralRepository(session).for_update(referral_id)
    if referral is None:
        return None
    return referral, await repository.summary(referral_id)


async def owner_and_summary(
    session: AsyncSession, identifier: tuple[str, str]
) -> tuple[ReferralForUpdate, dict[str, Any]] | None:
    """The referral owning `identifier` and its summary, both locked; None if there is no such
    referral or it has no summary yet (the caller then looks it up the long way)."""
    return await LifecycleRepository(session).owner_and_summary_for_update(*identifier)


async def read_resource(
    session: AsyncSession, resource_type: str, resource_id: str, reach: Reach
) -> StoredResource | None:
    """A Task, Encounter or Observation (id, version, last updated, stored JSON), if its referral
    is within `reach`. An Observation is a wellbeing assessment or a service-use count."""
    repository = LifecycleRepository(session)
    found = await repository.get_resource(RESOURCE_TABLES[resource_type], resource_id, reach)
    if found is None and resource_type == "Observation":
        found = await repository.get_resource(ServiceUse, resource_id, reach)
    return found


async def search_resources(
    session: AsyncSession,
    resource_type: str,
    referral_ids: list[list[str]],
    query: SearchQuery,
    reach: Reach,
) -> tuple[int | None, list[tuple[str, str]]]:
    """A page of the Tasks, Encounters or Observations of `referral_ids` (and of the workers
    `query` names) that `query` asks for, and their total unless `_total=none`."""
    return await LifecycleRepository(session).search(
        RESOURCE_TABLES[resource_type],
        referral_ids,
        search.workers(resource_type, query),
        query.ids(),
        query.last_updated(),
        search.ORDER[resource_type],
        query.rows_read,
        query.offset,
        query.total,
        reach,
    )
