"""The faked wall clock of `make test-clock` really moves the clocks the services read."""

import os
import time
from datetime import UTC, date, datetime, timedelta

import pytest

FAKE_NOW = os.environ.get("SIGNPOST_FAKE_NOW")


@pytest.mark.skipif(not FAKE_NOW, reason="runs under make test-clock (SIGNPOST_FAKE_NOW)")
def test_every_wall_clock_reads_the_faked_moment() -> None:
    assert FAKE_NOW is not None
    faked = datetime.fromisoformat(FAKE_NOW)
    # The run started at the faked moment and ticks on; a suite takes minutes, not days.
    for now in (datetime.now(UTC), datetime.fromtimestamp(time.time(), UTC)):
        assert faked <= now < faked + timedelta(days=1)
    assert date.today() in (faked.date(), faked.date() + timedelta(days=1))
