"""The CSV template link workers already fill in: one row per referral, turned into a message.

Columns (header row required; order free; empty cells allowed for optional columns):

| column | required | value |
|---|---|---|
| referral_id | yes | the team's own referral number, unique within the file's team |
| referral_date | yes | YYYY-MM-DD |
| nhs_number | yes | 10 digits |
| role | yes | personalised-care-role code, e.g. social-prescribing-link-worker |
| referrer_ods | yes | the referring organisation's ODS code |
| source_of_referral | yes* | a local code (gp-practice), a SNOMED id or an MHSDS code (A1) |
| reasons | yes* | reason codes in rank order, separated by `;` (SNOMED ids or local codes) |
| reason_text | no | free text for the first reason (never a name) |
| year_of_birth | no | YYYY |
| gender | no | PERSON STATED GENDER CODE: 1, 2, 9 or X |
| ethnic_category | no | A-S, Z or 99 |
| postcode | no | full postcode or district; used for LSOA, never stored |
| practice_ods | no | the person's GP practice |
| accepted_date | no | YYYY-MM-DD |
| declined_date, decline_reason | no | date; 01-03 (REFERRAL REJECTION REASON) or closure code |
| contacts | no | `date|mechanism|attendance;...`, e.g. `2026-10-03|02|5` |
| support_offered | no | `code|referral-or-signpost|directory-service-uuid;...` (uuid optional) |
| baseline_instrument, baseline_date, baseline_score | no | wemwbs, swemwbs or pam-13, date, total |
| followup_instrument, followup_date, followup_score | no | as baseline |
| closed_date, closure_reason | no | date, and a referral-closure-reason code (needs-met, ...) |

*The column is required; an empty cell keeps the referral with the item not recorded.
"""

import hashlib
import re
import uuid
from typing import Any

import orjson

from signpost_schemas import codes, systems
from signpost_schemas.fhir import profiles

TEMPLATE_REFERRAL_ID = f"{systems.LOCAL_BASE}/Id/csv-template-referral"
REQUIRED = [
    "referral_id",
    "referral_date",
    "nhs_number",
    "role",
    "referrer_ods",
    "source_of_referral",
    "reasons",
]
# Required columns whose cells may be empty: the referral is kept with the item not recorded.
MAY_BE_EMPTY = frozenset({"source_of_referral", "reasons"})
OPTIONAL = [
    "reason_text",
    "year_of_birth",
    "gender",
    "ethnic_category",
    "postcode",
    "practice_ods",
    "accepted_date",
    "declined_date",
    "decline_reason",
    "contacts",
    "support_offered",
    "baseline_instrument",
    "baseline_date",
    "baseline_score",
    "followup_instrument",
    "followup_date",
    "followup_score",
    "closed_date",
    "closure_reason",
]
COLUMNS = REQUIRED + OPTIONAL
_NAMESPACE = uuid.UUID("0d5e6c1a-90b3-4c8a-a3e5-8f0e2b7d4c21")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MHSDS_SOURCE = (
    "https://www.datadictionary.nhs.uk/data_elements/source_of_referral_for_mental_health"
)
_MECHANISM = "https://www.datadictionary.nhs.uk/attributes/consultation_mechanism"


