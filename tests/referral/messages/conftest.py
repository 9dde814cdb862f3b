"""Message tests (`$process-message`): the referral-api of tests/referral, with the sample postcode
lookup loaded."""

from tests.referral.postcodes import sample_postcodes  # noqa: F401  (autouse fixture)
from tests.support.messages import emis_service_request, new_referral

# The synthetic EMIS referral, and the message that sends it as new (tests change deep copies).
REQUEST = emis_service_request()
NEW = new_referral(request=REQUEST, timestamp="2026-10-01T09:05:00Z")
