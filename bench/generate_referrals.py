"""Synthetic referrals for the report benchmark, bulk-loaded into a migrated PostgreSQL database.

    python -m bench.generate_referrals --database-url postgresql+asyncpg://... --count 100000
    python -m bench.generate_referrals --database-url ... --start 100000 --count 900000

Every row is made up (synthetic NHS numbers in an unissued range, made-up London PCNs,
practices and LSOAs); nothing here describes real people or places. The distributions follow
what the field reported: several reasons per referral (housing and money the top needs, "reason
not recorded" on nearly half of care-navigator referrals), six roles reached from different
systems, support skewed to diet education, waits of days to weeks, about one contact in seven
missed, wellbeing scores at baseline and follow-up, people referred to two roles at once or
re-referred. Rows are written with COPY (asyncpg `copy_records_to_table`) in batches, straight
into the tables the service reads, with the same derived columns the write path fills (reason
and source groups, lifecycle summary, links); the report facts and pseudonyms are then derived
by `referral_api.reports.facts.rebuild` (REFERRAL_PSEUDONYM_KEY, as the service uses).
`--start` tops up an existing database: referral numbers (and so ids) continue from there.
"""

import argparse
import asyncio
import math
import random
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
from tests.support.builders import coded_extension, with_check_digit
from tests.support.reports import ATTENDANCE_CODES, link_rows

from referral_api.config import ReferralSettings
from referral_api.reports import facts
from signpost_schemas import codes, systems
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.service_use import MAX_COUNT, CountedPeriod, Period, six_months

BATCH = 20_000
FIRST_DAY = datetime(2023, 1, 1, tzinfo=UTC)
LAST_DAY = datetime(2026, 10, 31, tzinfo=UTC)
_NAMESPACE = uuid.UUID("4d6f7a1e-0b9b-4f4e-8d73-2f6a9c0e5b11")
PCN_COUNT = 40
PRACTICES_PER_PCN = 5
LSOA_COUNT = 4_000

