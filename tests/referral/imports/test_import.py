"""Backfill: NDJSON of messages and the CSV template, with an error report, resumable."""

import asyncio
import csv
import os
import subprocess
import sys

from referral_api.imports.runner import run_import
from tests.support.history import template_row, write_ndjson, write_template
from tests.support.messages import journey, journeys
from tests.support.rows import count_rows, fetch_rows


def report(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


async def test_an_ndjson_history_of_messages_is_imported_with_its_sources(
    client, referral_app, tmp_path
):
    history = write_ndjson(tmp_path / "history.ndjson", journey("emis") + journey("rio"))
    summary = await run_import(
        referral_app.state.database.url, history, errors_path=tmp_path / "errors.csv", progress=None
    )

    assert (summary.rows, summary.done, summary.failed) == (14, 14, 0)
    rows = await fetch_rows(
        referral_app,
        "SELECT r.source_system, l.status FROM referral r "
        "JOIN referral_lifecycle l ON l.referral_id = r.id "
        "ORDER BY r.source_system",
    )
    assert rows == [
        {"source_system": "emis", "status": "closed"},
        {"source_system": "rio", "status": "closed"},
    ]
    assert await fetch_rows(referral_app, "SELECT DISTINCT channel FROM processed_message") == [
        {"channel": "import"}
    ]
    assert report(tmp_path / "errors.csv") == []


async def test_the_csv_template_becomes_complete_referrals(client, referral_app, tmp_path):
    history = write_template(tmp_path / "team.csv", [template_row(1), template_row(2)])
    summary = await run_import(
        referral_app.state.database.url, history, errors_path=tmp_path / "errors.csv", progress=None
    )

    assert (summary.done, summary.failed) == (2, 0)
    rows = await fetch_rows(
        referral_app,
        """
        SELECT r.source_system, r.source_of_referral_group, l.status, l.dna_count,
               l.first_contact_at IS NOT NULL AS contacted, l.onward_referral_count,
               p.lsoa_code, p.ethnic_group, p.gender
        FROM referral r JOIN referral_lifecycle l ON l.referral_id = r.id
        JOIN referral_person p ON p.referral_id = r.id""",
    )
    assert rows[0] == {
        "source_system": "import",
        "source_of_referral_group": "primary-care",
        "status": "closed",
        "dna_count": 1,
        "contacted": True,
        "onward_referral_count": 1,
        "lsoa_code": "E01033233",
        "ethnic_group": "white",
        "gender": "female",
    }
    scores = await fetch_rows(
        referral_app, "SELECT DISTINCT timepoint, total_score FROM assessment ORDER BY timepoint"
    )
    assert scores == [
        {"timepoint": "baseline", "total_score": 19.3},
        {"timepoint": "follow-up", "total_score": 23.2},
    ]


async def test_bad_rows_go_to_the_error_report_and_the_rest_is_imported(
    client, referral_app, tmp_path
):
    rows = [
        template_row(1),
        template_row(2, referral_date="01/09/2026"),
        template_row(3, contacts="2026-08-01|02|5"),
        template_row(4, followup_score="80"),
        template_row(5),
    ]
    history = write_template(tmp_path / "team.csv", rows)
    summary = await run_import(
        referral_app.state.database.url, history, errors_path=tmp_path / "errors.csv", progress=None
    )

    assert (summary.done, summary.failed) == (5, 3)
    problems = report(tmp_path / "errors.csv")
    assert [(p["line"], p["status"], p["element"]) for p in problems] == [
        ("3", "422", "referral_date"),
        ("4", "422", "Bundle.entry[4].resource.period.start"),
        ("5", "422", "Bundle.entry[7].resource.valueQuantity.value"),
    ]
    assert await count_rows(referral_app, "referral") == 2


async def test_an_interrupted_import_resumes_without_duplicates(client, referral_app, tmp_path):
    history = write_template(tmp_path / "team.csv", [template_row(n) for n in range(1, 8)])
    url = referral_app.state.database.url
    first = await run_import(
        url,
        history,
        errors_path=tmp_path / "e.csv",
        batch_size=3,
        progress=None,
        stop_after_batches=1,
    )
    assert (first.done, await count_rows(referral_app, "referral")) == (3, 3)

    second = await run_import(
        url, history, errors_path=tmp_path / "e.csv", batch_size=3, progress=None
    )
    third = await run_import(url, history, errors_path=tmp_path / "e.csv", progress=None)

    assert (second.skipped, second.done) == (3, 7)
    assert third.already_finished
    assert await count_rows(referral_app, "referral") == 7
    assert await count_rows(referral_app, "processed_message") == 7


async def test_the_import_command_resumes_after_being_killed(client, referral_app, tmp_path):
    rows = [template_row(n) for n in range(1, 161)]
    history = write_template(tmp_path / "big.csv", rows)
    command = [
        sys.executable,
        "-m",
        "referral_api.imports",
        str(history),
        "--batch-size",
        "20",
        "--database-url",
        referral_app.state.database.url,
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ},
    )
    assert process.stderr is not None
    await process.stderr.readuntil(b"rows/s")  # a batch is committed: kill it mid-run
    process.kill()
    await process.wait()
    interrupted = await count_rows(referral_app, "referral")

    finished = await asyncio.create_subprocess_exec(
        *command, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, _ = await finished.communicate()

    assert finished.returncode == 0, out
    assert 20 <= interrupted < 160
    assert await count_rows(referral_app, "referral") == 160
    assert await count_rows(referral_app, "processed_message") == 160
    [run] = await fetch_rows(
        referral_app,
        "SELECT rows_done, rows_failed, finished_at IS NOT NULL AS finished FROM import_run",
    )
    assert run == {"rows_done": 160, "rows_failed": 0, "finished": True}


async def test_a_template_row_without_source_or_reasons_is_kept_as_not_recorded(
    client, referral_app, tmp_path
):
    row = {**template_row(1), "source_of_referral": "", "reasons": "", "reason_text": ""}
    history = write_template(tmp_path / "team.csv", [row])
    summary = await run_import(
        referral_app.state.database.url, history, errors_path=tmp_path / "errors.csv", progress=None
    )

    assert (summary.done, summary.failed) == (1, 0)
    assert await fetch_rows(referral_app, "SELECT source_of_referral_group FROM referral") == [
        {"source_of_referral_group": "not-recorded"}
    ]
    gaps = await fetch_rows(
        referral_app, "SELECT kind, element FROM referral_gap WHERE element LIKE 'ServiceRequest%'"
    )
    assert sorted(g["element"] for g in gaps if g["kind"] == "not-recorded") == [
        "ServiceRequest.extension('https://fhir.hl7.org.uk/StructureDefinition/"
        "Extension-UKCore-SourceOfServiceRequest')",
        "ServiceRequest.reasonCode",
    ]


async def test_a_nul_outside_free_text_fails_its_row_and_the_rest_is_imported(
    client, referral_app, tmp_path
):
    """An import row is checked as a request body is: PostgreSQL cannot store a NUL, which used
    to stop the whole run; in free text it is replaced, and the row kept."""
    first, second, third = (messages[0] for messages in journeys(3))
    first["entry"][1]["resource"]["identifier"][0]["value"] = "EMIS\u0000IMPORT-1"
    third["entry"][1]["resource"]["reasonCode"][0]["text"] = "Pasted\u0000text"
    history = write_ndjson(tmp_path / "history.ndjson", [first, second, third])

    summary = await run_import(
        referral_app.state.database.url, history, errors_path=tmp_path / "errors.csv", progress=None
    )

    assert (summary.done, summary.failed) == (3, 1)
    [problem] = report(tmp_path / "errors.csv")
    assert (problem["line"], problem["status"]) == ("1", "400")
    assert problem["element"] == "Bundle.entry[1].resource.identifier[0].value"
    assert await count_rows(referral_app, "referral") == 2
