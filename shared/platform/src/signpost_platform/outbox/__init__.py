"""The outboxes' retry rules: how long to wait before the next attempt.

An outbox row is written in the same transaction as the change it reports and delivered by a
background worker; a failed delivery is retried after an exponential backoff with jitter, or,
when the receiver asked the caller to come back later (429, 503 with `Retry-After`), after the
time it asked for. screening-api's referral hand-off and referral-api's messages back to the
referrer both use these rules, through one worker (`outbox.worker.OutboxWorker`) and one set of
statements on their tables (`outbox.table.OutboxTable`).
"""

import random

# Bounds on a Retry-After an outbox honours (seconds).
RETRY_AFTER_BOUNDS = (0.5, 300.0)


def backoff(attempts: int, base: float, ceiling: float) -> float:
    """Seconds to wait after the `attempts`-th failure: doubling, capped, with ±20% jitter."""
    delay: float = min(ceiling, base * (2 ** max(0, attempts - 1)))
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not security)


def retry_after(header: str | None) -> float:
    """Seconds a `Retry-After` header asks for (1 if absent or not a number), within bounds."""
    try:
        seconds = float(header if header is not None else "1")
    except ValueError:
        seconds = 1.0
    low, high = RETRY_AFTER_BOUNDS
    return min(max(seconds, low), high)
