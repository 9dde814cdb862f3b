"""What `$export` exports: each resource type, the table that holds it as served, and how its
rows reach their referral and person. A new exportable resource (CarePlan, ...) is one entry
in `SOURCES`; the kick-off's `_type`, the CapabilityStatement and the docs follow from it."""

from dataclasses import dataclass
from typing import Any

from referral_api.consent.models import ConsentRecord
from referral_api.lifecycle.models import Assessment, Contact, ReferralTask
from referral_api.referrals.models import Referral


@dataclass(frozen=True, slots=True)
class ExportSource:
    """A resource type and its table. The table has `id`, `resource` (the JSON served) and
    `last_updated_at`; `referral` is its column naming the referral (the referral's own id for
    ServiceRequest). A table that names its person and recording organisation itself (Consent,
    whose referral is optional) gives those columns too."""

    resource_type: str
    table: Any
    referral: Any
    person: Any | None = None
    organisation: Any | None = None


SOURCES: tuple[ExportSource, ...] = (
    ExportSource("ServiceRequest", Referral, Referral.id),
    ExportSource("Task", ReferralTask, ReferralTask.referral_id),
    ExportSource("Encounter", Contact, Contact.referral_id),
    ExportSource("Observation", Assessment, Assessment.referral_id),
    ExportSource(
        "Consent",
        ConsentRecord,
        ConsentRecord.referral_id,
        person=ConsentRecord.person_key,
        organisation=ConsentRecord.organization_ods,
    ),
)
BY_TYPE = {source.resource_type: source for source in SOURCES}
EXPORTABLE_TYPES = tuple(BY_TYPE)
