"""The Signpost referral Task: the closed-loop status of a referral and what it led to.

One Task per referral (`code` = `fulfill`, `focus` = the ServiceRequest) carries the lifecycle:

- draft, requested, received, ready: received;
- accepted, in-progress, on-hold: accepted (executionPeriod.start, the acceptance date, required);
- rejected: declined (statusReason from the rejection or closure reasons required);
- cancelled without a closure reason: cancelled;
- completed, failed, or cancelled with a closure reason: closed (statusReason from the closure
  reasons and executionPeriod.end, the closure date, required);
- entered-in-error: withdrawn, the Task no longer counts.

`output` lists the support offered: `type` is coded from the support-offered list (or with any
well-formed SNOMED CT concept id, kept in the group `unmapped` with a data gap), the
`Extension-Signpost-SupportOfferedKind` says `referral` or `signpost`, and `valueReference`
names the directory service by id (`identifier.system` = the directory-service id system,
`value` its UUID) or `valueCodeableConcept` repeats the support code when no service is named.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from signpost_schemas import codes, snomed, systems
from signpost_schemas.codes import Concept
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.binding import (
    CodedValue,
    check_snomed_codings,
    custom_error,
    describe_codings,
    first_match,
    gap_of,
    read_coded,
)
from signpost_schemas.fhir.datatypes import (
    CodeableConcept,
    Extension,
    FhirId,
    Identifier,
    Meta,
    Reference,
)
from signpost_schemas.fhir.gaps import Gap, GapKind, note_gap
from signpost_schemas.fhir.worker import Worker, note_unnamed_worker, worker_named

TaskStatus = Literal[
    "draft",
    "requested",
    "received",
    "accepted",
    "rejected",
    "ready",
    "cancelled",
    "in-progress",
    "on-hold",
    "failed",
    "completed",
    "entered-in-error",
]
TaskIntent = Literal[
    "unknown",
    "proposal",
    "plan",
    "order",
    "original-order",
    "reflex-order",
    "filler-order",
    "instance-order",
    "option",
]
LifecycleState = Literal["received", "accepted", "declined", "cancelled", "closed"]
SupportKind = Literal["referral", "signpost"]

_RECEIVED = {"draft", "requested", "received", "ready"}
_ACCEPTED = {"accepted", "in-progress", "on-hold"}
_CLOSING = {"completed", "failed"}
# What a closed or declined referral whose reason Signpost cannot read is stored with.
CLOSURE_NOT_RECORDED = "not-recorded"


def _support_type(concept: CodeableConcept, info: ValidationInfo) -> CodeableConcept:
    """A support code from the support-offered list, or any well-formed SNOMED CT concept id
    (kept, grouped `unmapped` with a data gap unless a loaded release places it)."""
    for coding in concept.coding or []:
        if coding.system != systems.SNOMED or coding.code is None:
            continue
        if (problem := snomed.concept_id_problem(coding.code)) is not None:
            raise PydanticCustomError(
                "code_invalid",
                "{code} is not a SNOMED CT concept id: {problem}",
                {"code": coding.code, "problem": problem},
            )
    value = read_coded(concept, codes.support_offered())
    if value is None:
        raise PydanticCustomError(
            "code_invalid",
            "Task.output.type must carry a coding from the support-offered value set or a "
            "SNOMED CT concept id (got {got})",
            {"got": describe_codings(concept)},
        )
    if (gap := gap_of(value, "Task.output.type", "the support offered")) is not None:
        note_gap(info, gap)
    return concept


SupportConcept = Annotated[CodeableConcept, AfterValidator(_support_type)]


def as_moment(value: datetime | date) -> datetime:
    """A FHIR date or dateTime as an aware datetime (a date is taken as midnight UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


class IdentifiedRecord(FhirResource):
    """The elements a referral's Task and its shared decision making Procedure open with: a
    required id, then meta, extensions and business identifiers."""

    resourceType: str
    id: FhirId
    meta: Meta | None = None
    extension: list[Extension] | None = None
    identifier: list[Identifier] | None = None


class DatePeriod(FhirModel):
    """A period of FHIR dates or dateTimes with a time zone (a date stays a date)."""

    start: AwareDatetime | date | None = None
    end: AwareDatetime | date | None = None


class OutputExtension(Extension):
    valueDateTime: AwareDatetime | date | None = None


PERSONAL_HEALTH_BUDGET = "personal-health-budget"
# The parts of Extension-Signpost-PersonalHealthBudget and the code system each is coded from.
_PHB_PARTS = {
    "stage": profiles.PHB_STAGE,
    "type": profiles.PHB_TYPE,
    "amountBand": profiles.PHB_AMOUNT_BAND,
}


@dataclass(frozen=True, slots=True)
class PersonalHealthBudget:
    """A personal health budget offered as support: its stage (offered, agreed, in-place),
    type (notional, third-party, direct-payment) and annual amount band, each None when not
    recorded."""

    stage: str | None
    type: str | None
    amount_band: str | None


class TaskOutput(FhirModel):
    """One support offer or onward referral."""

    read_extensions: ClassVar[frozenset[str]] = frozenset(
        {
            profiles.SUPPORT_KIND_EXTENSION,
            profiles.SUPPORT_DATE_EXTENSION,
            profiles.PERSONAL_HEALTH_BUDGET_EXTENSION,
        }
    )
    extension: list[OutputExtension] | None = None
    type: SupportConcept
    valueReference: Reference | None = None
    valueCodeableConcept: CodeableConcept | None = None

    # Field validators, so an error names the output it is in (Task.output[1].extension).

    @field_validator("extension")
    @classmethod
    def _kind(cls, value: list[OutputExtension] | None) -> list[OutputExtension] | None:
        kinds = [e for e in value or [] if e.url == profiles.SUPPORT_KIND_EXTENSION]
        if len(kinds) != 1 or kinds[0].valueCode not in ("referral", "signpost"):
            raise PydanticCustomError(
                "required",
                "each output needs one {url} extension with valueCode referral or signpost",
                {"url": profiles.SUPPORT_KIND_EXTENSION},
            )
        return value

    @field_validator("valueReference")
    @classmethod
    def _directory_service(cls, reference: Reference | None) -> Reference | None:
        if reference is None:
            return None
        identifier = reference.identifier
        if identifier is None or identifier.system != profiles.DIRECTORY_SERVICE_ID:
            raise PydanticCustomError(
                "required",
                "valueReference must name the directory service by identifier (system {system})",
                {"system": profiles.DIRECTORY_SERVICE_ID},
            )
        try:
            uuid.UUID(identifier.value or "")
        except ValueError:
            raise PydanticCustomError(
                "value_error",
                "the directory service id must be a UUID (got {got})",
                {"got": identifier.value},
            ) from None
        return reference

    @field_validator("extension")
    @classmethod
    def _budget_parts(cls, value: list[OutputExtension] | None) -> list[OutputExtension] | None:
        budgets = [e for e in value or [] if e.url == profiles.PERSONAL_HEALTH_BUDGET_EXTENSION]
        if len(budgets) > 1:
            raise PydanticCustomError(
                "duplicate", "an output has at most one personal health budget extension"
            )
        budget_list = codes.personal_health_budget()
        for budget in budgets:
            seen: set[str] = set()
            for part in budget.extension or []:
                system = _PHB_PARTS.get(part.url)
                if system is None or part.url in seen:
                    raise PydanticCustomError(
                        "code_invalid",
                        "the personal health budget extension has the parts stage, type and "
                        "amountBand, each once (got {got})",
                        {"got": part.url},
                    )
                seen.add(part.url)
                coding = part.valueCoding
                if (
                    coding is None
                    or coding.system != system
                    or budget_list.get(system, coding.code or "") is None
                ):
                    raise PydanticCustomError(
                        "code_invalid",
                        "the personal health budget's {part} must be a valueCoding from {system} "
                        "({codes}) (got {got})",
                        {
                            "part": part.url,
                            "system": system,
                            "codes": ", ".join(c.code for c in budget_list.in_system(system)),
                            "got": f"{coding.system}|{coding.code}" if coding else "no coding",
                        },
                    )
            if "stage" not in seen:
                raise PydanticCustomError(
                    "required",
                    "a personal health budget needs its stage: offered, agreed or in-place",
                )
        return value

    @model_validator(mode="after")
    def _budget_on_budgets_only(self, info: ValidationInfo) -> "TaskOutput":
        budget = self.personal_health_budget
        is_budget = self.support.code == PERSONAL_HEALTH_BUDGET
        if budget is not None and not is_budget:
            raise PydanticCustomError(
                "business_rule",
                "the personal health budget extension belongs on an output whose type is "
                "{system}|{code}",
                {"system": systems.SUPPORT_OFFERED, "code": PERSONAL_HEALTH_BUDGET},
            )
        if is_budget and (budget is None or budget.type is None or budget.amount_band is None):
            note_gap(
                info,
                Gap(
                    GapKind.NOT_RECORDED,
                    "Task.output.extension",
                    "a personal health budget without its "
                    + ("stage, type and amount band" if budget is None else "type or amount band")
                    + f" ({profiles.PERSONAL_HEALTH_BUDGET_EXTENSION}): kept, counted as not "
                    "recorded",
                ),
            )
        return self

    @model_validator(mode="after")
    def _one_value(self) -> "TaskOutput":
        if (self.valueReference is None) == (self.valueCodeableConcept is None):
            raise PydanticCustomError(
                "required",
                "an output needs exactly one of valueReference (the directory "
                "service) or valueCodeableConcept",
            )
        return self

    @property
    def support(self) -> CodedValue:
        """The support code as kept, with its group (`unmapped` for an unlisted SNOMED CT
        code)."""
        value = read_coded(self.type, codes.support_offered())
        assert value is not None
        return value

    @property
    def personal_health_budget(self) -> PersonalHealthBudget | None:
        """The personal health budget this output records, if it carries the extension."""
        for extension in self.extension or []:
            if extension.url != profiles.PERSONAL_HEALTH_BUDGET_EXTENSION:
                continue
            parts = {
                part.url: part.valueCoding.code
                for part in extension.extension or []
                if part.valueCoding is not None
            }
            return PersonalHealthBudget(
                parts.get("stage"), parts.get("type"), parts.get("amountBand")
            )
        return None

    @property
    def kind(self) -> SupportKind:
        for extension in self.extension or []:
            if extension.url == profiles.SUPPORT_KIND_EXTENSION:
                return extension.valueCode  # type: ignore[return-value]
        raise AssertionError("validated output without a kind")

    @property
    def offered_at(self) -> datetime | None:
        for extension in self.extension or []:
            if extension.url == profiles.SUPPORT_DATE_EXTENSION and extension.valueDateTime:
                return as_moment(extension.valueDateTime)
        return None

    @property
    def directory_service_id(self) -> str | None:
        if self.valueReference and self.valueReference.identifier:
            return str(uuid.UUID(self.valueReference.identifier.value or ""))
        return None

    @property
    def directory_service_name(self) -> str | None:
        return self.valueReference.display if self.valueReference else None


class ReferralTask(IdentifiedRecord):
    """The lifecycle Task of one referral."""

    # Notes are free text about the person: never kept; nor the owner's name (workers are kept
    # by staff identifier, `fhir.worker`).
    personal_elements: ClassVar[frozenset[str]] = frozenset(
        {"text", "note", "for.display", "owner.display"}
    )

    resourceType: Literal["Task"]
    basedOn: list[Reference] | None = None
    status: TaskStatus
    statusReason: CodeableConcept | None = None
    businessStatus: CodeableConcept | None = None
    intent: TaskIntent
    priority: Literal["routine", "urgent", "asap", "stat"] | None = None
    code: CodeableConcept | None = None
    focus: Reference
    for_: Reference | None = Field(default=None, alias="for")
    executionPeriod: DatePeriod | None = None
    authoredOn: AwareDatetime | None = None
    lastModified: AwareDatetime | None = None
    requester: Reference | None = None
    owner: Reference | None = None
    output: list[TaskOutput] | None = None

    @model_validator(mode="after")
    def _lifecycle_rules(self, info: ValidationInfo) -> "ReferralTask":
        if self.code is not None and not any(
            c.system == profiles.TASK_CODE and c.code == "fulfill" for c in self.code.coding or []
        ):
            raise custom_error(
                "code_invalid",
                "Task.code, when given, must be {system}|fulfill",
                "Task.code",
                system=profiles.TASK_CODE,
            )
        state = self.lifecycle_state
        if state == "accepted" and self.accepted_at is None:
            raise custom_error(
                "required",
                "an accepted Task needs executionPeriod.start (the acceptance date)",
                "Task.executionPeriod.start",
            )
        if state in ("declined", "closed") and self._listed_reason() is None:
            self._note_unread_reason(info)
        if state == "closed" and self.ended_at is None:
            raise custom_error(
                "required",
                "a closed referral needs executionPeriod.end (the closure date) or lastModified",
                "Task.executionPeriod.end",
            )
        if state == "closed" and not (self.executionPeriod and self.executionPeriod.end):
            note_gap(
                info,
                Gap(
                    GapKind.NOT_RECORDED,
                    "Task.executionPeriod.end",
                    "no closure date was recorded: the Task's lastModified is used",
                ),
            )
        if self.accepted_at and self.ended_at and self.ended_at < self.accepted_at:
            raise custom_error(
                "business_rule",
                "executionPeriod.end is before executionPeriod.start",
                "Task.executionPeriod",
            )
        return self

    @model_validator(mode="after")
    def _owner(self, info: ValidationInfo) -> "ReferralTask":
        note_unnamed_worker(
            info,
            self.owner,
            "Task.owner.identifier",
            "the worker who holds the referral",
            "it is held by no worker",
        )
        return self

    # Typed views.

    @property
    def owner_worker(self) -> Worker | None:
        """The worker who holds the referral (`owner` by staff identifier), if one is named."""
        return worker_named(self.owner)

    def _listed_reason(self) -> Concept | None:
        """The status reason, when it is a listed rejection or closure reason."""
        if self.statusReason is None:
            return None
        match = first_match(self.statusReason, codes.referral_status_and_closure())
        if match is None or match[1].system not in (
            profiles.REFERRAL_CLOSURE_REASON,
            profiles.REFERRAL_REJECTION_REASON,
        ):
            return None
        return match[1]

    def _note_unread_reason(self, info: ValidationInfo) -> None:
        """A closing or declining Task whose reason is missing, text only or a code outside the
        lists is kept, its reason stored as not recorded, and the gap said."""
        where = "Task.statusReason"
        reason = self.statusReason
        if reason is None or not (reason.coding or reason.text):
            note_gap(info, Gap(GapKind.NOT_RECORDED, where, "no closure or rejection reason"))
            return
        check_snomed_codings(reason, where)
        value = read_coded(reason, codes.referral_status_and_closure(), text_only=True)
        gap = gap_of(value, where, "the closure or rejection reason") if value else None
        if value is not None and value.listed:
            # Listed, but not as a closure or rejection reason (a GP-record status code).
            gap = None
        note_gap(
            info,
            gap
            or Gap(
                GapKind.UNMAPPED_CODE,
                where,
                f"the reason ({describe_codings(reason)}) is not a closure or rejection reason: "
                "kept as sent, stored as not recorded",
                code=next(
                    (f"{c.system}|{c.code}" for c in reason.coding or [] if c.system and c.code),
                    None,
                ),
            ),
        )

    def _not_recorded(self) -> Concept:
        found = codes.referral_status_and_closure().get(
            profiles.REFERRAL_CLOSURE_REASON, CLOSURE_NOT_RECORDED
        )
        assert found is not None
        return found

    @property
    def closure_reason(self) -> Concept | None:
        """The closure reason of a closing Task (`not-recorded` when it cannot be read)."""
        listed = self._listed_reason()
        if listed is not None and listed.system == profiles.REFERRAL_CLOSURE_REASON:
            return listed
        return self._not_recorded() if self.status in _CLOSING else None

    @property
    def reason(self) -> Concept | None:
        """The rejection or closure reason; `not-recorded` for a declining or closing Task
        whose reason cannot be read."""
        listed = self._listed_reason()
        if listed is not None:
            return listed
        return self._not_recorded() if self.status in _CLOSING | {"rejected"} else None

    @property
    def lifecycle_state(self) -> LifecycleState | None:
        """What this Task says about the referral; None for a Task entered in error."""
        if self.status == "entered-in-error":
            return None
        if self.status in _RECEIVED:
            return "received"
        if self.status in _ACCEPTED:
            return "accepted"
        if self.status == "rejected":
            return "declined"
        if self.status in _CLOSING:
            return "closed"
        listed = self._listed_reason()
        closing = listed is not None and listed.system == profiles.REFERRAL_CLOSURE_REASON
        return "closed" if closing else "cancelled"

    @property
    def accepted_at(self) -> datetime | None:
        start = self.executionPeriod.start if self.executionPeriod else None
        return as_moment(start) if start else None

    @property
    def ended_at(self) -> datetime | None:
        end = self.executionPeriod.end if self.executionPeriod else None
        if end:
            return as_moment(end)
        if self.lifecycle_state in ("declined", "cancelled", "closed"):
            return self.lastModified
        return None

    @property
    def closure_outcome(self) -> str | None:
        """The closure reason's outcome group (completed, declined, not-engaged, ...)."""
        reason = self.closure_reason
        return reason.group if reason and self.lifecycle_state == "closed" else None
