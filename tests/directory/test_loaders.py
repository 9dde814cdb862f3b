"""The command-line loaders: the ONS postcode lookup and bulk import of an export file."""

import asyncio
import json

import pytest

from directory_api.config import DirectorySettings
from directory_api.geography.__main__ import load, read_lookup
from directory_api.geography.__main__ import main as geography_main
from directory_api.imports.__main__ import main as imports_main
from directory_api.main import create_app
from directory_api.seed import loader
from signpost_schemas.geography import sample_postcode_lookup
from tests.directory.builders import location, new_id, organization, service
from tests.support.clients import running
from tests.support.databases import drop_database, migrated_database
from tests.support.rows import fetch_rows

ONS_CSV = """pcd,pcds,dointr,doterm,laua,lsoa21,lat,long
E20 1EJ ,E20 1EJ,201101,,E09000025,E01033583,51.543700,-0.009800
E20 9ZZ ,E20 9ZZ,201101,202001,E09000025,E01033583,99.999999,0.000000
XX1 1XX,not-a-postcode,201101,,E09000025,E01033583,51.5,0.0
n16 0aa,n16 0aa,198001,,E09000012,E01001640,51.562000,-0.076000
"""


def test_ons_lookup_rows_are_read_normalised_and_terminated_ones_skipped(tmp_path):
    path = tmp_path / "NSPL.csv"
    path.write_text(ONS_CSV, encoding="utf-8")

    areas = list(read_lookup(path))

    assert [(a.postcode, a.local_authority_code, a.lsoa_code) for a in areas] == [
        ("E20 1EJ", "E09000025", "E01033583"),
        ("N16 0AA", "E09000012", "E01001640"),
    ]


@pytest.fixture
def database_url(writable_service, monkeypatch):
    app, _ = writable_service
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", app.state.database.url)
    return app.state.database.url


def test_loading_the_lookup_writes_its_postcodes(database_url, tmp_path, capsys):
    path = tmp_path / "NSPL.csv"
    path.write_text(ONS_CSV, encoding="utf-8")

    assert geography_main(["load", str(path)]) == 0

    assert "done: 2 postcodes loaded" in capsys.readouterr().out


async def test_loaded_postcodes_are_stored_with_their_areas(directory_app, database_url, tmp_path):
    path = tmp_path / "NSPL.csv"
    path.write_text(ONS_CSV, encoding="utf-8")
    await load(database_url, read_lookup(path))

    rows = await fetch_rows(
        directory_app,
        "SELECT postcode, latitude, local_authority_code FROM postcode_centroid "
        "WHERE postcode IN ('E20 1EJ', 'E20 9ZZ')",
    )

    assert rows == [
        {"postcode": "E20 1EJ", "latitude": 51.5437, "local_authority_code": "E09000025"}
    ]


async def test_loading_the_lookup_rebuilds_districts_for_missing_postcodes(
    directory_app, client, database_url, tmp_path
):
    path = tmp_path / "NSPL.csv"
    path.write_text(ONS_CSV, encoding="utf-8")
    await load(database_url, read_lookup(path))

    rows = await fetch_rows(
        directory_app,
        "SELECT district, latitude, postcode_count FROM postcode_district WHERE district = 'E20'",
    )
    response = await client.get("/services?postcode=E20+9ZZ&proximity=2000")

    assert rows == [{"district": "E20", "latitude": 51.5437, "postcode_count": 1}]
    assert response.status_code == 200, response.text
    assert "district E20 (1 known postcode)" in response.json()["notes"][0]["detail"]


def test_import_command_reports_progress_and_failures(database_url, tmp_path, capsys):
    org, place = organization(), location()
    good = service(org["id"], [place["id"]])
    good["organization"] = org
    good["organization_id"] = org["id"]
    good["service_at_locations"] = [{"location": place}]
    bad = {
        **service(org["id"]),
        "id": new_id(),
        "email": "not-an-email",
        "organization": org,
        "service_at_locations": [],
    }
    path = tmp_path / "export.ndjson"
    path.write_text("\n".join(json.dumps(s) for s in (good, bad)), encoding="utf-8")

    code = imports_main([str(path)])

    out = capsys.readouterr().out
    assert code == 1
    assert "2/2 processed, 1 imported, 1 failed" in out
    assert '"field": "email"' in out


async def test_replicas_starting_together_seed_the_directory_once(backend, session_tmp):
    """Two replicas' start-ups race to seed one empty database: both succeed, nothing twice."""
    url = await migrated_database(backend, session_tmp, "directory")
    app = create_app(DirectorySettings(database_url=url, environment="test", seed_on_startup=False))
    try:
        async with running(app, "http://directory.test") as client:

            async def start_up() -> None:
                async with app.state.database.sessionmaker() as session, session.begin():
                    await loader.load_sample_postcodes(session)
                    await loader.seed_reference(session)
                    await loader.seed_sample_services(session)

            await asyncio.gather(start_up(), start_up())
            services = (await client.get("/services", params={"per_page": 200})).json()
            roles = (await client.get("/fhir/HealthcareService", params={"_count": 100})).json()
            postcodes = await fetch_rows(app, "SELECT count(*) AS n FROM postcode_centroid")
        ids = [item["id"] for item in services["contents"]]
        assert len(ids) == len(set(ids)) == services["total_items"] > 6
        assert roles["total"] == len({e["resource"]["id"] for e in roles["entry"]}) >= 6
        assert postcodes[0]["n"] == len(sample_postcode_lookup())
    finally:
        await drop_database(url)


def test_import_command_keeps_the_record_cap_unless_raised(
    database_url, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("DIRECTORY_IMPORT_MAX_RECORDS", "1")
    path = tmp_path / "export.ndjson"
    path.write_text("\n".join(json.dumps({"name": ""}) for _ in range(2)), encoding="utf-8")

    refused = imports_main([str(path)])
    refusal = capsys.readouterr().err
    raised = imports_main([str(path), "--max-records", "2"])

    assert refused == 2 and "holds 2 records; an import takes at most 1" in refusal
    assert raised == 1 and "2/2 processed, 0 imported, 2 failed" in capsys.readouterr().out
