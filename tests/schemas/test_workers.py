"""Workers in the profiles: who a contact's participant or a Task's owner is, by staff
identifier and role, and what is removed or noted as a gap."""

from typing import Any

import pytest
from pydantic import ValidationError

from signpost_schemas import systems
from signpost_schemas.fhir import lenient
from signpost_schemas.fhir.datatypes import Reference
from signpost_schemas.fhir.encounter import Contact
from signpost_schemas.fhir.gaps import GapKind
from signpost_schemas.fhir.task import ReferralTask
from signpost_schemas.fhir.worker import Worker, worker_named
from tests.support.messages import contact, task

STAFF = "https://emis.example/Id/staff"
ANOTHER_FOR_A = {"system": STAFF, "value": "A"}  # the same worker again: counted once


def _with(*participants: dict[str, Any]) -> dict[str, Any]:
    encounter = contact("c1", "2026-10-03T10:00:00Z")
    encounter["participant"] = list(participants)
    return encounter


def _role(code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": systems.PERSONALISED_CARE_ROLE, "code": code}]}]


def test_a_participant_is_a_worker_by_staff_identifier_with_the_role_given():
    reading = lenient.read(
        _with(
            {
                "type": [{"coding": [{"system": "x", "code": "PPRF"}]}, *_role("care-navigator")],
                "individual": {"identifier": {"system": STAFF, "value": "CN-1"}},
            },
            {"individual": {"type": "Practitioner", "identifier": {"system": STAFF, "value": "A"}}},
            {
                "individual": {
                    "reference": "Practitioner/p1",
                    "identifier": {"system": STAFF, "value": "A"},
                }
            },
        ),
        Contact,
    )

    assert reading.resource.workers == [
        Worker(STAFF, "CN-1", "care-navigator"),
        Worker(STAFF, "A", None),
    ]
    assert reading.gaps == []


def test_a_workers_name_is_removed_and_a_participant_without_staff_identifier_noted():
    reading = lenient.read(
        _with(
            {
                "individual": {
                    "identifier": {"system": STAFF, "value": "LW-1"},
                    "display": "Synthetic Worker",
                }
            },
            {"individual": {"display": "Synthetic Worker"}},
            {"individual": {"type": "RelatedPerson", "display": "Synthetic Carer"}},
        ),
        Contact,
    )

    assert "Synthetic" not in str(reading.resource.to_fhir())
    assert [w.value for w in reading.resource.workers] == ["LW-1"]
    assert {(g.kind, g.element) for g in reading.gaps} == {
        (GapKind.REMOVED_PERSONAL_DATA, "Encounter.participant[0].individual.display"),
        (GapKind.REMOVED_PERSONAL_DATA, "Encounter.participant[1].individual.display"),
        (GapKind.REMOVED_PERSONAL_DATA, "Encounter.participant[2].individual.display"),
        (GapKind.NOT_RECORDED, "Encounter.participant[1].individual.identifier"),
    }


def test_a_role_code_outside_the_six_roles_is_refused():
    body = _with(
        {
            "type": _role("receptionist"),
            "individual": {"identifier": {"system": STAFF, "value": "A"}},
        }
    )

    with pytest.raises(ValidationError) as raised:
        lenient.read(body, Contact)

    [error] = raised.value.errors()
    assert error["ctx"]["expression"] == "Encounter.participant[0].type[0]"


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        ({"type": "Practitioner", "identifier": {"system": STAFF, "value": "LW-1"}}, "LW-1"),
        ({"identifier": {"system": STAFF, "value": "LW-1"}}, "LW-1"),
        ({"identifier": {"system": systems.ODS_ORGANIZATION, "value": "F84001"}}, None),
        ({"reference": "Organization/o1"}, None),
        ({"type": "PractitionerRole", "identifier": {"system": STAFF}}, None),
    ],
)
def test_who_a_reference_names_as_worker(owner, expected):
    worker = worker_named(Reference.model_validate(owner))

    assert (worker.value if worker else None) == expected


def test_a_task_owner_is_kept_without_a_name_and_a_practitioner_without_staff_id_noted():
    named = task("t1", "accepted", accepted="2026-10-02")
    named["owner"] = {
        "type": "Practitioner",
        "identifier": {"system": STAFF, "value": "LW-1"},
        "display": "Synthetic Worker",
    }
    unnamed = task("t1", "accepted", accepted="2026-10-02")
    unnamed["owner"] = {"reference": "Practitioner/p1"}

    kept, noted = lenient.read(named, ReferralTask), lenient.read(unnamed, ReferralTask)

    assert kept.resource.owner_worker == Worker(STAFF, "LW-1")
    assert "Synthetic" not in str(kept.resource.to_fhir())
    assert [(g.kind, g.element) for g in kept.gaps] == [
        (GapKind.REMOVED_PERSONAL_DATA, "Task.owner.display")
    ]
    assert noted.resource.owner_worker is None
    assert [(g.kind, g.element) for g in noted.gaps] == [
        (GapKind.NOT_RECORDED, "Task.owner.identifier")
    ]
