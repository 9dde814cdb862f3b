"""Every table of referral-api, imported in one place for Alembic (`migrations/referral/env.py`)."""

from referral_api.geography import models as geography_models
from referral_api.imports import models as imports_models
from referral_api.lifecycle import models as lifecycle_models
from referral_api.linkage import models as linkage_models
from referral_api.messages import models as messages_models
from referral_api.people import models as people_models
from referral_api.referrals import models as referrals_models

__all__ = [
    "geography_models",
    "imports_models",
    "lifecycle_models",
    "linkage_models",
    "messages_models",
    "people_models",
    "referrals_models",
]
