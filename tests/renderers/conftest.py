"""Renderer tests use the screening-api fixtures: the real app with referral-api behind it."""

from tests.screening.conftest import (  # noqa: F401 (fixtures)
    client,
    referral_backend,
    screening_app,
    screening_database,
    screening_referral_database,
    screening_service,
    worker,
)