class RowError(ValueError):
    """A template cell that cannot be read; `column` names it."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(f"{column}: {message}")
        self.column = column


def check_header(header: list[str]) -> None:
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise RowError(", ".join(missing), "required column(s) missing from the header")
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise RowError(
            ", ".join(unknown), "unknown column(s): see the template in docs/lifecycle.md"
        )


def row_to_message(row: dict[str, str]) -> dict[str, Any]:
    """The message Bundle (reason `new`) for one template row; RowError for a bad cell."""
    cell = {k: (v or "").strip() for k, v in row.items() if k}
    for column in REQUIRED:
        if not cell.get(column) and column not in MAY_BE_EMPTY:
            raise RowError(column, "required")
    referral_date = _date(cell, "referral_date")
    sr_url = f"urn:uuid:{uuid.uuid5(_NAMESPACE, 'sr/' + cell['referral_id'])}"
    request = {
        "resourceType": "ServiceRequest",
        "identifier": [{"system": TEMPLATE_REFERRAL_ID, "value": cell["referral_id"]}],
        "extension": [
            {
                "url": systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION,
                "valueCodeableConcept": {"coding": [_source(cell["source_of_referral"])]},
            }
        ]
        if cell.get("source_of_referral")
        else [],
        "status": "active",
        "intent": "order",
        "subject": {"identifier": {"system": systems.NHS_NUMBER, "value": cell["nhs_number"]}},
        "authoredOn": referral_date,
        "requester": {
            "identifier": {"system": systems.ODS_ORGANIZATION, "value": cell["referrer_ods"]}
        },
        "performerType": {
            "coding": [{"system": systems.PERSONALISED_CARE_ROLE, "code": cell["role"]}]
        },
        "reasonCode": _reasons(cell),
    }
    entries: list[dict[str, Any]] = [{"fullUrl": sr_url, "resource": request}]
    entries.append({"resource": _patient(cell)})
    task = _task(cell, sr_url)
    if task:
        entries.append({"resource": task})
    for index, contact in enumerate(_split(cell, "contacts")):
        entries.append({"resource": _contact(contact, index, sr_url)})
    for timepoint, prefix in (("baseline", "baseline"), ("follow-up", "followup")):
        if cell.get(f"{prefix}_instrument"):
            entries.append({"resource": _assessment(cell, prefix, timepoint, sr_url)})
    dates = [referral_date] + [
        _DATE.findall(v)[0] for k, v in cell.items() if k.endswith("_date") and v and _DATE.match(v)
    ]
    digest = hashlib.sha256(orjson.dumps(cell, option=orjson.OPT_SORT_KEYS)).hexdigest()
    header = {
        "resourceType": "MessageHeader",
        "eventCoding": {"system": profiles.BARS_MESSAGE_EVENTS, "code": "servicerequest-request"},
        "reason": {"coding": [{"system": profiles.BARS_MESSAGE_REASON, "code": "new"}]},
        "source": {"endpoint": "urn:signpost:csv-template", "software": "CSV template import"},
        "focus": [{"reference": sr_url}],
    }
    return {
        "resourceType": "Bundle",
        # The same row always makes the same message, so a re-import changes nothing.
        "id": str(uuid.uuid5(_NAMESPACE, f"{cell['referral_id']}/{digest}")),
        "type": "message",
        "timestamp": f"{max(dates)}T23:59:59Z",
        "entry": [{"resource": header}, *entries],
    }


def _date(cell: dict[str, str], column: str) -> str:
    value = cell.get(column, "")
    if not _DATE.match(value):
        raise RowError(column, f"a date is YYYY-MM-DD (got {value!r})")
    return value


def _split(cell: dict[str, str], column: str) -> list[str]:
    return [part.strip() for part in cell.get(column, "").split(";") if part.strip()]


def _source(code: str) -> dict[str, str]:
    if code.isdigit():
        return {"system": systems.SNOMED, "code": code}
    if re.match(r"^[A-Z]\d$", code):
        return {"system": _MHSDS_SOURCE, "code": code}
    return {"system": systems.SOURCE_OF_REFERRAL, "code": code}


def _reasons(cell: dict[str, str]) -> list[dict[str, Any]]:
    reasons = []
    for rank, code in enumerate(_split(cell, "reasons")):
        system = systems.SNOMED if code.isdigit() else systems.REFERRAL_REASON
        concept: dict[str, Any] = {"coding": [{"system": system, "code": code}]}
        if rank == 0 and cell.get("reason_text"):
            concept["text"] = cell["reason_text"]
        reasons.append(concept)
    return reasons


def _patient(cell: dict[str, str]) -> dict[str, Any]:
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": systems.NHS_NUMBER, "value": cell["nhs_number"]}],
    }
    if cell.get("year_of_birth"):
        patient["birthDate"] = cell["year_of_birth"]
    extensions = []
    if cell.get("gender"):
        extensions.append(
            {
                "url": profiles.GENDER_IDENTITY_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [{"system": profiles.PERSON_STATED_GENDER, "code": cell["gender"]}]
                },
            }
        )
    if cell.get("ethnic_category"):
        extensions.append(
            {
                "url": profiles.ETHNIC_CATEGORY_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": profiles.ETHNIC_CATEGORY_ENGLAND,
                            "code": cell["ethnic_category"],
                        }
                    ]
                },
            }
        )
    if extensions:
        patient["extension"] = extensions
    if cell.get("postcode"):
        patient["address"] = [{"postalCode": cell["postcode"]}]
    if cell.get("practice_ods"):
        patient["generalPractitioner"] = [
            {"identifier": {"system": systems.ODS_ORGANIZATION, "value": cell["practice_ods"]}}
        ]
    return patient


def _task(cell: dict[str, str], sr_url: str) -> dict[str, Any] | None:
    outputs = [_support(part) for part in _split(cell, "support_offered")]
    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": "template-task",
        "intent": "order",
        "code": {"coding": [{"system": profiles.TASK_CODE, "code": "fulfill"}]},
        "focus": {"reference": sr_url},
    }
    period: dict[str, str] = {}
    if cell.get("accepted_date"):
        period["start"] = _date(cell, "accepted_date")
    if cell.get("closed_date"):
        period["end"] = _date(cell, "closed_date")
        if not cell.get("closure_reason"):
            raise RowError("closure_reason", "required when closed_date is given")
        task["status"] = "completed"
        task["statusReason"] = {
            "coding": [{"system": profiles.REFERRAL_CLOSURE_REASON, "code": cell["closure_reason"]}]
        }
    elif cell.get("declined_date"):
        period["end"] = _date(cell, "declined_date")
        reason = cell.get("decline_reason", "")
        system = (
            profiles.REFERRAL_REJECTION_REASON
            if reason.isdigit()
            else profiles.REFERRAL_CLOSURE_REASON
        )
        task["status"] = "rejected"
        task["statusReason"] = {"coding": [{"system": system, "code": reason}]}
    elif period:
        task["status"] = "in-progress" if outputs or cell.get("contacts") else "accepted"
    elif outputs:
        raise RowError("accepted_date", "required when support_offered is given")
    else:
        return None
    if period:
        task["executionPeriod"] = period
    if outputs:
        task["output"] = outputs
    return task


def _support(part: str) -> dict[str, Any]:
    fields = [f.strip() for f in part.split("|")]
    if len(fields) < 2 or fields[1] not in ("referral", "signpost"):
        raise RowError(
            "support_offered", f"each entry is code|referral-or-signpost|uuid (got {part!r})"
        )
    output: dict[str, Any] = {
        "type": {"coding": [{"system": systems.SUPPORT_OFFERED, "code": fields[0]}]},
        "extension": [{"url": profiles.SUPPORT_KIND_EXTENSION, "valueCode": fields[1]}],
    }
    if len(fields) > 2 and fields[2]:
        output["valueReference"] = {
            "type": "HealthcareService",
            "identifier": {"system": profiles.DIRECTORY_SERVICE_ID, "value": fields[2]},
        }
    else:
        output["valueCodeableConcept"] = output["type"]
    return output


def _contact(part: str, index: int, sr_url: str) -> dict[str, Any]:
    fields = [f.strip() for f in part.split("|")]
    if len(fields) != 3 or not _DATE.match(fields[0]):
        raise RowError("contacts", f"each entry is date|mechanism|attendance (got {part!r})")
    return {
        "resourceType": "Encounter",
        "id": f"template-contact-{index + 1}",
        "status": "finished",
        "basedOn": [{"reference": sr_url}],
        "period": {"start": fields[0]},
        "extension": [
            {
                "url": profiles.CONSULTATION_MECHANISM_EXTENSION,
                "valueCodeableConcept": {"coding": [{"system": _MECHANISM, "code": fields[1]}]},
            },
            {
                "url": profiles.ATTENDANCE_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [{"system": profiles.ATTENDANCE, "code": fields[2]}]
                },
            },
        ],
    }


def _assessment(cell: dict[str, str], prefix: str, timepoint: str, sr_url: str) -> dict[str, Any]:
    instrument = cell[f"{prefix}_instrument"]
    if not codes.wellbeing_instruments().get(profiles.ASSESSMENT_INSTRUMENT, instrument):
        raise RowError(f"{prefix}_instrument", f"unknown instrument {instrument!r}")
    try:
        score = float(cell.get(f"{prefix}_score", ""))
    except ValueError:
        raise RowError(f"{prefix}_score", "a number is required") from None
    return {
        "resourceType": "Observation",
        "id": f"template-{timepoint}",
        "status": "final",
        "basedOn": [{"reference": sr_url}],
        "code": {"coding": [{"system": profiles.ASSESSMENT_INSTRUMENT, "code": instrument}]},
        "effectiveDateTime": _date(cell, f"{prefix}_date"),
        "extension": [{"url": profiles.ASSESSMENT_TIMEPOINT_EXTENSION, "valueCode": timepoint}],
        "valueQuantity": {"value": score},
    }
