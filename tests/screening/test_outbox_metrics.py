"""The outbox publishes its depth and the age of its oldest entry as Prometheus metrics."""

import re

from tests.screening.test_handoff import _down_worker, _submit


def gauge(text, name):
    pattern = rf'^{name}\{{outbox="referral-handoff",service="screening"\}} (\S+)$'
    match = re.search(pattern, text, re.M)
    return float(match.group(1)) if match else None


async def test_undelivered_hand_offs_show_in_the_outbox_metrics(client, screening_app, worker):
    await _submit(client, item_1="yes")
    await _submit(client, item_2="yes")
    down = _down_worker(screening_app)
    await down.deliver_due()  # referral-api unreachable: the first stays, now failing
    await _submit(client, item_5="yes")

    await down.observe_backlog()
    waiting = (await client.get("/metrics")).text
    await worker.deliver_due()  # delivers the one that is due; the failing two wait for backoff
    await worker.observe_backlog()
    after = (await client.get("/metrics")).text

    assert gauge(waiting, "signpost_outbox_depth") == 3
    assert gauge(waiting, "signpost_outbox_oldest_age_seconds") >= 0
    assert gauge(after, "signpost_outbox_depth") == 2
