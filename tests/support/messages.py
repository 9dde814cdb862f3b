"""Builders for BaRS-shaped referral messages as EMIS and Rio send them (synthetic people only)."""

import copy
import json
import re
import uuid
from typing import Any

from referral_api.referrals import examples
from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from tests.support.builders import (
    NHS_NUMBERS,
    SNOMED_REASONS,
    coded_extension,
    reason,
    reasons_or_default,
    with_check_digit,
)

EMIS = {"endpoint": "https://emis.example/bars", "software": "EMIS Web", "name": "EMIS"}
RIO = {"endpoint": "https://rio.example/bars", "software": "Rio", "name": "Community connectors"}
EMIS_REFERRAL_ID = "https://emis.example/referral-id"
RIO_REFERRAL_ID = "https://rio.example/referral-id"
MHSDS_SOURCE = (
    "https://www.datadictionary.nhs.uk/data_elements/source_of_referral_for_mental_health"
)
MECHANISM = "https://www.datadictionary.nhs.uk/attributes/consultation_mechanism"
DIRECTORY_SERVICE = "3f9a2c1e-8d4b-4e2a-9c61-5b7d0e2f4a18"  # a directory-api service id
_NS = uuid.UUID("1b671a64-40d5-491e-99b0-da01ff1f3341")


def full_url(kind: str, key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NS, f'{kind}/{key}')}"


def emis_service_request(
    identifier: str = "EMIS-2026-0001",
    *,
    nhs_number: str = NHS_NUMBERS[0],
    role: str = "social-prescribing-link-worker",
    authored: str = "2026-10-01T09:00:00Z",
    status: str = "active",
    reasons: list[dict[str, Any]] | None = None,
    identifier_system: str = EMIS_REFERRAL_ID,
) -> dict[str, Any]:
    """A ServiceRequest as EMIS codes it: SNOMED reasons and a SNOMED 'referred by' concept."""
    return {
        "resourceType": "ServiceRequest",
        "id": "sr-" + identifier.lower(),
        "identifier": [{"system": identifier_system, "value": identifier}],
        # Referred by general practitioner (SNOMED CT), as the OpenAPI example sends it.
        "extension": copy.deepcopy(examples.SERVICE_REQUEST["extension"]),
        "status": status,
        "intent": "order",
        "subject": {
            "reference": full_url("Patient", nhs_number),
            "identifier": {"system": systems.NHS_NUMBER, "value": nhs_number},
        },
        "authoredOn": authored,
        "requester": {
            "identifier": {
                "system": "https://fhir.nhs.uk/id/ods-organization-code",
                "value": "F84001",
            }
        },
        "performerType": {"coding": [{"system": systems.PERSONALISED_CARE_ROLE, "code": role}]},
        "reasonCode": reasons_or_default(reasons),
    }


def rio_service_request(
    identifier: str = "RIO-77001",
    *,
    nhs_number: str = NHS_NUMBERS[1],
    role: str = "community-connector",
    authored: str = "2026-10-03T11:00:00Z",
    source_code: str = "A1",
    status: str = "active",
) -> dict[str, Any]:
    """A ServiceRequest as Rio codes it: MHSDS source of referral, local reason codes."""
    body = emis_service_request(
        identifier,
        nhs_number=nhs_number,
        role=role,
        authored=authored,
        status=status,
        identifier_system=RIO_REFERRAL_ID,
        reasons=[
            reason(SNOMED_REASONS["isolation"]),
            reason("low-mood", systems.REFERRAL_REASON, text="Low since bereavement"),
        ],
    )
    body["extension"][0]["valueCodeableConcept"] = {
        "coding": [{"system": MHSDS_SOURCE, "code": source_code}]
    }
    body["subject"] = {"identifier": {"system": systems.NHS_NUMBER, "value": nhs_number}}
    return body


