"""The Signpost care and support plan: one CarePlan per referral, shaped as UK Core CarePlan.

- `basedOn`: the referral, exactly one `ServiceRequest/<id>` (required);
- `subject`: the person, served as the referral names them (by NHS number, else the sender's
  patient identifier); a subject naming someone else is refused;
- `status` (required), `intent` = `plan` (anything else is refused), `created` (when the plan
  was agreed; missing: the time it was stored, with a `not-recorded` warning), `period`;
- `author`: the worker who wrote the plan, by the sender's staff identifier (`fhir.worker`; their
  name is removed), with their personalised-care role in `Extension-Signpost-AuthorRole`;
- `description`: "what matters to me", the person's own words (missing: `not-recorded`);
- `goal`: references to Goals contained in the plan (`#<id>`); each contained `Goal` has a
  `lifecycleStatus` and a `description` that is coded (a SNOMED CT coding must be a well-formed
  concept id; any other system is kept as sent) or, with a warning, text only;
- `activity.detail`: the actions, each with `status` (required), `code` from the support-offered
  list (a SNOMED CT concept id outside it is kept as unmapped, text only as uncoded, both with a
  warning; a code of any other system is refused), `scheduledPeriod` or `scheduledString`;
- `Extension-Signpost-CarePlanReview`: `nextReview` (valueDate, the next planned review) and
  `lastReviewed` (valueDate). Signpost serves it with `due` (valueDate) and `dueBasis`
  (valueCode): the next review when one is planned, else twelve months after the last review,
  else twelve months after the plan was created (`next-review`, `last-review`, `created`).
  `due` and `dueBasis` are derived: values sent for them are ignored.
"""

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, ValidationInfo, model_validator

from signpost_schemas import codes
from signpost_schemas.dates import months_after
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.binding import (
    CodedValue,
    check_snomed_codings,
    custom_error,
    describe_codings,
    gap_of,
    read_coded,
)
from signpost_schemas.fhir.datatypes import (
    CodeableConcept,
    Coding,
    FhirId,
    FhirString,
    FhirUri,
    Identifier,
    Meta,
    Reference,
    RequestStatus,
)
from signpost_schemas.fhir.gaps import Gap, GapKind, note_gap
from signpost_schemas.fhir.task import DatePeriod, as_moment
from signpost_schemas.fhir.worker import (
    Worker,
    note_unnamed_worker,
    worker_named,
    worker_role,
)

ActivityStatus = Literal[
    "not-started",
    "scheduled",
    "in-progress",
    "on-hold",
    "completed",
    "cancelled",
    "stopped",
    "unknown",
    "entered-in-error",
]
GoalLifecycleStatus = Literal[
    "proposed",
    "planned",
    "accepted",
    "active",
    "on-hold",
    "completed",
    "cancelled",
    "entered-in-error",
    "rejected",
]
ReviewBasis = Literal["next-review", "last-review", "created"]

# The parts of Extension-Signpost-CarePlanReview: read (sent) and derived (served).
NEXT_REVIEW = "nextReview"
LAST_REVIEWED = "lastReviewed"
DUE = "due"
DUE_BASIS = "dueBasis"
_REVIEW_PARTS = (NEXT_REVIEW, LAST_REVIEWED, DUE, DUE_BASIS)
REVIEW_INTERVAL_MONTHS = 12


class ReviewPart(FhirModel):
    url: FhirUri
    valueDate: date | None = None
    valueCode: str | None = None


class PlanExtension(FhirModel):
    """An extension the plan reads: its review dates or its author's role."""

    url: FhirUri
    valueCoding: Coding | None = None
    extension: list[ReviewPart] | None = None


class GoalTarget(FhirModel):
    measure: CodeableConcept | None = None
    dueDate: date | None = None


class PlanGoal(FhirModel):
    """A goal of the plan, contained in it and referenced from `CarePlan.goal` as `#<id>`."""

    resourceType: Literal["Goal"]
    id: FhirId
    lifecycleStatus: GoalLifecycleStatus
    achievementStatus: CodeableConcept | None = None
    priority: CodeableConcept | None = None
    description: CodeableConcept
    subject: Reference | None = None
    startDate: date | None = None
    target: list[GoalTarget] | None = None


class ActivityDetail(FhirModel):
    """An action of the plan: what (coded from the support-offered list), its status, when."""

    kind: FhirString | None = None
    code: CodeableConcept | None = None
    status: ActivityStatus
    statusReason: CodeableConcept | None = None
    doNotPerform: bool | None = None
    scheduledPeriod: DatePeriod | None = None
    scheduledString: FhirString | None = None
    performer: list[Reference] | None = None
    description: FhirString | None = None


class PlanActivity(FhirModel):
    outcomeCodeableConcept: list[CodeableConcept] | None = None
    detail: ActivityDetail | None = None