ROLES = {
    # role: (weight, source system, reason-not-recorded rate)
    "social-prescribing-link-worker": (0.35, "emis", 0.05),
    "care-coordinator": (0.15, "emis", 0.08),
    "health-and-wellbeing-coach": (0.12, "emis", 0.04),
    "care-navigator": (0.15, "rio", 0.45),
    "community-connector": (0.13, "api", 0.10),
    "community-neighbourhood-link-worker": (0.10, "import", 0.12),
}
SOURCES_BY_SYSTEM = {
    "emis": {
        "primary-care": 0.70,
        "self": 0.10,
        "community-health": 0.06,
        "local-authority": 0.05,
        "voluntary-sector": 0.05,
        "acute-hospital": 0.04,
    },
    "rio": {
        "mental-health": 0.50,
        "primary-care": 0.20,
        "self": 0.10,
        "acute-hospital": 0.08,
        "unknown": 0.12,
    },
    "api": {"voluntary-sector": 0.35, "self": 0.30, "primary-care": 0.20, "other": 0.15},
    "import": {
        "local-authority": 0.50,
        "self": 0.20,
        "carer-family": 0.10,
        "justice": 0.05,
        "unknown": 0.15,
    },
}
REASONS = {
    "105531004": 0.14,
    "32911000": 0.03,
    "1156191002": 0.01,
    "160932005": 0.10,
    "benefits-advice": 0.07,
    "1184702004": 0.01,
    "422650009": 0.08,
    "267076002": 0.05,
    "423315002": 0.02,
    "community-activities-awareness": 0.03,
    "lack-of-social-support": 0.02,
    "73595000": 0.05,
    "low-mood": 0.06,
    "mental-wellbeing": 0.04,
    "bereavement": 0.02,
    "733423003": 0.03,
    "73438004": 0.03,
    "741062008": 0.01,
    "713458007": 0.01,
    "706893006": 0.005,
    "personal-safety-concern": 0.005,
    "224484003": 0.015,
    "carer-strain": 0.015,
    "physical-inactivity": 0.04,
    "form-filling-support": 0.04,
    "general-wellbeing": 0.05,
    "digital-exclusion": 0.02,
    "other": 0.02,
}
REASON_COUNTS = {1: 0.35, 2: 0.33, 3: 0.20, 4: 0.12}
SUPPORT = {
    "diet-healthy-eating": 0.16,
    "housing-advice": 0.06,
    "benefits-welfare-advice": 0.08,
    "debt-advice": 0.04,
    "food-bank": 0.04,
    "employment-support": 0.03,
    "befriending-peer-support": 0.07,
    "community-group-activity": 0.08,
    "physical-activity": 0.08,
    "arts-creative": 0.04,
    "mental-health-talking-therapies": 0.07,
    "carers-support": 0.02,
    "form-filling-support": 0.04,
    "digital-skills": 0.02,
    "domestic-abuse-support": 0.01,
    "adult-social-care": 0.02,
    "gp-clinical-follow-up": 0.03,
    "health-coaching": 0.05,
    "signposting-information-only": 0.06,
    "transport-support": 0.01,
}
STATUSES = {"closed": 0.60, "accepted": 0.22, "declined": 0.07, "cancelled": 0.03, "received": 0.08}
CLOSURE_REASONS = {
    "needs-met": 0.45,
    "needs-partially-met": 0.20,
    "person-declined": 0.08,
    "unable-to-contact": 0.12,
    "referred-to-more-appropriate-service": 0.07,
    "moved-away": 0.03,
    "died": 0.01,
    "duplicate": 0.02,
    "other": 0.02,
}
ATTENDANCE = {
    "attended": 0.72,
    "dna": 0.14,
    "cancelled-by-patient": 0.06,
    "cancelled-by-provider": 0.03,
    "not-seen": 0.02,
    "booked": 0.03,
}
AGE_BANDS = {
    "0-17": 0.04,
    "18-24": 0.08,
    "25-34": 0.15,
    "35-44": 0.16,
    "45-54": 0.17,
    "55-64": 0.16,
    "65-74": 0.12,
    "75-84": 0.09,
    "85+": 0.03,
}
GENDERS = {"female": 0.57, "male": 0.40, "non-binary": 0.01, "not-stated": 0.01, "not-known": 0.01}
ETHNIC = {
    "A": 0.33,
    "B": 0.02,
    "C": 0.12,
    "D": 0.01,
    "E": 0.01,
    "F": 0.01,
    "G": 0.02,
    "H": 0.06,
    "J": 0.04,
    "K": 0.07,
    "L": 0.04,
    "M": 0.05,
    "N": 0.07,
    "P": 0.02,
    "R": 0.01,
    "S": 0.05,
    "Z": 0.04,
    "99": 0.02,
}
INSTRUMENTS = {"wemwbs": 0.35, "swemwbs": 0.35, "ons4": 0.30}
# Who sends: a GP practice for the EMIS roles, else a made-up trust site, council or voluntary
# organisation of the system's own.
OTHER_SENDERS = {
    "rio": ("Y9H01", "Y9H02", "Y9H03", "Y9H04"),
    "api": ("Y9C01", "Y9C02", "Y9C03", "Y9C04", "Y9V01", "Y9V02"),
    "import": ("Y9C01", "Y9C02", "Y9C03"),
}
# The gaps senders leave (besides "reason not recorded"), as shares of referrals per system:
# reason codes Signpost cannot map, reasons as text only, elements kept but not read.
GAP_RATES = {
    "emis": {"unmapped-code": 0.05, "uncoded-text": 0.03, "not-interpreted": 0.02},
    "rio": {"unmapped-code": 0.08, "uncoded-text": 0.10, "not-interpreted": 0.30},
    "api": {"unmapped-code": 0.02, "uncoded-text": 0.05, "not-interpreted": 0.05},
    "import": {"unmapped-code": 0.10, "uncoded-text": 0.15, "not-interpreted": 0.10},
}
LOCAL_REASON_SYSTEM = "https://rio.example/local-reason"
LOCAL_REASON_CODES = 40
# Workers by the sender's staff identifier (no names), a pool per role; one holds each
# referral's Task (most), and takes most of its contacts.
WORKERS_PER_ROLE = 300
OWNED_SHARE = 0.9
OWNER_TAKES_CONTACT = 0.85
# Service use (GP appointments, A&E attendances, emergency admissions) counted six months
# before and after the referral date, for a share of referrals (a loaded extract).
SERVICE_USE_SHARE = 0.4
SERVICE_USE_MEANS = {
    "gp-appointments": (4.0, 3.2),
    "ae-attendances": (0.8, 0.6),
    "emergency-admissions": (0.3, 0.25),
}
ONS4 = ("ons4-life-satisfaction", "ons4-worthwhile", "ons4-happiness", "ons4-anxiety")


def _weighted(table: dict[Any, float]) -> tuple[list[Any], list[float]]:
    keys = list(table)
    total = sum(table.values())
    cumulative, running = [], 0.0
    for key in keys:
        running += table[key] / total
        cumulative.append(running)
    return keys, cumulative


class Choice:
    """Draws from a weighted table fast (cumulative weights, bisection)."""

    def __init__(self, table: dict[Any, float]) -> None:
        self.keys, self.cumulative = _weighted(table)

    def __call__(self, rng: random.Random) -> Any:
        return rng.choices(self.keys, cum_weights=self.cumulative)[0]


@dataclass
class Geography:
    """Made-up London PCNs, practices and LSOAs (with IMD deciles) shared by all batches."""

    practices: list[tuple[str, str]] = field(default_factory=list)  # (practice, pcn)
    lsoas: list[tuple[str, int]] = field(default_factory=list)  # (lsoa, decile)

    @classmethod
    def make(cls) -> "Geography":
        rng = random.Random(7)
        geography = cls()
        for pcn in range(PCN_COUNT):
            for practice in range(PRACTICES_PER_PCN):
                geography.practices.append((f"Y9{pcn:02d}{practice:02d}", f"U9{pcn:04d}"))
        for index in range(LSOA_COUNT):
            # Inner London is more deprived: skew the deciles low.
            decile = min(10, 1 + int(rng.betavariate(1.6, 2.6) * 10))
            geography.lsoas.append((f"E0199{index:04d}", decile))
        return geography


