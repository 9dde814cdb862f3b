"""Python's cyclic garbage collector, tuned while a service serves.

A service builds hundreds of thousands of long-lived objects at startup (the app, its routes and
their Pydantic validators, the FHIR models, SQLAlchemy's mappers). Left as they are:
- every full (generation 2) collection walks all of them again, and stops the event loop for
  about 110 ms while it does: that pause is the slowest request under load;
- the default generation 0 threshold (700 allocations) runs a young collection every few hundred
  objects, several times per request, though a request's objects are almost all freed by
  reference counting as soon as the request ends.

`serving_collector()` collects once, moves what survives startup out of the collector's sight
(`gc.freeze`), and raises the generation 0 threshold while the service serves; it undoes both
when the service stops, so apps started and stopped in one process (tests, tools) leak nothing.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Allocations between young collections while serving (CPython's default is 700).
SERVING_GENERATION0_THRESHOLD = 10_000


@contextmanager
def serving_collector() -> Iterator[None]:
    """Freeze what startup built and collect young objects less often, until the block ends."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(SERVING_GENERATION0_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


__all__ = ["SERVING_GENERATION0_THRESHOLD", "serving_collector"]
