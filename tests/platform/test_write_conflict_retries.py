"""`retrying_write_conflicts`: a write that meets a concurrent one (a deadlock or a serialisation
failure) is run again, a bounded number of times; any other error is not."""

import pytest
from sqlalchemy.exc import DBAPIError

from signpost_platform.db import retrying_write_conflicts


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def failing(*sqlstates: str, runs: list[int] | None = None):
    """A write that fails with these SQLSTATEs in turn, then answers how often it ran (each run
    is also noted in `runs`)."""
    runs = [] if runs is None else runs

    async def write() -> int:
        runs.append(1)
        if len(runs) <= len(sqlstates):
            raise DBAPIError("UPDATE referral", None, _DriverError(sqlstates[len(runs) - 1]))
        return len(runs)

    return write


async def test_a_conflict_is_run_again_after_what_comes_before_each_retry():
    rolled_back: list[int] = []

    async def rollback() -> None:
        rolled_back.append(1)

    answer = await retrying_write_conflicts(failing("40P01", "40001"), 3, rollback)

    assert answer == 3
    assert len(rolled_back) == 2


async def test_the_last_conflict_propagates_once_the_attempts_are_spent():
    with pytest.raises(DBAPIError) as raised:
        await retrying_write_conflicts(failing("40P01", "40P01", "40P01"), 3)
    assert raised.value.orig.sqlstate == "40P01"


async def test_any_other_error_is_not_run_again():
    runs: list[int] = []
    write = failing("23505", runs=runs)  # a unique violation: not a conflict to wait out

    with pytest.raises(DBAPIError):
        await retrying_write_conflicts(write, 3)
    assert len(runs) == 1
