"""directory-api settings: environment variables prefixed `DIRECTORY_`."""

from pydantic_settings import SettingsConfigDict

from signpost_platform.settings import ServiceSettings


class DirectorySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DIRECTORY_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/directory.db"
