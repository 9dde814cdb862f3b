"""'Has the referral ended' is defined once (`referral_api.rendering.ended`): its SQL form, which
linkage reads with each person's referrals, gives what its Python form, which message
processing and the lifecycle summary read, gives, for every combination of the dates that end a
referral, on both databases."""

import itertools
from datetime import UTC, datetime

from sqlalchemy import select

from referral_api.lifecycle.models import ReferralLifecycle
from referral_api.lifecycle.repository import LifecycleRepository
from referral_api.lifecycle.service import Summary
from referral_api.linkage.repository import LinkageRepository
from referral_api.referrals.models import Referral
from referral_api.rendering import ended
from tests.referral.conftest import WRITE
from tests.support.builders import fresh_nhs_number, service_request

# Out of date order on purpose: the first column set wins, not the earliest date.
DATES = {
    "closed_at": datetime(2026, 10, 20, 9, 0, tzinfo=UTC),
    "declined_at": datetime(2026, 10, 5, 9, 0, tzinfo=UTC),
    "cancelled_at": datetime(2026, 10, 12, 9, 0, tzinfo=UTC),
}


def _summary(referral_id: str, set_columns: tuple[str, ...]) -> dict:
    """A lifecycle summary with nothing recorded but the dates in `set_columns`."""
    values = {column.name: None for column in ReferralLifecycle.__table__.columns}
    values.update((name, 0) for name in values if name.endswith("_count"))
    values.update(referral_id=referral_id, status="received", sender_status="active")
    return values | {column: DATES[column] for column in set_columns}


async def test_ended_at_in_sql_is_ended_at_in_python(client, referral_app):
    combinations = [
        combination
        for size in range(len(ended.ENDED_BY) + 1)
        for combination in itertools.combinations(ended.ENDED_BY, size)
    ]
    summaries, first_set = {}, {}
    for number, combination in enumerate(combinations):
        body = service_request(identifier=f"ENDED-{number}", nhs_number=fresh_nhs_number())
        response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)
        assert response.status_code == 201, response.text
        referral_id = response.json()["id"]
        summaries[referral_id] = _summary(referral_id, combination)
        first_set[referral_id] = DATES[combination[0]] if combination else None

    async with referral_app.state.database.sessionmaker() as session, session.begin():
        repository = LifecycleRepository(session)
        for values in summaries.values():
            await repository.save_summary(values, exists=False)
    async with referral_app.state.database.sessionmaker() as session:
        people = await session.scalars(
            select(Referral.person_key).where(Referral.id.in_(summaries)).distinct()
        )
        linkage = LinkageRepository(session)
        in_sql = {
            referral.id: referral.ended_at
            for person in people.all()
            for referral in (await linkage.referrals_and_links_of(person))[0]
        }

    in_python = {key: ended.ended_at(values) for key, values in summaries.items()}
    assert in_sql == in_python
    assert in_python == {key: Summary(values).ended_at for key, values in summaries.items()}
    # Closed, else declined, else cancelled (a summary holds at most one; the order decides).
    assert in_python == first_set
