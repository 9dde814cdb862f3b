"""The Signpost shared decision making conversation: a Procedure of a referral.

Required beyond base FHIR: `basedOn` (the referral), `code` and when it took place
(`performedDateTime`, or `performedPeriod.start`). `code` is Signpost's local
`shared-decision-making|sdm-conversation`, or a well-formed SNOMED CT concept id (kept, counted
as unmapped with a warning: no SNOMED CT procedure code for shared decision making has been
verified yet), or text only (kept, `uncoded-text` warning); a code of any other system is
refused. `performer.actor` names the worker by staff identifier (`fhir.worker`; the name is
removed), `performer.function` optionally their personalised-care role. The CollaboRATE score
the person gave is a wellbeing assessment (Observation, instrument `collaborate`) whose `partOf`
may name this Procedure.
"""

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, ValidationInfo, model_validator

from signpost_schemas import codes
from signpost_schemas.fhir.base import FhirModel
from signpost_schemas.fhir.binding import (
    CodedValue,
    check_snomed_codings,
    custom_error,
    describe_codings,
    gap_of,
    read_coded,
)
from signpost_schemas.fhir.datatypes import CodeableConcept, Reference
from signpost_schemas.fhir.gaps import note_gap
from signpost_schemas.fhir.task import DatePeriod, IdentifiedRecord, as_moment
from signpost_schemas.fhir.worker import (
    Worker,
    note_unnamed_worker,
    worker_named,
    worker_role,
)

ProcedureStatus = Literal[
    "preparation",
    "in-progress",
    "not-done",
    "on-hold",
    "stopped",
    "completed",
    "entered-in-error",
    "unknown",
]


class ProcedurePerformer(FhirModel):
    function: CodeableConcept | None = None
    actor: Reference


class SharedDecision(IdentifiedRecord):
    """A shared decision making conversation (Procedure) recorded against a referral."""

    # Notes are free text about the person, and workers are kept by staff identifier only.
    personal_elements: ClassVar[frozenset[str]] = frozenset(
        {
            "text",
            "note",
            "subject.display",
            "performer.actor.display",
            "recorder.display",
            "asserter.display",
        }
    )

    resourceType: Literal["Procedure"]
    basedOn: list[Reference] = Field(min_length=1)
    partOf: list[Reference] | None = None
    status: ProcedureStatus
    category: CodeableConcept | None = None
    code: CodeableConcept
    subject: Reference | None = None
    encounter: Reference | None = None
    performedDateTime: AwareDatetime | date | None = None
    performedPeriod: DatePeriod | None = None
    performer: list[ProcedurePerformer] | None = None
    outcome: CodeableConcept | None = None

    @model_validator(mode="after")
    def _conversation(self, info: ValidationInfo) -> "SharedDecision":
        check_snomed_codings(self.code, "Procedure.code")
        value = self.conversation
        if value is None:
            raise custom_error(
                "code_invalid",
                "Procedure.code must be a shared decision making code (the shared-decision-making "
                "list), a SNOMED CT concept id, or text (got {got})",
                "Procedure.code",
                got=describe_codings(self.code),
            )
        if (gap := gap_of(value, "Procedure.code", "the shared decision making code")) is not None:
            note_gap(info, gap)
        if self.performedDateTime is None and not (
            self.performedPeriod and self.performedPeriod.start
        ):
            raise custom_error(
                "required",
                "when the conversation took place is required (performedDateTime or "
                "performedPeriod.start)",
                "Procedure.performed[x]",
            )
        if self.performedDateTime is not None and self.performedPeriod is not None:
            raise custom_error(
                "business_rule",
                "performed[x] is one of performedDateTime or performedPeriod",
                "Procedure.performed[x]",
            )
        for index, performer in enumerate(self.performer or []):
            self._role(index, performer)
            note_unnamed_worker(
                info,
                performer.actor,
                f"Procedure.performer[{index}].actor.identifier",
                "a worker",
                "this performer is counted for no worker",
            )
        return self

    @staticmethod
    def _role(index: int, performer: ProcedurePerformer) -> str | None:
        if performer.function is None:
            return None
        where = f"Procedure.performer[{index}].function"
        return worker_role(performer.function, "the performer's", where)

    # Typed views.

    @property
    def conversation(self) -> CodedValue | None:
        """The code kept: the local SDM code, a SNOMED CT code, or the text."""
        return read_coded(self.code, codes.shared_decision_making(), text_only=True)

    @property
    def performed_at(self) -> datetime:
        if self.performedDateTime is not None:
            return as_moment(self.performedDateTime)
        assert self.performedPeriod and self.performedPeriod.start
        return as_moment(self.performedPeriod.start)

    @property
    def worker(self) -> Worker | None:
        """The first performer named by a staff identifier, with their role."""
        for index, performer in enumerate(self.performer or []):
            worker = worker_named(performer.actor, self._role(index, performer))
            if worker is not None:
                return worker
        return None
