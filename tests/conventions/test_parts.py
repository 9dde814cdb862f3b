"""The two parts of `make test` share the tests that use no database: each runs in exactly one
part, a file's at once, and each part runs all of its own database's tests first
(tests/support/parts.py)."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support import parts

ROOT = Path(__file__).resolve().parents[2]

# A suite of its own, each test noting where it ran. `test_mixed.py` holds a test per backend (a
# `backend` parameter, as tests/conftest.py gives) beside tests that use no database;
# `test_shared.py` only tests that use no database. Each file's module fixture notes its set-up
# and tear-down.
NOTE = textwrap.dedent(
    """
    import os
    from pathlib import Path

    import pytest

    def note(name):
        with Path(os.environ["RAN"]).open("a") as ran:
            ran.write(f"{os.environ['SIGNPOST_TEST_PART']} {name}\\n")

    @pytest.fixture(scope="module")
    def module_fixture(request):
        note(f"set up {request.module.__name__}")
        yield
        note(f"torn down {request.module.__name__}")
    """
)
MIXED = textwrap.dedent(
    """
    import os

    import pytest

    from note import module_fixture, note

    @pytest.fixture(params=[os.environ["SIGNPOST_TEST_PART"]])
    def backend(request):
        return request.param

    def test_with_a_database(backend, module_fixture):
        note(f"database {backend}")

    @pytest.mark.parametrize("n", range(3))
    def test_without_one(n, module_fixture):
        note(f"mixed {n}")
    """
)
SHARED_ONLY = textwrap.dedent(
    """
    from note import module_fixture, note

    def test_one(module_fixture):
        note("shared one")

    class TestInAClass:
        def test_two(self, module_fixture):
            note("shared two")
    """
)
MIXED_SHARED = ["mixed 0", "mixed 1", "mixed 2"]
SHARED_ONLY_TESTS = ["shared one", "shared two"]


def _start(part: str, suite: Path) -> subprocess.Popen[str]:
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(suite / "tests")]),
        "SIGNPOST_TEST_PART": part,
        "SIGNPOST_TEST_CLAIMS": str(suite / "claims"),
        "RAN": str(suite / "ran"),
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    plugin = ["-p", "tests.support.parts", "--rootdir", str(suite / "tests"), "-c", os.devnull]
    return subprocess.Popen(  # noqa: S603  (this interpreter, on a suite written here)
        [*command, *plugin, str(suite / "tests")],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _ran(suite: Path, part: str) -> list[str]:
    """What ran in `part`, in order."""
    lines = (suite / "ran").read_text().splitlines()
    return [line.split(" ", 1)[1] for line in lines if line.split(" ", 1)[0] == part]


def _summary(output: str) -> str:
    return re.findall(r"^\d+ passed.*$", output, re.MULTILINE)[-1]


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "note.py").write_text(NOTE)
    (tests / "test_mixed.py").write_text(MIXED)
    (tests / "test_shared.py").write_text(SHARED_ONLY)
    (tmp_path / "claims").mkdir()
    return tmp_path


def _module_fixtures_paired(ran: list[str]) -> None:
    """Each module fixture was set up at most once in the part, and torn down after."""
    for module in ("test_mixed", "test_shared"):
        events = [name for name in ran if name.endswith(f" {module}")]
        assert events in ([], [f"set up {module}", f"torn down {module}"]), ran


def test_parts_side_by_side_run_each_shared_test_once_and_all_their_own(suite: Path):
    parts = {part: _start(part, suite) for part in ("sqlite", "postgresql")}
    outputs = {part: process.communicate(timeout=120)[0] for part, process in parts.items()}

    assert [process.returncode for process in parts.values()] == [0, 0], outputs
    ran = {part: _ran(suite, part) for part in parts}
    for part in parts:
        assert f"database {part}" in ran[part]
        _module_fixtures_paired(ran[part])
    every_shared = MIXED_SHARED + SHARED_ONLY_TESTS
    shared = [name for part in parts for name in ran[part] if name in every_shared]
    # Each once, whichever part took it; a file's tests in one part, together.
    assert sorted(shared) == sorted(every_shared)
    for tests in (MIXED_SHARED, SHARED_ONLY_TESTS):
        assert [set(tests) <= set(ran[part]) for part in parts].count(True) == 1, ran


def test_a_part_runs_its_own_tests_first_and_none_the_other_part_claimed(suite: Path):
    first = _start("sqlite", suite)
    first_output = first.communicate(timeout=120)[0]
    second = _start("postgresql", suite)
    second_output = second.communicate(timeout=120)[0]

    assert (first.returncode, second.returncode) == (0, 0), (first_output, second_output)
    # The first part claimed every shared test: the file with its own test first, its tests
    # that use no database in place, then the file of tests that use no database only.
    assert _ran(suite, "sqlite") == [
        "set up test_mixed",
        "database sqlite",
        *MIXED_SHARED,
        "torn down test_mixed",
        "set up test_shared",
        *SHARED_ONLY_TESTS,
        "torn down test_shared",
    ]
    assert _ran(suite, "postgresql") == [
        "set up test_mixed",
        "database postgresql",
        "torn down test_mixed",
    ]
    assert _summary(first_output).startswith("6 passed in")
    assert _summary(second_output).startswith("1 passed, 5 deselected in")


def test_a_part_tears_a_module_down_before_the_next_test_it_runs(suite: Path):
    """The test after the last one a part runs in a module is in another module (the module's
    other tests were claimed by the other part): the module is torn down before it."""
    assert parts.claim(suite / "claims", "test_mixed.py")
    process = _start("postgresql", suite)
    output = process.communicate(timeout=120)[0]

    assert process.returncode == 0, output
    assert _ran(suite, "postgresql") == [
        "set up test_mixed",
        "database postgresql",
        "torn down test_mixed",
        "set up test_shared",
        *SHARED_ONLY_TESTS,
        "torn down test_shared",
    ]
    assert _summary(output).startswith("3 passed, 3 deselected in")
