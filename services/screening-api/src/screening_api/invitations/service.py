"""The rules for recording an invitation: a known, active questionnaire and a valid pathway."""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from screening_api.access import Reach
from screening_api.invitations.repository import InvitationRepository
from screening_api.questionnaires.catalogue import QuestionnaireCatalogue
from signpost_platform.errors import Issue, SignpostError
from signpost_platform.fhir.responses import instant
from signpost_schemas.fhir.screening_invitation import SDC_TEMP, InvitationTask
from signpost_schemas.fhir.screening_response import PATHWAY_PATTERN, SCREENING_CONTEXT_EXTENSION


@dataclass(frozen=True, slots=True)
class StoredInvitation:
    id: str
    recorded_at: datetime
    resource: str


async def record(
    session: AsyncSession, catalogue: QuestionnaireCatalogue, task: InvitationTask, reach: Reach
) -> StoredInvitation:
    """Store an invitation, or raise 422 naming every problem (403 for another clinic's)."""
    reach.check_clinic(task.requester.identifier.value, "Task.requester")
    issues = []
    if not any(
        c.system == SDC_TEMP and c.code == "complete-questionnaire" for c in task.code.coding or []
    ):
        issues.append(
            Issue(
                "code-invalid",
                f"Task.code: must be complete-questionnaire ({SDC_TEMP})",
                ["Task.code"],
            )
        )
    canonical = next(
        (
            i.valueCanonical
            for i in task.input
            if any(c.code == "questionnaire" for c in i.type.coding or [])
        ),
        None,
    )
    resolution = catalogue.resolve(canonical)
    if resolution.tool is None:
        issues.append(Issue("not-found", f"Task.input: {resolution.problem}", ["Task.input"]))
    pathway = _pathway(task)
    if pathway is not None and not re.match(PATHWAY_PATTERN, pathway):
        issues.append(
            Issue(
                "value",
                "Task.extension: the pathway is lower-case letters, digits and hyphens",
                ["Task.extension"],
            )
        )
    if issues:
        raise SignpostError(422, issues)
    assert resolution.tool is not None
    invitation_id = str(uuid.uuid4())
    recorded_at = datetime.now(UTC)
    body: dict[str, Any] = task.to_fhir()
    for key in ("resourceType", "id", "meta"):
        body.pop(key, None)
    document = {
        "resourceType": "Task",
        "id": invitation_id,
        "meta": {"versionId": "1", "lastUpdated": instant(recorded_at)},
        **body,
    }
    resource = orjson.dumps(document).decode()
    await InvitationRepository(session).insert(
        invitation_id=invitation_id,
        nhs_number=task.for_.identifier.value,
        clinic_ods=task.requester.identifier.value,
        pathway=pathway,
        questionnaire_url=resolution.tool.url,
        questionnaire_version=resolution.tool.version,
        invited_at=task.authoredOn,
        resource=resource,
    )
    return StoredInvitation(invitation_id, recorded_at, resource)


def _pathway(task: InvitationTask) -> str | None:
    for extension in task.extension or []:
        if extension.url == SCREENING_CONTEXT_EXTENSION:
            for part in extension.extension or []:
                if part.url == "pathway":
                    return part.valueCode or ""
    return None
