"""`python -m referral_api.linkage.relink`: every person's links worked out again, as after a
change of the linkage window."""

import asyncio

import pytest

from referral_api.linkage.relink import Relinked, main, relink_everyone
from tests.referral.conftest import WRITE
from tests.support.builders import NHS_NUMBERS, service_request
from tests.support.rows import count_rows


async def refer(client, identifier: str, nhs_number: str, role: str, authored: str) -> None:
    body = service_request(
        identifier=identifier, nhs_number=nhs_number, role=role, authored=authored
    )
    response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)
    assert response.status_code == 201, response.text


async def test_every_person_is_relinked_with_the_window_given(client, referral_app):
    # Two people, each referred to two roles 60 days apart: linked within the 90-day window.
    for n, person in enumerate(NHS_NUMBERS[:2]):
        await refer(client, f"A-{n}", person, "care-navigator", "2026-06-01T09:00:00Z")
        await refer(client, f"B-{n}", person, "health-and-wellbeing-coach", "2026-07-31T09:00:00Z")
    assert await count_rows(referral_app, "referral_link") == 4
    database = referral_app.state.database

    # A window of 30 days: the links go; one person a transaction, both relinked.
    assert await relink_everyone(database, 30, batch=1) == Relinked(people=2, changed=4)
    assert await count_rows(referral_app, "referral_link") == 0
    # Back to 90: they return; relinking again changes nothing.
    assert await relink_everyone(database, 90) == Relinked(people=2, changed=4)
    assert await count_rows(referral_app, "referral_link") == 4
    assert await relink_everyone(database, 90) == Relinked(people=2, changed=0)


async def test_the_command_relinks_the_database_it_is_given_with_the_service_s_window(
    client, referral_app, capsys, monkeypatch
):
    await refer(client, "A-1", NHS_NUMBERS[0], "care-navigator", "2026-06-01T09:00:00Z")
    await refer(client, "B-1", NHS_NUMBERS[0], "health-and-wellbeing-coach", "2026-07-31T09:00:00Z")
    assert await count_rows(referral_app, "referral_link") == 2
    monkeypatch.setenv("REFERRAL_LINKAGE_WINDOW_DAYS", "30")
    url = referral_app.state.settings.database_url

    # The command runs its own event loop, as from a shell.
    assert await asyncio.to_thread(main, ["--database-url", url, "--batch", "10"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "1 people relinked with a window of 30 days; the links of 2 referrals changed"
    )
    assert await count_rows(referral_app, "referral_link") == 0


@pytest.mark.parametrize("batch", ["0", "5001", "-1"])
def test_a_batch_is_one_to_five_thousand_people(batch, capsys):
    with pytest.raises(SystemExit):
        main(["--database-url", "sqlite+aiosqlite:///unused.db", "--batch", batch])
    assert "a batch is 1 to 5000 people" in capsys.readouterr().err
