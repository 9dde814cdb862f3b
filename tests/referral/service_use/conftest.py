"""Service-use tests: the referral-api of tests/referral, with the sample postcode lookup loaded."""

from tests.referral.postcodes import sample_postcodes  # noqa: F401  (autouse fixture)
