"""Every table of directory-api's database, registered in one place.

Each feature keeps its tables in its own `models.py`; this module imports every one of them by
name, so `Base.metadata` holds the whole schema whichever code ran first. Alembic
(`migrations/directory/env.py`) and the app factory (`main.py`) import it. A new table is added
here; `tests/schemas/test_models_registry.py` fails when a module defining a table is missing.
"""

from directory_api.changes.models import Change
from directory_api.db import Base
from directory_api.geography.models import (
    PostcodeCentroid,
    PostcodeDistrict,
    PostcodeDistrictAuthority,
)
from directory_api.imports.models import ImportJob
from directory_api.locations.models import Location
from directory_api.organizations.models import Organization
from directory_api.services.models import (
    Service,
    ServiceAreaCode,
    ServiceAtLocation,
    ServiceAttribute,
    ServiceDeliveryMode,
    ServiceDocument,
    ServiceLanguage,
    ServiceOpening,
    ServicePlace,
)
from directory_api.taxonomy.models import NeedServiceType, Taxonomy, TaxonomyTerm

__all__ = [
    "Base",
    "Change",
    "ImportJob",
    "Location",
    "NeedServiceType",
    "Organization",
    "PostcodeCentroid",
    "PostcodeDistrict",
    "PostcodeDistrictAuthority",
    "Service",
    "ServiceAreaCode",
    "ServiceAtLocation",
    "ServiceAttribute",
    "ServiceDeliveryMode",
    "ServiceDocument",
    "ServiceLanguage",
    "ServiceOpening",
    "ServicePlace",
    "Taxonomy",
    "TaxonomyTerm",
]
