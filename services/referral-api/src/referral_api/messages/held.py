"""What is stored of a held message: an `update` that arrived before its referral.

A held message keeps only what the dataset keeps, decided here and nowhere else:

- the Bundle: its id, type and timestamp (the idempotency key and the order of release);
- the MessageHeader: event, reason, focus and the sending software (`source` without its
  `contact`); no sender, author, enterer or responsible party, no displays;
- the ServiceRequest, Tasks, Encounters and Observations as a referral stores them (their
  profiles already remove names, notes and narratives);
- the Patient reduced to the person as a referral stores them: identifiers (system and value),
  gender, gender identity, ethnic category, year of birth, GP practice and PCN by ODS code, and
  the postcode district, never the full postcode;
- nothing else: resources Signpost does not read (a Condition) are dropped.

The full postcode is used once, when the message is held, to derive the district and LSOA, as
it is when a referral's Patient is stored. What applying the message later needs that the
reduced body no longer carries (the geography, the data gaps found in the message as sent, its
MessageHeader's included, and the Patient's content hash, which orders its versions) is kept
beside it as `derived`, so a released message is applied, and reported back, as it would have
been on arrival.
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

import orjson

from referral_api.geography.service import Geography
from referral_api.messages.bundle import ReadMessage, Timed
from signpost_schemas import systems
from signpost_schemas.fhir.gaps import Gap, GapKind
from signpost_schemas.fhir.patient import MessagePatient

_HEADER_ELEMENTS = ("resourceType", "id", "eventCoding", "reason", "definition")
_SOURCE_ELEMENTS = ("endpoint", "name", "software", "version")


@dataclass(frozen=True, slots=True)
class HeldCopy:
    """The reduced message and what was derived from the message as sent (both JSON)."""

    body: str
    derived: str


def minimise(document: dict[str, Any], message: ReadMessage, place: Geography | None) -> HeldCopy:
    """The message to hold, reduced to the dataset; `place` is the Patient's derived geography."""
    entries = document["entry"]
    items = sorted(
        [
            message.service_request,
            *([message.patient] if message.patient else []),
            *message.lifecycle,
        ],
        key=lambda item: item.index,
    )
    kept = [{"fullUrl": entries[0].get("fullUrl"), "resource": _header(message)}]
    for item in items:
        resource = item.resource
        reduced = (
            _patient(resource, place)
            if isinstance(resource, MessagePatient)
            else resource.to_fhir()
        )
        kept.append({"fullUrl": entries[item.index].get("fullUrl"), "resource": reduced})
    body = {
        "resourceType": "Bundle",
        "id": message.bundle.id,
        "type": "message",
        "timestamp": document["timestamp"],
        "entry": [{k: v for k, v in entry.items() if v is not None} for entry in kept],
    }
    derived = {
        # Where each held entry was in the message as sent, and the gaps found in it there:
        # warnings and errors name the entry the sender sent.
        "indices": [item.index for item in items],
        "gaps": {str(item.index): _kept_gaps(item.gaps) for item in items if item.gaps},
        "ignored": message.ignored,
        "header_gaps": _kept_gaps(message.header_gaps),
        "patient_hash": message.patient.content_hash if message.patient else None,
        "geography": dataclasses.asdict(place) if place is not None else None,
    }
    return HeldCopy(orjson.dumps(body).decode(), orjson.dumps(derived).decode())


def restore(message: ReadMessage, derived: str | None) -> tuple[ReadMessage, Geography | None]:
    """A held message as read from its reduced body, given back what was derived on arrival:
    its data gaps, resource types not kept, Patient hash, and the Patient's geography."""
    if derived is None:  # held before bodies were reduced: its body is the message as it was
        return message, None
    kept = orjson.loads(derived)
    indices = [0, *kept["indices"]]  # held position -> index in the message as sent
    gaps = {int(index): _given_back_gaps(found) for index, found in kept["gaps"].items()}

    def given_back(item: Timed) -> Timed:
        index = indices[item.index]
        return dataclasses.replace(item, index=index, gaps=gaps.get(index, []))

    patient = message.patient
    if patient is not None:
        patient = dataclasses.replace(
            given_back(patient), hashed=kept["patient_hash"] or patient.content_hash
        )
    restored = dataclasses.replace(
        message,
        service_request=given_back(message.service_request),
        patient=patient,
        lifecycle=[given_back(item) for item in message.lifecycle],
        ignored=list(kept["ignored"]),
        header_gaps=_given_back_gaps(kept.get("header_gaps", [])),
    )
    place = Geography(**kept["geography"]) if kept["geography"] else None
    return restored, place


def _header(message: ReadMessage) -> dict[str, Any]:
    header = message.header.to_fhir()
    reduced = {key: header[key] for key in _HEADER_ELEMENTS if key in header}
    reduced["source"] = {k: v for k, v in header["source"].items() if k in _SOURCE_ELEMENTS}
    reduced["focus"] = [
        {k: v for k, v in focus.items() if k in ("reference", "type", "identifier")}
        for focus in header["focus"]
    ]
    return reduced


def _patient(patient: MessagePatient, place: Geography | None) -> dict[str, Any]:
    """The Patient as the dataset keeps the person (see `people.service.apply_patient`)."""
    reduced: dict[str, Any] = {"resourceType": "Patient"}
    if patient.id:
        reduced["id"] = patient.id
    if patient.meta is not None and patient.meta.lastUpdated is not None:
        reduced["meta"] = {"lastUpdated": patient.to_fhir()["meta"]["lastUpdated"]}
    reduced["identifier"] = [
        {"system": i.system, "value": i.value} for i in patient.identifier if i.system and i.value
    ]
    extensions = [
        extension.to_fhir()
        for extension in patient.extension or []
        if extension.url in MessagePatient.read_extensions
    ]
    if extensions:
        reduced["extension"] = extensions
    if patient.gender:
        reduced["gender"] = patient.gender
    if patient.birth_year is not None:
        reduced["birthDate"] = f"{patient.birth_year:04d}"
    if place is not None and place.postcode_district:
        reduced["address"] = [{"postalCode": place.postcode_district}]
    if patient.practice_ods:
        reduced["generalPractitioner"] = [
            {"identifier": {"system": systems.ODS_ORGANIZATION, "value": patient.practice_ods}}
        ]
    return reduced


def _kept_gaps(gaps: list[Gap]) -> list[list[Any]]:
    """Gaps as `derived` keeps them: kind, element, message and code."""
    return [[g.kind.value, g.element, g.message, g.code] for g in gaps]


def _given_back_gaps(kept: list[list[Any]]) -> list[Gap]:
    """The gaps `_kept_gaps` kept."""
    return [Gap(GapKind(kind), element, text, code) for kind, element, text, code in kept]