def emis_patient(
    nhs_number: str = NHS_NUMBERS[0],
    *,
    postcode: str | None = "E15 1DA",
    birth_date: str = "1961-04-12",
    gender: str = "female",
    ethnicity: str = "976891000000104",
) -> dict[str, Any]:
    """EMIS sends a full UK Core Patient: names and address lines included (never kept)."""
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "pat-" + nhs_number,
        "identifier": [{"system": "https://fhir.nhs.uk/id/nhs-number", "value": nhs_number}],
        "name": [{"family": "Synthetic", "given": ["Person"]}],
        "telecom": [{"system": "phone", "value": "07700900000"}],
        "gender": gender,
        "birthDate": birth_date,
        "extension": [
            coded_extension(profiles.ETHNIC_CATEGORY_EXTENSION, systems.SNOMED, ethnicity)
        ],
        "generalPractitioner": [
            {"identifier": {"system": systems.ODS_ORGANIZATION, "value": "F84001"}}
        ],
    }
    if postcode:
        patient["address"] = [
            {"line": ["1 Synthetic Street"], "city": "London", "postalCode": postcode}
        ]
    return patient


def rio_patient(
    nhs_number: str = NHS_NUMBERS[1],
    *,
    postcode: str | None = "E13 9AX",
    birth_date: str = "1990",
    gender_identity: str = "3",
    ethnic_category: str = "K",
) -> dict[str, Any]:
    """Rio sends GENDER IDENTITY CODE and the ethnic category letter."""
    patient = emis_patient(nhs_number, postcode=postcode, birth_date=birth_date, gender="other")
    patient["extension"] = [
        coded_extension(
            profiles.ETHNIC_CATEGORY_EXTENSION, profiles.ETHNIC_CATEGORY_ENGLAND, ethnic_category
        ),
        coded_extension(
            profiles.GENDER_IDENTITY_EXTENSION, profiles.GENDER_IDENTITY, gender_identity
        ),
    ]
    patient["generalPractitioner"] = [
        {"identifier": {"system": systems.ODS_ORGANIZATION, "value": "F84002"}}
    ]
    return patient


def task(
    task_id: str,
    status: str,
    *,
    accepted: str | None = None,
    ended: str | None = None,
    reason: tuple[str, str] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    last_modified: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Task",
        "id": task_id,
        "status": status,
        "intent": "order",
        "code": {"coding": [{"system": profiles.TASK_CODE, "code": "fulfill"}]},
        "focus": {"reference": "SR"},  # set to the message's ServiceRequest by `message`
    }
    if accepted or ended:
        body["executionPeriod"] = {k: v for k, v in (("start", accepted), ("end", ended)) if v}
    if reason:
        body["statusReason"] = {"coding": [{"system": reason[0], "code": reason[1]}]}
    if outputs:
        body["output"] = outputs
    if last_modified:
        body["lastModified"] = last_modified
    return body


def support(
    code: str,
    kind: str = "signpost",
    *,
    service_id: str | None = None,
    service_name: str | None = None,
    offered: str | None = None,
) -> dict[str, Any]:
    output: dict[str, Any] = {
        "type": {"coding": [{"system": systems.SUPPORT_OFFERED, "code": code}]},
        "extension": [{"url": profiles.SUPPORT_KIND_EXTENSION, "valueCode": kind}],
    }
    if offered:
        output["extension"].append(
            {"url": profiles.SUPPORT_DATE_EXTENSION, "valueDateTime": offered}
        )
    if service_id:
        output["valueReference"] = {
            "type": "HealthcareService",
            "display": service_name,
            "identifier": {"system": profiles.DIRECTORY_SERVICE_ID, "value": service_id},
        }
    else:
        output["valueCodeableConcept"] = copy.deepcopy(output["type"])
    return output


def contact(
    contact_id: str,
    start: str,
    *,
    attendance: str = "5",
    mechanism: str = "02",
    mechanism_system: str = MECHANISM,
    status: str = "finished",
) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": contact_id,
        "status": status,
        "basedOn": [{"reference": "SR"}],
        "period": {"start": start},
        "extension": [
            coded_extension(profiles.CONSULTATION_MECHANISM_EXTENSION, mechanism_system, mechanism),
            coded_extension(profiles.ATTENDANCE_EXTENSION, profiles.ATTENDANCE, attendance),
        ],
    }


