"""The documented examples run against the same in-process stack as the sender corpus."""

from tests.corpus.conftest import stack  # noqa: F401  (fixtures used by name)
from tests.screening.conftest import (  # noqa: F401
    referral_backend,
    screening_database,
    screening_referral_database,
    screening_service,
)