def synthetic_nhs_number(serial: int) -> str:
    """A valid (Modulus 11) NHS number starting 99 (an unissued range): synthetic people."""
    while not (number := with_check_digit(f"99{serial % 100_000_000:08d}"[:9])):
        serial += 7_919
    return number


def referral_id(number: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"referral/{number}"))


class Generator:
    """Rows of every table for referral numbers [start, end)."""

    def __init__(self, geography: Geography) -> None:
        self.geography = geography
        self.role = Choice({r: w for r, (w, _, _) in ROLES.items()})
        self.sources = {s: Choice(t) for s, t in SOURCES_BY_SYSTEM.items()}
        self.reason = Choice(REASONS)
        self.reason_count = Choice(REASON_COUNTS)
        self.support = Choice(SUPPORT)
        self.status = Choice(STATUSES)
        self.closure = Choice(CLOSURE_REASONS)
        self.attendance = Choice(ATTENDANCE)
        self.age_band = Choice(AGE_BANDS)
        self.gender = Choice(GENDERS)
        self.ethnic = Choice(ETHNIC)
        self.instrument = Choice(INSTRUMENTS)
        # Practices differ in size: a few big ones.
        self.practice = Choice(
            {i: 0.5 + (i * 7919 % 13) / 6 for i in range(len(geography.practices))}
        )
        reason_list = codes.referral_reasons()
        self.reason_concepts = {c.code: c for c in reason_list}
        self.support_groups = {c.code: c.group for c in codes.support_offered()}
        self.source_codes: dict[str, list[tuple[str, str]]] = {}
        for concept in codes.sources_of_referral():
            self.source_codes.setdefault(concept.group, []).append((concept.system, concept.code))
        self.ethnic_groups = {c.code: c.group for c in codes.ethnic_categories()}
        from referral_api.reports.matching import support_groups_for

        mapping = support_groups_for()
        self.support_for_group = {
            group: [code for code, g in self.support_groups.items() if g in targets]
            for group, targets in mapping.items()
        }

    def rows(self, start: int, end: int) -> dict[str, list[tuple[Any, ...]]]:
        rng = random.Random(start * 7 + 1)
        # Senders and gaps draw from their own stream, so the other tables stay as they were.
        side = random.Random(start * 11 + 2)
        tables: dict[str, list[tuple[Any, ...]]] = {name: [] for name in COLUMNS}
        span = (LAST_DAY - FIRST_DAY).total_seconds()
        recent: list[tuple[str, str, str, datetime, datetime | None]] = []
        for number in range(start, end):
            # Referrals grow over the years (more roles recruited): sqrt skews later.
            authored = FIRST_DAY + timedelta(seconds=span * math.sqrt(rng.random()))
            authored = authored.replace(microsecond=0)
            role = self.role(rng)
            system = ROLES[role][1]
            ident = referral_id(number)
            # One referral in ten is for someone referred recently: to another role at once
            # (a parallel referral) or to the same role again after the first ended.
            link: tuple[str, str] | None = None
            if recent and rng.random() < 0.10:
                other_id, other_role, other_nhs, _, other_end = recent[rng.randrange(len(recent))]
                nhs_number = other_nhs
                if other_role != role:
                    link = (other_id, "parallel")
                elif other_end is not None:
                    link = (other_id, "re-referral")
            else:
                nhs_number = synthetic_nhs_number(number * 13 + 5)
            source_group = self.sources[system](rng)
            source_system, source_code = rng.choice(self.source_codes[source_group])
            status = self.status(rng)
            if (LAST_DAY - authored).days < 30 and status in ("closed", "declined"):
                status = "accepted"
            reasons = self._reasons(rng, role)
            sender = self._sender(side, system)
            tables["referral"].append(
                (
                    ident,
                    1,
                    "completed" if status == "closed" else "active",
                    "order",
                    nhs_number,
                    sender,
                    role,
                    source_system,
                    source_code,
                    source_group,
                    system,
                    authored,
                    authored,
                    authored,
                    authored,
                    nhs_number,  # person_key: the NHS number
                    _service_request(
                        ident,
                        nhs_number,
                        role,
                        sender,
                        source_system,
                        source_code,
                        reasons,
                        authored,
                        status,
                        self.reason_concepts,
                    ),
                )
            )
            tables["referral_identifier"].append(
                (
                    f"https://{system}.example/referral-id",
                    f"{system.upper()}-{number:08d}",
                    ident,
                )
            )
            for rank, code in enumerate(reasons, start=1):
                concept = self.reason_concepts[code]
                tables["referral_reason"].append(
                    (ident, rank, concept.system, code, None, concept.group)
                )
            tables["referral_gap"].extend(self._gaps(side, ident, system, reasons))
            self._person(rng, tables, ident, nhs_number, authored)
            first_task, first_contact = len(tables["referral_task"]), len(tables["contact"])
            end_at = self._lifecycle(rng, tables, ident, nhs_number, authored, status, reasons)
            self._workers(side, tables, ident, role, system, first_task, first_contact)
            self._service_use(side, tables, ident, authored)
            recent.append((ident, role, nhs_number, authored, end_at))
            if len(recent) > 5_000:
                recent.pop(0)
            if link is not None:
                other, kind = link
                for a, b, link_type in link_rows(earlier=other, later=ident, kind=kind):
                    tables["referral_link"].append((a, b, link_type, nhs_number))
        return tables

    def _sender(self, rng: random.Random, system: str) -> str:
        if system == "emis":
            return self.geography.practices[self.practice(rng)][0]
        return rng.choice(OTHER_SENDERS[system])

    def _gaps(
        self, rng: random.Random, ident: str, system: str, reasons: list[str]
    ) -> list[tuple[Any, ...]]:
        """The gaps the write path would have recorded: a reason not recorded, and the
        system's share of unmapped codes, text-only reasons and elements not interpreted."""
        gaps: list[tuple[str, str, str | None]] = []
        if reasons == ["reason-not-recorded"]:
            gaps.append(("not-recorded", "ServiceRequest.reasonCode", None))
        for kind, rate in GAP_RATES[system].items():
            if rng.random() >= rate:
                continue
            if kind == "unmapped-code":
                code = f"{LOCAL_REASON_SYSTEM}|L{rng.randrange(LOCAL_REASON_CODES):03d}"
                gaps.append((kind, f"ServiceRequest.reasonCode[{len(reasons)}]", code))
            elif kind == "uncoded-text":
                gaps.append((kind, f"ServiceRequest.reasonCode[{len(reasons)}]", None))
            else:
                gaps.append((kind, "ServiceRequest.extension('https://rio.example/ward')", None))
        return [(ident, position, *gap) for position, gap in enumerate(gaps)]

    def _workers(
        self,
        rng: random.Random,
        tables: dict[str, list[tuple[Any, ...]]],
        ident: str,
        role: str,
        system: str,
        first_task: int,
        first_contact: int,
    ) -> None:
        """The referral's Task owner (most Tasks have one) and a worker on each contact: the
        owner mostly, another worker of the role otherwise."""
        staff = f"https://{system}.example/staff-id"

        def worker() -> str:
            return f"{role[:12]}-{rng.randrange(WORKERS_PER_ROLE):04d}"

        owner = worker() if rng.random() < OWNED_SHARE else None
        tasks = tables["referral_task"]
        for index in range(first_task, len(tasks)):
            tasks[index] = (*tasks[index], staff if owner else None, owner)
        for contact in tables["contact"][first_contact:]:
            seen_by = owner if owner and rng.random() < OWNER_TAKES_CONTACT else worker()
            tables["contact_worker"].append((contact[0], 0, ident, staff, seen_by, None))

    def _service_use(
        self,
        rng: random.Random,
        tables: dict[str, list[tuple[Any, ...]]],
        ident: str,
        authored: datetime,
    ) -> None:
        """Counts for the six months before the referral and, once they have passed, after."""
        if rng.random() >= SERVICE_USE_SHARE:
            return
        day = authored.date()
        periods: list[Period] = ["before"]
        if six_months(day, "after").end < LAST_DAY.date():
            periods.append("after")
        for measure, means in SERVICE_USE_MEANS.items():
            for period in periods:
                counted = six_months(day, period)
                mean = means[0] if period == "before" else means[1]
                count = min(_poisson(rng, mean), MAX_COUNT)
                row_id = str(uuid.uuid5(_NAMESPACE, f"service-use/{ident}/{measure}/{period}"))
                at = datetime.combine(counted.end, datetime.min.time(), UTC)
                tables["service_use"].append(
                    (
                        row_id,
                        ident,
                        measure,
                        period,
                        counted.start,
                        counted.end,
                        count,
                        "final",
                        "extract",
                        None,
                        at,
                        "0" * 64,
                        1,
                        at,
                        _service_use_observation(row_id, ident, measure, counted, count),
                    )
                )

    def _reasons(self, rng: random.Random, role: str) -> list[str]:
        if rng.random() < ROLES[role][2]:
            return ["reason-not-recorded"]
        wanted = self.reason_count(rng)
        chosen: list[str] = []
        while len(chosen) < wanted:
            code = self.reason(rng)
            if code not in chosen:
                chosen.append(code)
        return chosen

    def _person(
        self,
        rng: random.Random,
        tables: dict[str, list[tuple[Any, ...]]],
        ident: str,
        nhs_number: str,
        authored: datetime,
    ) -> None:
        practice, pcn = self.geography.practices[self.practice(rng)]
        has_lsoa = rng.random() < 0.85
        lsoa = self.geography.lsoas[rng.randrange(LSOA_COUNT)][0] if has_lsoa else None
        ethnic = self.ethnic(rng) if rng.random() < 0.93 else None
        tables["referral_person"].append(
            (
                ident,
                nhs_number,
                None,
                self.age_band(rng) if rng.random() < 0.97 else None,
                self.gender(rng),
                ethnic,
                self.ethnic_groups.get(ethnic) if ethnic else None,
                "E15" if has_lsoa else "E13",
                lsoa,
                "2021" if lsoa else None,
                "derived" if lsoa else "district-only",
                practice,
                pcn,
                authored,
                "0" * 64,
            )
        )

    def _lifecycle(
        self,
        rng: random.Random,
        tables: dict[str, list[tuple[Any, ...]]],
        ident: str,
        nhs_number: str,
        authored: datetime,
        status: str,
        reasons: list[str],
    ) -> datetime | None:
        first_contact = closed_at = declined_at = cancelled_at = accepted_at = None
        closure_reason = closure_outcome = decline_reason = None
        contacts: list[tuple[datetime, str]] = []
        if status in ("accepted", "closed"):
            accepted_at = authored + timedelta(days=rng.randint(0, 5))
            if rng.random() < 0.88:
                wait = min(rng.lognormvariate(math.log(12), 0.8), 200)
                first_contact = authored + timedelta(days=wait, hours=rng.randint(0, 8))
                # Missed appointments before the first attended one.
                moment = authored + timedelta(days=max(wait - 7, 0))
                while rng.random() < 0.15:
                    contacts.append((moment, "dna"))
                    moment += timedelta(days=2)
                contacts.append((first_contact, "attended"))
                for _ in range(rng.randint(0, 4)):
                    moment = contacts[-1][0] + timedelta(days=rng.randint(5, 21))
                    contacts.append((moment, self.attendance(rng)))
            if status == "closed":
                base = contacts[-1][0] if contacts else accepted_at
                closed_at = base + timedelta(days=min(rng.lognormvariate(math.log(30), 0.7), 300))
                closure_reason = self.closure(rng)
                closure_outcome = (
                    codes.referral_status_and_closure().find_code(closure_reason)[0].group
                )
        elif status == "declined":
            declined_at = authored + timedelta(days=rng.randint(1, 14))
            decline_reason = rng.choice(("01", "02", "03"))
        elif status == "cancelled":
            cancelled_at = authored + timedelta(days=rng.randint(1, 30))
        contacts = [(min(at, LAST_DAY), outcome) for at, outcome in contacts]
        support_count = onward = assessments = 0
        if status in ("accepted", "closed") and rng.random() < 0.8:
            task_id = str(uuid.uuid5(_NAMESPACE, f"task/{ident}"))
            tables["referral_task"].append(
                (
                    task_id,
                    ident,
                    "task-1",
                    "completed" if status == "closed" else "in-progress",
                    status,
                    None,
                    closure_reason,
                    closure_outcome,
                    accepted_at,
                    closed_at,
                    accepted_at,
                    "0" * 64,
                    1,
                    accepted_at,
                    _task(task_id, ident, status),
                )
            )
            offered = self._support(rng, reasons)
            for position, code in enumerate(offered, start=1):
                kind = "referral" if rng.random() < 0.3 else "signpost"
                onward += kind == "referral"
                tables["support_offered"].append(
                    (
                        task_id,
                        position,
                        ident,
                        code,
                        self.support_groups[code],
                        kind,
                        None,
                        None,
                        accepted_at,
                    )
                )
            support_count = len(offered)
        for index, (at, outcome) in enumerate(contacts):
            contact_id = str(uuid.uuid5(_NAMESPACE, f"contact/{ident}/{index}"))
            tables["contact"].append(
                (
                    contact_id,
                    ident,
                    f"enc-{index}",
                    "finished",
                    at,
                    "https://www.datadictionary.nhs.uk/attributes/consultation_mechanism",
                    rng.choice(("01", "02", "04")),
                    "face-to-face",
                    ATTENDANCE_CODES[outcome],
                    outcome,
                    at,
                    "0" * 64,
                    1,
                    at,
                    _encounter(contact_id, ident, at, outcome),
                )
            )
        if status in ("accepted", "closed") and rng.random() < 0.6:
            assessments = self._assessments(rng, tables, ident, authored, closed_at)
        tables["referral_lifecycle"].append(
            (
                ident,
                status,
                "active",
                accepted_at,
                declined_at,
                "https://www.datadictionary.nhs.uk/data_elements/referral_rejection_reason"
                if decline_reason
                else None,
                decline_reason,
                cancelled_at,
                closed_at,
                closure_reason,
                closure_outcome,
                first_contact,
                len(contacts),
                sum(1 for _, o in contacts if o == "dna"),
                support_count,
                onward,
                assessments,
            )
        )
        return closed_at or declined_at or cancelled_at

    def _support(self, rng: random.Random, reasons: list[str]) -> list[str]:
        wanted = rng.choice((1, 1, 2, 2, 3))
        chosen: list[str] = []
        group = self.reason_concepts[reasons[0]].group
        if rng.random() < 0.55 and self.support_for_group.get(group):
            chosen.append(rng.choice(self.support_for_group[group]))
        while len(chosen) < wanted:
            code = self.support(rng)
            if code not in chosen:
                chosen.append(code)
        return chosen

    def _assessments(
        self,
        rng: random.Random,
        tables: dict[str, list[tuple[Any, ...]]],
        ident: str,
        authored: datetime,
        closed_at: datetime | None,
    ) -> int:
        instrument = self.instrument(rng)
        moments = [("baseline", authored + timedelta(days=rng.randint(3, 20)))]
        if closed_at is not None and rng.random() < 0.6:
            moments.append(("follow-up", closed_at - timedelta(days=rng.randint(0, 5))))
        start = {"wemwbs": rng.gauss(41, 8), "swemwbs": rng.gauss(20, 4)}
        for index, (timepoint, at) in enumerate(moments):
            assessment_id = str(uuid.uuid5(_NAMESPACE, f"assessment/{ident}/{index}"))
            gain = rng.gauss(3, 4) if timepoint == "follow-up" else 0.0
            total = None
            if instrument == "wemwbs":
                total = float(max(14, min(70, round(start["wemwbs"] + gain * 1.5))))
            elif instrument == "swemwbs":
                total = round(max(7.0, min(35.0, start["swemwbs"] + gain * 0.7)), 2)
            else:
                for code in ONS4:
                    value = rng.randint(2, 8) + (
                        (-1 if code == "ons4-anxiety" else 1) * round(gain / 3)
                        if timepoint == "follow-up"
                        else 0
                    )
                    tables["assessment_score"].append(
                        (assessment_id, code, float(max(0, min(10, value))), None)
                    )
            tables["assessment"].append(
                (
                    assessment_id,
                    ident,
                    f"obs-{index}",
                    "final",
                    instrument,
                    timepoint,
                    at,
                    total,
                    at,
                    "0" * 64,
                    1,
                    at,
                    _observation(assessment_id, ident, instrument, timepoint, at, total),
                )
            )
        return len(moments)


