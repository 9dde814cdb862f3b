"""The reports' OpenAPI examples: every report run on one synthetic dataset, as JSON and CSV.

`python -m tests.support.report_examples` rebuilds
`services/referral-api/src/referral_api/data/report-examples.json` from a fresh SQLite
referral-api; tests/reports/test_examples.py fails when the committed file no longer matches
what the reports answer. The dataset is fixed (seeded), so the output is too.
"""

import asyncio
import json
import random
import tempfile
from pathlib import Path
from typing import Any

import httpx

from referral_api.reports.data_quality import REASON_ELEMENT, SOURCE_OF_REFERRAL_ELEMENT
from signpost_schemas.fhir.gaps import Gap, GapKind
from tests.support.clients import bearer
from tests.support.reports import Dataset, Person

EXAMPLES_FILE = (
    Path(__file__).resolve().parents[2]
    / "services/referral-api/src/referral_api/data/report-examples.json"
)
REPORTS = bearer("reports:read")

_ROLES = ("social-prescribing-link-worker", "care-coordinator", "health-and-wellbeing-coach")
_REASONS = (
    ("105531004", "160932005"),  # housing, finance
    ("422650009",),  # isolation
    ("105531004",),
    ("160932005", "422650009"),
)
_SUPPORT = ("housing-advice", "benefits-welfare-advice", "community-group-activity")
_UNMAPPED = ("http://snomed.info/sct|1082701000000101", "http://snomed.info/sct|224130005")


def _gaps(index: int) -> list[Gap]:
    """Some referrals arrive with data gaps, at different rates per kind."""
    gaps = []
    if index % 4 == 1:
        gaps.append(Gap(GapKind.UNCODED_TEXT, f"{REASON_ELEMENT}[0]", "reason as text only"))
    if index % 5 == 2:
        code = _UNMAPPED[index % 10 == 2]
        gaps.append(Gap(GapKind.UNMAPPED_CODE, f"{REASON_ELEMENT}[1]", "unmapped", code))
    if index % 6 == 3:
        gaps.append(Gap(GapKind.NOT_RECORDED, SOURCE_OF_REFERRAL_ELEMENT, "no source"))
    if index % 9 == 4:
        gaps.append(Gap(GapKind.NO_NHS_NUMBER, "ServiceRequest.subject", "local number"))
    return gaps


def example_dataset() -> Dataset:
    """120 synthetic referrals over three months, three roles and two sources, with contacts,
    support, assessments, service use, closures and declines; enough per group to clear
    suppression."""
    rng = random.Random(2026)
    dataset = Dataset()
    for index in range(120):
        month = 1 + index % 3
        person = Person(
            age_band=("25-34", "45-54", "65-74")[index % 3],
            gender=("female", "male")[index % 2],
            ethnic_category=("A", "M", "N")[index % 3],
        )
        outcome = rng.choice(("closed", "closed", "accepted", "declined", None))
        referral = dataset.referral(
            authored=f"2026-{month:02d}-{1 + index % 27:02d}",
            role=_ROLES[index % 3],
            source=("primary-care", "self-referral")[index % 4 == 0],
            source_system=("emis", "rio")[index % 5 == 0],
            sender=("F84001", "F84002")[index % 7 < 3],
            reasons=_REASONS[index % 4],
            details=person,
            status=outcome,
            first_contact_days=rng.randint(2, 20) if outcome in ("closed", "accepted") else None,
            ended_days=rng.randint(25, 60) if outcome in ("closed", "declined") else None,
            closure_reason=rng.choice(("needs-met", "needs-partially-met", "unable-to-contact")),
            decline_reason="02",
        )
        dataset.gaps(referral, *_gaps(index))
        if outcome in ("closed", "accepted"):
            staff = f"https://emis.example/Id/staff|{_ROLES[index % 3][:2].upper()}-{index % 2}"
            dataset.contacts(
                referral, "attended", rng.choice(("attended", "dna")), workers=((staff, None),)
            )
            dataset.support(referral, _SUPPORT[index % 3])
            dataset.assessment(referral, "wemwbs", "baseline", 1, total=rng.randint(30, 45))
            if outcome == "closed":
                dataset.assessment(referral, "wemwbs", "follow-up", 40, total=rng.randint(38, 55))
                # Service use from the index, not the seeded draws: the other examples stay put.
                dataset.service_use(
                    referral, "gp-appointments", before=4 + index % 7, after=2 + index % 5
                )
                if index % 2 == 0:
                    dataset.service_use(
                        referral, "ae-attendances", before=1 + index % 3, after=(index // 2) % 3
                    )
    return dataset


async def capture(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    """Every report with its default parameters, as JSON and as CSV text."""
    catalogue = (await client.get("/reports", headers=REPORTS)).json()
    examples: dict[str, dict[str, Any]] = {}
    for report in catalogue["reports"]:
        as_json = await client.get(report["href"], headers=REPORTS)
        as_csv = await client.get(report["href"], params={"format": "csv"}, headers=REPORTS)
        for response in (as_json, as_csv):
            response.raise_for_status()
        examples[report["name"]] = {"json": as_json.json(), "csv": as_csv.text}
    return examples


def render(examples: dict[str, dict[str, Any]]) -> str:
    return json.dumps(examples, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


async def _rebuild() -> None:
    from referral_api.config import ReferralSettings
    from referral_api.main import create_app
    from referral_api.reports.load import (
        replace_imd,
        replace_list_sizes,
        sample_imd_rows,
        sample_list_size_rows,
    )
    from tests.support.clients import running
    from tests.support.databases import migrated_database

    with tempfile.TemporaryDirectory() as folder:
        url = await migrated_database("sqlite", Path(folder), "referral")
        app = create_app(ReferralSettings(database_url=url, environment="test"))
        async with running(app, "http://referral.test") as client:
            async with app.state.database.sessionmaker() as session, session.begin():
                await replace_imd(session, sample_imd_rows(), "sample", is_sample=True)
                await replace_list_sizes(session, sample_list_size_rows(), "sample", is_sample=True)
            await example_dataset().write(app)
            EXAMPLES_FILE.write_text(render(await capture(client)), encoding="utf-8")
    print(f"wrote {EXAMPLES_FILE}")


if __name__ == "__main__":
    asyncio.run(_rebuild())
