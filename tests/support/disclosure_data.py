"""A seeded synthetic dataset with many small cells, for testing disclosure control.

About 600 referrals spread over roles, three months, age bands, genders and source systems,
with every lifecycle status, closure and decline reasons and contacts, so that most cells of
a two-way breakdown hold 1 to 12 referrals. Every person is synthetic; the same seed always
gives the same rows.
"""

import random

from tests.support.reports import Dataset, Person

ROLES = ("social-prescribing-link-worker", "care-coordinator", "health-and-wellbeing-coach")
MONTHS = ("2026-01", "2026-02", "2026-03")
AGE_BANDS = ("18-24", "45-54", "75-84", "85+")
GENDERS = ("female", "male", "non-binary")
SOURCE_SYSTEMS = ("emis", "rio", "import")
CLOSURE_REASONS = ("needs-met", "unable-to-contact", "moved-away")
DECLINE_REASONS = ("01", "02")
STATUSES = ("received", "accepted", "declined", "cancelled", "closed")
STATUS_WEIGHTS = (3, 4, 1, 1, 4)
OUTCOMES = ("attended", "dna", "cancelled-by-patient")


def small_cells_dataset(seed: int = 20261203, referrals: int = 600) -> Dataset:
    """The dataset: `referrals` referrals, drawn with `seed`."""
    draw = random.Random(seed)
    dataset = Dataset()
    for index in range(referrals):
        status = draw.choices(STATUSES, STATUS_WEIGHTS)[0]
        ended = draw.randint(5, 40) if status in ("declined", "cancelled", "closed") else None
        first_contact = draw.randint(1, 20) if status in ("accepted", "closed") else None
        referral_id = dataset.referral(
            authored=f"{draw.choice(MONTHS)}-{draw.randint(1, 28):02d}",
            person=f"person-{draw.randint(0, referrals * 3 // 4)}",
            role=draw.choices(ROLES, (6, 3, 1))[0],
            source_system=draw.choices(SOURCE_SYSTEMS, (6, 3, 1))[0],
            details=Person(
                age_band=draw.choices(AGE_BANDS, (2, 5, 3, 1))[0],
                gender=draw.choices(GENDERS, (10, 8, 1))[0],
                lsoa=draw.choice(("E01033011", None)),
            ),
            status=None if status == "received" else status,
            first_contact_days=first_contact,
            ended_days=ended,
            closure_reason=draw.choices(CLOSURE_REASONS, (6, 2, 1))[0]
            if status == "closed"
            else None,
            decline_reason=draw.choice(DECLINE_REASONS) if status == "declined" else None,
        )
        if first_contact is not None and index % 2 == 0:
            dataset.contacts(referral_id, *draw.choices(OUTCOMES, (6, 2, 1), k=draw.randint(1, 3)))
    return dataset
