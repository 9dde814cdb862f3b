"""Loading a SNOMED CT release: the hierarchy groups codes the shipped lists lack, for new
referrals and for those already stored (their reason rows, sources and report facts)."""

import asyncio
from pathlib import Path

import pytest
from fastapi import FastAPI

from referral_api.quality.repository import GapRepository
from referral_api.terminology.load import main as load_main
from referral_api.terminology.rf2 import ReleaseError
from referral_api.terminology.service import load_release
from signpost_schemas import systems
from signpost_schemas.fhir.gaps import Gap, GapKind
from tests.referral.conftest import WRITE
from tests.support.builders import reason, service_request
from tests.support.clients import bearer
from tests.support.rows import fetch_rows

RELEASE = Path(__file__).parent / "rf2"
REPORTS = bearer("reports:read", "reports:unsuppressed")


async def _load(app: FastAPI, directory: Path = RELEASE) -> None:
    async with app.state.database.sessionmaker() as session, session.begin():
        await load_release(session, directory)


async def _create(client, **changes) -> str:
    response = await client.post(
        "/fhir/ServiceRequest", json=service_request(**changes), headers=WRITE
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def _reason_groups(app: FastAPI, referral_id: str) -> dict[str, str]:
    rows = await fetch_rows(
        app,
        "SELECT reason_code, reason_group FROM referral_reason WHERE referral_id = :id",
        id=referral_id,
    )
    return {row["reason_code"]: row["reason_group"] for row in rows}


async def _source_group(app: FastAPI, referral_id: str) -> str:
    rows = await fetch_rows(
        app, "SELECT source_of_referral_group FROM referral WHERE id = :id", id=referral_id
    )
    assert len(rows) == 1, rows
    return rows[0]["source_of_referral_group"]


async def _placed(app: FastAPI, code_list: str) -> dict[str, tuple[str, str, int]]:
    rows = await fetch_rows(
        app,
        "SELECT concept_id, concept_group, via_concept_id, distance FROM snomed_concept_group "
        "WHERE code_list = :code_list",
        code_list=code_list,
    )
    return {r["concept_id"]: (r["concept_group"], r["via_concept_id"], r["distance"]) for r in rows}


async def test_a_release_places_each_descendant_under_its_nearest_mapped_ancestor(referral_app):
    await _load(referral_app)

    assert await _placed(referral_app, "referral-reasons") == {
        "9100001002": ("finance", "160932005", 1),
        "9100002009": ("finance", "160932005", 2),
        # equally near Financial problem and Stress: the one listed first in the code list
        "9100004005": ("finance", "160932005", 1),
        # nearer Stress (one step) than Financial problem (two)
        "9100005006": ("mental-wellbeing", "73595000", 1),
        "105529008": ("isolation-loneliness", "422650009", 1),
    }
    # 366979004 sits under no mapped concept; 129839007's link is inactive; 9100007003 is
    # an inactive concept; the stated relationship file is not read.
    assert await _placed(referral_app, "source-of-referral") == {
        "9100008008": ("acute-hospital", "185360007", 1)
    }
    concepts = await fetch_rows(
        referral_app, "SELECT term FROM snomed_concept WHERE concept_id = '366979004'"
    )
    assert concepts == [{"term": "Depressed mood (finding)"}]
    assert not await fetch_rows(
        referral_app, "SELECT 1 FROM snomed_concept WHERE concept_id = '9100007003'"
    )


async def test_a_new_referral_takes_its_groups_from_the_loaded_release(client, referral_app):
    await _load(referral_app)

    referral_id = await _create(
        client,
        source=(systems.SNOMED, "9100008008"),
        reasons=[reason("9100002009"), reason("366979004"), reason("105531004")],
    )

    assert await _reason_groups(referral_app, referral_id) == {
        "9100002009": "finance",
        "366979004": "unmapped",
        "105531004": "housing",
    }
    assert await _source_group(referral_app, referral_id) == "acute-hospital"


async def test_loading_regroups_stored_referrals_and_their_report_facts(client, referral_app):
    referral_id = await _create(
        client,
        source=(systems.SNOMED, "9100008008"),
        reasons=[reason("105529008"), reason("9100004005"), reason("366979004")],
    )
    assert set((await _reason_groups(referral_app, referral_id)).values()) == {"unmapped"}
    before = await client.get("/reports/reasons?level=reason-group", headers=REPORTS)
    assert {r["reason_group"] for r in before.json()["rows"]} == {"unmapped"}

    await _load(referral_app)

    assert await _reason_groups(referral_app, referral_id) == {
        "105529008": "isolation-loneliness",
        "9100004005": "finance",
        "366979004": "unmapped",
    }
    assert await _source_group(referral_app, referral_id) == "acute-hospital"
    after = await client.get("/reports/reasons?level=reason-group", headers=REPORTS)
    assert {r["reason_group"]: r["referrals"] for r in after.json()["rows"]} == {
        "isolation-loneliness": 1,
        "finance": 1,
        "unmapped": 1,
    }
    by_source = await client.get("/reports/referrals?group_by=source", headers=REPORTS)
    assert [r["source"] for r in by_source.json()["rows"]] == ["acute-hospital"]


async def test_the_load_command_loads_the_release_and_brings_report_facts_up_to_date(
    client, referral_app, capsys
):
    referral_id = await _create(client, reasons=[reason("105529008")])
    url = referral_app.state.database.url

    assert await asyncio.to_thread(load_main, [str(RELEASE), "--database-url", url]) == 0

    assert await _reason_groups(referral_app, referral_id) == {"105529008": "isolation-loneliness"}
    assert "report facts of" in capsys.readouterr().out
    # The regrouped reason queued its referral's facts; the command rebuilt them.
    queued = "SELECT count(*) AS n FROM report_change WHERE referral_id = :id"
    assert await fetch_rows(referral_app, queued, id=referral_id) == [{"n": 0}]


async def test_gaps_of_codes_the_release_places_are_forgotten(client, referral_app):
    referral_id = await _create(client, reasons=[reason("105529008"), reason("366979004")])
    async with referral_app.state.database.sessionmaker() as session, session.begin():
        await GapRepository(session).replace(
            referral_id,
            [
                Gap(GapKind.UNMAPPED_CODE, f"ServiceRequest.reasonCode[{i}]", "", code=code)
                for i, code in enumerate(
                    (f"{systems.SNOMED}|105529008", f"{systems.SNOMED}|366979004")
                )
            ],
        )

    await _load(referral_app)

    rows = await fetch_rows(referral_app, "SELECT code FROM referral_gap")
    assert rows == [{"code": f"{systems.SNOMED}|366979004"}]


async def test_a_reload_replaces_the_release(referral_app):
    await _load(referral_app)
    await _load(referral_app)

    assert len(await _placed(referral_app, "referral-reasons")) == 5
    loads = await fetch_rows(referral_app, "SELECT lookup FROM lookup_load")
    assert loads == [{"lookup": "snomed-ct"}, {"lookup": "snomed-ct"}]


async def test_a_directory_without_rf2_files_is_refused_and_loads_nothing(referral_app, tmp_path):
    with pytest.raises(ReleaseError, match="sct2_Concept_Snapshot"):
        await _load(referral_app, tmp_path)
    assert not await fetch_rows(referral_app, "SELECT 1 FROM snomed_concept")


async def test_a_code_the_release_places_is_not_stored_as_an_unmapped_gap(referral_app, client):
    await _load(referral_app)

    referral_id = await _create(
        client, reasons=[reason("105529008"), reason("366979004")], identifier="EMIS-PLACED-1"
    )

    gaps = await fetch_rows(
        referral_app,
        "SELECT kind, code FROM referral_gap WHERE referral_id = :id ORDER BY position",
        id=referral_id,
    )
    # 105529008 (lives alone) is placed under social isolation; 366979004 is under nothing.
    assert gaps == [{"kind": "unmapped-code", "code": f"{systems.SNOMED}|366979004"}]
