"""directory-api settings: environment variables prefixed `DIRECTORY_`."""

from pydantic_settings import SettingsConfigDict

from signpost_platform.settings import ServiceSettings


class DirectorySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DIRECTORY_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/directory.db"

    # ORUK list endpoints: `per_page` defaults to this and may not exceed the cap (400 above it).
    oruk_default_per_page: int = 50
    oruk_max_per_page: int = 200
    # The largest `proximity` (metres) a search may ask for.
    max_proximity_metres: int = 100_000
    # Bulk import: at most this many records per import (413 above it; the command line can
    # raise it with --max-records), and a running import whose last committed batch is older
    # than this many seconds has stopped and reads as failed (it can be resumed).
    import_max_records: int = 10_000
    import_stale_after_seconds: int = 300
    # HSDS profile URL published at `GET /`.
    oruk_profile_url: str = "https://github.com/OpenReferralUK/uk-profile/blob/main/docs/index.md"

    # At start-up: load the shipped sample postcode lookup when the table is empty, and seed the
    # reference taxonomies and the six personalised-care roles when they are missing.
    seed_on_startup: bool = True
    # Also load the synthetic London services (for `make run` and demos; never in production).
    # Unset: loaded in the development environment only.
    seed_sample_services: bool | None = None

    def loads_sample_services(self) -> bool:
        if self.seed_sample_services is not None:
            return self.seed_sample_services
        return self.environment == "development"