def _service_request(
    ident: str,
    nhs_number: str,
    role: str,
    sender: str,
    source_system: str,
    source_code: str,
    reasons: Sequence[str],
    authored: datetime,
    status: str,
    concepts: dict[str, Any],
) -> str:
    """A ServiceRequest the size of the ones the service stores (about 1.5 KB)."""
    return orjson.dumps(
        {
            "resourceType": "ServiceRequest",
            "id": ident,
            "meta": {
                "versionId": "1",
                "lastUpdated": authored.isoformat(),
                "profile": [systems.SERVICE_REQUEST_PROFILE],
            },
            "identifier": [{"system": "https://emis.example/referral-id", "value": ident[:13]}],
            "extension": [
                coded_extension(
                    systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION, source_system, source_code
                ),
                {
                    "url": "https://signpost.nhs.example/StructureDefinition/"
                    "Extension-Signpost-ReferralLifecycle",
                    "extension": [
                        {"url": "status", "valueCode": status},
                        {"url": "contacts", "valueInteger": 2},
                        {"url": "didNotAttend", "valueInteger": 0},
                        {"url": "supportOffered", "valueInteger": 1},
                        {"url": "sourceSystem", "valueCode": "emis"},
                    ],
                },
            ],
            "status": "completed" if status == "closed" else "active",
            "intent": "order",
            "subject": {"identifier": {"system": systems.NHS_NUMBER, "value": nhs_number}},
            "authoredOn": authored.isoformat(),
            "requester": {"identifier": {"system": systems.ODS_ORGANIZATION, "value": sender}},
            "performerType": {"coding": [{"system": systems.PERSONALISED_CARE_ROLE, "code": role}]},
            "reasonCode": [
                {
                    "coding": [
                        {"system": concepts[c].system, "code": c, "display": concepts[c].display}
                    ]
                }
                for c in reasons
            ],
        }
    ).decode()


