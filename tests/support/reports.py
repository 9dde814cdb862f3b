"""Builders for hand-computed report datasets: rows written straight into referral-api's tables.

Report tests need exact, small datasets (3 reasons on this referral, a DNA on that one), so
rows are inserted directly, with the derived columns (reason group, ethnic group, lifecycle
summary) filled the way the write path fills them. Every person is synthetic.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import insert

from referral_api.lifecycle.models import (
    Assessment,
    AssessmentScore,
    Contact,
    ContactWorker,
    ReferralLifecycle,
    ReferralTask,
    SupportOffered,
)
from referral_api.linkage.models import ReferralLink
from referral_api.people.models import ReferralPerson
from referral_api.quality.repository import GapRepository
from referral_api.referrals.models import Referral, ReferralIdentifier, ReferralReason
from referral_api.rendering.service_request import render_sent
from referral_api.reports.data_quality import REASON_ELEMENT, SOURCE_OF_REFERRAL_ELEMENT
from referral_api.service_use.models import ServiceUse
from signpost_schemas import codes, systems
from signpost_schemas.fhir.gaps import Gap, GapKind
from signpost_schemas.fhir.service_request import ServiceRequest
from signpost_schemas.fhir.service_use import six_months
from tests.support.builders import reason, service_request, with_check_digit
from tests.support.messages import EMIS_REFERRAL_ID

# A valid SNOMED CT code (its check digit passes) that no code list maps: recorded as an
# unmapped code in the tests that use it.
CODE_A = f"{systems.SNOMED}|1082701000000101"
# Gaps a referral's data-quality facts count (`Dataset.gaps`).
NO_SOURCE = Gap(GapKind.NOT_RECORDED, SOURCE_OF_REFERRAL_ELEMENT, "no source of referral")


def unmapped(index: int, code: str) -> Gap:
    """The gap of a reason (at `index`) coded with `code`, which could not be mapped."""
    return Gap(GapKind.UNMAPPED_CODE, f"{REASON_ELEMENT}[{index}].coding[0]", "unmapped", code)


def fields_of(row: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """The fields of a report row that `expected` names, to compare a row with hand-computed
    values for the measures a test is about (a missing field fails with a KeyError)."""
    return {name: row[name] for name in expected}


def link_rows(earlier: str, later: str, kind: str) -> list[tuple[str, str, str]]:
    """(referral, linked referral, link type) in both directions, as the linkage rules store a
    link between two referrals of one person: a `re-referral`, or any other kind as concurrent."""
    if kind == "re-referral":
        return [(later, earlier, "re-referral-of"), (earlier, later, "re-referred-as")]
    return [(earlier, later, "concurrent-other-role"), (later, earlier, "concurrent-other-role")]


ATTENDANCE_CODES = {
    "attended": "5",
    "dna": "3",
    "not-seen": "7",
    "cancelled-by-patient": "2",
    "cancelled-by-provider": "4",
    "booked": "0",
}
_NS = uuid.UUID("0c7b1f5e-1d7a-4c55-9a57-6f0a3f1f2b61")


def day(text: str, hour: int = 10) -> datetime:
    """`2026-01-05` at `hour` o'clock UTC."""
    return datetime.fromisoformat(text).replace(hour=hour, tzinfo=UTC)


def synthetic_nhs_numbers() -> Iterator[str]:
    """Valid (Modulus 11) NHS numbers in the 999 test range, in order."""
    for serial in range(1_000_000):
        if number := with_check_digit(f"999{serial:06d}"):
            yield number


@dataclass
class Person:
    age_band: str | None = "45-54"
    gender: str | None = "female"
    ethnic_category: str | None = "A"
    practice: str | None = "F84001"
    pcn: str | None = "U00001"
    lsoa: str | None = "E01033011"