class CarePlan(FhirResource):
    """The care and support plan of one referral."""

    read_extensions: ClassVar[frozenset[str]] = frozenset(
        {profiles.CARE_PLAN_REVIEW_EXTENSION, profiles.AUTHOR_ROLE_EXTENSION}
    )
    # Names of the person and of workers are not kept (workers are kept by staff identifier);
    # notes are free text outside the dataset ("what matters to me" is the description).
    personal_elements: ClassVar[frozenset[str]] = frozenset(
        {
            "text",
            "note",
            "subject.display",
            "author.display",
            "contributor.display",
            "activity.detail.performer.display",
            "activity.progress",
            "contained.text",
            "contained.note",
            "contained.subject.display",
        }
    )

    resourceType: Literal["CarePlan"]
    id: FhirId | None = None
    meta: Meta | None = None
    contained: list[PlanGoal] | None = None
    extension: list[PlanExtension] | None = None
    identifier: list[Identifier] | None = None
    basedOn: list[Reference] = Field(min_length=1)
    status: RequestStatus
    intent: Literal["proposal", "plan", "order", "option"]
    category: list[CodeableConcept] | None = None
    title: FhirString | None = None
    description: FhirString | None = None
    subject: Reference | None = None
    period: DatePeriod | None = None
    created: AwareDatetime | date | None = None
    author: Reference | None = None
    contributor: list[Reference] | None = None
    goal: list[Reference] | None = None
    activity: list[PlanActivity] | None = None

    @model_validator(mode="after")
    def _plan_rules(self, info: ValidationInfo) -> "CarePlan":
        if self.intent != "plan":
            raise custom_error(
                "code_invalid",
                "a care and support plan has intent plan (got {got})",
                "CarePlan.intent",
                got=self.intent,
            )
        if len(self.basedOn) != 1:
            raise custom_error(
                "business_rule",
                "basedOn names exactly one referral (got {count} references)",
                "CarePlan.basedOn",
                count=len(self.basedOn),
            )
        self.referral_id  # noqa: B018 (refuses a basedOn that names no ServiceRequest)
        period = self.period
        if (
            period
            and period.start
            and period.end
            and as_moment(period.end) < as_moment(period.start)
        ):
            raise custom_error(
                "business_rule", "period.end is before period.start", "CarePlan.period"
            )
        if self.created is None:
            note_gap(
                info,
                Gap(
                    GapKind.NOT_RECORDED,
                    "CarePlan.created",
                    "no date the plan was agreed: the time it was stored is used, and the "
                    "12-month review is due from then",
                ),
            )
        if not self.description:
            note_gap(
                info,
                Gap(
                    GapKind.NOT_RECORDED,
                    "CarePlan.description",
                    "what matters to the person (CarePlan.description) was not recorded",
                ),
            )
        self.author_role  # noqa: B018 (refuses a role outside the personalised-care roles)
        self._review_parts()
        return self

    @model_validator(mode="after")
    def _author(self, info: ValidationInfo) -> "CarePlan":
        note_unnamed_worker(
            info,
            self.author,
            "CarePlan.author.identifier",
            "the worker who wrote the plan",
            "no worker is kept",
        )
        return self

    @model_validator(mode="after")
    def _goals(self, info: ValidationInfo) -> "CarePlan":
        contained: set[str] = set()
        for index, goal in enumerate(self.contained or []):
            where = f"CarePlan.contained[{index}]"
            if goal.id in contained:
                raise custom_error(
                    "duplicate", "contained Goal id {id} is repeated", f"{where}.id", id=goal.id
                )
            contained.add(goal.id)
            description = goal.description
            check_snomed_codings(description, f"{where}.description")
            if not description.coding:
                if not description.text:
                    raise custom_error(
                        "required",
                        "a goal needs a description, coded or as text",
                        f"{where}.description",
                    )
                note_gap(
                    info,
                    Gap(
                        GapKind.UNCODED_TEXT,
                        f"{where}.description",
                        "the goal was sent as text only: it is kept with its text",
                    ),
                )
        for index, reference in enumerate(self.goal or []):
            target = reference.reference or ""
            if target.startswith("#"):
                if target[1:] not in contained:
                    raise custom_error(
                        "business_rule",
                        "goal {target} names no Goal contained in the plan",
                        f"CarePlan.goal[{index}]",
                        target=target,
                    )
            else:
                note_gap(
                    info,
                    Gap(
                        GapKind.NOT_INTERPRETED,
                        f"CarePlan.goal[{index}]",
                        "a goal that is not contained in the plan (#<id>) is kept as sent, "
                        "but Signpost does not read it",
                    ),
                )
        return self

    @model_validator(mode="after")
    def _activities(self, info: ValidationInfo) -> "CarePlan":
        for index, activity in enumerate(self.activity or []):
            detail = activity.detail
            if detail is None:
                continue
            where = f"CarePlan.activity[{index}].detail"
            if detail.doNotPerform:
                raise custom_error(
                    "not_supported",
                    "an action the person must not do (doNotPerform true) is not supported",
                    f"{where}.doNotPerform",
                )
            if detail.scheduledPeriod and detail.scheduledString:
                raise custom_error(
                    "business_rule",
                    "an action is scheduled by one of scheduledPeriod or scheduledString",
                    f"{where}.scheduled[x]",
                )
            if detail.code is None:
                continue
            value = self.action_code(index)
            if value is None:
                raise custom_error(
                    "code_invalid",
                    "an action's code must carry a coding from the support-offered value set or "
                    "a SNOMED CT concept id, or be text only (got {got})",
                    f"{where}.code",
                    got=describe_codings(detail.code),
                )
            if (gap := gap_of(value, f"{where}.code", "the action")) is not None:
                note_gap(info, gap)
        return self

    def _review_parts(self) -> dict[str, ReviewPart]:
        """The parts of the review extension, each at most once, by name."""
        parts: dict[str, ReviewPart] = {}
        for index, extension in enumerate(self.extension or []):
            if extension.url != profiles.CARE_PLAN_REVIEW_EXTENSION:
                continue
            for position, part in enumerate(extension.extension or []):
                where = f"CarePlan.extension[{index}].extension[{position}]"
                if part.url not in _REVIEW_PARTS:
                    raise custom_error(
                        "code_invalid",
                        "the review extension's parts are {parts} (got {got})",
                        f"{where}.url",
                        parts=", ".join(_REVIEW_PARTS),
                        got=part.url,
                    )
                if part.url in parts:
                    raise custom_error("duplicate", "{part} is given twice", where, part=part.url)
                if part.url in (NEXT_REVIEW, LAST_REVIEWED) and part.valueDate is None:
                    raise custom_error("required", "{part} needs a valueDate", where, part=part.url)
                parts[part.url] = part
        return parts

    # Typed views.

    @property
    def referral_id(self) -> str:
        """The id of the referral `basedOn` names (`ServiceRequest/<id>`, relative or absolute)."""
        reference = self.basedOn[0]
        kind, _, identifier = (reference.reference or "").rstrip("/").rpartition("/")
        kind = kind.rsplit("/", 1)[-1]
        named_type = (reference.type or "ServiceRequest").rsplit("/", 1)[-1]
        if kind != "ServiceRequest" or not identifier or named_type != "ServiceRequest":
            raise custom_error(
                "required",
                "basedOn must name the referral as ServiceRequest/<id> (got {got})",
                "CarePlan.basedOn[0]",
                got=reference.reference or "no reference",
            )
        return identifier

    @property
    def subject_identifier(self) -> tuple[str, str] | None:
        """(system, value) of the person the sender names, if they name one by identifier."""
        identifier = self.subject.identifier if self.subject else None
        if identifier is None or not identifier.system or not identifier.value:
            return None
        return identifier.system, identifier.value.strip()

    @property
    def author_worker(self) -> Worker | None:
        """The worker who wrote the plan, by staff identifier, with their role if given."""
        return worker_named(self.author, self.author_role)

    @property
    def author_role(self) -> str | None:
        """The author's personalised-care role (Extension-Signpost-AuthorRole), if given."""
        for index, extension in enumerate(self.extension or []):
            if extension.url != profiles.AUTHOR_ROLE_EXTENSION:
                continue
            concept = CodeableConcept(
                coding=[extension.valueCoding] if extension.valueCoding else []
            )
            where = f"CarePlan.extension[{index}].valueCoding"
            return worker_role(concept, "the author's", where, strict=True)
        return None

    @property
    def created_at(self) -> datetime | None:
        return as_moment(self.created) if self.created is not None else None

    @property
    def next_review(self) -> date | None:
        part = self._review_parts().get(NEXT_REVIEW)
        return part.valueDate if part else None

    @property
    def last_reviewed(self) -> date | None:
        part = self._review_parts().get(LAST_REVIEWED)
        return part.valueDate if part else None

    def review_due(self, created_at: datetime) -> tuple[date, ReviewBasis]:
        """When the next review is due and why: the planned review, else twelve months after
        the last review, else twelve months after the plan was created (`created_at`)."""
        if (planned := self.next_review) is not None:
            return planned, "next-review"
        if (last := self.last_reviewed) is not None:
            return months_after(last, REVIEW_INTERVAL_MONTHS), "last-review"
        return months_after(created_at.date(), REVIEW_INTERVAL_MONTHS), "created"

    def action_code(self, index: int) -> CodedValue | None:
        """The support code of action `index` as kept (None: it has none Signpost can keep)."""
        activity = (self.activity or [])[index]
        concept = activity.detail.code if activity.detail else None
        if concept is None:
            return None
        check_snomed_codings(concept, f"CarePlan.activity[{index}].detail.code")
        return read_coded(concept, codes.support_offered(), text_only=True)

    @property
    def contained_goal_ids(self) -> list[str]:
        return [goal.id for goal in self.contained or []]