def _task(task_id: str, ident: str, status: str) -> str:
    return orjson.dumps(
        {
            "resourceType": "Task",
            "id": task_id,
            "status": status,
            "intent": "order",
            "focus": {"reference": f"ServiceRequest/{ident}"},
            "basedOn": [{"reference": f"ServiceRequest/{ident}"}],
            "output": [
                {
                    "type": {
                        "coding": [
                            {"system": systems.SUPPORT_OFFERED, "code": "diet-healthy-eating"}
                        ]
                    },
                    "valueCodeableConcept": {
                        "coding": [
                            {"system": systems.SUPPORT_OFFERED, "code": "diet-healthy-eating"}
                        ]
                    },
                }
            ],
        }
    ).decode()


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; the means here are small)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _service_use_observation(
    row_id: str, ident: str, measure: str, counted: CountedPeriod, count: int
) -> str:
    return orjson.dumps(
        {
            "resourceType": "Observation",
            "id": row_id,
            "status": "final",
            "code": {"coding": [{"system": profiles.SERVICE_USE, "code": measure}]},
            "basedOn": [{"reference": f"ServiceRequest/{ident}"}],
            "effectivePeriod": {
                "start": counted.start.isoformat(),
                "end": counted.end.isoformat(),
            },
            "valueInteger": count,
        }
    ).decode()


