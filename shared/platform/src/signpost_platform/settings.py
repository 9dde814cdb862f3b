"""Settings common to every service; each service subclasses with its own env prefix."""

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_TOKEN_SECRET = "signpost-development-only-secret-never-use-in-production"  # noqa: S105
DEV_ISSUER = "signpost-development"
DEV_AUDIENCE = "signpost"


def key_value_pairs(value: Any, shape: str) -> Any:
    """A setting that maps codes to codes or URLs, from its environment form: a JSON object or
    `KEY=VALUE,KEY=VALUE` (`shape` names the pairs in the error, e.g. "ODS=URL"). Anything but
    a string is returned as it is, for the field's own validation."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("{"):
        return json.loads(text)
    pairs = [pair.split("=", 1) for pair in text.split(",") if pair.strip()]
    if any(len(pair) != 2 for pair in pairs):
        raise ValueError(f"expected {shape} pairs separated by commas")
    return dict(pairs)


# The PostgreSQL settings a service may set for one transaction of its own
# (`signpost_platform.db.snapshot_session`), each with the form of its values: checked at
# startup, as a value PostgreSQL refused would fail every such transaction.
_MEMORY = r"^[1-9][0-9]{0,8}(kB|MB|GB)$"  # with a unit; PostgreSQL's least is 64kB
_COST = r"^[0-9]{1,9}(\.[0-9]{1,6})?$"
PLANNER_SETTINGS = {
    "work_mem": _MEMORY,
    "hash_mem_multiplier": r"^([1-9][0-9]{0,2})(\.[0-9]{1,3})?$",  # 1 to 1000
    "max_parallel_workers_per_gather": r"^[0-9]{1,2}$",
    "parallel_setup_cost": _COST,
    "parallel_tuple_cost": _COST,
    "jit": r"^(on|off)$",
}


def planner_settings(value: Any) -> Any:
    """Planner settings from their environment form (`NAME=VALUE,...` or a JSON object):
    names among `PLANNER_SETTINGS`, each value of its form. Anything but a string or a mapping
    is returned as it is, for the field's own validation."""
    value = key_value_pairs(value, "NAME=VALUE")
    if not isinstance(value, dict):
        return value
    value = {str(name).strip(): str(setting).strip() for name, setting in value.items()}
    unknown = sorted(set(value) - set(PLANNER_SETTINGS))
    if unknown:
        raise ValueError(
            f"not a planner setting that may be changed: {', '.join(unknown)} "
            f"(one of {', '.join(PLANNER_SETTINGS)})"
        )
    for name, setting in value.items():
        if not re.match(PLANNER_SETTINGS[name], setting):
            raise ValueError(f"{name}={setting!r} is not a value PostgreSQL takes for it")
    if "work_mem" in value and _kilobytes(value["work_mem"]) < 64:
        raise ValueError("work_mem must be at least 64kB")
    return value


def _kilobytes(memory: str) -> int:
    """The kilobytes of a memory setting already matched against `_MEMORY`."""
    for unit, size in (("kB", 1), ("MB", 1024), ("GB", 1024 * 1024)):
        if memory.endswith(unit):
            return int(memory.removesuffix(unit)) * size
    raise ValueError(f"{memory!r} has no unit (kB, MB or GB)")


def find_repo_file(name: str) -> Path:
    """Find `name` in the working directory or the nearest parent that has it."""
    start = Path.cwd().resolve()
    for folder in (start, *start.parents):
        candidate = folder / name
        if candidate.exists():
            return candidate
    here = Path(__file__).resolve()
    for folder in here.parents:
        candidate = folder / name
        if candidate.exists():
            return candidate
    return start / name


