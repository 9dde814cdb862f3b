"""Rates per 10,000 registered patients, and the lookups behind them and behind IMD deciles."""

import asyncio
from pathlib import Path

import pytest
from fastapi import FastAPI

from referral_api.geography.load import main as load_geography
from referral_api.geography.repository import GeographyRepository
from referral_api.reports import facts
from referral_api.reports.load import (
    LookupFileError,
    age_band_of,
    imd_rows,
    list_size_rows,
    main,
    replace_list_sizes,
    sample_imd_rows,
    sample_list_size_rows,
)
from tests.reports.conftest import REPORTS
from tests.support.reports import Dataset, Person

LIST_SIZES = """area_type,area_code,age_band,sex,population\r
practice,F84001,45-54,female,6000\r
practice,F84001,45-54,male,4000\r
practice,F84001,25-34,female,5000\r
practice,F84003,45-54,female,2000\r
pcn,U00001,45-54,female,6000\r
pcn,U00001,45-54,male,4000\r
pcn,U00001,25-34,female,5000\r
"""


@pytest.fixture
async def list_sizes(lookups: FastAPI, tmp_path: Path) -> None:
    """Hand-made list sizes replace the sample: F84001 has 15,000 patients, F84003 2,000."""
    path = tmp_path / "list-sizes.csv"
    path.write_text(LIST_SIZES, encoding="utf-8")
    async with lookups.state.database.sessionmaker() as session, session.begin():
        await replace_list_sizes(session, list_size_rows([path]), path.name, False)


def _dataset() -> Dataset:
    d = Dataset()
    for _ in range(3):
        d.referral(details=Person(practice="F84001", pcn="U00001"))  # female 45-54
    d.referral(details=Person(practice="F84001", pcn="U00001", gender="male"))
    d.referral(details=Person(practice="F84001", pcn="U00001", age_band="25-34"))
    d.referral(details=Person(practice="F84001", pcn="U00001", gender="non-binary"))
    d.referral(details=Person(practice="F84003", pcn="U00002"))
    d.referral(details=Person(practice="Y99999", pcn="U99999"))  # no list size loaded
    return d


async def test_rate_per_10000_by_practice(load, list_sizes, report):
    await load(_dataset())
    body = await report("rates", unsuppressed=True, group_by="practice")
    rows = {r["practice"]: (r["referrals"], r["population"], r["rate"]) for r in body["rows"]}
    assert rows == {"F84001": (6, 15_000, 4.0), "F84003": (1, 2_000, 5.0)}
    total = body["totals"][0]
    assert (total["referrals"], total["population"], total["rate"]) == (7, 17_000, 4.1)


async def test_rates_by_age_band_and_sex_use_matching_denominators(load, list_sizes, report):
    await load(_dataset())
    body = await report("rates", unsuppressed=True, group_by="age-band,gender", practice="F84001")
    rows = {
        (r["age_band"], r["gender"]): (r["referrals"], r["population"], r["rate"])
        for r in body["rows"]
    }
    assert rows == {
        ("45-54", "female"): (3, 6_000, 5.0),
        ("45-54", "male"): (1, 4_000, 2.5),
        ("25-34", "female"): (1, 5_000, 2.0),
        # Registered sex has no non-binary denominator: empty, not 0.
        ("45-54", "non-binary"): (1, None, None),
    }
    assert any("Gender is matched to the registered sex" in n for n in body["notes"])


async def test_rates_by_pcn_use_pcn_list_sizes(load, list_sizes, report):
    await load(_dataset())
    body = await report("rates", unsuppressed=True, group_by="pcn")
    assert [(r["pcn"], r["referrals"], r["population"]) for r in body["rows"]] == [
        ("U00001", 6, 15_000)
    ]


def _before_the_pcn_lookup() -> Dataset:
    """Referrals received while no practice-to-PCN lookup was loaded: no PCN stored."""
    d = Dataset()
    d.referral(details=Person(practice="F84001", pcn=None))
    d.referral(details=Person(practice="F84001", pcn=None, gender="male"))
    d.referral(details=Person(practice="F84003", pcn="U00002"))  # the PCN the sender gave
    return d


