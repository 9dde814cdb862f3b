"""Behind a root path (`uvicorn --root-path /signpost`, behind a proxy that serves the service
under that prefix and strips it) the server puts the prefix in front of every request's path.
FHIR paths must still be told apart from the rest by the path within the app: their errors are
OperationOutcomes, their content negotiation FHIR's, and only the docs pages get the docs'
security policy."""

import httpx

from referral_api.config import ReferralSettings
from referral_api.main import create_app
from tests.referral.conftest import READ

ROOT = "/signpost"


def _client(app) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, root_path=ROOT)
    return httpx.AsyncClient(transport=transport, base_url="http://referral.test")


async def test_fhir_answers_stay_fhir_behind_a_root_path(referral_app):
    async with _client(referral_app) as client:
        missing = await client.get(f"{ROOT}/fhir/ServiceRequest/no-such-referral", headers=READ)
        as_xml = await client.get(
            f"{ROOT}/fhir/metadata", headers={"Accept": "application/fhir+xml"}
        )
        unknown = await client.get(f"{ROOT}/fhir/ServiceRequest?colour=blue", headers=READ)

    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/fhir+json")
    assert missing.json()["resourceType"] == "OperationOutcome"
    assert as_xml.status_code == 406
    assert as_xml.json()["resourceType"] == "OperationOutcome"
    # An unknown search parameter is FHIR's to ignore and report, not a 400.
    assert unknown.status_code == 200, unknown.text
    assert unknown.json()["resourceType"] == "Bundle"


async def test_only_the_docs_get_the_docs_policy_behind_a_root_path(
    referral_app, referral_database
):
    settings = ReferralSettings(
        database_url=referral_database, environment="test", docs_enabled=True
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), _client(app) as client:
        docs = await client.get(f"{ROOT}/docs")
        api = await client.get(f"{ROOT}/fhir/metadata")

    # The API's policy (nothing may load) would leave the interactive docs a blank page.
    assert "default-src 'none'" in api.headers["content-security-policy"]
    assert docs.status_code == 200
    assert docs.headers.get("content-security-policy") != api.headers["content-security-policy"]
