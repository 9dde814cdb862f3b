"""The person kept per referral: LSOA and district from the postcode (which is not kept),
native codes beside the normalised ones, never a name or an address line."""

import asyncio

import pytest

from referral_api.geography.load import main as load_main
from tests.referral.conftest import send
from tests.support.messages import emis_patient, emis_service_request, message
from tests.support.rows import fetch_rows

REQUEST = emis_service_request()


async def person_after(client, app, patient):
    response = await send(
        client,
        message(REQUEST, reason_code="new", patient=patient, timestamp="2026-10-01T09:05:00Z"),
    )
    assert response.status_code == 200, response.text
    [row] = await fetch_rows(app, "SELECT * FROM referral_person")
    return row


@pytest.mark.parametrize(
    ("postcode", "district", "lsoa", "status"),
    [
        ("e151da", "E15", "E01033011", "derived"),
        ("E15 9ZZ", "E15", None, "postcode-not-in-lookup"),
        ("E15", "E15", None, "district-only"),
        ("not a postcode", None, None, "invalid-postcode"),
        (None, None, None, "no-postcode"),
    ],
)
async def test_lsoa_is_derived_or_the_reason_it_could_not_be_is_kept(
    client, referral_app, postcode, district, lsoa, status
):
    person = await person_after(client, referral_app, emis_patient(postcode=postcode))

    assert (person["postcode_district"], person["lsoa_code"], person["lsoa_status"]) == (
        district,
        lsoa,
        status,
    )
    assert person["lsoa_vintage"] == ("2021" if lsoa else None)


@pytest.mark.parametrize(
    ("postcode", "warned"),
    [("e151da", False), ("E15 9ZZ", False), ("E15", True), ("not a postcode", True)],
)
async def test_a_postcode_that_gives_no_area_is_answered_with_a_warning(client, postcode, warned):
    """The person is kept either way; a district alone, or what is not a postcode, is a data
    gap the sender is told of (a full postcode the lookup lacks is Signpost's gap, not theirs)."""
    response = await send(
        client,
        message(
            REQUEST,
            reason_code="new",
            patient=emis_patient(postcode=postcode),
            timestamp="2026-10-01T09:05:00Z",
        ),
    )

    assert response.status_code == 200, response.text
    [outcome] = [
        e["resource"]
        for e in response.json()["entry"]
        if e["resource"]["resourceType"] == "OperationOutcome"
    ]
    issues = [
        i
        for i in outcome["issue"]
        if i.get("expression") == ["Bundle.entry[2].resource.address[0].postalCode"]
    ]
    assert [(i["severity"], i["details"]["coding"][0]["code"]) for i in issues] == (
        [("warning", "not-recorded")] if warned else []
    )
    assert all(postcode not in i["diagnostics"] for i in issues)


async def test_names_address_lines_telecoms_and_postcodes_are_not_stored(client, referral_app):
    await person_after(client, referral_app, emis_patient(postcode="E15 1DA"))

    everything = []
    for table in ("referral_person", "referral", "processed_message"):
        rows = await fetch_rows(referral_app, f"SELECT * FROM {table}")  # noqa: S608
        everything += [str(v) for row in rows for v in row.values()]
    text = " ".join(everything)
    for personal in ("Synthetic", "07700900000", "E15 1DA", "1961-04-12"):
        assert personal not in text


async def test_an_unmapped_snomed_ethnicity_is_kept_as_sent_without_a_category(
    client, referral_app
):
    person = await person_after(client, referral_app, emis_patient(ethnicity="999999999"))

    assert (person["ethnic_category"], person["ethnic_group"]) == (None, None)
    assert (person["ethnic_native_system"], person["ethnic_native_code"]) == (
        "http://snomed.info/sct",
        "999999999",
    )


async def test_a_year_of_birth_alone_gives_the_age_band(client, referral_app):
    person = await person_after(client, referral_app, emis_patient(birth_date="2001"))

    assert (person["birth_year"], person["age_band"]) == (2001, "25-34")


async def test_the_full_ons_file_replaces_the_sample_and_a_pcn_lookup_fills_the_pcn(
    client, referral_app, tmp_path
):
    nspl = tmp_path / "NSPL_sample.csv"
    nspl.write_text(
        "pcd,pcds,dointr,doterm,laua,lsoa21,msoa21\r\n"
        "E15 9ZZ,E15 9ZZ,199801,,E09000025,E01099999,E02000001\r\n"
        "E15 1DA,E15 1DA,199801,,E09000025,E01033012,E02000001\r\n"
        "XX1 1XX,XX1 1XX,199801,,E09000025,,\r\n",
        encoding="utf-8",
    )
    practices = tmp_path / "epcn.csv"
    practices.write_text("practice_code,pcn_code\r\nF84001,U12345\r\n", encoding="utf-8")
    url = referral_app.state.database.url

    argv = ["--postcodes", str(nspl), "--practice-pcn", str(practices), "--database-url", url]
    assert await asyncio.to_thread(load_main, argv) == 0
    person = await person_after(client, referral_app, emis_patient(postcode="E15 9ZZ"))

    assert (person["lsoa_code"], person["lsoa_status"], person["pcn_ods"]) == (
        "E01099999",
        "derived",
        "U12345",
    )
    assert await fetch_rows(referral_app, "SELECT count(*) AS n FROM postcode_lsoa") == [{"n": 2}]
    loads = await fetch_rows(
        referral_app,
        "SELECT lookup, source, is_sample, row_count FROM "
        "lookup_load WHERE is_sample = :no ORDER BY lookup",
        no=False,
    )
    assert [(r["lookup"], r["source"], r["row_count"]) for r in loads] == [
        ("postcode-lsoa", "NSPL_sample.csv", 2),
        ("practice-pcn", "epcn.csv", 1),
    ]
