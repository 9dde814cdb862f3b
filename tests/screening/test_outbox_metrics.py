"""The outbox publishes its depth and the age of its oldest entry as Prometheus metrics."""

import re

from tests.screening.test_handoff import _submit


def gauge(text, name):
    pattern = rf'^{name}\{{outbox="referral-handoff",service="screening"\}} (\S+)$'
    match = re.search(pattern, text, re.M)
    return float(match.group(1)) if match else None


async def test_undelivered_hand_offs_show_in_the_outbox_metrics(client, worker):
    for item in ("item_1", "item_2", "item_5"):
        await _submit(client, **{item: "yes"})

    await worker.observe_backlog()
    waiting = (await client.get("/metrics")).text
    await worker.deliver_due()
    await worker.observe_backlog()
    drained = (await client.get("/metrics")).text

    assert gauge(waiting, "signpost_outbox_depth") == 3
    assert gauge(waiting, "signpost_outbox_oldest_age_seconds") >= 0
    assert gauge(drained, "signpost_outbox_depth") == 0
    assert gauge(drained, "signpost_outbox_oldest_age_seconds") == 0