async def test_a_rebuild_takes_the_pcn_from_a_lookup_loaded_after_the_referrals(
    load, list_sizes, lookups, report
):
    await load(_before_the_pcn_lookup())
    async with lookups.state.database.sessionmaker() as session, session.begin():
        # Written straight into the lookup, as a load before the facts followed it did.
        await GeographyRepository(session).add_practices(
            [
                {"practice_ods": "F84001", "pcn_ods": "U00001"},
                {"practice_ods": "F84003", "pcn_ods": "U00009"},
            ]
        )
    await facts.rebuild(
        lookups.state.database.sessionmaker,
        lookups.state.settings.pseudonym_key,
        lookups.state.settings.disclosure_key,
    )
    body = await report("rates", unsuppressed=True, group_by="pcn")
    assert [(r["pcn"], r["referrals"], r["population"]) for r in body["rows"]] == [
        ("U00001", 2, 15_000)
    ]
    grouped = await report("referrals", unsuppressed=True, group_by="pcn")
    assert {r["pcn"]: r["referrals"] for r in grouped["rows"]} == {"U00001": 2, "U00002": 1}


async def test_loading_the_pcn_lookup_brings_earlier_referrals_facts_up_to_date(
    load, list_sizes, referral_database, report, tmp_path: Path
):
    await load(_before_the_pcn_lookup())
    before = await report("rates", unsuppressed=True, group_by="pcn")
    assert before["rows"] == []
    path = tmp_path / "epcn.csv"
    path.write_text("practice_code,pcn_code\r\nF84001,U00001\r\n", encoding="utf-8")
    argv = ["--practice-pcn", str(path), "--database-url", referral_database]
    assert await asyncio.to_thread(load_geography, argv) == 0
    after = await report("rates", unsuppressed=True, group_by="pcn")
    assert [(r["pcn"], r["referrals"], r["population"]) for r in after["rows"]] == [
        ("U00001", 2, 15_000)
    ]
    completeness = await report("completeness", unsuppressed=True)
    pcn = next(r for r in completeness["rows"] if r["field"] == "pcn")
    assert (pcn["complete"], pcn["applicable"]) == (3, 3)


async def test_rates_refuse_dimensions_without_a_denominator(load, list_sizes, client):
    await load(_dataset())
    grouped = await client.get("/reports/rates", params={"group_by": "ethnicity"}, headers=REPORTS)
    assert grouped.status_code == 400
    assert grouped.json()["errors"][0]["parameter"] == "group_by"
    filtered = await client.get("/reports/rates", params={"imd-decile": "1"}, headers=REPORTS)
    assert filtered.status_code == 400
    assert filtered.json()["errors"][0]["parameter"] == "imd-decile"


async def test_rates_without_list_sizes_say_how_to_load_them(referral_app, client):
    response = await client.get("/reports/rates", headers=REPORTS)
    assert response.status_code == 409
    assert "referral_api.reports.load --list-sizes" in response.json()["detail"]


