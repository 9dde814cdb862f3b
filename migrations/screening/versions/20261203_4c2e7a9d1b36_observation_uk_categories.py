"""Extracted Observations carry UK Core categories and LOINC's answer displays.

Observations extracted before this revision carry US Core's `sdoh` category on the risk
questions; they now carry observation-category `social-history` (UK Core's category for social
circumstances) in its place, and their answer (`valueCodeableConcept`) carries the LOINC display
of its code, as new extractions do. Each rewritten Observation gets the next `meta.versionId`
and a new `meta.lastUpdated`.

Downgrade leaves the Observations as they are: the earlier release serves stored Observations as
stored and searches them by their columns, which this revision does not change.

Revision ID: 4c2e7a9d1b36
Revises: a7d3e5b1c904
Create Date: 2026-12-03 15:00:00
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "4c2e7a9d1b36"
down_revision: str | None = "a7d3e5b1c904"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: the codes as this revision rewrites them.
_US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
_SOCIAL_HISTORY = {
    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
    "code": "social-history",
    "display": "Social History",
}
_LOINC = "http://loinc.org"
_LOINC_DISPLAYS = {
    "LA33-6": "Yes",
    "LA32-8": "No",
    "LA30122-8": "I choose not to answer this question",
}
_BATCH = 1000


def upgrade() -> None:
    connection = op.get_bind()
    select = sa.text(
        "SELECT id, resource FROM observation WHERE id > :after AND resource LIKE :pattern "
        "ORDER BY id LIMIT :batch"
    )
    update = sa.text("UPDATE observation SET resource = :resource WHERE id = :id")
    updated_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    after = ""
    while True:
        rows = connection.execute(
            select, {"after": after, "pattern": f"%{_US_CORE_CATEGORY}%", "batch": _BATCH}
        ).all()
        if not rows:
            return
        changes = []
        for observation_id, text in rows:
            resource = _rewritten(json.loads(text), updated_at)
            if resource is not None:
                changes.append({"id": observation_id, "resource": _dumps(resource)})
        if changes:
            connection.execute(update, changes)
        after = rows[-1][0]


def downgrade() -> None:
    pass


def _rewritten(resource: dict[str, Any], updated_at: str) -> dict[str, Any] | None:
    """The Observation with UK categories and LOINC displays; None if it has no US category."""
    categories = resource.get("category")
    if not isinstance(categories, list):
        return None
    replaced = False
    for category in categories:
        codings = category.get("coding") if isinstance(category, dict) else None
        for index, coding in enumerate(codings if isinstance(codings, list) else []):
            if isinstance(coding, dict) and coding.get("system") == _US_CORE_CATEGORY:
                codings[index] = dict(_SOCIAL_HISTORY)
                replaced = True
    if not replaced:
        return None
    value = resource.get("valueCodeableConcept")
    codings = value.get("coding") if isinstance(value, dict) else None
    for coding in codings if isinstance(codings, list) else []:
        if isinstance(coding, dict) and coding.get("system") == _LOINC:
            display = _LOINC_DISPLAYS.get(str(coding.get("code")))
            if display is not None:
                coding["display"] = display
    meta = resource.get("meta")
    if isinstance(meta, dict):
        version = meta.get("versionId")
        meta["versionId"] = str(int(version) + 1) if str(version).isdigit() else "2"
        meta["lastUpdated"] = updated_at
    return resource


def _dumps(resource: dict[str, Any]) -> str:
    # As the service writes it (orjson): compact, UTF-8.
    return json.dumps(resource, separators=(",", ":"), ensure_ascii=False)
