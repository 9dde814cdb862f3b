"""The ORM base of directory-api's own database."""

from sqlalchemy.orm import DeclarativeBase

from signpost_platform.db import service_metadata


class Base(DeclarativeBase):
    metadata = service_metadata()


def load_models() -> None:
    """Import every model module so `Base.metadata` knows all tables (migrations, tests)."""
    from directory_api.changes import models as _changes  # noqa: F401
    from directory_api.geography import models as _geography  # noqa: F401
    from directory_api.imports import models as _imports  # noqa: F401
    from directory_api.locations import models as _locations  # noqa: F401
    from directory_api.organizations import models as _organizations  # noqa: F401
    from directory_api.services import models as _services  # noqa: F401
    from directory_api.taxonomy import models as _taxonomy  # noqa: F401
