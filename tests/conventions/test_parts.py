"""The two parts of `make test` share the tests that use no database: each runs in exactly one
part, and each part runs all of its own database's tests (tests/support/parts.py)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A suite of its own: one test per backend (a `backend` parameter, as tests/conftest.py gives),
# and tests that use no database, one of them parametrised, each noting where it ran.
SUITE = textwrap.dedent(
    """
    import os
    from pathlib import Path

    import pytest

    def _note(name):
        with Path(os.environ["RAN"]).open("a") as ran:
            ran.write(f"{os.environ['SIGNPOST_TEST_PART']} {name}\\n")

    @pytest.fixture(params=[os.environ["SIGNPOST_TEST_PART"]])
    def backend(request):
        return request.param

    def test_with_a_database(backend):
        _note(f"database {backend}")

    @pytest.mark.parametrize("n", range(3))
    def test_without_one(n):
        _note(f"without {n}")

    def test_without_one_either():
        _note("without either")

    class TestInAClass:
        def test_without_one_in_a_class(self):
            _note("in a class")
    """
)
SHARED = {"without 0", "without 1", "without 2", "without either", "in a class"}


def _start(part: str, folder: Path, claims: Path, ran: Path) -> subprocess.Popen[str]:
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SIGNPOST_TEST_PART": part,
        "SIGNPOST_TEST_CLAIMS": str(claims),
        "RAN": str(ran),
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    plugin = ["-p", "tests.support.parts", "--rootdir", str(folder), "-c", os.devnull]
    return subprocess.Popen(  # noqa: S603  (this interpreter, on a suite written here)
        [*command, *plugin, str(folder)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _ran(ran: Path) -> list[tuple[str, str]]:
    """(part, test) for each test of the suite that ran."""
    return [(line.split(" ", 1)[0], line.split(" ", 1)[1]) for line in ran.read_text().splitlines()]


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    folder = tmp_path / "suite"
    folder.mkdir()
    (folder / "test_suite.py").write_text(SUITE)
    (tmp_path / "claims").mkdir()
    return tmp_path


def test_parts_side_by_side_run_each_shared_test_once_and_all_their_own(suite: Path):
    ran = suite / "ran"
    parts = [_start(p, suite / "suite", suite / "claims", ran) for p in ("sqlite", "postgresql")]
    outputs = [part.communicate(timeout=120)[0] for part in parts]

    assert [part.returncode for part in parts] == [0, 0], outputs
    notes = _ran(ran)
    assert sorted(name for part, name in notes if name.startswith("database")) == [
        "database postgresql",
        "database sqlite",
    ]
    shared = [name for _, name in notes if not name.startswith("database")]
    assert sorted(shared) == sorted(SHARED)  # each once, whichever part took it
    # A parametrised test function is one claim: its parametrisations run in one part.
    parametrised = {part for part, name in notes if name in {"without 0", "without 1", "without 2"}}
    assert len(parametrised) == 1


def test_a_part_runs_no_test_the_other_claimed_and_counts_it_as_deselected(suite: Path):
    ran = suite / "ran"
    first = _start("sqlite", suite / "suite", suite / "claims", ran)
    first_output = first.communicate(timeout=120)[0]
    second = _start("postgresql", suite / "suite", suite / "claims", ran)
    second_output = second.communicate(timeout=120)[0]

    assert (first.returncode, second.returncode) == (0, 0), (first_output, second_output)
    assert sorted(name for part, name in _ran(ran) if part == "sqlite") == sorted(
        {"database sqlite"} | SHARED
    )
    assert [name for part, name in _ran(ran) if part == "postgresql"] == ["database postgresql"]
    assert "1 passed, 5 deselected" in second_output
    assert "6 passed" in first_output