def _encounter(contact_id: str, ident: str, at: datetime, outcome: str) -> str:
    return orjson.dumps(
        {
            "resourceType": "Encounter",
            "id": contact_id,
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "basedOn": [{"reference": f"ServiceRequest/{ident}"}],
            "period": {"start": at.isoformat()},
            "extension": [
                {
                    "url": "https://signpost.nhs.example/StructureDefinition/"
                    "Extension-Signpost-Attendance",
                    "valueCodeableConcept": {"coding": [{"code": ATTENDANCE_CODES[outcome]}]},
                }
            ],
        }
    ).decode()


def _observation(
    assessment_id: str,
    ident: str,
    instrument: str,
    timepoint: str,
    at: datetime,
    total: float | None,
) -> str:
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "id": assessment_id,
        "status": "final",
        "code": {
            "coding": [
                {
                    "system": "https://signpost.nhs.example/CodeSystem/assessment-instrument",
                    "code": instrument,
                }
            ]
        },
        "basedOn": [{"reference": f"ServiceRequest/{ident}"}],
        "effectiveDateTime": at.isoformat(),
        "extension": [
            {
                "url": "https://signpost.nhs.example/StructureDefinition/"
                "Extension-Signpost-AssessmentTimepoint",
                "valueCode": timepoint,
            }
        ],
    }
    if total is not None:
        body["valueQuantity"] = {"value": total}
    return orjson.dumps(body).decode()


