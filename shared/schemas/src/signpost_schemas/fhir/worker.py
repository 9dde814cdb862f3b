"""Workers: the staff who hold a referral (`Task.owner`) or take part in a contact
(`Encounter.participant`), named by the sender's own staff identifier and never by name.

A worker is a reference to a Practitioner or PractitionerRole (or with no `type`) carrying an
`identifier` with both `system` (the sender's staff identifier system, e.g. an EMIS user id
system) and `value`. The reference's `display`, a person's name, is removed by the profiles that
use it (`personal_elements`), with a `removed-personal-data` warning. An organisation named by
its ODS code (BaRS sets `Task.owner` to the receiving service) and a related person are not
workers. The worker's role is a coding from the personalised-care roles (`Encounter.participant
.type`); where none is given, reports use the role the referral was made to.
"""

from dataclasses import dataclass

from pydantic import ValidationInfo

from signpost_schemas import codes, systems
from signpost_schemas.fhir.binding import custom_error, describe_codings, first_match
from signpost_schemas.fhir.datatypes import CodeableConcept, Reference
from signpost_schemas.fhir.gaps import Gap, GapKind, note_gap

# Reference types that can name a worker (none given: taken as a worker when it has a staff id).
WORKER_TYPES = frozenset({"Practitioner", "PractitionerRole"})


@dataclass(frozen=True, slots=True)
class Worker:
    """A worker as stored: the sender's staff identifier and, when given, their role."""

    system: str
    value: str
    role: str | None = None


def resource_type(reference: Reference) -> str | None:
    """The type a reference names: its `type`, else the type in its literal `reference`."""
    if reference.type is not None:
        return reference.type.rsplit("/", 1)[-1]
    parts = (reference.reference or "").split("/")
    return parts[-2] if len(parts) >= 2 else None


def names_someone(reference: Reference) -> bool:
    """Whether `reference` is meant to name a worker: a Practitioner or PractitionerRole, or a
    reference of no type by an identifier that is not an organisation's ODS code."""
    kind = resource_type(reference)
    if kind is not None:
        return kind in WORKER_TYPES
    identifier = reference.identifier
    if identifier is None or identifier.system is None:
        return identifier is not None
    return systems.normalise_system(identifier.system) != systems.ODS_ORGANIZATION


def worker_role(
    concept: CodeableConcept, whose: str, where: str, *, strict: bool = False
) -> str | None:
    """The personalised-care role `concept` codes, if any. A code of the roles' own system that
    is not one of them is refused at `where` (`whose` role: "the performer's"); `strict` refuses
    anything but a role (an element that carries nothing else)."""
    roles = codes.personalised_care_roles()
    match = first_match(concept, roles)
    if match is not None:
        return match[1].code
    if strict or any(coding.system in roles.systems for coding in concept.coding or []):
        raise custom_error(
            "code_invalid",
            f"{whose} role must be one of the personalised-care roles (got {{got}})",
            where,
            got=describe_codings(concept),
        )
    return None


def worker_named(reference: Reference | None, role: str | None = None) -> Worker | None:
    """The worker `reference` names by a staff identifier, or None (no reference, not a worker,
    or no identifier with both system and value)."""
    if reference is None or not names_someone(reference):
        return None
    identifier = reference.identifier
    if identifier is None or not identifier.system or not identifier.value:
        return None
    return Worker(identifier.system, identifier.value.strip(), role)


def unnamed_worker(reference: Reference) -> bool:
    """Whether `reference` is a Practitioner or PractitionerRole named by no staff identifier."""
    return resource_type(reference) in WORKER_TYPES and worker_named(reference) is None


def unnamed_worker_gap(where: str, who: str, without_one: str) -> Gap:
    """The data gap of a worker reference at `where` (an `.identifier`) with no staff identifier:
    `who` is recorded by that identifier, and `without_one` says what is counted instead."""
    return Gap(
        GapKind.NOT_RECORDED,
        where,
        f"{where}: {who} is recorded by their staff identifier (system and value); "
        f"without one {without_one}",
    )


def note_unnamed_worker(
    info: ValidationInfo, reference: Reference | None, where: str, who: str, without_one: str
) -> None:
    """Note the data gap (`unnamed_worker_gap`) when `reference` is a worker named by no staff
    identifier."""
    if reference is not None and unnamed_worker(reference):
        note_gap(info, unnamed_worker_gap(where, who, without_one))