def test_single_years_of_age_are_summed_into_the_report_bands(tmp_path: Path):
    path = tmp_path / "gp-reg-pat-prac-sing-age-male.csv"
    path.write_text(
        "PUBLICATION,EXTRACT_DATE,ORG_TYPE,ORG_CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\r\n"
        "GP_PRAC_PAT_LIST,01NOV2026,GP,F84001,E15 1DA,MALE,17,10\r\n"
        "GP_PRAC_PAT_LIST,01NOV2026,GP,F84001,E15 1DA,MALE,18,20\r\n"
        "GP_PRAC_PAT_LIST,01NOV2026,GP,F84001,E15 1DA,MALE,24,5\r\n"
        "GP_PRAC_PAT_LIST,01NOV2026,GP,F84001,E15 1DA,MALE,95+,3\r\n"
        "GP_PRAC_PAT_LIST,01NOV2026,GP,F84001,E15 1DA,MALE,ALL,38\r\n"
        "GP_PRAC_PAT_LIST,01NOV2026,GP,F84001,E15 1DA,ALL,18,99\r\n"
        "GP_PRAC_PAT_LIST,01NOV2026,ICB,QMF,,MALE,18,9999\r\n"
        "GP_PRAC_PAT_LIST,01NOV2026,PCN,U00009,,MALE,30,40\r\n",
        encoding="utf-8",
    )
    rows = list_size_rows([path], practice_pcn={"F84001": "U00001"})
    found = {
        (r["area_type"], r["area_code"], r["age_band"], r["sex"]): r["population"] for r in rows
    }
    assert found == {
        ("practice", "F84001", "0-17", "male"): 10,
        ("practice", "F84001", "18-24", "male"): 25,
        ("practice", "F84001", "85+", "male"): 3,
        ("pcn", "U00001", "0-17", "male"): 10,
        ("pcn", "U00001", "18-24", "male"): 25,
        ("pcn", "U00001", "85+", "male"): 3,
        ("pcn", "U00009", "25-34", "male"): 40,
    }
    assert {r["extract_on"].isoformat() for r in rows} == {"2026-11-01"}
    assert {r["pcn_ods"] for r in rows if r["area_type"] == "practice"} == {"U00001"}
    assert (age_band_of("0"), age_band_of("84"), age_band_of("85"), age_band_of("ALL")) == (
        "0-17",
        "75-84",
        "85+",
        None,
    )


def test_five_year_bands_are_refused(tmp_path: Path):
    path = tmp_path / "gp-reg-pat-prac-quin-age.csv"
    path.write_text("ORG_CODE,SEX,AGE_GROUP_5,NUMBER_OF_PATIENTS\r\nF84001,MALE,0_4,5\r\n")
    with pytest.raises(LookupFileError, match="single year of age"):
        list_size_rows([path])


def test_imd_from_the_indices_of_deprivation_file_7(tmp_path: Path):
    path = tmp_path / "File_7_IoD2025.csv"
    path.write_text(
        '\ufeff"LSOA code (2021)","LSOA name (2021)","Index of Multiple Deprivation (IMD) Score",'
        '"Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",'
        '"Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",'
        '"Income Decile (where 1 is most deprived 10% of LSOAs)"\r\n'
        "E01000001,City of London 001A,6.2,29199,9,10\r\n"
        "E01033011,Newham 001A,40.1,1500,1,2\r\n",
        encoding="utf-8",
    )
    assert imd_rows(path) == [
        {"lsoa_code": "E01000001", "imd_decile": 9, "imd_rank": 29199, "lsoa_vintage": "2021"},
        {"lsoa_code": "E01033011", "imd_decile": 1, "imd_rank": 1500, "lsoa_vintage": "2021"},
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("lsoa_code,imd_decile\r\nE01000001,11\r\n")
    with pytest.raises(LookupFileError, match="not 1 to 10"):
        imd_rows(bad)


def test_the_samples_are_synthetic_and_cover_the_sample_postcodes():
    assert len(sample_imd_rows()) == 36
    practices = {r["area_code"] for r in sample_list_size_rows() if r["area_type"] == "practice"}
    assert practices == {"F84001", "F84002", "F84003"}
    readme = (
        Path(__file__).parents[2]
        / "services/referral-api/src/referral_api/reports/data"
        / "README.md"
    ).read_text()
    assert "synthetic" in readme


async def test_reloading_imd_deciles_updates_the_reports(
    load, referral_database, report, tmp_path: Path
):
    d = Dataset()
    d.referral(details=Person(lsoa="E01033011"))
    await load(d)
    before = await report("referrals", unsuppressed=True, group_by="imd-decile")
    assert [r["imd_decile"] for r in before["rows"]] == ["5"]
    path = tmp_path / "imd.csv"
    path.write_text("lsoa_code,imd_decile\r\nE01033011,2\r\n")
    loaded = await asyncio.to_thread(
        main, ["--imd", str(path), "--database-url", referral_database]
    )
    assert loaded == 0
    after = await report("referrals", unsuppressed=True, group_by="imd-decile")
    assert [r["imd_decile"] for r in after["rows"]] == ["2"]