COLUMNS: dict[str, tuple[str, ...]] = {
    "referral": (
        "id",
        "version",
        "status",
        "intent",
        "nhs_number",
        "requester_ods",
        "received_by_role",
        "source_of_referral_system",
        "source_of_referral_code",
        "source_of_referral_group",
        "source_system",
        "source_updated_at",
        "authored_at",
        "created_at",
        "last_updated_at",
        "person_key",
        "resource",
    ),
    "referral_identifier": ("identifier_system", "identifier_value", "referral_id"),
    "referral_gap": ("referral_id", "position", "kind", "element", "code"),
    "referral_reason": (
        "referral_id",
        "rank",
        "reason_system",
        "reason_code",
        "reason_text",
        "reason_group",
    ),
    "referral_person": (
        "referral_id",
        "nhs_number",
        "birth_year",
        "age_band",
        "gender",
        "ethnic_category",
        "ethnic_group",
        "postcode_district",
        "lsoa_code",
        "lsoa_vintage",
        "lsoa_status",
        "practice_ods",
        "pcn_ods",
        "as_of",
        "content_hash",
    ),
    "referral_lifecycle": (
        "referral_id",
        "status",
        "sender_status",
        "accepted_at",
        "declined_at",
        "decline_reason_system",
        "decline_reason_code",
        "cancelled_at",
        "closed_at",
        "closure_reason_code",
        "closure_outcome",
        "first_contact_at",
        "contact_count",
        "dna_count",
        "support_offered_count",
        "onward_referral_count",
        "assessment_count",
    ),
    "referral_task": (
        "id",
        "referral_id",
        "source_id",
        "status",
        "lifecycle_state",
        "reason_system",
        "reason_code",
        "closure_outcome",
        "accepted_at",
        "ended_at",
        "as_of",
        "content_hash",
        "version",
        "last_updated_at",
        "resource",
        "owner_system",
        "owner_value",
    ),
    "support_offered": (
        "task_id",
        "position",
        "referral_id",
        "support_code",
        "support_group",
        "kind",
        "directory_service_id",
        "directory_service_name",
        "offered_at",
    ),
    "contact": (
        "id",
        "referral_id",
        "source_id",
        "status",
        "contact_at",
        "mechanism_system",
        "mechanism_code",
        "mechanism_group",
        "attendance_code",
        "attendance_outcome",
        "as_of",
        "content_hash",
        "version",
        "last_updated_at",
        "resource",
    ),
    "assessment": (
        "id",
        "referral_id",
        "source_id",
        "status",
        "instrument",
        "timepoint",
        "assessed_at",
        "total_score",
        "as_of",
        "content_hash",
        "version",
        "last_updated_at",
        "resource",
    ),
    "assessment_score": ("assessment_id", "item_code", "value", "value_text"),
    "referral_link": ("referral_id", "linked_referral_id", "link_type", "person_key"),
    "contact_worker": (
        "contact_id",
        "position",
        "referral_id",
        "worker_system",
        "worker_value",
        "role",
    ),
    "service_use": (
        "id",
        "referral_id",
        "measure",
        "period",
        "period_start_on",
        "period_end_on",
        "count",
        "status",
        "origin",
        "source_id",
        "as_of",
        "content_hash",
        "version",
        "last_updated_at",
        "resource",
    ),
}
# Parents before children (foreign keys are checked row by row during COPY).
ORDER = (
    "referral",
    "referral_identifier",
    "referral_gap",
    "referral_reason",
    "referral_person",
    "referral_lifecycle",
    "referral_task",
    "support_offered",
    "contact",
    "assessment",
    "assessment_score",
    "referral_link",
    "contact_worker",
    "service_use",
)


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def load_lookups(connection: asyncpg.Connection, geography: Geography) -> None:
    """The made-up practices' PCNs and list sizes, and the LSOAs' IMD deciles."""
    for table in ("practice_pcn", "lsoa_imd", "list_size"):
        await connection.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
    await connection.copy_records_to_table(
        "practice_pcn", records=geography.practices, columns=["practice_ods", "pcn_ods"]
    )
    await connection.copy_records_to_table(
        "lsoa_imd",
        records=[(code, decile, None, "2021") for code, decile in geography.lsoas],
        columns=["lsoa_code", "imd_decile", "imd_rank", "lsoa_vintage"],
    )
    rng = random.Random(11)
    rows: list[tuple[Any, ...]] = []
    pcn_totals: dict[tuple[str, str, str], int] = {}
    for practice, pcn in geography.practices:
        size = rng.randint(4_000, 22_000)
        for band, share in AGE_BANDS.items():
            for sex, split in (("male", 0.49), ("female", 0.51)):
                population = int(size * share * split * rng.uniform(0.85, 1.15))
                rows.append(("practice", practice, band, sex, population, pcn, None))
                key = (pcn, band, sex)
                pcn_totals[key] = pcn_totals.get(key, 0) + population
    rows += [("pcn", pcn, band, sex, n, None, None) for (pcn, band, sex), n in pcn_totals.items()]
    await connection.copy_records_to_table(
        "list_size",
        records=rows,
        columns=[
            "area_type",
            "area_code",
            "age_band",
            "sex",
            "population",
            "pcn_ods",
            "extract_on",
        ],
    )
    await connection.execute(
        "INSERT INTO lookup_load (lookup, source, is_sample, row_count, loaded_at) VALUES "
        "('list-size', 'bench (synthetic)', true, $1, now()), "
        "('lsoa-imd', 'bench (synthetic)', true, $2, now())",
        len(rows),
        len(geography.lsoas),
    )