@dataclass
class Dataset:
    """Rows for each table, written in foreign-key order by `write`."""

    tables: dict[Any, list[dict[str, Any]]] = field(default_factory=dict)
    _people: dict[str, str] = field(default_factory=dict)
    _gaps: dict[str, list[Gap]] = field(default_factory=dict)
    _numbers: Iterator[str] = field(default_factory=synthetic_nhs_numbers)

    def rows(self, model: Any) -> list[dict[str, Any]]:
        return self.tables.setdefault(model, [])

    def nhs_number(self, person: str) -> str:
        """The NHS number of a named person (the same name, the same person)."""
        if person not in self._people:
            self._people[person] = next(self._numbers)
        return self._people[person]

    def referral(
        self,
        *,
        authored: str = "2026-01-05",
        person: str | None = None,
        role: str = "social-prescribing-link-worker",
        source: str | None = "primary-care",
        source_system: str = "emis",
        sender: str = "F84001",
        received: str | None = None,
        reasons: tuple[str, ...] = ("105531004",),
        details: Person | None = None,
        status: str | None = None,
        first_contact_days: int | None = None,
        ended_days: int | None = None,
        closure_reason: str | None = None,
        decline_reason: str | None = None,
    ) -> str:
        """One referral; returns its id. `details` None means no person row (a REST referral).

        `sender` is the requester's ODS code; `received` the day Signpost received it
        (`created_at`, default the referral date).

        Lifecycle: `status` (None: no lifecycle row, i.e. received), first attended contact
        `first_contact_days` after the referral date, ended `ended_days` after it.
        """
        referral_id = str(uuid.uuid5(_NS, str(len(self.rows(Referral)))))
        authored_at = day(authored)
        nhs_number = self.nhs_number(person or referral_id)
        # The referral as its sender sent it, as the service stores it: a REST search or read
        # of the dataset (make run's sample) serves a whole ServiceRequest.
        identifier = f"REPORT-{referral_id}"
        concepts = [codes.referral_reasons().find_code(code)[0] for code in reasons]
        sent = service_request(
            identifier=identifier,
            identifier_system=EMIS_REFERRAL_ID,
            nhs_number=nhs_number,
            role=role,
            requester=sender,
            # A reason "not recorded" is one the sender did not send.
            reasons=[reason(c.code, c.system) for c in concepts if c.system == systems.SNOMED],
            authored=authored_at.isoformat(),
        )
        if not sent["reasonCode"]:
            del sent["reasonCode"]
        resource = render_sent(ServiceRequest.model_validate(sent), referral_id, 1, authored_at)
        self.rows(Referral).append(
            {
                "id": referral_id,
                "version": 1,
                "status": "active",
                "intent": "order",
                "nhs_number": nhs_number,
                "person_key": nhs_number,
                "requester_ods": sender,
                "received_by_role": role,
                "source_of_referral_system": systems.SNOMED,
                "source_of_referral_code": "108161000000109",
                "source_of_referral_group": source,
                "source_system": source_system,
                "authored_at": authored_at,
                "created_at": day(received) if received else authored_at,
                "last_updated_at": authored_at,
                "resource": resource,
            }
        )
        self.rows(ReferralIdentifier).append(
            {
                "identifier_system": EMIS_REFERRAL_ID,
                "identifier_value": identifier,
                "referral_id": referral_id,
            }
        )
        for rank, concept in enumerate(concepts, start=1):
            self.rows(ReferralReason).append(
                {
                    "referral_id": referral_id,
                    "rank": rank,
                    "reason_system": concept.system,
                    "reason_code": concept.code,
                    "reason_text": None,
                    "reason_group": concept.group,
                }
            )
        if details is not None:
            ethnic = (
                codes.ethnic_categories().find_code(details.ethnic_category)[0]
                if details.ethnic_category
                else None
            )
            self.rows(ReferralPerson).append(
                {
                    "referral_id": referral_id,
                    "nhs_number": nhs_number,
                    "birth_year": None,
                    "age_band": details.age_band,
                    "gender": details.gender,
                    "ethnic_category": details.ethnic_category,
                    "ethnic_group": ethnic.group if ethnic else None,
                    "postcode_district": "E15" if details.lsoa else None,
                    "lsoa_code": details.lsoa,
                    "lsoa_vintage": "2021" if details.lsoa else None,
                    "lsoa_status": "derived" if details.lsoa else "no-postcode",
                    "practice_ods": details.practice,
                    "pcn_ods": details.pcn,
                    "as_of": authored_at,
                    "content_hash": "0" * 64,
                }
            )
        if status is not None:
            ended = authored_at + timedelta(days=ended_days) if ended_days is not None else None
            first = (
                authored_at + timedelta(days=first_contact_days)
                if first_contact_days is not None
                else None
            )
            self.rows(ReferralLifecycle).append(
                {
                    "referral_id": referral_id,
                    "status": status,
                    "sender_status": "active",
                    "accepted_at": authored_at if status in ("accepted", "closed") else None,
                    "declined_at": ended if status == "declined" else None,
                    "decline_reason_system": None,
                    "decline_reason_code": decline_reason if status == "declined" else None,
                    "cancelled_at": ended if status == "cancelled" else None,
                    "closed_at": ended if status == "closed" else None,
                    "closure_reason_code": closure_reason if status == "closed" else None,
                    "closure_outcome": None,
                    "first_contact_at": first,
                    "contact_count": 0,
                    "dna_count": 0,
                    "support_offered_count": 0,
                    "onward_referral_count": 0,
                    "assessment_count": 0,
                }
            )
        return referral_id

    def gaps(self, referral_id: str, *gaps: Gap) -> None:
        """The data gaps of a referral, written as the write path does (GapRepository)."""
        self._gaps.setdefault(referral_id, []).extend(gaps)

    def contacts(
        self,
        referral_id: str,
        *outcomes: str,
        entered_in_error: int = 0,
        workers: tuple[tuple[str, str | None], ...] = (),
        first_day: int = 1,
    ) -> None:
        """Contacts of a referral with these attendance outcomes (attended, dna, ...), on the
        days after the referral date from `first_day`; each with `workers` (staff identifier
        `system|value`, role or None) taking part."""
        referral = next(r for r in self.rows(Referral) if r["id"] == referral_id)
        summary = self._summary(referral_id)
        items = [*outcomes, *(["dna"] * entered_in_error)]
        for index, outcome in enumerate(items):
            live = index < len(outcomes)
            at = referral["authored_at"] + timedelta(days=first_day + index)
            contact_id = str(uuid.uuid4())
            for position, (worker, role) in enumerate(workers, start=1):
                system, _, value = worker.partition("|")
                self.rows(ContactWorker).append(
                    {
                        "contact_id": contact_id,
                        "position": position,
                        "referral_id": referral_id,
                        "worker_system": system,
                        "worker_value": value,
                        "role": role,
                    }
                )
            self.rows(Contact).append(
                {
                    "id": contact_id,
                    "referral_id": referral_id,
                    "source_id": f"enc-{len(self.rows(Contact))}",
                    "status": "finished" if live else "entered-in-error",
                    "contact_at": at,
                    "mechanism_system": "https://www.datadictionary.nhs.uk/attributes/"
                    "consultation_mechanism",
                    "mechanism_code": "01",
                    "mechanism_group": "face-to-face",
                    "attendance_code": ATTENDANCE_CODES[outcome],
                    "attendance_outcome": outcome,
                    "as_of": at,
                    "content_hash": "0" * 64,
                    "version": 1,
                    "last_updated_at": at,
                    "resource": "{}",
                }
            )
            if summary is not None and live:
                summary["contact_count"] += 1
                summary["dna_count"] += outcome == "dna"

    def held_by(self, referral_id: str, worker: str) -> None:
        """The referral's Task names `worker` (staff identifier `system|value`) as its owner;
        a Task is added if the referral has none."""
        tasks = [t for t in self.rows(ReferralTask) if t["referral_id"] == referral_id]
        if not tasks:
            self.support(referral_id)
            tasks = [t for t in self.rows(ReferralTask) if t["referral_id"] == referral_id]
        system, _, value = worker.partition("|")
        tasks[0].update(owner_system=system, owner_value=value)

    def support(self, referral_id: str, *support_codes: str, kind: str = "signpost") -> None:
        """Support offered to a referral (one Task output each)."""
        task_id = str(uuid.uuid4())
        referral = next(r for r in self.rows(Referral) if r["id"] == referral_id)
        self.rows(ReferralTask).append(
            {
                "id": task_id,
                "referral_id": referral_id,
                "source_id": f"task-{len(self.rows(ReferralTask))}",
                "status": "in-progress",
                "lifecycle_state": "accepted",
                "reason_system": None,
                "reason_code": None,
                "closure_outcome": None,
                "accepted_at": referral["authored_at"],
                "ended_at": None,
                "owner_system": None,
                "owner_value": None,
                "as_of": referral["authored_at"],
                "content_hash": "0" * 64,
                "version": 1,
                "last_updated_at": referral["authored_at"],
                "resource": "{}",
            }
        )
        support_list = codes.support_offered()
        for position, code in enumerate(support_codes, start=1):
            concept = support_list.find_code(code)[0]
            self.rows(SupportOffered).append(
                {
                    "task_id": task_id,
                    "position": position,
                    "referral_id": referral_id,
                    "support_code": code,
                    "support_group": concept.group,
                    "kind": kind,
                    "directory_service_id": None,
                    "directory_service_name": None,
                    "offered_at": referral["authored_at"],
                }
            )

    def assessment(
        self,
        referral_id: str,
        instrument: str,
        timepoint: str,
        days_after: int,
        *,
        total: float | None = None,
        items: dict[str, float] | None = None,
        status: str = "final",
    ) -> None:
        referral = next(r for r in self.rows(Referral) if r["id"] == referral_id)
        at = referral["authored_at"] + timedelta(days=days_after)
        assessment_id = str(uuid.uuid4())
        self.rows(Assessment).append(
            {
                "id": assessment_id,
                "referral_id": referral_id,
                "source_id": f"obs-{len(self.rows(Assessment))}",
                "status": status,
                "instrument": instrument,
                "timepoint": timepoint,
                "assessed_at": at,
                "total_score": total,
                "as_of": at,
                "content_hash": "0" * 64,
                "version": 1,
                "last_updated_at": at,
                "resource": "{}",
            }
        )
        for code, value in (items or {}).items():
            self.rows(AssessmentScore).append(
                {
                    "assessment_id": assessment_id,
                    "item_code": code,
                    "value": value,
                    "value_text": None,
                }
            )

    def link(self, earlier: str, later: str, kind: str) -> None:
        """Link two referrals as the linkage rules would (both directions)."""
        person_key = next(r for r in self.rows(Referral) if r["id"] == later)["person_key"]
        for referral_id, linked, link_type in link_rows(earlier, later, kind):
            self.rows(ReferralLink).append(
                {
                    "referral_id": referral_id,
                    "linked_referral_id": linked,
                    "link_type": link_type,
                    "person_key": person_key,
                }
            )

    def _summary(self, referral_id: str) -> dict[str, Any] | None:
        return next(
            (r for r in self.rows(ReferralLifecycle) if r["referral_id"] == referral_id), None
        )

    def service_use(
        self,
        referral_id: str,
        measure: str,
        *,
        before: int | None = None,
        after: int | None = None,
        status: str = "final",
    ) -> None:
        """Counts of `measure` for the six months before and after the referral date."""
        referral = next(r for r in self.rows(Referral) if r["id"] == referral_id)
        referral_day = referral["authored_at"].date()
        for period, value in (("before", before), ("after", after)):
            if value is None:
                continue
            counted = six_months(referral_day, period)
            self.rows(ServiceUse).append(
                {
                    "id": str(uuid.uuid4()),
                    "referral_id": referral_id,
                    "measure": measure,
                    "period": period,
                    "period_start_on": counted.start,
                    "period_end_on": counted.end,
                    "count": value,
                    "status": status,
                    "origin": "extract",
                    "source_id": None,
                    "as_of": referral["authored_at"],
                    "content_hash": "0" * 64,
                    "version": 1,
                    "last_updated_at": referral["authored_at"],
                    "resource": "{}",
                }
            )

    async def write(self, app: FastAPI) -> None:
        order = [
            Referral,
            ReferralIdentifier,
            ReferralReason,
            ReferralPerson,
            ReferralLifecycle,
            ReferralTask,
            SupportOffered,
            Contact,
            ContactWorker,
            Assessment,
            AssessmentScore,
            ReferralLink,
            ServiceUse,
        ]
        async with app.state.database.engine.begin() as connection:
            for model in order:
                rows = self.tables.get(model)
                if rows:
                    await connection.execute(insert(model), rows)
        if self._gaps:
            async with app.state.database.sessionmaker() as session, session.begin():
                for referral_id, gaps in self._gaps.items():
                    await GapRepository(session).replace(referral_id, gaps)
