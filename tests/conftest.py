"""Fixtures shared by every test: the database backend (SQLite and PostgreSQL) and a tmp folder.

`SIGNPOST_FAKE_NOW` (an ISO 8601 instant) moves the wall clock of the whole run there, ticking
from that moment on (`make test-clock` sets it just before a month and a year boundary), so a test
that depends on today's date fails in CI rather than on the first day of some month.
"""

import json
import os
import tempfile
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import time_machine

from tests.support import fhir_corpus, log_scan

# Started on import, before any other conftest mints a token or reads the clock.
_FAKE_NOW = os.environ.get("SIGNPOST_FAKE_NOW")
_TRAVELLER = (
    time_machine.travel(datetime.fromisoformat(_FAKE_NOW), tick=True) if _FAKE_NOW else None
)
if _TRAVELLER is not None:
    _TRAVELLER.start()

# Services under test share one token per scope set across many fast requests: the per-client
# rate limit is tested on its own (tests/platform/test_security.py) and off everywhere else.
for _prefix in ("REFERRAL", "DIRECTORY", "SCREENING"):
    os.environ.setdefault(f"{_prefix}_RATE_LIMIT_PER_MINUTE", "0")
# Tests run referral-api's export worker themselves (`app.state.export_worker.run_pending()`),
# so no background run races them for a job.
os.environ.setdefault("REFERRAL_EXPORT_WORKER_ENABLED", "false")
# referral-api's worker delivering messages back to referrers does not run by itself under test:
# their tests run its delivery passes (tests/referral/gp_messages/test_gp_messages.py).
os.environ.setdefault("REFERRAL_GP_MESSAGE_WORKER_ENABLED", "false")
# referral-api's report facts refresh worker runs only where a test starts it: the test client
# brings the facts up to date before each report request instead (tests.support.clients), so
# report tests never depend on when the worker ran.
os.environ.setdefault("REFERRAL_REPORT_REFRESH_WORKER_ENABLED", "false")

from tests.support.databases import BACKENDS  # noqa: E402  (after the environment is set)

# The two parts of `make test` share the tests that use no database (tests/support/parts.py).
pytest_plugins = ("tests.support.parts",)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test; tests that use a database run once per backend."""
    return str(request.param)


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("signpost")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out, per backend, the tests marked `postgres_only` / `sqlite_only`."""
    # Imported here, once pytest has loaded it as a plugin (above), for its assertion rewriting.
    from tests.support.parts import backend_of

    kept, left_out = [], []
    for item in items:
        backend = backend_of(item)
        if (backend == "sqlite" and item.get_closest_marker("postgres_only")) or (
            backend == "postgresql" and item.get_closest_marker("sqlite_only")
        ):
            left_out.append(item)
        else:
            kept.append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


# One log file per test process. Under pytest-xdist the workers inherit the run id from the
# process that started them, which searches every worker's file when the run ends.
_RUN_ID = os.environ.setdefault("SIGNPOST_TEST_RUN_ID", uuid.uuid4().hex[:12])
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
_LOG_FILE = Path(tempfile.gettempdir()) / f"signpost-test-run-{_RUN_ID}-{_WORKER or 'main'}.log"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    """Keep the FHIR resources a test receives for the R4 validation, unless it is marked
    `serves_back_invalid_fhir`."""
    fhir_corpus.CORPUS.paused = item.get_closest_marker("serves_back_invalid_fhir") is not None
    try:
        return (yield)
    finally:
        fhir_corpus.CORPUS.paused = False


def pytest_report_header(config: pytest.Config) -> str | None:
    return f"wall clock faked from {_FAKE_NOW} (ticking)" if _FAKE_NOW else None


def pytest_unconfigure(config: pytest.Config) -> None:
    if _TRAVELLER is not None:
        _TRAVELLER.stop()


def pytest_sessionstart(session: pytest.Session) -> None:
    _LOG_FILE.unlink(missing_ok=True)
    session.config.stash[_log_handler_key] = log_scan.install(_LOG_FILE)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any log line of it carries an NHS number, a local patient number or a
    postcode, or if any FHIR resource the tests received is not valid FHIR R4."""
    _validate_fhir_received(session)
    handler = session.config.stash.get(_log_handler_key, None)
    if handler is None:
        return
    handler.close()
    if _WORKER:
        return  # the process that started the workers searches every file
    files = sorted(_LOG_FILE.parent.glob(f"signpost-test-run-{_RUN_ID}-*.log"))
    offending = [line for path in files for line in log_scan.personal_data_in(path)]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if offending:
        if reporter:
            reporter.write_line(
                f"PERSONAL DATA IN LOGS: {len(offending)} log lines of this run carry an NHS "
                "number, a local patient number or a postcode:",
                red=True,
            )
            for line in offending[:20]:
                reporter.write_line(f"  {line}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif reporter:
        reporter.write_line(
            "log scan: no NHS numbers, local patient numbers or postcodes in "
            + ", ".join(path.name for path in files)
        )


_log_handler_key = pytest.StashKey[object]()


def _validate_fhir_received(session: pytest.Session) -> None:
    """Validate the distinct FHIR resources the tests received (`fhir_corpus`) with the
    independent R4 validator; skipped when it is not installed, unless it is required
    (`SIGNPOST_REQUIRE_CLIENT_TOOLS=1`, as in CI), where that fails the run. Under pytest-xdist
    each worker writes what it received and the process that started them validates it all."""
    folder = Path(tempfile.gettempdir())
    own = folder / f"signpost-fhir-received-{_RUN_ID}-{_WORKER or 'main'}.ndjson"
    fhir_corpus.CORPUS.write(own)
    if _WORKER:
        return
    files = sorted(folder.glob(f"signpost-fhir-received-{_RUN_ID}-*.ndjson"))
    distinct: dict[tuple[str, ...], str] = {}
    for path in files:
        for line in path.read_text().splitlines():
            distinct.setdefault(fhir_corpus.shape(json.loads(line)["resource"]), line)
    lines = list(distinct.values())
    for path in files:
        path.unlink()
    if not lines:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    missing = fhir_corpus.missing()
    if missing:
        if fhir_corpus.required():
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter:
            reporter.write_line(
                f"FHIR R4 validation not run: missing {', '.join(missing)} "
                f"(run {fhir_corpus.SETUP})",
                red=fhir_corpus.required(),
            )
        return
    ndjson = folder / f"signpost-fhir-received-{_RUN_ID}.ndjson"
    ndjson.write_text("".join(f"{line}\n" for line in lines))
    result = fhir_corpus.validate(ndjson)
    failures = result["failures"]
    if failures:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        ndjson.unlink()
    if reporter is None:
        return
    if failures:
        reporter.write_line(
            f"INVALID FHIR R4: {len(failures)} of the {len(lines)} distinct resources the tests "
            f"received (kept in {ndjson}):",
            red=True,
        )
        for failure in failures[:20]:
            for issue in failure["issues"][:5]:
                where = ", ".join(issue.get("expression", []))
                what = issue.get("details", {}).get("text") or issue.get("diagnostics")
                name = f"{failure['resourceType']}/{failure.get('id')}"
                reporter.write_line(f"  {name}: {where}: {what} ({failure.get('test')})")
    else:
        reporter.write_line(f"FHIR R4 validation: {result['validated']} distinct resources valid")