async def generate(url: str, start: int, count: int, progress: bool = True) -> dict[str, int]:
    """Write referrals numbered [start, start + count) and all their rows; returns row counts."""
    geography = Geography.make()
    generator = Generator(geography)
    connection = await asyncpg.connect(asyncpg_dsn(url))
    # A bulk load of rows generated consistent: skip the per-row foreign-key triggers and the
    # commit flush (needs a superuser, as the benchmark's local server is).
    await connection.execute("SET session_replication_role = replica")
    await connection.execute("SET synchronous_commit = off")
    written = dict.fromkeys(ORDER, 0)
    began = time.monotonic()
    try:
        if start == 0:
            await load_lookups(connection, geography)
        for batch_start in range(start, start + count, BATCH):
            batch_end = min(batch_start + BATCH, start + count)
            tables = generator.rows(batch_start, batch_end)
            async with connection.transaction():
                for table in ORDER:
                    if tables[table]:
                        await connection.copy_records_to_table(
                            table, records=tables[table], columns=list(COLUMNS[table])
                        )
                        written[table] += len(tables[table])
            if progress:
                done = batch_end - start
                rate = done / (time.monotonic() - began)
                print(
                    f"\r{done:,}/{count:,} referrals ({rate:,.0f}/s)",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        await connection.close()
    if progress:
        print(file=sys.stderr)
    return written


async def build_facts(url: str) -> None:
    """Derive the report facts of every referral (the COPY bypassed the triggers that queue
    them), then VACUUM ANALYZE the tables written, as autovacuum eventually would: until a
    table is vacuumed PostgreSQL cannot answer from its indexes alone."""
    engine, sessionmaker = facts.maintenance_sessions(url)
    try:
        settings = ReferralSettings()
        await facts.rebuild(sessionmaker, settings.pseudonym_key, settings.disclosure_key)
    finally:
        await engine.dispose()
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(
            f"VACUUM ANALYZE {', '.join(ORDER)}, report_referral, report_reason, "
            "report_reason_pair, report_support, report_score, report_service_use, "
            "report_service_use_reason, report_referral_month, report_reason_pair_month, "
            "report_activity, report_quality, report_quality_day, report_quality_month, "
            "report_unmapped, "
            "report_person, report_key, report_code, report_change, list_size, lsoa_imd"
        )
    finally:
        await connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a migrated referral-api database")
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--start", type=int, default=0, help="first referral number (top-up)")
    args = parser.parse_args(argv)
    began = time.monotonic()
    written = asyncio.run(generate(args.database_url, args.start, args.count))
    print(", ".join(f"{table} {n:,}" for table, n in written.items()))
    print(f"rows written in {time.monotonic() - began:.0f} s")
    asyncio.run(build_facts(args.database_url))
    print(f"report facts built; done in {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
