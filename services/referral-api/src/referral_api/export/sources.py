"""What `$export` exports: each resource type, the tables that hold it as served, and how their
rows reach their referral and person. A new exportable resource is one entry in `SOURCES`; the
kick-off's `_type`, the CapabilityStatement and the docs follow from it. A type held in two
tables (Observation: wellbeing assessments and service-use counts) has an entry, and a file in
the manifest, per table: Bulk Data allows several files of one type."""

from dataclasses import dataclass
from typing import Any

from referral_api.careplans.models import CarePlan
from referral_api.consent.models import ConsentRecord
from referral_api.lifecycle.models import Assessment, Contact, ReferralTask, SharedDecision
from referral_api.referrals.models import Referral
from referral_api.service_use.models import ServiceUse


@dataclass(frozen=True, slots=True)
class ExportSource:
    """A resource type and one table of it. The table has `id`, `resource` (the JSON served)
    and `last_updated_at`; `referral` is its column naming the referral (the referral's own id
    for ServiceRequest). A table that names its person and recording organisation itself
    (Consent, whose referral is optional) gives those columns too. `name` names the file (the
    resource type, unless the type has several tables)."""

    resource_type: str
    table: Any
    referral: Any
    person: Any | None = None
    organisation: Any | None = None
    file: str | None = None

    @property
    def name(self) -> str:
        return self.file or self.resource_type


SOURCES: tuple[ExportSource, ...] = (
    ExportSource("ServiceRequest", Referral, Referral.id),
    ExportSource("Task", ReferralTask, ReferralTask.referral_id),
    ExportSource("Encounter", Contact, Contact.referral_id),
    ExportSource("Observation", Assessment, Assessment.referral_id),
    ExportSource("Observation", ServiceUse, ServiceUse.referral_id, file="Observation-service-use"),
    ExportSource("Procedure", SharedDecision, SharedDecision.referral_id),
    ExportSource("CarePlan", CarePlan, CarePlan.referral_id),
    ExportSource(
        "Consent",
        ConsentRecord,
        ConsentRecord.referral_id,
        person=ConsentRecord.person_key,
        organisation=ConsentRecord.organization_ods,
    ),
)
BY_NAME = {source.name: source for source in SOURCES}
EXPORTABLE_TYPES = tuple(dict.fromkeys(source.resource_type for source in SOURCES))


def files_of(resource_types: tuple[str, ...] | list[str]) -> list[ExportSource]:
    """The sources of these types, in the order they are written."""
    return [source for source in SOURCES if source.resource_type in resource_types]