class ServiceSettings(BaseSettings):
    """Settings every service has. Values come from `<PREFIX>_<NAME>` environment variables."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    environment: Literal["development", "test", "production"] = "development"
    database_url: str
    # "development": HS256 tokens signed with a well-known secret, minted by `make token`.
    # "jwt": signed RS256/RS512 tokens verified against a JWKS (URL or file).
    auth_mode: Literal["development", "jwt"] = "development"
    dev_token_secret: SecretStr = SecretStr(DEV_TOKEN_SECRET)
    jwt_issuer: str = DEV_ISSUER
    jwt_audience: str = DEV_AUDIENCE
    jwks_url: str | None = None
    jwks_file: Path | None = None
    jwt_algorithms: list[str] = ["RS256", "RS512"]
    # Fetching the JWKS (jwks_url): the timeout of one fetch; the age at which the key set is
    # refreshed in the background; the age past which it is no longer trusted (every refresh
    # failed); and the wait after a fetch before a token with an unknown key id can trigger another.
    jwks_timeout_seconds: float = 3
    jwks_refresh_seconds: float = 600
    jwks_max_age_seconds: float = 3600
    jwks_cooldown_seconds: float = 30
    # The claim that carries the caller's organisation (ODS code), for object-level access.
    jwt_organisation_claim: str = "ods"
    # Where clients obtain the tokens this service accepts (jwt mode): the authorisation server's
    # token endpoint (client credentials grant, SMART Backend Services) and how a client
    # authenticates there. Published at /.well-known/smart-configuration and in the
    # CapabilityStatement (signpost_platform.smart); the service itself never calls it.
    oauth_token_url: str | None = None
    oauth_token_auth_methods: list[
        Literal["private_key_jwt", "client_secret_basic", "client_secret_post"]
    ] = ["private_key_jwt"]

    # Limits applied to every request. The rate limit is per client (bearer token, else address)
    # and per process; 0 turns it off.
    max_body_bytes: int = 1_048_576
    rate_limit_per_minute: int = 6000
    rate_limit_burst: int = 600
    default_page_size: int = 20
    max_page_size: int = 100

    # The interactive documentation pages (/docs, /redoc). Unset: on in development only.
    # /openapi.json is always published.
    docs_enabled: bool | None = None

    # Absolute base URL used in Location headers and Bundle links; taken from the request if unset.
    public_base_url: str | None = None
    log_level: str = "INFO"
    # Database pool per process. Connections past the pool size are opened and closed per use,
    # which costs a PostgreSQL backend start each time: size the pool for the expected concurrency.
    db_pool_size: int = 20
    db_max_overflow: int = 5
    db_pool_pre_ping: bool = False
    # PostgreSQL cancels any statement of the service that runs longer (503 with Retry-After);
    # 0 turns the limit off. Command-line loaders are not limited.
    db_statement_timeout_seconds: float = 10
    alembic_ini: Path = find_repo_file("alembic.ini")

    # The pages people use (signpost_platform.pages): where their front-end assets are installed
    # (unset: var/assets beside alembic.ini), and how a page signs in outside development mode:
    # "token" asks for the access token the organisation's sign-in issued (kept in the tab's
    # sessionStorage), "proxy" sends none because an authenticating proxy adds it.
    pages_assets_dir: Path | None = None
    pages_sign_in: Literal["token", "proxy"] = "token"

    @property
    def docs_pages(self) -> bool:
        """Whether to serve the interactive documentation pages."""
        if self.docs_enabled is not None:
            return self.docs_enabled
        return self.environment == "development"

    def require_secret(self, name: str, development_value: str) -> None:
        """In production, refuses the secret setting `name` while it is still the (public)
        development value or shorter than 32 characters."""
        value = getattr(self, name).get_secret_value()
        if self.environment == "production" and (value == development_value or len(value) < 32):
            variable = f"{self.model_config.get('env_prefix', '')}{name.upper()}"
            raise ValueError(
                f"{variable} must be set to a secret of at least 32 characters "
                "in production (the development key is public)"
            )

    @model_validator(mode="after")
    def _no_development_auth_in_production(self) -> "ServiceSettings":
        if self.environment == "production" and self.auth_mode == "development":
            raise ValueError(
                "auth_mode=development cannot be used with environment=production: "
                "configure auth_mode=jwt with a JWKS"
            )
        if self.auth_mode == "jwt" and not (self.jwks_url or self.jwks_file):
            raise ValueError("auth_mode=jwt needs jwks_url or jwks_file")
        if self.oauth_token_url is not None:
            secure = self.oauth_token_url.startswith("https://")
            local = self.oauth_token_url.startswith("http://") and self.environment != "production"
            if not (secure or local):
                raise ValueError(
                    "oauth_token_url must be an https:// URL (http:// only outside production)"
                )
        if not self.oauth_token_auth_methods:
            raise ValueError("oauth_token_auth_methods needs at least one method")
        return self
