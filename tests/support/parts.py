"""The two parts of `make test` (tests/run_parts.sh) and the tests they share.

`make test` runs two pytest processes side by side, one per database backend
(`SIGNPOST_TEST_PART`): each runs the tests that use its own database, and nothing else can run
them. The tests that use no database can run in either, and they are shared at run time rather
than by a fixed list: a fixed list was rebalanced six times in two days, because the two parts'
times moved by a third from run to run, and not together (the PostgreSQL part waits on the
server, the SQLite part does not).

How they are shared: a group of them runs in the part that claims it first, by creating a file
named after it in `SIGNPOST_TEST_CLAIMS`, a folder run_parts.sh makes for the run; the other
part passes over it. A group is a file's tests that use no database, or for a file in
`CLAIMED_BY_FUNCTION` one test function's parametrisations, so a module's fixtures (a stack of
services, a generated client) are set up in one part only. Each part runs the files holding its
own database's tests first, in the order collected, their tests that use no database in place
(next to the tests that share their fixtures); then the files of tests that use no database
only, in one queue both parts read in the same order, the longest first (`LONGEST_FIRST`), so
whichever part ends its own tests first takes them, and the two end close together.

The tests a part passed over are counted as deselected in its summary line. Outside a split run
(`make test-sqlite`, a plain `pytest`, or `make test-clock`, whose parts fake different clocks
and each run every test) every test runs where it was collected.
"""

import hashlib
import os
from pathlib import Path

import pytest

PART = os.environ.get("SIGNPOST_TEST_PART")  # "sqlite" or "postgresql" in a split run
CLAIMS = os.environ.get("SIGNPOST_TEST_CLAIMS")

# Files of tests that use no database, longest first (seconds, one part of `make test` on a
# 2-core machine on 2026-12-07): they are queued before every other shared test, in this order.
LONGEST_FIRST = (
    "tests/openapi/test_schemathesis.py",  # 272: referral-api 142, directory-api 82, screening 48
    "tests/deploy/test_entrypoint.py",  # 22
    "tests/schemas/test_models_registry.py",  # 9
)
# Files whose test functions are claimed one by one: long, with no module fixture worth sharing.
CLAIMED_BY_FUNCTION = frozenset({"tests/openapi/test_schemathesis.py"})


def backend_of(item: pytest.Item) -> str | None:
    """The database backend `item` runs on (its `backend` parameter), None if it uses none."""
    params = getattr(item, "callspec", None) and item.callspec.params
    return params.get("backend") if params else None


def uses_no_database(item: pytest.Item) -> bool:
    """A test that is not run once per backend (no `backend` parameter)."""
    return backend_of(item) is None


def _file(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def _group(item: pytest.Item) -> str:
    """The tests claimed with `item`: its file's, or its function's parametrisations."""
    if _file(item) in CLAIMED_BY_FUNCTION:
        return item.nodeid.split("[", 1)[0]
    return _file(item)


def _queue_position(item: pytest.Item) -> int:
    path = _file(item)
    return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)


def _splitting() -> bool:
    return bool(PART) and bool(CLAIMS)


def claim(folder: Path, group: str) -> bool:
    """Claim `group` in `folder` for this part: False if a part claimed it before."""
    name = hashlib.sha256(group.encode()).hexdigest()[:32]
    try:
        descriptor = os.open(folder / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.write(descriptor, f"{PART} {group}\n".encode())
    os.close(descriptor)
    return True


class _Claims:
    """The groups this part claimed, or found claimed by the other part."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.ours: dict[str, bool] = {}

    def runs_here(self, item: pytest.Item) -> bool:
        if not uses_no_database(item):
            return True
        group = _group(item)
        if group not in self.ours:
            self.ours[group] = claim(self.folder, group)
        return self.ours[group]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In a split run: the files holding this part's database tests first, in the order
    collected, then the files of tests that use no database only, longest first."""
    if not _splitting():
        return
    with_own = {_file(item) for item in items if not uses_no_database(item)}
    first = [item for item in items if _file(item) in with_own]
    shared = sorted((item for item in items if _file(item) not in with_own), key=_queue_position)
    items[:] = first + shared


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """pytest's own loop (`_pytest.main.pytest_runtestloop`), but each shared test runs only if
    this part claims its group; the next test a test is torn down for is the next that runs."""
    if not _splitting():
        return None
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        raise session.Interrupted(f"{session.testsfailed} errors during collection")
    if session.config.option.collectonly:
        return True

    claims = _Claims(str(CLAIMS))
    items = session.items

    def next_run(start: int) -> int | None:
        return next((i for i in range(start, len(items)) if claims.runs_here(items[i])), None)

    try:
        index = next_run(0)
        while index is not None:
            following = next_run(index + 1)
            nextitem = None if following is None else items[following]
            items[index].config.hook.pytest_runtest_protocol(item=items[index], nextitem=nextitem)
            if session.shouldfail:
                raise session.Failed(session.shouldfail)
            if session.shouldstop:
                raise session.Interrupted(session.shouldstop)
            index = following
    finally:
        # The tests the other part claimed (this part's claims it did not reach, after -x say,
        # are left out of the summary, as pytest leaves out the tests it did not reach).
        passed_over = [
            item
            for item in items
            if uses_no_database(item) and claims.ours.get(_group(item)) is False
        ]
        if passed_over:
            session.config.hook.pytest_deselected(items=passed_over)
    return True
