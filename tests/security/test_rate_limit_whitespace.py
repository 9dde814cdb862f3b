"""The per-client rate limit cannot be dodged by respacing the Authorization header.

The limiter used to hash the header's bytes after `Bearer `, so `Bearer  <token>` (two spaces)
was a new client with a full bucket while authentication still accepted the token.
"""

from referral_api.config import ReferralSettings
from referral_api.main import create_app
from signpost_platform.auth import mint_development_token
from tests.support.clients import running


async def test_respaced_authorization_headers_share_one_bucket(security_referral_database):
    token = mint_development_token(["referral:read", "referral:all-organisations"])
    app = create_app(
        ReferralSettings(
            database_url=security_referral_database,
            environment="test",
            rate_limit_per_minute=60,
            rate_limit_burst=3,
        )
    )
    spellings = [
        f"Bearer {token}",
        f"Bearer  {token}",
        f"bearer {token}",
        f"BEARER   {token}",
        f"Bearer {token}  ",
    ]
    async with running(app, "http://referral.test") as client:
        statuses = [
            (await client.get("/fhir/ServiceRequest", headers={"Authorization": value})).status_code
            for value in spellings
        ]

    assert statuses == [200, 200, 200, 429, 429]
