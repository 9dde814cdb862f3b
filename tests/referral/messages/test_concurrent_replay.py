"""Messages about one referral arriving at the same moment, in any order, converge.

An update that arrives while its referral's `new` message is being written must not be held
for ever: messages about one sender identifier are serialised (on PostgreSQL an advisory lock;
SQLite runs one write transaction at a time).
"""

import asyncio
import random
import re

import pytest

from tests.referral.conftest import READ, send
from tests.support.databases import empty_tables
from tests.support.messages import final_state, journeys
from tests.support.rows import count_rows


@pytest.mark.parametrize("seed", [1, 2])
async def test_journeys_sent_all_at_once_shuffled_and_twice_give_the_in_order_state(
    client, referral_app, sample_postcodes, seed
):
    people = journeys(8)
    messages = [message for journey_messages in people for message in journey_messages]
    for message in messages:
        assert (await send(client, message)).status_code == 200
    in_order = await final_state(Reader(client))
    assert len(in_order) == 8

    await empty_tables(referral_app.state.database.engine)
    from referral_api.geography.load import replace_postcodes, sample_rows

    async with referral_app.state.database.sessionmaker() as session, session.begin():
        await replace_postcodes(session, sample_rows(), "sample", is_sample=True)
    shuffled = messages * 2
    random.Random(seed).shuffle(shuffled)
    responses = await asyncio.gather(*(send(client, m) for m in shuffled))

    assert {r.status_code for r in responses} <= {200, 202}
    assert await count_rows(referral_app, "held_message") == 0
    assert await final_state(Reader(client)) == in_order


class Reader:
    """The test client, reading with a referral:read token."""

    def __init__(self, client):
        self.client = client

    async def get(self, url, params=None):
        return await self.client.get(url, params=params, headers=READ)


async def test_processing_records_the_ingest_lag_per_source_system(client, sample_postcodes):
    await send(client, journeys(1)[0][0])

    metrics = (await client.get("/metrics")).text

    assert re.search(
        r'signpost_ingest_lag_seconds_count\{service="referral",source_system="emis"\} [1-9]',
        metrics,
    )