def assessment(
    assessment_id: str,
    instrument: str,
    timepoint: str,
    effective: str,
    *,
    total: float | None = None,
    items: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "id": assessment_id,
        "status": "final",
        "basedOn": [{"reference": "SR"}],
        "category": [{"coding": [{"system": profiles.OBSERVATION_CATEGORY, "code": "survey"}]}],
        "code": {"coding": [{"system": profiles.ASSESSMENT_INSTRUMENT, "code": instrument}]},
        "effectiveDateTime": effective,
        "extension": [{"url": profiles.ASSESSMENT_TIMEPOINT_EXTENSION, "valueCode": timepoint}],
    }
    if total is not None:
        body["valueQuantity"] = {"value": total}
    if items:
        body["component"] = [
            {
                "code": {"coding": [{"system": profiles.ASSESSMENT_INSTRUMENT, "code": code}]},
                **({"valueString": value} if isinstance(value, str) else {"valueInteger": value}),
            }
            for code, value in items.items()
        ]
    return body


def service_use_count(
    referral_id: str,
    measure: str,
    start: str,
    end: str,
    count: int,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A service-use Observation of the synthetic person: `count` of `measure` (a code of the
    service-use list) from `start` to `end`, based on the referral."""
    return {
        **({"meta": meta} if meta else {}),
        "resourceType": "Observation",
        "id": f"{measure}-{start}",
        "status": "final",
        "basedOn": [{"reference": f"ServiceRequest/{referral_id}"}],
        "code": {"coding": [{"system": profiles.SERVICE_USE, "code": measure}]},
        "subject": {"identifier": {"system": systems.NHS_NUMBER, "value": NHS_NUMBERS[0]}},
        "effectivePeriod": {"start": start, "end": end},
        "valueInteger": count,
    }


def message(
    service_request: dict[str, Any],
    *resources: dict[str, Any],
    reason_code: str = "update",
    timestamp: str,
    bundle_id: str | None = None,
    patient: dict[str, Any] | None = None,
    source: dict[str, str] = EMIS,
    event: str = "servicerequest-request",
) -> dict[str, Any]:
    """A message Bundle about `service_request`, its resources pointed at it."""
    identifier = service_request["identifier"][0]["value"]
    sr_url = full_url("ServiceRequest", identifier)
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": full_url("MessageHeader", bundle_id or timestamp),
            "resource": {
                "resourceType": "MessageHeader",
                "eventCoding": {"system": profiles.BARS_MESSAGE_EVENTS, "code": event},
                "reason": {
                    "coding": [{"system": profiles.BARS_MESSAGE_REASON, "code": reason_code}]
                },
                "source": dict(source),
                "focus": [{"reference": sr_url}],
            },
        },
        {"fullUrl": sr_url, "resource": copy.deepcopy(service_request)},
    ]
    if patient is not None:
        nhs_number = patient["identifier"][0]["value"]
        entries.append(
            {"fullUrl": full_url("Patient", nhs_number), "resource": copy.deepcopy(patient)}
        )
    for resource in resources:
        resource = copy.deepcopy(resource)
        if resource["resourceType"] == "Task":
            resource["focus"] = {"reference": sr_url}
        else:
            resource["basedOn"] = [{"reference": sr_url}]
        entries.append(
            {"fullUrl": full_url(resource["resourceType"], resource["id"]), "resource": resource}
        )
    return {
        "resourceType": "Bundle",
        "id": bundle_id or str(uuid.uuid5(_NS, f"{identifier}/{timestamp}")),
        "type": "message",
        "timestamp": timestamp,
        "entry": entries,
    }


def new_referral(
    *resources: dict[str, Any],
    timestamp: str,
    request: dict[str, Any] | None = None,
    bundle_id: str | None = None,
) -> dict[str, Any]:
    """A message sending the synthetic EMIS referral (or `request`) as new, with the synthetic
    person's Patient and `resources`."""
    return message(
        request or emis_service_request(),
        *resources,
        reason_code="new",
        patient=emis_patient(),
        timestamp=timestamp,
        bundle_id=bundle_id,
    )


def journey(source: str = "emis") -> list[dict[str, Any]]:
    """A whole referral, in order: new → accepted → contacts with a DNA → two support offers
    (one an onward referral to a directory service) → baseline and follow-up score → closed."""
    if source == "emis":
        request, person, sender = emis_service_request(), emis_patient(), EMIS
        instrument, baseline, follow_up = "wemwbs", {"total": 38}, {"total": 47}
    else:
        request, person, sender = rio_service_request(), rio_patient(), RIO
        instrument = "ons4"
        baseline = {
            "items": {
                "ons4-life-satisfaction": 3,
                "ons4-worthwhile": 4,
                "ons4-happiness": 3,
                "ons4-anxiety": 8,
            }
        }
        follow_up = {
            "items": {
                "ons4-life-satisfaction": 6,
                "ons4-worthwhile": 6,
                "ons4-happiness": 6,
                "ons4-anxiety": 4,
            }
        }
    day = "2026-10-0" if source == "emis" else "2026-10-1"
    accepted = task("t1", "accepted", accepted=f"{day}2", last_modified=f"{day}2T10:00:00Z")
    offers = [
        support(
            "housing-advice",
            "referral",
            service_id=DIRECTORY_SERVICE,
            service_name="Newham Housing Advice",
            offered=f"{day}6",
        ),
        support("benefits-welfare-advice", "signpost", offered=f"{day}6"),
    ]
    in_progress = task(
        "t1", "in-progress", accepted=f"{day}2", outputs=offers, last_modified=f"{day}6T15:00:00Z"
    )
    closed = task(
        "t1",
        "completed",
        accepted=f"{day}2",
        ended="2026-11-20",
        outputs=offers,
        reason=(profiles.REFERRAL_CLOSURE_REASON, "needs-met"),
        last_modified="2026-11-20T16:00:00Z",
    )
    return [
        message(
            request,
            reason_code="new",
            patient=person,
            source=sender,
            timestamp=f"{day}1T09:05:00Z" if source == "emis" else f"{day}3T11:05:00Z",
        ),
        message(request, accepted, source=sender, timestamp=f"{day}2T10:01:00Z"),
        message(
            request,
            contact("c1", f"{day}3T10:00:00Z", attendance="3"),
            assessment("a1", instrument, "baseline", f"{day}3", **baseline),
            source=sender,
            timestamp=f"{day}3T12:00:00Z",
        ),
        message(
            request,
            contact("c2", f"{day}5T10:00:00Z", attendance="5", mechanism="01"),
            source=sender,
            timestamp=f"{day}5T12:00:00Z",
        ),
        message(request, in_progress, source=sender, timestamp=f"{day}6T15:01:00Z"),
        message(
            request,
            contact("c3", "2026-11-10T10:00:00Z", attendance="5", mechanism="11"),
            assessment("a2", instrument, "follow-up", "2026-11-10", **follow_up),
            source=sender,
            timestamp="2026-11-10T12:00:00Z",
        ),
        message(request, closed, source=sender, timestamp="2026-11-20T16:01:00Z"),
    ]


def journeys(count: int) -> list[list[dict[str, Any]]]:
    """`count` whole journeys, alternately EMIS and Rio, each for a different synthetic person."""
    templates = {source: json.dumps(journey(source)) for source in ("emis", "rio")}
    originals = {source: _identifiers(json.loads(text)) for source, text in templates.items()}
    referral_tokens = {
        source: _referral_tokens(json.loads(text)) for source, text in templates.items()
    }
    result = []
    for index in range(count):
        source = "emis" if index % 2 == 0 else "rio"
        text = templates[source]
        for original in originals[source]:
            text = text.replace(
                original, str(uuid.uuid5(uuid.NAMESPACE_URL, f"{index}/{original}"))
            )
        for sender_token in referral_tokens[source]:
            text = re.sub(
                rf"(?<![\w-]){re.escape(sender_token)}(?![\w-])", f"{sender_token}-{index}", text
            )
        text = text.replace("9434765919", _nhs_number(index)).replace(
            "9000000009", _nhs_number(index)
        )
        result.append(json.loads(text))
    return result


def _referral_tokens(messages: list[dict[str, Any]]) -> set[str]:
    """The sender's ServiceRequest id and business identifier values in a journey."""
    tokens = set()
    for bundle in messages:
        for entry in bundle["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] == "ServiceRequest":
                tokens.add(resource["id"])
                tokens.update(i["value"] for i in resource.get("identifier", []))
    return tokens


def _identifiers(messages: list[dict[str, Any]]) -> set[str]:
    found = set()
    for bundle in messages:
        found.add(bundle["id"])
        for entry in bundle["entry"]:
            found.add(entry["fullUrl"].removeprefix("urn:uuid:"))
    return found


def _nhs_number(index: int) -> str:
    """A valid synthetic NHS number (969 range) unique to `index`."""
    candidate = 969_000_000 + index * 7
    while not (number := with_check_digit(f"{candidate:09d}")):
        candidate += 1
    return number


LIFECYCLE_TYPES = ("Task", "Encounter", "Observation")


async def lifecycle_served(
    client: Any,
    resource_type: str,
    referral_id: str,
    *,
    headers: dict[str, str] | None = None,
    count: int | None = None,
) -> list[dict[str, Any]]:
    """The `resource_type` resources served for a referral: Tasks by `focus`, the others by
    `based-on` (a page of `count`, else the default page size). `client` is an httpx client or
    anything with its `get`; `headers` are sent only when given."""
    parameter = "focus" if resource_type == "Task" else "based-on"
    params: dict[str, Any] = {parameter: f"ServiceRequest/{referral_id}"}
    if count is not None:
        params["_count"] = count
    sent = {"headers": headers} if headers is not None else {}
    bundle = (await client.get(f"/fhir/{resource_type}", params=params, **sent)).json()
    return [entry["resource"] for entry in bundle.get("entry", [])]


async def final_state(client: Any) -> dict[str, Any]:
    """Every referral with its Tasks, contacts and assessments as served, keyed by the sender's
    business identifier, with server ids and meta removed: comparable across databases.

    `client` is an httpx.AsyncClient already carrying a `referral:read` token.
    """
    referrals: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = (
            await client.get(
                "/fhir/ServiceRequest",
                params={"_sort": "authored", "_count": 100, "_offset": offset, "_total": "none"},
            )
        ).json()
        referrals += [e["resource"] for e in page.get("entry", [])]
        if len(page.get("entry", [])) < 100:
            break
        offset += 100
    names = {r["id"]: r["identifier"][0]["value"] for r in referrals}
    state: dict[str, Any] = {}
    for referral in referrals:
        served: dict[str, Any] = {"ServiceRequest": referral}
        for resource_type in LIFECYCLE_TYPES:
            served[resource_type] = await lifecycle_served(
                client, resource_type, referral["id"], count=100
            )
        stripped = without_server_ids(served, names)
        for resource_type in LIFECYCLE_TYPES:
            stripped[resource_type].sort(key=lambda r: json.dumps(r, sort_keys=True))
        state[names[referral["id"]]] = stripped
    return state


def without_server_ids(document: Any, names: dict[str, str]) -> Any:
    """Drop server ids and meta, and write each server id named in names as its name."""
    if isinstance(document, dict):
        return {
            k: without_server_ids(v, names) for k, v in document.items() if k not in ("id", "meta")
        }
    if isinstance(document, list):
        return [without_server_ids(v, names) for v in document]
    if isinstance(document, str):
        for server_id, name in names.items():
            document = document.replace(server_id, name)
    return document
