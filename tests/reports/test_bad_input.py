"""Bad report requests: a 4xx with a problem+json body naming the parameter, and nothing else."""

import pytest

from tests.reports.conftest import REPORTS
from tests.support.clients import bearer

CASES = [
    # (report, parameters, status, parameter named)
    ("referrals", {"colour": "blue"}, 400, "colour"),
    ("referrals", {"group_by": "postcode"}, 400, "group_by"),
    ("referrals", {"group_by": "role,pcn,month"}, 400, "group_by"),
    ("referrals", {"group_by": "role,role"}, 400, "group_by"),
    ("reasons", {"group_by": "reason"}, 400, "group_by"),
    ("referrals", {"from": "2026-02-30"}, 400, "from"),
    ("referrals", {"from": "01/02/2026"}, 400, "from"),
    ("referrals", {"to": "1999-12-31"}, 400, "to"),
    ("referrals", {"from": "2026-03-01", "to": "2026-02-01"}, 400, "to"),
    ("referrals", {"from": "2026-01-01", "to": "2026-02-01", "month": "2026-01"}, 400, "month"),
    ("referrals", {"role": "link-worker"}, 400, "role"),
    ("referrals", {"source": "gp"}, 400, "source"),
    ("referrals", {"source-system": "systmone"}, 400, "source-system"),
    ("referrals", {"practice": "F84-01"}, 400, "practice"),
    ("referrals", {"age-band": "18-30"}, 400, "age-band"),
    ("referrals", {"gender": "m"}, 400, "gender"),
    ("referrals", {"ethnicity": "white-british"}, 400, "ethnicity"),
    ("referrals", {"ethnic-category": "T"}, 400, "ethnic-category"),
    ("referrals", {"imd-decile": "11"}, 400, "imd-decile"),
    ("referrals", {"reason": "housing"}, 400, "reason"),
    ("referrals", {"reason-group": "money"}, 400, "reason-group"),
    ("referrals", {"format": "xlsx"}, 400, "format"),
    ("referrals", {"disclosure": "raw"}, 400, "disclosure"),
    ("referrals", {"disclosure": "none"}, 403, "disclosure"),
    ("reasons", {"level": "code"}, 400, "level"),
    ("reason-pairs", {"limit": "0"}, 400, "limit"),
    ("reason-pairs", {"limit": "many"}, 400, "limit"),
    ("referrals", {"limit": "5"}, 400, "limit"),
]


@pytest.mark.parametrize(("name", "params", "status", "parameter"), CASES)
async def test_a_bad_parameter_is_refused_naming_it(
    referral_app, client, name, params, status, parameter
):
    response = await client.get(f"/reports/{name}", params=params, headers=REPORTS)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["errors"][0]["parameter"] == parameter
    assert body["detail"]


async def test_an_unknown_report_is_not_found(referral_app, client):
    response = await client.get("/reports/everything", headers=REPORTS)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_reports_need_a_token_with_reports_read(referral_app, client):
    assert (await client.get("/reports/referrals")).status_code == 401
    refused = await client.get("/reports/referrals", headers=bearer("referral:read"))
    assert refused.status_code == 403
    assert "reports:read" in refused.json()["detail"]


async def test_a_bad_request_writes_nothing(referral_app, client):
    from tests.support.rows import count_rows

    before = await count_rows(referral_app, "report_state")
    response = await client.get("/reports/referrals", params={"role": "x"}, headers=REPORTS)
    assert response.status_code == 400
    assert await count_rows(referral_app, "report_state") == before
